//! Response payloads: small ones in memory, large ones generated chunk by chunk.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type ResBody = BoxBody<Bytes, BoxError>;

/// Chunk size of generated bodies: big enough to be cheap, small enough to trickle.
pub(crate) const STREAM_CHUNK: usize = 16 * 1024;

/// A body produced on the fly, so that a 64 MiB answer never sits in memory.
pub(crate) trait ChunkSource: Send + 'static {
    /// The next piece, or `None` at the end.
    fn next_chunk(&mut self) -> Option<Bytes>;
    /// Exact number of bytes the source yields in total.
    fn len(&self) -> u64;
}

pub(crate) enum Payload {
    Bytes(Bytes),
    Stream(Box<dyn ChunkSource>),
}

impl Payload {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::Stream(s) => s.len(),
        }
    }

    /// The first half, cut blindly (mid-token for JSON, which is the point).
    pub(crate) fn first_half(self) -> Payload {
        match self {
            Payload::Bytes(b) => {
                let half = b.len() / 2;
                Payload::Bytes(b.slice(..half))
            }
            Payload::Stream(s) => {
                let half = s.len() / 2;
                Payload::Stream(Box::new(Take {
                    inner: s,
                    remaining: half,
                }))
            }
        }
    }

    pub(crate) fn into_source(self, chunk: usize) -> Box<dyn ChunkSource> {
        match self {
            Payload::Bytes(bytes) => Box::new(SplitBytes {
                bytes,
                chunk: chunk.max(1),
            }),
            Payload::Stream(s) => s,
        }
    }
}

/// In-memory bytes handed out in fixed-size pieces (for trickling and mid-body aborts).
struct SplitBytes {
    bytes: Bytes,
    chunk: usize,
}

impl ChunkSource for SplitBytes {
    fn next_chunk(&mut self) -> Option<Bytes> {
        if self.bytes.is_empty() {
            return None;
        }
        let n = self.chunk.min(self.bytes.len());
        Some(self.bytes.split_to(n))
    }

    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// The first `remaining` bytes of another source.
struct Take {
    inner: Box<dyn ChunkSource>,
    remaining: u64,
}

impl ChunkSource for Take {
    fn next_chunk(&mut self) -> Option<Bytes> {
        if self.remaining == 0 {
            return None;
        }
        let mut chunk = self.inner.next_chunk()?;
        let keep = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        if chunk.len() > keep {
            chunk.truncate(keep);
        }
        self.remaining -= chunk.len() as u64;
        Some(chunk)
    }

    fn len(&self) -> u64 {
        self.remaining.min(self.inner.len())
    }
}

pub(crate) fn full(bytes: Bytes) -> ResBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A body fed by a producer task; the bounded channel keeps at most a few chunks in flight, and a
/// dropped body (client gone) makes the producer's next send fail, which ends it.
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
}

impl ChannelBody {
    pub(crate) fn channel() -> (mpsc::Sender<Result<Bytes, BoxError>>, ResBody) {
        let (tx, rx) = mpsc::channel(4);
        (tx, ChannelBody { rx }.boxed())
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|res| res.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut s: Box<dyn ChunkSource>) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = s.next_chunk() {
            out.extend_from_slice(&c);
        }
        out
    }

    #[test]
    fn split_and_half_keep_exact_lengths() {
        let p = Payload::Bytes(Bytes::from_static(b"0123456789"));
        assert_eq!(drain(p.into_source(3)), b"0123456789");
        let half = Payload::Bytes(Bytes::from_static(b"0123456789")).first_half();
        assert_eq!(half.len(), 5);
        let streamed = Payload::Stream(Box::new(SplitBytes {
            bytes: Bytes::from_static(b"abcdefghij"),
            chunk: 3,
        }))
        .first_half();
        assert_eq!(streamed.len(), 5);
        assert_eq!(drain(streamed.into_source(1)), b"abcde");
    }
}
