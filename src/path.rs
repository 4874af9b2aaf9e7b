//! Request-path hygiene, checked before anything is routed or forwarded.
//!
//! The gateway forwards paths byte for byte, so any spelling that the upstream
//! (or a proxy in between) might normalise differently from the gateway is
//! refused: it could otherwise slip past the route table, the cache key or a
//! client's allowlist.

/// Why a path was refused. The text is safe to show a client.
///
/// One pass over the bytes: this runs on every request, cache hits included.
pub fn validate(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err("the path must start with '/'");
    }
    let mut segment_start = 1;
    let mut i = 1;
    // One step past the end, where a virtual '/' closes the last segment.
    while i <= bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b'/');
        match b {
            b'/' => {
                let segment = &bytes[segment_start..i];
                if segment == b"." || segment == b".." {
                    return Err("'.' and '..' segments are not allowed in paths");
                }
                // An empty segment ("//") is read as "/" by some servers and
                // not by others; refusing it keeps one meaning for every path.
                if segment.is_empty() && i < bytes.len() {
                    return Err("empty path segments are not allowed");
                }
                segment_start = i + 1;
            }
            b'\\' => return Err("backslashes are not allowed in paths"),
            0..=0x1f | 0x7f => return Err("control bytes are not allowed in paths"),
            b'%' => {
                let decoded = match (
                    bytes.get(i + 1).and_then(hex),
                    bytes.get(i + 2).and_then(hex),
                ) {
                    (Some(hi), Some(lo)) => hi << 4 | lo,
                    _ => return Err("malformed percent-encoding in path"),
                };
                match decoded {
                    b'/' | b'\\' => return Err("encoded slashes are not allowed in paths"),
                    b'.' => return Err("encoded dots are not allowed in paths"),
                    0..=0x1f | 0x7f => {
                        return Err("encoded control bytes are not allowed in paths")
                    }
                    _ => {}
                }
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::validate;
    use proptest::prelude::*;

    /// One percent-decoding, as the upstream (or a proxy in between) would apply it.
    fn percent_decode(path: &str) -> Vec<u8> {
        let b = path.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(v))
                    if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) =>
                {
                    out.push(v);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    }

    /// Paths made of the pieces traversal tricks are built from.
    fn tricky_path() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/"),
            Just("."),
            Just(".."),
            Just("%2e"),
            Just("%2E"),
            Just("%2f"),
            Just("%2F"),
            Just("%5c"),
            Just("%5C"),
            Just("%25"),
            Just("%"),
            Just("%0"),
            Just("%00"),
            Just("%0a"),
            Just("%+1"),
            Just("%zz"),
            Just("\\"),
            Just("\0"),
            Just("\u{7f}"),
            Just("a"),
            Just("customer"),
            Just("é"),
            Just("%c3%a9"),
            Just("?"),
            Just("#"),
            Just(";"),
        ];
        (prop::bool::ANY, prop::collection::vec(piece, 0..16)).prop_map(|(slash, pieces)| {
            let mut p = if slash {
                String::from("/")
            } else {
                String::new()
            };
            p.extend(pieces);
            p
        })
    }

    fn check_accepted(path: &str) {
        if validate(path).is_err() {
            return;
        }
        assert!(path.starts_with('/'));
        assert!(!path.contains("//"), "{path:?}");
        assert!(
            !path.bytes().any(|b| b == b'\\' || b < 0x20 || b == 0x7f),
            "{path:?}"
        );
        for seg in path[1..].split('/') {
            assert!(seg != "." && seg != "..", "{path:?}");
        }
        // Whatever decodes it once sees the same segments: no new '/', no dot segment,
        // no backslash, no control byte.
        let decoded = percent_decode(path);
        let raw_slashes = path.bytes().filter(|b| *b == b'/').count();
        assert_eq!(
            decoded.iter().filter(|b| **b == b'/').count(),
            raw_slashes,
            "{path:?}"
        );
        for seg in decoded[1..].split(|b| *b == b'/') {
            assert!(seg != b"." && seg != b"..", "{path:?}");
        }
        assert!(
            !decoded
                .iter()
                .any(|b| *b == b'\\' || *b < 0x20 || *b == 0x7f),
            "{path:?}"
        );
        // Every '%' starts a two-hex-digit escape.
        for (i, _) in path.match_indices('%') {
            let hex = &path.as_bytes()[i + 1..i + 3];
            assert!(hex.iter().all(u8::is_ascii_hexdigit), "{path:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings_never_panic_and_accepted_ones_are_clean(path in any::<String>()) {
            check_accepted(&path);
        }

        #[test]
        fn traversal_pieces_never_survive_validation(path in tricky_path()) {
            check_accepted(&path);
        }

        #[test]
        fn ordinary_paths_are_accepted(segs in prop::collection::vec("[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,20}", 1..8)) {
            let path = format!("/{}", segs.join("/"));
            prop_assert_eq!(validate(&path), Ok(()));
        }
    }

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "/api/v1/customer/customer/customer_67d84b19d50b490a8fa75ab20bbf275a",
            "/api/v1/payin/retrieve-payin/abc%20def",
            "/api/v1/",
            "/api/v1/x.y/..z/.a",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_traversal_and_encodings() {
        for p in [
            "/api/v1/../admin",
            "/api/v1/./customer",
            "/api/v1/customer/..",
            "/api/v1/%2e%2e/x",
            "/api/v1/%2E/x",
            "/api/v1/a%2Fb",
            "/api/v1/a%2fb",
            "/api/v1/a%5Cb",
            "/api/v1/a\\b",
            "/api/v1/a%00b",
            "/api/v1/a%0ab",
            "/api/v1/a%zz",
            "/api/v1/a%2",
            "/api/v1//customer",
            "api/v1/x",
            "/api/v1/\u{1}",
        ] {
            assert!(validate(p).is_err(), "{p} should be refused");
        }
    }
}
