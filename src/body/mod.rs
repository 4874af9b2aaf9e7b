//! The one response body type the gateway sends, and (`envelope`) a
//! `GatewayError` as the client sees it.
//!
//! An enum instead of a boxed trait object: a cache hit is one `Bytes` clone
//! and no allocation, and a relayed passthrough (PDF memos) hands over the
//! pieces its relay task (`inspect::relay`) has checked for reflected secrets
//! and buffered.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::fair::budget::Reservation;

pub mod envelope;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a watched body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// Every byte was handed to the connection.
    Whole,
    /// It broke off with an error (upstream failed mid-stream, or the secret guard).
    Broken,
    /// Dropped before its end: the connection went.
    Dropped,
}

/// Told, once, what became of the body it rides on, when the body is
/// dropped. The request's guard is one (`proxy::settle`), so a request is
/// finished when its body is.
pub trait Watch: Send {
    /// `sent`: body bytes handed to the connection.
    fn finished(&mut self, sent: u64, end: BodyEnd);
}

/// A body and its watcher (unsized: one allocation for both).
pub struct Watched<W: ?Sized + Watch> {
    body: GatewayBody,
    /// Bytes taken from `body`.
    taken: u64,
    /// Bytes taken but never handed on (the connection's unsent remainder).
    unsent: u64,
    broken: bool,
    /// The body said it had nothing more (a body of unknown length, such as
    /// a relayed chunked one, only says so by ending).
    ended: bool,
    watch: W,
}

impl<W: Watch> Watched<W> {
    /// `watch` in the box a body will ride in, made before that body exists: a
    /// request's guard is boxed as the request is admitted, so the request's
    /// future holds a pointer instead of the guard (hyper moves that future, at
    /// its full size, for every request) and nothing is copied into a box once
    /// the answer is ready ([`GatewayBody::watched_in`]). Dropped without a body,
    /// it tells `watch` an empty body ended whole, nothing sent.
    pub fn boxed(watch: W) -> Box<Self> {
        Box::new(Watched {
            body: GatewayBody::empty(),
            taken: 0,
            unsent: 0,
            broken: false,
            ended: false,
            watch,
        })
    }

    pub fn watch(&self) -> &W {
        &self.watch
    }

    pub fn watch_mut(&mut self) -> &mut W {
        &mut self.watch
    }
}

impl<W: ?Sized + Watch> Drop for Watched<W> {
    fn drop(&mut self) {
        let end = if self.broken {
            BodyEnd::Broken
        } else if (self.ended || self.body.is_end_stream()) && self.unsent == 0 {
            // hyper stops polling a body that says it is at its end (a known
            // length, all of it taken) and drops it: that is a whole body too.
            BodyEnd::Whole
        } else {
            BodyEnd::Dropped
        };
        let sent = self.taken.saturating_sub(self.unsent);
        self.watch.finished(sent, end);
    }
}

pub enum GatewayBody {
    Full(Option<Bytes>),
    /// A body the gateway buffered for this one response (a masked body that
    /// is not shared with the cache): its bytes count against the global
    /// buffer budget until the client has taken them or gone away.
    Buffered {
        bytes: Option<Bytes>,
        _reservation: Reservation,
    },
    /// A passthrough body from its relay task, which holds the upstream side
    /// and the buffers; the task ends when this is dropped.
    Relayed {
        rx: mpsc::Receiver<Result<Bytes, BoxError>>,
        /// Bytes still to come when the length is known (upstream's
        /// `Content-Length`), so the client is told it and a short body is
        /// an error, never a silently complete one.
        remaining: Option<u64>,
    },
    /// Any of the above, with whoever must know how it ended.
    Watched(Box<Watched<dyn Watch>>),
}

impl GatewayBody {
    pub fn full(bytes: Bytes) -> Self {
        GatewayBody::Full(Some(bytes))
    }

    pub fn empty() -> Self {
        GatewayBody::Full(None)
    }

    pub fn buffered(bytes: Bytes, reservation: Reservation) -> Self {
        GatewayBody::Buffered {
            bytes: Some(bytes),
            _reservation: reservation,
        }
    }

    /// This body, reporting to `watch` how it ends.
    pub fn watched(self, watch: impl Watch + 'static) -> Self {
        GatewayBody::Watched(Box::new(Watched {
            body: self,
            taken: 0,
            unsent: 0,
            broken: false,
            ended: false,
            watch,
        }))
    }

    /// This body, reporting how it ends to the watcher boxed for it ([`Watched::boxed`]).
    pub fn watched_in<W: Watch + 'static>(self, mut watched: Box<Watched<W>>) -> Self {
        watched.body = self;
        GatewayBody::Watched(watched)
    }

    /// The connection is dropping `bytes` it took from this body but never
    /// handed on (it hands a large frame over in slices): the body did not
    /// reach the client whole.
    pub fn unsent(&mut self, bytes: usize) {
        if let GatewayBody::Watched(w) = self {
            w.unsent += bytes as u64;
        }
    }

    pub fn relayed(rx: mpsc::Receiver<Result<Bytes, BoxError>>, length: Option<u64>) -> Self {
        GatewayBody::Relayed {
            rx,
            remaining: length,
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
            // Handed over whole: the connection (`server::body::ConnBody`)
            // slices every body for hyper and keeps this one, with its
            // reservation, until the client has taken the last slice.
            GatewayBody::Buffered { bytes, .. } => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
            GatewayBody::Relayed { rx, remaining } => match rx.poll_recv(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(data))) => {
                    if let Some(r) = remaining {
                        *r = r.saturating_sub(data.len() as u64);
                    }
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => match remaining {
                    Some(r) if *r > 0 => {
                        Poll::Ready(Some(Err("passthrough body ended short".into())))
                    }
                    _ => Poll::Ready(None),
                },
            },
            GatewayBody::Watched(w) => {
                let polled = Pin::new(&mut w.body).poll_frame(cx);
                match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            w.taken += data.len() as u64;
                        }
                    }
                    Poll::Ready(Some(Err(_))) => w.broken = true,
                    Poll::Ready(None) => w.ended = true,
                    Poll::Pending => {}
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GatewayBody::Full(b) | GatewayBody::Buffered { bytes: b, .. } => b.is_none(),
            GatewayBody::Relayed { remaining, .. } => *remaining == Some(0),
            GatewayBody::Watched(w) => w.body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GatewayBody::Full(Some(b)) | GatewayBody::Buffered { bytes: Some(b), .. } => {
                SizeHint::with_exact(b.len() as u64)
            }
            GatewayBody::Full(None) | GatewayBody::Buffered { bytes: None, .. } => {
                SizeHint::with_exact(0)
            }
            GatewayBody::Relayed {
                remaining: Some(r), ..
            } => SizeHint::with_exact(*r),
            GatewayBody::Relayed {
                remaining: None, ..
            } => SizeHint::new(),
            GatewayBody::Watched(w) => w.body.size_hint(),
        }
    }
}
