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
/// request is measurable); hex from a table, not through `fmt`; and made
/// [`ID_BATCH`] at a time per thread into one shared buffer, each id then a
/// slice of it: a request allocates nothing for its id (one allocation and one
/// RNG draw serve a batch), and the clones that go to the response and
/// upstream share the bytes. A batch is 2.3 KB and lives only as long as the
/// last request id cut from it (ids leave with their request: the access line
/// and the error envelope copy the text).
fn fresh_request_id() -> HeaderValue {
    thread_local! {
        /// The current batch, and where its next unused id starts.
        static IDS: std::cell::RefCell<(bytes::Bytes, usize)> =
            const { std::cell::RefCell::new((bytes::Bytes::new(), 0)) };
    }
    let id = IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        if ids.1 + UUID_LEN > ids.0.len() {
            *ids = (id_batch(), 0);
        }
        let at = ids.1;
        ids.1 = at + UUID_LEN;
        ids.0.slice(at..at + UUID_LEN)
    });
    HeaderValue::from_maybe_shared(id).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Fresh request ids made at once per thread (see [`fresh_request_id`]).
const ID_BATCH: usize = 64;
/// A hyphenated UUID's length.
const UUID_LEN: usize = 36;

/// [`ID_BATCH`] random (version 4) UUIDs, hyphenated lower-case, back to back.
fn id_batch() -> bytes::Bytes {
    let mut random = [0u8; 16 * ID_BATCH];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    let mut text = vec![b'-'; UUID_LEN * ID_BATCH];
    for (id, out) in random.chunks_exact(16).zip(text.chunks_exact_mut(UUID_LEN)) {
        for (i, &byte) in id.iter().enumerate() {
            // RFC 9562 §5.4: version 4, variant 10.
            let byte = match i {
                6 => (byte & 0x0f) | 0x40,
                8 => (byte & 0x3f) | 0x80,
                _ => byte,
            };
            let at = HEX_AT[i];
            out[at..at + 2].copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
        }
    }
    bytes::Bytes::from(text)
}

/// Where each of a UUID's 16 bytes is written in its hyphenated text.
const HEX_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// Every byte's two lower-case hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [HEX[b >> 4], HEX[b & 0x0f]];
        b += 1;
    }
    t
};

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

    /// Ids cut from batches never repeat, across batch boundaries and threads,
    /// and each is exactly one UUID (no byte of a neighbour).
    #[test]
    fn fresh_ids_are_distinct_across_batches_and_threads() {
        let draw = || {
            (0..ID_BATCH * 3 + 5)
                .map(|_| fresh_request_id().to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let other = std::thread::spawn(draw);
        let mut all = draw();
        all.extend(other.join().unwrap());
        let n = all.len();
        assert!(all.iter().all(|id| id.len() == UUID_LEN
            && uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4)));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a request id repeated");
    }
}
