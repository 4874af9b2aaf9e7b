//! The secret reflection guard: no byte the gateway sends may contain the
//! credentials it holds.
//!
//! An upstream that reflects request headers (echo or debug endpoints,
//! verbose error pages) would otherwise hand the merchant `X-token` or the
//! signature key to a client. Every response the gateway releases is checked
//! for the current token, the signature key and the mask HMAC key: header
//! values and buffered bodies once, when they are produced (a cache fill, not
//! every hit, so a hit costs nothing), and streamed bodies frame by frame,
//! across frame boundaries.
//!
//! The check runs on the bytes the client receives — after masking, which
//! re-serialises strings — so a secret hidden behind JSON escapes
//! (`\u0073nd_…`) is caught in the form it would arrive in.

use bytes::Bytes;
use http::HeaderMap;
use memchr::memmem;
use prometheus::IntCounterVec;

use crate::body::BoxError;

/// Secrets shorter than this are not scanned for: they would match ordinary
/// bytes by chance, and no credential the gateway holds is that short.
pub const MIN_SECRET_LEN: usize = 8;

/// The secrets in force when a response is produced.
#[derive(Clone, Default)]
pub struct Secrets {
    needles: Vec<Box<[u8]>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} scanned)", self.needles.len())
    }
}

/// Where a reflected secret was found (the metric label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Header,
    Body,
}

impl Found {
    pub fn label(self) -> &'static str {
        match self {
            Found::Header => "header",
            Found::Body => "body",
        }
    }
}

impl Secrets {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let needles = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .map(Box::from)
            .collect();
        Secrets { needles }
    }

    fn longest(&self) -> usize {
        self.needles.iter().map(|n| n.len()).max().unwrap_or(0)
    }

    pub fn in_bytes(&self, hay: &[u8]) -> bool {
        self.needles.iter().any(|n| memmem::find(hay, n).is_some())
    }

    pub fn in_headers(&self, headers: &HeaderMap) -> bool {
        // Names too: a header name can carry bytes as well as a value can.
        headers
            .iter()
            .any(|(k, v)| self.in_bytes(k.as_str().as_bytes()) || self.in_bytes(v.as_bytes()))
    }

    /// A guard for a body streamed in frames.
    pub fn stream_guard(&self, counter: IntCounterVec) -> StreamGuard {
        StreamGuard {
            held: Vec::new(),
            keep: self.longest().saturating_sub(1),
            secrets: self.clone(),
            counter: Some(counter),
            tripped: false,
        }
    }
}

/// Checks a streamed body frame by frame, and releases no byte of a secret.
/// The last `longest - 1` bytes seen are held back (they may be the start of
/// a secret the next frame completes) and checked again with the next frame;
/// [`StreamGuard::finish`] gives them up once the body has ended. Checking
/// without holding back would let a body cut inside a secret hand its client
/// all of it but the last byte before the next frame showed what it was.
pub struct StreamGuard {
    secrets: Secrets,
    /// Checked, not yet released: the newest `keep` bytes (at most).
    held: Vec<u8>,
    keep: usize,
    counter: Option<IntCounterVec>,
    tripped: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("upstream body carried a gateway secret; transfer aborted")]
pub struct Reflected;

impl StreamGuard {
    /// Checks `data` after what is held, and releases everything that can
    /// no longer be part of a secret.
    pub fn check(&mut self, data: Bytes) -> Result<Bytes, BoxError> {
        if self.tripped {
            return Err(Box::new(Reflected));
        }
        if self.keep == 0 {
            return Ok(data);
        }
        let mut seen = std::mem::take(&mut self.held);
        seen.extend_from_slice(&data);
        if self.secrets.in_bytes(&seen) {
            self.tripped = true;
            if let Some(c) = &self.counter {
                c.with_label_values(&[Found::Body.label()]).inc();
            }
            tracing::error!(
                "a streamed upstream body contained a gateway secret; the transfer was aborted"
            );
            return Err(Box::new(Reflected));
        }
        self.held = seen.split_off(seen.len().saturating_sub(self.keep));
        Ok(Bytes::from(seen))
    }

    /// The body ended: the bytes held back, which hold no secret.
    pub fn finish(&mut self) -> Bytes {
        if self.tripped {
            return Bytes::new();
        }
        Bytes::from(std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &[u8] = b"snd_TOKENabcdef0123456789";

    fn guard() -> StreamGuard {
        let s = Secrets::new([TOKEN, b"short".as_slice()]);
        assert_eq!(
            s.needles.len(),
            1,
            "secrets under the minimum are not scanned"
        );
        s.stream_guard(IntCounterVec::new(prometheus::Opts::new("r", "r"), &["where"]).unwrap())
    }

    #[test]
    fn found_in_headers_and_bodies() {
        let s = Secrets::new([TOKEN]);
        let mut h = HeaderMap::new();
        h.insert(
            "x-echo",
            http::HeaderValue::from_static("a snd_TOKENabcdef0123456789 b"),
        );
        assert!(s.in_headers(&h));
        assert!(!s.in_headers(&HeaderMap::new()));
        assert!(s.in_bytes(b"{\"x\":\"snd_TOKENabcdef0123456789\"}"));
        assert!(!s.in_bytes(b"{\"x\":\"snd_TOKENabcdef012345678\"}"));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

        /// However a body holding the token is cut into frames, the stream
        /// fails before any byte of the token is released.
        #[test]
        fn a_secret_split_across_frames_is_caught(
            before in prop::collection::vec(any::<u8>(), 0..64),
            after in prop::collection::vec(any::<u8>(), 0..64),
            cuts in prop::collection::vec(0usize..200, 0..8),
        ) {
            let mut body = before.clone();
            body.extend_from_slice(TOKEN);
            body.extend_from_slice(&after);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.push(0);
            cuts.push(body.len());
            cuts.sort_unstable();
            cuts.dedup();
            let mut g = guard();
            let mut released = 0;
            let mut failed = false;
            for w in cuts.windows(2) {
                match g.check(Bytes::copy_from_slice(&body[w[0]..w[1]])) {
                    Ok(out) => released += out.len(),
                    Err(_) => { failed = true; break; }
                }
            }
            prop_assert!(failed);
            prop_assert!(g.finish().is_empty());
            prop_assert!(released <= before.len(), "released {released} of {} before the token", before.len());
        }

        #[test]
        fn bodies_without_the_secret_pass_whole(
            body in prop::collection::vec(prop::sample::select(b"snd_TOKEN0123".to_vec()), 0..300),
            cuts in prop::collection::vec(0usize..300, 0..8),
        ) {
            prop_assume!(memmem::find(&body, TOKEN).is_none());
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.push(0);
            cuts.push(body.len());
            cuts.sort_unstable();
            cuts.dedup();
            let mut g = guard();
            let mut out = Vec::new();
            for w in cuts.windows(2) {
                out.extend_from_slice(&g.check(Bytes::copy_from_slice(&body[w[0]..w[1]])).unwrap());
            }
            out.extend_from_slice(&g.finish());
            prop_assert_eq!(out, body);
        }
    }
}
