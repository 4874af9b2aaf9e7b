//! Request-path hygiene, checked before anything is routed or forwarded.
//!
//! The gateway forwards paths byte for byte, so any spelling that the upstream
//! (or a proxy in between) might normalise differently from the gateway is
//! refused: it could otherwise slip past the route table, the cache key or a
//! client's allowlist.

/// Why a path was refused. The text is safe to show a client.
pub fn validate(path: &str) -> Result<(), &'static str> {
    if !path.starts_with('/') {
        return Err("the path must start with '/'");
    }
    let bytes = path.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\\' {
            return Err("backslashes are not allowed in paths");
        }
        if b < 0x20 || b == 0x7f {
            return Err("control bytes are not allowed in paths");
        }
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("malformed percent-encoding in path")?;
            let decoded = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("malformed percent-encoding in path")?;
            match decoded {
                b'/' | b'\\' => return Err("encoded slashes are not allowed in paths"),
                b'.' => return Err("encoded dots are not allowed in paths"),
                0..=0x1f | 0x7f => return Err("encoded control bytes are not allowed in paths"),
                _ => {}
            }
        }
    }
    for seg in path[1..].split('/') {
        if seg == "." || seg == ".." {
            return Err("'.' and '..' segments are not allowed in paths");
        }
    }
    // An empty segment ("//") is read as "/" by some servers and not by
    // others; refusing it keeps one meaning for every path.
    if path.contains("//") {
        return Err("empty path segments are not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

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
