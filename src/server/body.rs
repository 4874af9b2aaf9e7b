//! The response body as the connection sends it: the handler's body, handed
//! to hyper in bounded frames, with the connection told whether it is waiting
//! on the client.
//!
//! Bounded frames matter for the write-stall watchdog: hyper asks for the
//! next frame only once the client made room for the last one, so a body that
//! hyper stops asking for is a client that stopped reading. A whole buffered
//! body handed over as one frame would end at once and sit in hyper's (or
//! h2's) send buffer where nothing could see it. Splitting a `Bytes` is a
//! reference-count bump, not a copy.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::state::Busy;
use crate::body::{BoxError, GatewayBody};

/// Largest frame handed to hyper: HTTP/2's default maximum frame size, so one
/// frame is what a slowly-reading h2 client takes in one go.
pub const MAX_FRAME: usize = 16 * 1024;

pub struct ConnBody {
    inner: GatewayBody,
    /// The part of a large frame not yet handed over.
    rest: Option<Bytes>,
    owed: bool,
    busy: Busy,
}

impl ConnBody {
    pub fn new(inner: GatewayBody, busy: Busy) -> Self {
        // Until hyper first polls it, the response head itself is waiting to be written.
        busy.state().set_owed(true);
        ConnBody {
            inner,
            rest: None,
            owed: true,
            busy,
        }
    }

    fn owe(&mut self, owed: bool) {
        if self.owed != owed {
            self.owed = owed;
            self.busy.state().set_owed(owed);
        }
    }

    fn bounded(&mut self, mut data: Bytes) -> Bytes {
        if data.len() > MAX_FRAME {
            self.rest = Some(data.split_off(MAX_FRAME));
        }
        data
    }
}

impl Body for ConnBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let me = self.get_mut();
        let polled = match me.rest.take() {
            Some(rest) => Poll::Ready(Some(Ok(Frame::data(me.bounded(rest))))),
            None => match Pin::new(&mut me.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(Frame::data(me.bounded(data))))),
                    Err(frame) => Poll::Ready(Some(Ok(frame))),
                },
                other => other,
            },
        };
        match &polled {
            Poll::Ready(Some(Ok(_))) => {
                me.busy.state().pulled();
                me.owe(true);
            }
            // Waiting on upstream, or finished: either way not on the client.
            _ => me.owe(false),
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let extra = self.rest.as_ref().map_or(0, |r| r.len() as u64);
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower() + extra);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + extra);
        }
        hint
    }
}

impl Drop for ConnBody {
    fn drop(&mut self) {
        self.owe(false);
        // Part of a frame never reached hyper: the body was not sent whole.
        if let Some(rest) = self.rest.take() {
            self.inner.unsent(rest.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{BodyEnd, Watch};
    use crate::server::state::{ConnState, Sample};
    use http_body_util::BodyExt;
    use std::sync::Arc;

    #[tokio::test]
    async fn large_frames_are_split_and_the_connection_sees_every_transition() {
        let state = Arc::new(ConnState::default());
        let payload = Bytes::from(vec![7u8; MAX_FRAME * 2 + 5]);
        let mut body = ConnBody::new(GatewayBody::full(payload.clone()), Busy::enter(&state));
        assert_eq!(body.size_hint().exact(), Some(payload.len() as u64));
        assert_eq!((state.sample().busy, state.sample().owed), (1, 1));
        let mut got = Vec::new();
        while let Some(f) = body.frame().await {
            let d = f.unwrap().into_data().unwrap();
            assert!(d.len() <= MAX_FRAME);
            got.extend_from_slice(&d);
            assert_eq!(
                state.sample().owed,
                1,
                "handed a frame: waiting on the client"
            );
        }
        assert_eq!(got, payload);
        assert!(body.is_end_stream());
        assert_eq!(state.sample().owed, 0, "finished");
        assert_eq!(state.sample().pulled, 3);
        drop(body);
        assert_eq!(
            state.sample(),
            Sample {
                requests: 1,
                pulled: 3,
                ..Sample::default()
            }
        );
    }

    proptest::proptest! {
        /// Any body comes out whole, in frames of at most MAX_FRAME, with an
        /// exact length up front, and leaves the connection as it found it.
        #[test]
        fn frames_are_bounded_and_reassemble_exactly(len in 0usize..(MAX_FRAME * 5)) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let state = Arc::new(ConnState::default());
            let payload = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
            let mut body = ConnBody::new(GatewayBody::full(payload.clone()), Busy::enter(&state));
            proptest::prop_assert_eq!(body.size_hint().exact(), Some(len as u64));
            let mut got = Vec::new();
            while let Some(f) = rt.block_on(body.frame()) {
                let d = f.unwrap().into_data().unwrap();
                proptest::prop_assert!(d.len() <= MAX_FRAME);
                got.extend_from_slice(&d);
            }
            proptest::prop_assert_eq!(&got[..], &payload[..]);
            drop(body);
            let s = state.sample();
            proptest::prop_assert_eq!((s.busy, s.owed), (0, 0));
        }
    }

    /// Records what a watched body reports.
    #[derive(Clone, Default)]
    struct Seen(Arc<std::sync::Mutex<Vec<(u64, BodyEnd)>>>);

    impl Watch for Seen {
        fn finished(&mut self, sent: u64, end: BodyEnd) {
            self.0.lock().unwrap().push((sent, end));
        }
    }

    proptest::proptest! {
        /// However many frames the connection takes before it goes, the watcher
        /// hears exactly once: whole only when every byte reached hyper, and
        /// the bytes that did — even when the last large frame was cut in slices.
        #[test]
        fn a_watched_body_reports_once_and_exactly_what_was_handed_over(
            len in 0usize..(MAX_FRAME * 4),
            taken in 0usize..6,
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let state = Arc::new(ConnState::default());
            let seen = Seen::default();
            let payload = Bytes::from(vec![3u8; len]);
            let watched = GatewayBody::full(payload).watched(seen.clone());
            let mut body = ConnBody::new(watched, Busy::enter(&state));
            let mut handed = 0usize;
            for _ in 0..taken {
                if body.is_end_stream() {
                    break;
                }
                match rt.block_on(body.frame()) {
                    Some(f) => handed += f.unwrap().into_data().unwrap().len(),
                    None => break,
                }
            }
            let all = body.is_end_stream();
            drop(body);
            let seen = seen.0.lock().unwrap().clone();
            let end = if all { BodyEnd::Whole } else { BodyEnd::Dropped };
            proptest::prop_assert_eq!(seen, vec![(handed as u64, end)]);
            proptest::prop_assert_eq!(all, handed == len);
        }
    }

    /// A relayed body of unknown length (paycombat sent it chunked) that
    /// reached its end is whole, though it never says it is at its end: only
    /// polling past the last piece shows that.
    #[tokio::test]
    async fn a_relayed_body_of_unknown_length_read_to_its_end_is_whole() {
        let state = Arc::new(ConnState::default());
        let seen = Seen::default();
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tx.send(Ok(Bytes::from_static(b"%PDF-1.7 chunked")))
            .await
            .unwrap();
        drop(tx);
        let watched = GatewayBody::relayed(rx, None).watched(seen.clone());
        let mut body = ConnBody::new(watched, Busy::enter(&state));
        let mut handed = 0;
        while let Some(f) = body.frame().await {
            handed += f.unwrap().into_data().unwrap().len();
        }
        drop(body);
        let seen = seen.0.lock().unwrap().clone();
        assert_eq!(seen, vec![(handed as u64, BodyEnd::Whole)]);
    }

    #[tokio::test]
    async fn dropping_an_unfinished_body_releases_the_connection() {
        let state = Arc::new(ConnState::default());
        let mut body = ConnBody::new(
            GatewayBody::full(Bytes::from(vec![1u8; MAX_FRAME * 3])),
            Busy::enter(&state),
        );
        body.frame().await.unwrap().unwrap();
        assert_eq!((state.sample().busy, state.sample().owed), (1, 1));
        drop(body);
        assert_eq!((state.sample().busy, state.sample().owed), (0, 0));
        assert!(state.is_idle());
    }
}
