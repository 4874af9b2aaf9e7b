//! The secret reflection guard: no byte the gateway sends may contain the
//! credentials it holds, in any form a client could turn back into them.
//!
//! An upstream that reflects request headers (echo or debug endpoints,
//! verbose error pages) would otherwise hand the merchant `X-token` or the
//! signature key to a client. Every response the gateway releases is checked
//! for the current token, the signature key and the mask HMAC key: header
//! values and buffered bodies once, when they are produced (a cache fill, not
//! every hit, so a hit costs nothing), and streamed bodies frame by frame,
//! across frame boundaries.
//!
//! A secret is looked for in its canonical forms, not its bytes alone: any
//! ASCII case, hex, percent-encoded (every byte, or only the reserved ones),
//! JSON `\u` escapes, and base64 (standard and URL-safe, padded or not) at
//! each of the three offsets a secret can start at inside a base64 group —
//! for the secret as held and upper- and lower-cased. All forms of all
//! secrets are one Aho-Corasick automaton, so a check is one pass over the
//! bytes, and the automaton is built when the secrets change, not per
//! response. A secret shorter than [`CANONICAL_MIN_LEN`] gets exact matching
//! only (its hex or any-case forms would match ordinary text; `true` would
//! match every body) and a warning; one shorter than [`MIN_SECRET_LEN`] is not
//! looked for at all.
//!
//! A masked JSON body is also read through the masker's own readings (nested codings,
//! compressed streams, UTF-16 text, NFKC): the walk hands every string it copies, in each of
//! them, to [`crate::mask::Masked::unescaped`], which this guard checks with the body.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use prometheus::IntCounter;

use crate::body::BoxError;

/// Secrets shorter than this are not scanned for (the masker, which gives the guard the
/// readings of the strings it copies, owns the bound: it skips shorter strings).
pub use crate::mask::MIN_SECRET_LEN;

/// Secrets at least this long are looked for in every canonical form;
/// shorter ones byte for byte only.
pub const CANONICAL_MIN_LEN: usize = 12;

/// The secrets in force when a response is produced: compiled automatons
/// (one for the canonical forms, matched in any ASCII case; one for the exact
/// bytes of short secrets).
#[derive(Clone, Default)]
pub struct Secrets {
    sets: Vec<Arc<AhoCorasick>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let patterns: usize = self.sets.iter().map(|s| s.patterns_len()).sum();
        write!(f, "Secrets({patterns} forms scanned)")
    }
}

/// Where a reflected secret was found (the metric label).
pub use super::metrics::SecretLocation as Found;

/// How long a secret is, as far as the guard is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// Not looked for.
    Ignored,
    /// Looked for byte for byte only.
    ExactOnly,
    /// Looked for in every canonical form.
    Canonical,
}

pub fn strength(secret: &[u8]) -> Strength {
    match secret.len() {
        n if n < MIN_SECRET_LEN => Strength::Ignored,
        n if n < CANONICAL_MIN_LEN => Strength::ExactOnly,
        _ => Strength::Canonical,
    }
}

/// Every form of `secret` a client could decode back into it (ASCII case
/// aside: the automaton ignores it).
pub fn canonical_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms: Vec<Vec<u8>> = Vec::new();
    let variants = [
        secret.to_vec(),
        secret.to_ascii_uppercase(),
        secret.to_ascii_lowercase(),
    ];
    for v in variants.iter() {
        forms.push(v.clone());
        forms.push(hex::encode(v).into_bytes());
        forms.push(
            v.iter()
                .flat_map(|b| format!("%{b:02X}").into_bytes())
                .collect(),
        );
        forms.push(
            v.iter()
                .flat_map(|&b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        vec![b]
                    } else {
                        format!("%{b:02X}").into_bytes()
                    }
                })
                .collect(),
        );
        forms.push(
            v.iter()
                .flat_map(|b| format!("\\u{:04x}", b).into_bytes())
                .collect(),
        );
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            for offset in 0..3 {
                forms.extend(base64_core(&engine, v, offset));
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The base64 characters that depend only on `secret` when it starts
/// `offset` bytes into a 3-byte group: the same whatever bytes precede or
/// follow it, and whether the encoder pads or not.
fn base64_core(
    engine: &base64::engine::GeneralPurpose,
    secret: &[u8],
    offset: usize,
) -> Option<Vec<u8>> {
    let mut data = vec![0u8; offset];
    data.extend_from_slice(secret);
    let encoded = engine.encode(&data).into_bytes();
    // Characters mixing the filler's bits with the secret's.
    let start = [0, 2, 3][offset];
    // Full groups, then the characters of the last partial group whose six
    // bits all come from the secret.
    let n = data.len();
    let end = n / 3 * 4 + n % 3;
    let core = encoded.get(start..end)?.to_vec();
    (core.len() >= 8).then_some(core)
}

impl Secrets {
    /// Compiles the guard for `secrets`. Called when they change, never per
    /// response: building the automaton is the expensive part (a DFA of the
    /// ~50 forms of a few secrets: about 1.5 MB, the fastest scan).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self::compile(secrets, None)
    }

    /// For a secret that lives for one request (the signature it carried):
    /// a contiguous NFA, a few KB and built at once, scanning a little slower.
    pub fn for_one_request<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self::compile(secrets, Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
    }

    fn compile<'a>(
        secrets: impl IntoIterator<Item = &'a [u8]>,
        kind: Option<aho_corasick::AhoCorasickKind>,
    ) -> Self {
        let mut canonical: Vec<Vec<u8>> = Vec::new();
        let mut exact: Vec<Vec<u8>> = Vec::new();
        for s in secrets {
            match strength(s) {
                Strength::Ignored => {}
                Strength::ExactOnly => exact.push(s.to_vec()),
                Strength::Canonical => canonical.extend(canonical_forms(s)),
            }
        }
        let mut sets = Vec::new();
        if !canonical.is_empty() {
            sets.extend(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .kind(kind)
                    .build(&canonical)
                    .ok()
                    .map(Arc::new),
            );
        }
        if !exact.is_empty() {
            sets.extend(
                AhoCorasick::builder()
                    .kind(kind)
                    .build(&exact)
                    .ok()
                    .map(Arc::new),
            );
        }
        Secrets { sets }
    }

    /// These secrets and `other`'s.
    pub fn with(mut self, other: &Secrets) -> Secrets {
        self.sets.extend(other.sets.iter().cloned());
        self
    }

    fn longest(&self) -> usize {
        self.sets
            .iter()
            .map(|s| s.max_pattern_len())
            .max()
            .unwrap_or(0)
    }

    pub fn in_bytes(&self, hay: &[u8]) -> bool {
        self.sets.iter().any(|s| s.is_match(hay))
    }

    pub fn in_headers(&self, headers: &HeaderMap) -> bool {
        // Names too: a header name can carry bytes as well as a value can.
        headers
            .iter()
            .any(|(k, v)| self.in_bytes(k.as_str().as_bytes()) || self.in_bytes(v.as_bytes()))
    }

    /// A guard for a body streamed in frames; `counter` counts a secret found in it.
    pub fn stream_guard(&self, counter: IntCounter) -> StreamGuard {
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
    counter: Option<IntCounter>,
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
                c.inc();
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

    /// Compiled once: building the automaton is the slow part, and the
    /// properties below run hundreds of cases.
    fn token_only() -> &'static Secrets {
        static S: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            let s = Secrets::new([TOKEN, b"short".as_slice()]);
            assert_eq!(s.sets.len(), 1, "secrets under the minimum are not scanned");
            assert!(!s.in_bytes(b"short"));
            s
        })
    }

    fn guard() -> StreamGuard {
        token_only().stream_guard(IntCounter::new("r", "r").unwrap())
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

    /// Every way a client could get the token back: any case, hex,
    /// percent-encoded, JSON-escaped, base64 (both alphabets, padded or not)
    /// at each alignment inside a longer encoded message.
    #[test]
    fn every_canonical_form_is_found() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
        let s = Secrets::new([TOKEN]);
        let upper = TOKEN.to_ascii_uppercase();
        let mut forms: Vec<(String, Vec<u8>)> = vec![
            ("raw".into(), TOKEN.to_vec()),
            ("upper".into(), upper.clone()),
            ("lower".into(), TOKEN.to_ascii_lowercase()),
            ("hex".into(), hex::encode(TOKEN).into_bytes()),
            ("HEX".into(), hex::encode_upper(TOKEN).into_bytes()),
            ("hex of upper".into(), hex::encode(&upper).into_bytes()),
            (
                "percent, every byte".into(),
                TOKEN
                    .iter()
                    .flat_map(|b| format!("%{b:02x}").into_bytes())
                    .collect(),
            ),
            (
                "json escapes".into(),
                TOKEN
                    .iter()
                    .flat_map(|b| format!("\\u{b:04X}").into_bytes())
                    .collect(),
            ),
        ];
        for (name, engine) in [
            ("std", STANDARD),
            ("url", URL_SAFE),
            ("url unpadded", URL_SAFE_NO_PAD),
        ] {
            for prefix in 0..3 {
                for suffix in 0..3 {
                    for (case, secret) in [("", TOKEN.to_vec()), (" of upper", upper.clone())] {
                        let mut msg = b"Bearer:"[..prefix].to_vec();
                        msg.extend_from_slice(&secret);
                        msg.extend_from_slice(&b"\xff\xfe"[..suffix]);
                        forms.push((
                            format!("base64 {name}{case}, offset {prefix}, {suffix} after"),
                            engine.encode(&msg).into_bytes(),
                        ));
                    }
                }
            }
        }
        let light = Secrets::for_one_request([TOKEN]);
        for (name, form) in &forms {
            let body = [b"{\"x\":\"".as_slice(), form, b"\"}"].concat();
            assert!(light.in_bytes(&body), "one-request guard, {name}");
            assert!(
                s.in_bytes(&body),
                "{name}: {}",
                String::from_utf8_lossy(form)
            );
        }
        // Percent-encoding of the reserved bytes only, for a secret that has some.
        let with_reserved: &[u8] = b"tok/en+with=reserved";
        let s = Secrets::new([with_reserved]);
        assert!(s.in_bytes(b"a=tok%2Fen%2Bwith%3Dreserved&b"));
        assert!(s.in_bytes(b"TOK/EN+WITH=RESERVED"));
    }

    /// A secret too short for its forms to be told from ordinary text is
    /// looked for byte for byte only; one under the minimum not at all.
    #[test]
    fn short_secrets_match_exactly_only() {
        assert_eq!(strength(b"true"), Strength::Ignored);
        assert_eq!(strength(b"0123456789a"), Strength::ExactOnly);
        assert_eq!(strength(TOKEN), Strength::Canonical);
        let s = Secrets::new([b"shortkey99".as_slice(), b"true".as_slice()]);
        assert!(s.in_bytes(b"x shortkey99 y"));
        assert!(!s.in_bytes(b"x SHORTKEY99 y"));
        assert!(!s.in_bytes(hex::encode("shortkey99").as_bytes()));
        assert!(!s.in_bytes(b"{\"ok\":true}"));
        // Ordinary bodies do not trip the canonical forms of a long secret.
        let s = Secrets::new([TOKEN]);
        for body in [
            br#"{"status":true,"message":"OK","data":{"id":"customer_67d84b19d50b490a8fa75ab20bbf275a"}}"#.as_slice(),
            b"%PDF-1.7 stream endstream",
        ] {
            assert!(!s.in_bytes(body));
        }
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
            prop_assume!(!token_only().in_bytes(&body));
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
