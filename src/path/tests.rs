use super::{segments, validate};
use proptest::prelude::*;

/// One percent-decoding, as the upstream (or a proxy in between) would apply it.
fn percent_decode(path: &[u8]) -> Vec<u8> {
    let b = path;
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) => {
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

/// What a servlet container does before resolving dot segments: cut every
/// segment at its first ';'.
fn strip_path_params(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for (n, seg) in path.split(|b| *b == b'/').enumerate() {
        if n > 0 {
            out.push(b'/');
        }
        let end = seg.iter().position(|b| *b == b';').unwrap_or(seg.len());
        out.extend_from_slice(&seg[..end]);
    }
    out
}

/// The segments a reader of `path` sees, each decoded once.
fn decoded_segments(path: &[u8]) -> Vec<Vec<u8>> {
    path[1..]
        .split(|b| *b == b'/')
        .map(percent_decode)
        .collect()
}

/// Paths made of the pieces traversal tricks are built from.
pub(crate) fn tricky_path() -> impl Strategy<Value = String> {
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
        Just("%c3"),
        Just("%a9"),
        Just("%e2%82%ac"),
        Just("%f0%9f%98%80"),
        Just("?"),
        Just("#"),
        Just(";"),
        Just("..;"),
        Just("%3b"),
        Just("%3B"),
        Just("%253b"),
        Just("%252e"),
        Just("%252f"),
        Just("%2525"),
        Just("%3f"),
        Just("%23"),
        Just("%c0%ae"),
        Just("%c0%af"),
        Just("%c1%9c"),
        Just("%c0"),
        Just("%e0%80%ae"),
        Just("%e0%80%af"),
        Just("%f0%80%80%ae"),
        Just("%ed%a0%80"),
        Just("%f4%90%80%80"),
        Just("%ff"),
        Just("%80"),
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

fn no_dot_or_separator(segs: &[Vec<u8>], path: &str) {
    for seg in segs {
        assert!(seg != b"." && seg != b"..", "{path:?}");
        assert!(
            !seg.iter()
                .any(|b| matches!(*b, b'/' | b'\\' | b';' | b'?' | b'#' | 0..=0x1f | 0x7f)),
            "{path:?}"
        );
    }
}

fn check_accepted(path: &str) {
    if validate(path).is_err() {
        assert!(segments(path).is_err());
        return;
    }
    let split: Vec<&str> = segments(path).expect("validated").collect();
    assert_eq!(split, path[1..].split('/').collect::<Vec<_>>());
    assert!(path.starts_with('/'));
    assert!(path.is_ascii(), "{path:?}");
    assert!(!path.contains("//"), "{path:?}");
    assert!(
        !path
            .bytes()
            .any(|b| b == b'\\' || b == b';' || b < 0x20 || b == 0x7f),
        "{path:?}"
    );
    for seg in &split {
        assert!(*seg != "." && *seg != "..", "{path:?}");
    }
    // Every '%' starts a two-hex-digit escape.
    for (i, _) in path.match_indices('%') {
        let hex = &path.as_bytes()[i + 1..i + 3];
        assert!(hex.iter().all(u8::is_ascii_hexdigit), "{path:?}");
    }
    let raw = path.as_bytes();
    let per_segment = decoded_segments(raw);
    no_dot_or_separator(&per_segment, path);
    // Whatever decodes it once sees the same segments: no new '/', no dot segment.
    let once = percent_decode(raw);
    assert_eq!(
        once[1..].split(|b| *b == b'/').collect::<Vec<_>>(),
        per_segment.iter().map(Vec::as_slice).collect::<Vec<_>>(),
        "{path:?}"
    );
    // ... and it is text, without overlong or truncated sequences.
    assert!(std::str::from_utf8(&once).is_ok(), "{path:?}");
    // Decoding twice changes nothing more: no '%' survives the first decoding.
    assert_eq!(percent_decode(&once), once, "{path:?}");
    // Servlet-style ';param' stripping, before or after decoding, removes nothing.
    assert_eq!(strip_path_params(raw), raw, "{path:?}");
    assert_eq!(strip_path_params(&once), once, "{path:?}");
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
    fn the_quick_scan_agrees_with_the_full_check(
        path in prop_oneof![tricky_path(), "/[a-zA-Z0-9/_.-]{0,40}", any::<String>()],
    ) {
        prop_assert_eq!(validate(&path), super::validate_full(&path));
    }

    #[test]
    fn ordinary_paths_are_accepted(segs in prop::collection::vec("[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,20}", 1..8)) {
        let path = format!("/{}", segs.join("/"));
        prop_assert_eq!(validate(&path), Ok(()));
    }

    #[test]
    fn percent_encoded_text_is_accepted(text in "[^/\\\\.;%?#A-Za-z0-9_~\\-\\p{Cc}]{1,8}") {
        // Any valid UTF-8 outside the refused ASCII set (separators, and the
        // unreserved characters, which need no encoding) is fine once encoded.
        let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        prop_assert_eq!(validate(&format!("/api/v1/x/{encoded}")), Ok(()));
    }
}

#[test]
fn encoded_unreserved_characters_are_refused() {
    // Each would be a second spelling of a route (`%63reate` is `create`).
    for p in [
        "/api/v1/payin/%63reate",
        "/api/v1/payin/cre%41te",
        "/api/v1/customer/customer/customer_%30abc",
        "/api/v1/x/%2D",
        "/api/v1/x/%5F",
        "/api/v1/x/%7e",
    ] {
        assert!(validate(p).is_err(), "{p}");
    }
}

proptest! {
    #[test]
    fn no_unreserved_character_is_accepted_encoded(c in "[A-Za-z0-9_~-]") {
        let byte = c.as_bytes()[0];
        for encoded in [format!("%{byte:02X}"), format!("%{byte:02x}")] {
            let path = format!("/api/v1/payin/{encoded}x");
            prop_assert!(validate(&path).is_err());
        }
    }
}

#[test]
fn accepts_ordinary_paths() {
    for p in [
        "/api/v1/customer/customer/customer_67d84b19d50b490a8fa75ab20bbf275a",
        "/api/v1/payin/retrieve-payin/abc%20def",
        "/api/v1/",
        "/api/v1/x.y/..z/.a",
        "/api/v1/x/caf%C3%A9",
        "/api/v1/x/%E2%82%AC%F0%9F%98%80",
        "/api/v1/x/%ED%9F%BF",
        "/api/v1/x/%F4%8F%BF%BF",
    ] {
        assert_eq!(validate(p), Ok(()), "{p}");
    }
}

#[test]
fn segments_are_the_validated_split() {
    let segs: Vec<&str> = segments("/api/v1/customer/customer/x").unwrap().collect();
    assert_eq!(segs, ["api", "v1", "customer", "customer", "x"]);
    let segs: Vec<&str> = segments("/api/v1/").unwrap().collect();
    assert_eq!(segs, ["api", "v1", ""]);
    assert!(segments("/api/v1/..;/x").is_err());
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

#[test]
fn rejects_path_parameters() {
    for p in [
        "/api/v1/payout/..;/customer/customer/customer_0123",
        "/api/v1/customer/customer/;",
        "/api/v1/customer/customer;x=1/abc",
        "/api/v1/customer/customer/abc;jsessionid=1",
        "/api/v1/payout/..%3b/customer/customer/x",
        "/api/v1/payout/..%3B/customer/customer/x",
        "/api/v1/customer/customer/%3b",
    ] {
        assert!(validate(p).is_err(), "{p} should be refused");
    }
}

#[test]
fn rejects_double_encoding() {
    for p in [
        "/api/v1/anything/%252e%252e/x",
        "/api/v1/payout/..%253b/customer",
        "/api/v1/a%252fb",
        "/api/v1/a%255cb",
        "/api/v1/a%2525",
        "/api/v1/100%25",
    ] {
        assert!(validate(p).is_err(), "{p} should be refused");
    }
}

#[test]
fn rejects_encoded_delimiters() {
    for p in ["/api/v1/customer/customer/%3F", "/api/v1/x/a%23b"] {
        assert!(validate(p).is_err(), "{p} should be refused");
    }
}

#[test]
fn rejects_overlong_and_invalid_utf8() {
    for p in [
        // Overlong '.', '/', '\', ';' and '%'.
        "/api/v1/%c0%ae%c0%ae/x",
        "/api/v1/a%c0%afb",
        "/api/v1/a%c1%9cb",
        "/api/v1/a%c0%bbb",
        "/api/v1/a%c0%a5b",
        "/api/v1/%e0%80%ae/x",
        "/api/v1/%E0%80%AF",
        "/api/v1/%e0%9f%bf",
        "/api/v1/%f0%80%80%ae",
        "/api/v1/%F0%8F%BF%BF",
        "/api/v1/%c0",
        "/api/v1/%c1%81",
        // Truncated, stray, surrogate, out of range.
        "/api/v1/%c3",
        "/api/v1/%c3/x",
        "/api/v1/%c3a",
        "/api/v1/%e2%82",
        "/api/v1/%a9",
        "/api/v1/%ed%a0%80",
        "/api/v1/%f4%90%80%80",
        "/api/v1/%f5%80%80%80",
        "/api/v1/%ff",
        // Raw non-ASCII (hyper passes valid UTF-8 through).
        "/api/v1/caf\u{e9}",
        "/api/v1/\u{2215}",
    ] {
        assert!(validate(p).is_err(), "{p} should be refused");
    }
}

#[test]
fn method_override_parameters_are_found_in_every_spelling() {
    for q in [
        "_method=GET",
        "a=1&_method=DELETE",
        "_METHOD=get",
        "%5Fmethod=GET",
        "%5f%6Dethod=PUT",
        "x=1;X-HTTP-Method-Override=GET",
        "x-http-method=PATCH",
        "X-Method-Override",
        "+_method=GET",
    ] {
        assert!(super::overrides_method(q), "{q}");
    }
    for q in [
        "",
        "method=card",
        "payment_method=VA",
        "page=2&limit=10",
        "_methods=1",
        "q=_method",
    ] {
        assert!(!super::overrides_method(q), "{q}");
    }
}
