//! Turning paycombat's response into the client's, failing closed.
//!
//! A body is read whole and masked when it claims JSON, when it looks like
//! JSON (first non-blank byte `{` or `[`, whatever its content-type says), or
//! when it is content-encoded (it must be decoded before anyone can tell).
//! Anything that then cannot be inspected — unparseable, too large, too deep,
//! an unknown encoding — becomes a 502 and its bytes are dropped. Everything
//! else (PDF memos) streams through untouched after a few peeked bytes.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap};
use http::Response;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::Proxy;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::mask::decode::{self, Encoding};
use crate::upstream::headers::strip_hop_by_hop;

/// Headers that describe the upstream's bytes and become false once the body
/// is decoded or masked.
const BODY_BOUND: &[header::HeaderName] = &[
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::ETAG,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
];

/// A response the gateway read whole and masked (the only kind it may cache).
pub struct Inspected {
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub enum Processed {
    Inspected(Inspected),
    Streamed(Response<GatewayBody>),
}

impl Proxy {
    fn mask_failure(&self, reason: &'static str) -> GatewayError {
        self.metrics
            .mask_failures
            .with_label_values(&[reason])
            .inc();
        tracing::warn!(
            reason,
            "upstream body refused: it could not be inspected for personal data"
        );
        GatewayError::Unmaskable { reason }
    }

    async fn read_whole(
        &self,
        body: impl http_body::Body<Data = Bytes, Error = hyper::Error> + Send,
        deadline: Instant,
    ) -> Result<Bytes, GatewayError> {
        let limit = self.settings.upstream.max_response_body_bytes;
        match tokio::time::timeout_at(deadline, Limited::new(body, limit).collect()).await {
            Err(_) => Err(GatewayError::UpstreamTimeout),
            Ok(Ok(c)) => Ok(c.to_bytes()),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(self.mask_failure("too_large"))
            }
            Ok(Err(_)) => Err(GatewayError::UpstreamProtocol),
        }
    }

    /// Masks a complete, decoded body that must be inspected.
    fn mask_body(&self, body: &[u8]) -> Result<Bytes, GatewayError> {
        let Some(masker) = &self.masker else {
            return Ok(Bytes::copy_from_slice(body));
        };
        match masker.mask(body) {
            Ok(masked) => {
                self.record_masked(&masked);
                Ok(masked.body)
            }
            Err(e) => Err(self.mask_failure(e.reason())),
        }
    }

    pub async fn process_response(
        &self,
        resp: Response<Incoming>,
        permit: OwnedSemaphorePermit,
        deadline: Instant,
        always_buffer: bool,
    ) -> Result<Processed, GatewayError> {
        let (mut parts, mut body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let encoding = decode::parse_content_encoding(parts.headers.get(header::CONTENT_ENCODING))
            .map_err(|e| self.mask_failure(e.reason()))?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let claims_json = crate::mask::must_inspect(content_type.as_deref(), b"");

        let raw = if encoding != Encoding::Identity || claims_json || always_buffer {
            self.read_whole(body, deadline).await?
        } else {
            // Peek until the first non-blank byte decides, without buffering a PDF.
            let mut peeked = BytesMut::new();
            let limit = self.settings.upstream.max_response_body_bytes;
            // Everything peeked so far was blank, so only each new frame is
            // scanned: re-scanning the whole prefix would be quadratic in an
            // upstream that trickles blanks in tiny frames.
            let blank = |b: &u8| b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF);
            let decided = loop {
                if peeked.len() > limit {
                    // Still undecided past the buffering limit: JSON may follow the blanks,
                    // and streaming it on would skip the masker.
                    return Err(self.mask_failure("too_large"));
                }
                match tokio::time::timeout_at(deadline, body.frame()).await {
                    Err(_) => return Err(GatewayError::UpstreamTimeout),
                    Ok(None) => break false,
                    Ok(Some(Err(_))) => return Err(GatewayError::UpstreamProtocol),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            let found = data.iter().any(|b| !blank(b));
                            peeked.extend_from_slice(&data);
                            if found {
                                break true;
                            }
                        }
                    }
                }
            };
            let peeked = peeked.freeze();
            if decided && !crate::mask::must_inspect(content_type.as_deref(), &peeked) {
                let mut resp =
                    Response::from_parts(parts, GatewayBody::stream(peeked, body, Some(permit)));
                resp.headers_mut().remove(header::CONTENT_ENCODING);
                return Ok(Processed::Streamed(resp));
            }
            // Looks like JSON (or ended early): read the rest and inspect it all.
            let rest = self.read_whole(body, deadline).await?;
            if rest.is_empty() {
                peeked
            } else {
                let mut all = BytesMut::with_capacity(peeked.len() + rest.len());
                all.extend_from_slice(&peeked);
                all.extend_from_slice(&rest);
                all.freeze()
            }
        };
        drop(permit);

        let limit = self.settings.upstream.max_response_body_bytes;
        let decoded =
            decode::decode(encoding, &raw, limit).map_err(|e| self.mask_failure(e.reason()))?;
        for h in BODY_BOUND {
            parts.headers.remove(h);
        }
        let body = if decoded.is_empty()
            || !crate::mask::must_inspect(content_type.as_deref(), &decoded)
        {
            decoded
        } else {
            self.mask_body(&decoded)?
        };
        Ok(Processed::Inspected(Inspected {
            status: parts.status,
            headers: parts.headers,
            body,
        }))
    }
}
