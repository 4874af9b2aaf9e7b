//! Turning paycombat's response into the client's, failing closed.
//!
//! The rule, on every route: a response body reaches the client only if
//!
//! * (a) it was decoded (its one declared content-coding, strictly), parsed
//!   as JSON by a strict UTF-8 parser from its first byte (JSON whitespace
//!   and at most one UTF-8 BOM before it, only JSON whitespace after it) and
//!   masked; or
//! * (b) its request matched a `[[mask.passthrough]]` entry and its one
//!   `Content-Type` is one that entry lists (and its body starts with the
//!   entry's `magic`, when one is set); or
//! * (c) it has no body (HEAD, 204, 304, an empty body).
//!
//! Everything else — XML, HTML error pages, CSV, JSONP, multipart, UTF-16,
//! JSON behind a form feed — is 502 UPSTREAM_UNMASKABLE, counted by reason.
//! Nothing is sniffed into streaming raw. Framing is read strictly
//! ([`crate::http::framing`]), headers pass by allowlist
//! ([`super::HeaderAllowlist`]), and no header or body byte may carry a
//! secret the gateway holds ([`super::reflect`]).

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::budget::Reservation;
use super::header_values;
use super::passthrough::PassthroughRule;
use super::reflect::{Found, Secrets};
use super::Inspector;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::http::framing::{self, bodiless, json_content_type};
use crate::http::headers::strip_hop_by_hop;
use crate::http::{decode, Encoding};
use crate::mask::policy::PolicyFamily;

/// A response the gateway read whole and masked (the only kind it may cache).
pub struct Inspected {
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What inspection let through.
pub enum Processed {
    /// Read whole; with the buffer budget its bytes hold until the client has them.
    Inspected(Inspected, Reservation),
    /// A passthrough body, streamed under the secret guard.
    Streamed(Response<GatewayBody>),
}

impl Inspector {
    /// Reads a body whole, bounded by `upstream.max_response_body_bytes` and
    /// by the global buffer budget (`reservation` grows as frames arrive).
    async fn read_whole(
        &self,
        mut body: impl http_body::Body<Data = Bytes, Error = hyper::Error> + Send + Unpin,
        mut buf: BytesMut,
        deadline: Instant,
        reservation: &mut Reservation,
    ) -> Result<Bytes, GatewayError> {
        let limit = self.settings.upstream.max_response_body_bytes;
        self.budget.cover(reservation, buf.len()).await?;
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(GatewayError::UpstreamTimeout),
                Ok(None) => return Ok(buf.freeze()),
                Ok(Some(Err(_))) => return Err(GatewayError::UpstreamProtocol),
                Ok(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if buf.len() + data.len() > limit {
                        return Err(self.mask_failure("too_large"));
                    }
                    self.budget
                        .cover(reservation, buf.len() + data.len())
                        .await?;
                    buf.extend_from_slice(&data);
                }
            }
        }
    }

    /// `family`: whose field policy masks the body; `passthrough`: the entry
    /// the request matched, if any (never for cached routes); `signature`: the
    /// one the gateway put on this request, if any.
    pub async fn inspect(
        &self,
        family: PolicyFamily,
        resp: Response<Incoming>,
        permit: OwnedSemaphorePermit,
        deadline: Instant,
        passthrough: Option<&PassthroughRule>,
        signature: Option<&HeaderValue>,
    ) -> Result<Processed, GatewayError> {
        let (mut parts, body) = resp.into_parts();
        // Nothing upstream attached to the response travels on: hyper keeps a
        // non-standard reason phrase here and would write it back out.
        parts.extensions = http::Extensions::new();
        let framing = framing::framing(&parts.headers).map_err(|r| self.mask_failure(r))?;
        strip_hop_by_hop(&mut parts.headers);
        let dropped = self
            .settings
            .upstream
            .response_headers
            .retain(&mut parts.headers);
        if dropped > 0 {
            self.metrics.response_headers_dropped.inc_by(dropped);
        }
        for name in header_values::enforce(&mut parts.headers) {
            self.metrics
                .response_header_values_refused
                .with_label_values(&[name.as_str()])
                .inc();
        }
        let secrets = self.secrets(signature);
        if secrets.in_headers(&parts.headers) {
            return Err(self.reflected(Found::Header));
        }

        let pass = passthrough.filter(|r| {
            !bodiless(parts.status)
                && framing
                    .essence
                    .as_deref()
                    .is_some_and(|essence| r.admits(essence))
        });
        if let (Some(_), Some(essence)) = (pass, framing.essence.as_deref()) {
            // The listed type and nothing else: its parameters are upstream's free text.
            if let Ok(v) = HeaderValue::from_str(essence) {
                parts.headers.insert(header::CONTENT_TYPE, v);
            }
        }
        if let (Some(rule), Encoding::Identity) = (pass, framing.encoding) {
            return self
                .stream_passthrough(parts, body, permit, deadline, rule, &secrets)
                .await;
        }

        let mut reservation = self.budget.reservation();
        let raw = self
            .read_whole(body, BytesMut::new(), deadline, &mut reservation)
            .await?;
        drop(permit);
        let limit = self.settings.upstream.max_response_body_bytes;
        // Each stage's buffer is counted while the previous one still exists.
        self.budget
            .cover(&mut reservation, raw.len() + raw.len().max(1))
            .await?;
        let decoded =
            decode(framing.encoding, &raw, limit).map_err(|e| self.mask_failure(e.reason()))?;
        let raw_len = raw.len();
        drop(raw);
        self.budget
            .cover(&mut reservation, raw_len + decoded.len())
            .await?;
        reservation.shrink_to(decoded.len());
        framing::drop_body_bound(&mut parts.headers);
        let decoded_len = decoded.len();
        // The decoded text of strings the masked body carries escaped: checked by the guard
        // as the client will read it.
        let mut unescaped = Vec::new();
        let body = if bodiless(parts.status) || decoded.is_empty() {
            Bytes::new()
        } else if let Some(rule) = pass {
            // A compressed passthrough body: decoded (the client was never
            // offered the coding) and checked like a streamed one.
            if rule.magic().is_some_and(|m| !decoded.starts_with(m)) {
                return Err(self.mask_failure("passthrough_mismatch"));
            }
            decoded
        } else {
            let (masked, escaped) = self.mask_body(&decoded, family)?;
            unescaped = escaped;
            json_content_type(&mut parts.headers);
            masked
        };
        self.budget
            .cover(&mut reservation, decoded_len + body.len())
            .await?;
        reservation.shrink_to(body.len());
        if secrets.in_bytes(&body) || secrets.in_bytes(&unescaped) {
            return Err(self.reflected(Found::Body));
        }
        Ok(Processed::Inspected(
            Inspected {
                status: parts.status,
                headers: parts.headers,
                body,
            },
            reservation,
        ))
    }

    /// Streams a declared passthrough body, after checking its magic bytes:
    /// on every answer, unless the entry opted into ranges and this is a 206
    /// (a part of a PDF does not start with them).
    async fn stream_passthrough(
        &self,
        parts: http::response::Parts,
        mut body: Incoming,
        permit: OwnedSemaphorePermit,
        deadline: Instant,
        rule: &PassthroughRule,
        secrets: &Secrets,
    ) -> Result<Processed, GatewayError> {
        let mut peeked = BytesMut::new();
        let partial = rule.ranges() && parts.status == StatusCode::PARTIAL_CONTENT;
        if let Some(magic) = rule.magic().filter(|_| !partial) {
            while peeked.len() < magic.len() {
                match tokio::time::timeout_at(deadline, body.frame()).await {
                    Err(_) => return Err(GatewayError::UpstreamTimeout),
                    Ok(None) => break,
                    Ok(Some(Err(_))) => return Err(GatewayError::UpstreamProtocol),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            peeked.extend_from_slice(&data);
                        }
                    }
                }
            }
            if !peeked.starts_with(magic) {
                return Err(self.mask_failure("passthrough_mismatch"));
            }
        }
        let guard = secrets.stream_guard(self.metrics.secret_reflections.clone());
        let resp = Response::from_parts(
            parts,
            GatewayBody::stream(peeked.freeze(), body, Some(permit), guard),
        );
        Ok(Processed::Streamed(resp))
    }
}

impl Inspected {
    pub fn into_response(self, reservation: Reservation) -> Response<GatewayBody> {
        let mut resp = Response::new(GatewayBody::buffered(self.body, reservation));
        *resp.status_mut() = self.status;
        *resp.headers_mut() = self.headers;
        resp
    }
}
