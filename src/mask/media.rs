//! JSON media types. Only a label: whether a body is inspected never depends
//! on it (every body is, unless its route declares it passthrough); it decides
//! which `Content-Type` a masked body keeps, and that a passthrough entry may
//! not list a JSON type.

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
