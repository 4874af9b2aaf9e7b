//! The one response body type the gateway sends.
//!
//! An enum instead of a boxed trait object: a cache hit is one `Bytes` clone
//! and no allocation, and a streamed passthrough (PDF memos) forwards upstream
//! frames as they arrive after the few bytes that were peeked to sniff JSON.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub enum GatewayBody {
    Full(Option<Bytes>),
    Stream {
        prefix: Option<Bytes>,
        rest: Incoming,
        /// Held until the stream ends so the concurrency cap counts the whole
        /// transfer, not just the response head.
        _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    },
}

impl GatewayBody {
    pub fn full(bytes: Bytes) -> Self {
        GatewayBody::Full(Some(bytes))
    }

    pub fn empty() -> Self {
        GatewayBody::Full(None)
    }

    pub fn stream(
        prefix: Bytes,
        rest: Incoming,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Self {
        GatewayBody::Stream {
            prefix: (!prefix.is_empty()).then_some(prefix),
            rest,
            _permit: permit,
        }
    }
}

impl Body for GatewayBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            GatewayBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            GatewayBody::Stream { prefix, rest, .. } => {
                if let Some(p) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                Pin::new(rest)
                    .poll_frame(cx)
                    .map(|f| f.map(|r| r.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GatewayBody::Full(b) => b.is_none(),
            GatewayBody::Stream { prefix, rest, .. } => prefix.is_none() && rest.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GatewayBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            GatewayBody::Full(None) => SizeHint::with_exact(0),
            GatewayBody::Stream { prefix, rest, .. } => {
                let extra = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let inner = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower() + extra);
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper + extra);
                }
                hint
            }
        }
    }
}
