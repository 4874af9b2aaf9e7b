//! Deciding, fail-closed, whether a response body has to go through the masker.

/// Whether a (decoded) body must be treated as JSON: a JSON media type (`application/json`,
/// `text/json`, any `+json`), or — whatever the label says — a body whose first byte after an
/// optional UTF-8 BOM and whitespace opens an object or array. The second test catches JSON
/// sent with a missing or wrong content type, which would otherwise slip through unmasked.
pub fn must_inspect(content_type: Option<&str>, body_prefix: &[u8]) -> bool {
    content_type.is_some_and(is_json_media_type) || looks_like_json(body_prefix)
}

/// `application/json`, `text/json` or any `+json` type (parameters ignored).
pub fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    let kind = kind.trim();
    let sub = sub.trim();
    let json_sub = sub.eq_ignore_ascii_case("json");
    (json_sub && (kind.eq_ignore_ascii_case("application") || kind.eq_ignore_ascii_case("text")))
        || (sub.len() > 5 && sub.as_bytes()[sub.len() - 5..].eq_ignore_ascii_case(b"+json"))
}

fn looks_like_json(prefix: &[u8]) -> bool {
    let prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    matches!(
        prefix
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')),
        Some(b'{' | b'[')
    )
}
