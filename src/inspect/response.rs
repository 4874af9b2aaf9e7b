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
//! ([`crate::http::framing`]), the client's headers are built by the one
//! header builder from the gateway's own vocabulary ([`super::headers`]),
//! and no header or body byte may carry a secret the gateway holds
//! ([`super::reflect`]).

use super::MaskFailure;
use crate::metrics::Vocabulary;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use super::headers::Answer;
use super::passthrough::{PassthroughRequest, PassthroughRule};
use super::reflect::{Found, Secrets};
use super::relay::{Parts as RelayParts, Relay};
use super::Inspector;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::fair::budget::Reservation;
use crate::fair::Slot;
use crate::http::framing::{self, bodiless};
use crate::http::headers::strip_hop_by_hop;
use crate::http::{decode, Encoding};
use crate::mask::policy::PolicyFamily;

/// A response the gateway read whole and masked (the only kind it may cache).
pub struct Inspected {
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Upstream's `Cache-Control` as the header builder read it, for the cache.
    pub directives: crate::cache::UpstreamDirectives,
}

/// What inspection let through.
pub enum Processed {
    /// Read whole; with the buffer budget its bytes hold until the client has them.
    Inspected(Inspected, Reservation),
    /// A passthrough body, relayed (buffered, under the secret guard) by
    /// its own task ([`super::relay`]).
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
        let limit = self.settings.limits.max_response_body_bytes;
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
                        return Err(self.mask_failure(MaskFailure::TooLarge.as_str()));
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
        slot: Slot,
        deadline: Instant,
        passthrough: Option<PassthroughRequest<'_>>,
        signature: Option<&HeaderValue>,
    ) -> Result<Processed, GatewayError> {
        let (mut parts, body) = resp.into_parts();
        // Nothing upstream attached to the response travels on: hyper keeps a
        // non-standard reason phrase here and would write it back out.
        parts.extensions = http::Extensions::new();
        let framing = framing::framing(&parts.headers).map_err(|r| self.mask_failure(r))?;
        // Upstream's headers are only read from here on: the client's are
        // built by the one header builder, from the gateway's vocabulary.
        let mut upstream = std::mem::take(&mut parts.headers);
        strip_hop_by_hop(&mut upstream);
        let status = parts.status;
        let secrets = self.secrets(signature);

        let rule = passthrough.map(|p| p.rule);
        // The entry's own spelling of the type upstream named, if listed.
        let listed = rule.and_then(|r| framing.essence.as_deref().and_then(|e| r.listed(e)));
        let pass = passthrough.filter(|_| !bodiless(status) && listed.is_some());
        let passthrough_answer =
            |p: PassthroughRequest<'_>, content_type, sent| Answer::Passthrough {
                content_type,
                ranges: p.rule.ranges(),
                range: p.range,
                sent,
            };
        if let (Some(p), Some(content_type), Encoding::Identity) = (pass, listed, framing.encoding)
        {
            let answer = passthrough_answer(p, content_type, body.size_hint().exact());
            (parts.headers, _) = self.client_headers(&upstream, status, answer, &secrets)?;
            return self
                .stream_passthrough(parts, body, slot, deadline, p.rule, &secrets)
                .await;
        }

        let mut reservation = self.budget.reservation(slot.caller());
        let raw = self
            .read_whole(body, BytesMut::new(), deadline, &mut reservation)
            .await?;
        // paycombat has sent everything: the slot is free before the client reads.
        drop(slot);
        let limit = self.settings.limits.max_response_body_bytes;
        // Each stage's buffer is counted while the previous one still exists.
        self.budget
            .cover(&mut reservation, raw.len() + raw.len().max(1))
            .await?;
        let encoding = framing.encoding;
        let coded = raw.clone();
        let decoded = super::off_worker(raw.len(), move || decode(encoding, &coded, limit))
            .await
            .map_err(|e| self.mask_failure(e.reason()))?;
        let raw_len = raw.len();
        drop(raw);
        self.budget
            .cover(&mut reservation, raw_len + decoded.len())
            .await?;
        reservation.shrink_to(decoded.len());
        let decoded_len = decoded.len();
        // The decoded text of strings the masked body carries escaped: checked by the guard
        // as the client will read it.
        let mut unescaped = Vec::new();
        let body = if bodiless(status) || decoded.is_empty() {
            Bytes::new()
        } else if let Some(p) = pass {
            // A compressed passthrough body: decoded (the client was never
            // offered the coding) and checked like a streamed one.
            if p.rule.magic().is_some_and(|m| !decoded.starts_with(m)) {
                return Err(self.mask_failure(MaskFailure::PassthroughMismatch.as_str()));
            }
            decoded
        } else {
            let (masked, escaped) = self.mask_body(decoded, family).await?;
            unescaped = escaped;
            masked
        };
        self.budget
            .cover(&mut reservation, decoded_len + body.len())
            .await?;
        reservation.shrink_to(body.len());
        let sent = Some(body.len() as u64);
        let answer = match (passthrough, pass, listed) {
            (_, Some(p), Some(content_type)) => passthrough_answer(p, content_type, sent),
            // A bodiless answer on a passthrough route (304, 204) describes
            // the listed type, not JSON: a client cache updating its stored
            // copy from it must not relabel the PDF.
            (Some(p), None, _) if bodiless(status) => {
                passthrough_answer(p, listed.unwrap_or(p.rule.first_type()), sent)
            }
            _ => Answer::Json { body: &body },
        };
        let (headers, directives) = self.client_headers(&upstream, status, answer, &secrets)?;
        if secrets.in_bytes(&body) || secrets.in_bytes(&unescaped) {
            return Err(self.reflected(Found::Body));
        }
        Ok(Processed::Inspected(
            Inspected {
                status,
                headers,
                body,
                directives,
            },
            reservation,
        ))
    }

    /// The client's headers, from the one builder; what did not fit its
    /// vocabulary counted, and no secret in what is left.
    fn client_headers(
        &self,
        upstream: &HeaderMap,
        status: StatusCode,
        answer: Answer<'_>,
        secrets: &Secrets,
    ) -> Result<(HeaderMap, crate::cache::UpstreamDirectives), GatewayError> {
        let allow = &self.settings.limits.response_headers;
        let dropped = allow.unlisted(upstream);
        if dropped > 0 {
            self.metrics.response_headers_dropped.inc_by(dropped);
        }
        let built = allow
            .build(upstream, status, answer)
            .map_err(|reason| self.mask_failure(reason))?;
        for name in built.refused {
            // The header's name from the allowlist's own table.
            self.metrics
                .response_header_values_refused
                .with([&Vocabulary(name)])
                .inc();
        }
        if secrets.in_headers(&built.headers) {
            return Err(self.reflected(Found::Header));
        }
        Ok((built.headers, built.directives))
    }

    /// Relays a declared passthrough body, after checking its magic bytes:
    /// on every answer, unless the entry opted into ranges and this is a 206
    /// (a part of a PDF does not start with them).
    async fn stream_passthrough(
        &self,
        parts: http::response::Parts,
        mut body: Incoming,
        slot: Slot,
        deadline: Instant,
        rule: &PassthroughRule,
        secrets: &Secrets,
    ) -> Result<Processed, GatewayError> {
        let mut peeked = BytesMut::new();
        let partial = rule.ranges() && parts.status == StatusCode::PARTIAL_CONTENT;
        if let Some(magic) = rule.magic().filter(|_| !partial) {
            let mut ended = false;
            while peeked.len() < magic.len() {
                match tokio::time::timeout_at(deadline, body.frame()).await {
                    Err(_) => return Err(GatewayError::UpstreamTimeout),
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Ok(Some(Err(_))) => return Err(GatewayError::UpstreamProtocol),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            peeked.extend_from_slice(&data);
                        }
                    }
                }
            }
            // An empty body (a HEAD answer, or nothing sent) carries nothing
            // to check: rule (c). Any byte at all must start with the magic.
            let empty = ended && peeked.is_empty();
            if !empty && !peeked.starts_with(magic) {
                return Err(self.mask_failure(MaskFailure::PassthroughMismatch.as_str()));
            }
        }
        let guard = secrets.stream_guard(self.metrics.secret_reflections.with([&Found::Body]));
        let prefix = peeked.freeze();
        let length = http_body::Body::size_hint(&body)
            .exact()
            .map(|rest| rest + prefix.len() as u64);
        let spool = self.spool.spool(slot.caller());
        let (relay, prefix) = Relay::new(
            RelayParts {
                body,
                prefix,
                slot,
                park_limit: self.settings.park_limit,
                guard,
            },
            self.spool.settings().memory_per_response,
            self.budget.clone(),
            spool,
        );
        // One piece in flight: the relay's buffers, not the channel, hold the rest.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(relay.run(prefix, tx));
        let resp = Response::from_parts(parts, GatewayBody::relayed(rx, length));
        Ok(Processed::Streamed(resp))
    }
}

impl Inspected {
    /// The client's response; a 304 from the gateway when the client's
    /// `If-None-Match` names the gateway's tag for these bytes.
    pub fn into_response(
        self,
        reservation: Reservation,
        if_none_match: Option<&HeaderValue>,
    ) -> Response<GatewayBody> {
        let unchanged = self.status == StatusCode::OK
            && if_none_match.is_some_and(|inm| super::headers::not_modified(inm, &self.headers));
        let mut resp = if unchanged {
            let mut r = Response::new(GatewayBody::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            let mut r = Response::new(GatewayBody::buffered(self.body, reservation));
            *r.status_mut() = self.status;
            r
        };
        *resp.headers_mut() = self.headers;
        resp
    }
}
