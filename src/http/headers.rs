//! Header mechanics both directions share: hop-by-hop stripping, the
//! request id, and the size the 431 limit counts.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The `Content-Type` of every answer on a JSON route: masked, empty,
/// bodiless, HEAD, and the gateway's own error envelopes.
pub const JSON_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("application/json; charset=utf-8");

/// Conditional request headers: never forwarded where paycombat's answer
/// would be masked (its validators are not the client's).
pub const CONDITIONAL: &[HeaderName] = &[
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
];

/// RFC 9110 §7.6.1 connection-specific headers, plus the non-standard ones
/// proxies are known to mishandle.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Removes hop-by-hop headers and the headers named by `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    // Any `proxy-*` header is meant for a proxy hop, never for paycombat.
    let proxy: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("proxy-"))
        .cloned()
        .collect();
    for name in proxy {
        headers.remove(name);
    }
}

/// Total bytes of header names and values, as the 431 limit counts them.
pub fn size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum()
}

/// Accepts a caller's request id only if it is short and plain, so it is
/// safe to log and to echo; anything else is replaced by a fresh one.
pub fn request_id(headers: &HeaderMap) -> HeaderValue {
    if let Some(v) = headers.get(&X_REQUEST_ID) {
        let b = v.as_bytes();
        if !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
        {
            return v.clone();
        }
    }
    fresh_request_id()
}

/// A random (version 4) UUID, hyphenated lower-case, as a header value.
///
/// Built for the hit path: the thread-local RNG, not getrandom (a syscall per
/// request is measurable); hex from a table into a stack buffer, not through
/// `fmt`; and the bytes in a reference-counted owner, so the clones that go to
/// the response and upstream share them instead of allocating again (a
/// `Bytes` made from a `Vec` allocates anew at its first clone).
fn fresh_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id: [u8; 16] = rand::random();
    // RFC 9562 §5.4: version 4, variant 10.
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in id.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 0x0f)];
        at += 2;
    }
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(text))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// A header map from name/value pairs, for tests.
#[cfg(test)]
pub(crate) fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_kept_only_when_well_formed() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID, HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&h), "abc-123");
        h.insert(X_REQUEST_ID, HeaderValue::from_static("bad id\"<>"));
        let fresh = request_id(&h);
        assert_ne!(fresh, "bad id\"<>");
        let parsed = uuid::Uuid::parse_str(fresh.to_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }

    /// Fresh ids are what the `uuid` crate reads back as the same random
    /// (v4, RFC 9562 variant) UUID, in its own hyphenated lower-case spelling.
    #[test]
    fn fresh_ids_are_canonical_v4_uuids() {
        for _ in 0..1000 {
            let id = fresh_request_id();
            let text = id.to_str().unwrap();
            let parsed = uuid::Uuid::parse_str(text).unwrap();
            assert_eq!(parsed.get_version(), Some(uuid::Version::Random));
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(parsed.hyphenated().to_string(), text);
            // A clone shares the bytes (no allocation on the hit path).
            assert_eq!(id.clone().as_bytes().as_ptr(), id.as_bytes().as_ptr());
        }
    }
}
