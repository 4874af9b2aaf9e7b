//! What identifies a keyed write: the `Idempotency-Key` header (read strictly), the scope
//! it lives in (client and route), and the fingerprint of the request it was first used for.

use http::{HeaderMap, Method, Uri};
use sha2::{Digest, Sha256};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Why a key header was refused (the 400's message says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKey {
    /// More than one `Idempotency-Key` line: which one did the client mean?
    Repeated,
    Empty,
    /// Longer than `idempotency.max_key_bytes`.
    TooLong,
    /// Not a structured-field string (`"…"`, printable ASCII) nor a bare token.
    Malformed,
}

impl BadKey {
    pub fn reason(self) -> &'static str {
        match self {
            BadKey::Repeated => "send exactly one Idempotency-Key header line",
            BadKey::Empty => "the Idempotency-Key is empty",
            BadKey::TooLong => "the Idempotency-Key is longer than this gateway accepts",
            BadKey::Malformed => {
                "the Idempotency-Key must be a quoted string (\"…\") or a token of printable ASCII without spaces"
            }
        }
    }
}

/// A client's idempotency key, as the value it names (`"abc"` and `abc` are one key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(pub(super) String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The request's key: `Ok(None)` without the header. Accepts the IETF draft's
/// structured-field string (`"abc"`, with `\"` and `\\` escapes) and the bare token
/// Stripe-style clients send (`abc`, any visible ASCII but `"`), nothing else.
pub fn parse(headers: &HeaderMap, max_bytes: usize) -> Result<Option<Key>, BadKey> {
    let mut lines = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = lines.next() else {
        return Ok(None);
    };
    if lines.next().is_some() {
        return Err(BadKey::Repeated);
    }
    let raw = value.as_bytes().trim_ascii();
    let key = match raw {
        [b'"', inner @ .., b'"'] => unquote(inner)?,
        _ if raw.contains(&b'"') => return Err(BadKey::Malformed),
        _ if raw.iter().all(|b| b.is_ascii_graphic()) => {
            String::from_utf8(raw.to_vec()).map_err(|_| BadKey::Malformed)?
        }
        _ => return Err(BadKey::Malformed),
    };
    if key.is_empty() {
        return Err(BadKey::Empty);
    }
    if key.len() > max_bytes {
        return Err(BadKey::TooLong);
    }
    Ok(Some(Key(key)))
}

/// RFC 8941 §3.3.3: printable ASCII; `\` escapes only `"` and `\`.
fn unquote(inner: &[u8]) -> Result<String, BadKey> {
    let mut out = String::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(&e @ (b'"' | b'\\')) => out.push(char::from(e)),
                _ => return Err(BadKey::Malformed),
            },
            b'"' => return Err(BadKey::Malformed),
            0x20..=0x7e => out.push(char::from(b)),
            _ => return Err(BadKey::Malformed),
        }
    }
    Ok(out)
}

/// Whose keys a key is among: the client (or, with authentication off, the peer
/// address) and the configured route. Hashed with the key, so a store holds no
/// client name or key in clear and every record id has one length.
pub fn record_id(identity: &str, route: &str, key: &Key) -> String {
    let mut h = Sha256::new();
    for part in [identity.as_bytes(), route.as_bytes(), key.0.as_bytes()] {
        // Length-prefixed: ("ab", "c") and ("a", "bc") are two scopes.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// The request a key was first used for: method, path, query and the exact body bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    pub fn of(method: &Method, uri: &Uri, body: &[u8]) -> Fingerprint {
        let mut h = Sha256::new();
        let query = uri.query().unwrap_or("");
        for part in [
            method.as_str().as_bytes(),
            uri.path().as_bytes(),
            query.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(Sha256::digest(body));
        Fingerprint(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn one(v: &[u8]) -> Result<Option<Key>, BadKey> {
        let mut h = HeaderMap::new();
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_bytes(v).unwrap());
        parse(&h, 64)
    }

    #[test]
    fn quoted_and_bare_forms_name_the_same_key() {
        assert_eq!(one(b"\"abc-123\"").unwrap(), one(b"abc-123").unwrap());
        assert_eq!(one(b" abc ").unwrap().unwrap().as_str(), "abc");
        assert_eq!(one(br#""a\"b\\c""#).unwrap().unwrap().as_str(), r#"a"b\c"#);
        assert_eq!(
            one(b"\"with space\"").unwrap().unwrap().as_str(),
            "with space"
        );
        assert_eq!(parse(&HeaderMap::new(), 64), Ok(None));
    }

    #[test]
    fn everything_else_is_refused_with_its_reason() {
        assert_eq!(one(b"\"\""), Err(BadKey::Empty));
        assert_eq!(one(b"two words"), Err(BadKey::Malformed));
        assert_eq!(one(b"\"open"), Err(BadKey::Malformed));
        assert_eq!(one(br#""bad\escape""#), Err(BadKey::Malformed));
        assert_eq!(one(b"caf\xc3\xa9"), Err(BadKey::Malformed));
        assert_eq!(one(&[b'k'; 65]), Err(BadKey::TooLong));
        let mut h = HeaderMap::new();
        h.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        h.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        assert_eq!(parse(&h, 64), Err(BadKey::Repeated));
    }

    #[test]
    fn fingerprints_tell_method_path_query_and_body_apart() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        let base = Fingerprint::of(&Method::POST, &uri("/api/v1/payin/create"), b"{}");
        assert_eq!(
            base,
            Fingerprint::of(&Method::POST, &uri("/api/v1/payin/create"), b"{}")
        );
        for other in [
            Fingerprint::of(&Method::PUT, &uri("/api/v1/payin/create"), b"{}"),
            Fingerprint::of(&Method::POST, &uri("/api/v1/payin/create?x=1"), b"{}"),
            Fingerprint::of(&Method::POST, &uri("/api/v1/payin/create"), b"{ }"),
            Fingerprint::of(&Method::POST, &uri("/api/v1/payin/createx"), b"{}"),
        ] {
            assert_ne!(base, other);
        }
    }

    proptest! {
        /// Every accepted key reads back as a value the bare or the quoted form of
        /// which parses to itself: one key, whichever form a client sends.
        #[test]
        fn accepted_keys_round_trip(raw in proptest::collection::vec(any::<u8>(), 0..80)) {
            let Ok(v) = HeaderValue::from_bytes(&raw) else { return Ok(()) };
            let mut h = HeaderMap::new();
            h.insert(IDEMPOTENCY_KEY, v);
            if let Ok(Some(key)) = parse(&h, 64) {
                prop_assert!(!key.as_str().is_empty() && key.as_str().len() <= 64);
                let quoted = format!("\"{}\"", key.as_str().replace('\\', "\\\\").replace('"', "\\\""));
                prop_assert_eq!(one(quoted.as_bytes()).unwrap(), Some(key));
            }
        }

        #[test]
        fn scopes_never_collide_across_identity_route_and_key(
            a in "[a-c]{0,3}", b in "[a-c]{0,3}", c in "[a-c]{1,3}",
            d in "[a-c]{0,3}", e in "[a-c]{0,3}", f in "[a-c]{1,3}",
        ) {
            let same = (a.as_str(), b.as_str(), c.as_str()) == (d.as_str(), e.as_str(), f.as_str());
            prop_assert_eq!(
                record_id(&a, &b, &Key(c.clone())) == record_id(&d, &e, &Key(f.clone())),
                same
            );
        }
    }
}
