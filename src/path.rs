//! Request-path hygiene, checked before anything is routed or forwarded.
//!
//! The gateway forwards paths byte for byte, so any spelling that the upstream
//! (or a proxy in between) might normalise differently from the gateway is
//! refused: it could otherwise slip past the route table, the cache key or a
//! client's allowlist. Servlet-style upstreams strip `;param` from every
//! segment before they resolve dot segments, some proxies decode twice, and
//! lenient UTF-8 decoders map overlong forms onto `.` and `/`; so a path is
//! accepted only when every one of those readings yields exactly the segments
//! the gateway sees.
//!
//! [`segments`] (or [`ValidPath::segments`]) is the only way to split a path
//! into segments: the route table sees paths that passed [`validate`], and the
//! client allowlist matches on those segments, so neither can grant what these
//! rules refuse.

/// The segments of a path that passes [`validate`] (the first is after the
/// leading '/'; a trailing '/' yields a last, empty segment).
pub fn segments(path: &str) -> Result<std::str::Split<'_, char>, &'static str> {
    ValidPath::check(path).map(ValidPath::segments)
}

/// A path [`validate`] accepted. The request path is checked once, first
/// thing; what matches on it later (the client allowlist) takes this instead
/// of checking the same bytes again, and cannot be handed an unchecked path.
#[derive(Debug, Clone, Copy)]
pub struct ValidPath<'a>(&'a str);

impl<'a> ValidPath<'a> {
    pub fn check(path: &'a str) -> Result<ValidPath<'a>, &'static str> {
        validate(path)?;
        Ok(ValidPath(path))
    }

    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// As [`segments`].
    pub fn segments(self) -> std::str::Split<'a, char> {
        self.0[1..].split('/')
    }
}

const BAD_UTF8: &str =
    "percent-encoded bytes must be valid, shortest-form UTF-8 (no overlong encodings)";

/// Why a path was refused. The text is safe to show a client.
///
/// One pass over the bytes: this runs on every request, cache hits included.
/// Paths of letters, digits, `-`, `_` and single `/`s (every route the gateway
/// serves, with its ids) take a quick scan; anything else the full check,
/// which also words the refusal. A property test holds the two equal.
pub fn validate(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err("the path must start with '/'");
    }
    // Branch-free: a byte outside the plain set, or a '/' after a '/', sets a
    // bit in `odd`; the leading '/' counts as the previous one. One look-up
    // and a few bit operations per byte, with nothing for the loop to wait on.
    let mut previous = SLASH;
    let mut odd = 0;
    for &b in &bytes[1..] {
        let class = CLASS[usize::from(b)];
        odd |= (class & OTHER) | (class & previous);
        previous = class & SLASH;
    }
    if odd != 0 {
        return validate_full(path);
    }
    Ok(())
}

const OTHER: u8 = 4;
const PLAIN: u8 = 1;
const SLASH: u8 = 2;

/// The quick scan's byte classes, one load per byte.
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            t[b] = PLAIN;
        }
        b += 1;
    }
    t[b'/' as usize] = SLASH;
    t
};

fn validate_full(path: &str) -> Result<(), &'static str> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err("the path must start with '/'");
    }
    let mut segment_start = 1;
    let mut utf8 = Utf8::default();
    let mut i = 1;
    // One step past the end, where a virtual '/' closes the last segment.
    while i <= bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b'/');
        if b != b'%' && utf8.pending > 0 {
            // A multi-byte character cut short by a literal byte.
            return Err(BAD_UTF8);
        }
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
            // Only the path component is checked; these would end it.
            b'?' | b'#' => return Err("'?' and '#' cannot appear in a path component"),
            // Servlet containers cut a segment at ';' ("..;" becomes "..").
            b';' => return Err("';' (path parameters) is not allowed in paths"),
            0..=0x1f | 0x7f => return Err("control bytes are not allowed in paths"),
            0x80..=0xff => return Err("non-ASCII bytes must be percent-encoded in paths"),
            b'%' => {
                let decoded = match (
                    bytes.get(i + 1).and_then(hex),
                    bytes.get(i + 2).and_then(hex),
                ) {
                    (Some(hi), Some(lo)) => hi << 4 | lo,
                    _ => return Err("malformed percent-encoding in path"),
                };
                match decoded {
                    0x80..=0xff => utf8.push(decoded)?,
                    _ if utf8.pending > 0 => return Err(BAD_UTF8),
                    b'/' | b'\\' => return Err("encoded slashes are not allowed in paths"),
                    b'.' => return Err("encoded dots are not allowed in paths"),
                    b';' => return Err("encoded ';' is not allowed in paths"),
                    // A second decoding would turn "%252e" into a dot.
                    b'%' => return Err("double percent-encoding ('%25') is not allowed in paths"),
                    // A decoding proxy would forward these as a query or fragment.
                    b'?' | b'#' => return Err("encoded '?' and '#' are not allowed in paths"),
                    0..=0x1f | 0x7f => {
                        return Err("encoded control bytes are not allowed in paths")
                    }
                    // RFC 3986 §2.3: these never need encoding, and a server may
                    // decode them, so `/payin/%63reate` would be a second spelling of
                    // `/payin/create` that the gateway's route table (and every rule
                    // keyed on it: allowlists, idempotency, the cache) does not see.
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => {
                        return Err(
                            "percent-encoded letters, digits, '-', '_' and '~' are not allowed in paths (they need no encoding)",
                        )
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

/// Where a percent-decoded multi-byte UTF-8 character stands. The ranges are
/// those of RFC 3629 §4, which leave out overlong forms (`%C0%AE` for '.'),
/// surrogates and code points past U+10FFFF.
#[derive(Default)]
struct Utf8 {
    /// Continuation bytes still expected.
    pending: u8,
    /// Range allowed for the next continuation byte.
    lo: u8,
    hi: u8,
}

impl Utf8 {
    fn push(&mut self, b: u8) -> Result<(), &'static str> {
        if self.pending > 0 {
            if !(self.lo..=self.hi).contains(&b) {
                return Err(BAD_UTF8);
            }
            self.pending -= 1;
            (self.lo, self.hi) = (0x80, 0xBF);
            return Ok(());
        }
        (self.pending, self.lo, self.hi) = match b {
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            // Stray continuation bytes, the overlong leads C0/C1, and F5..FF.
            _ => return Err(BAD_UTF8),
        };
        Ok(())
    }
}

/// Query parameters frameworks read as "run this method instead" (Express's
/// `method-override`, Rails/Laravel/Symfony `_method`, the header names as parameters).
const METHOD_OVERRIDES: [&str; 4] = [
    "_method",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Whether `query` names a method-override parameter (any case, percent-decoded, `+`
/// or not): a server that honours it runs another method than the one the gateway
/// routed, authorised, cached and masked for. The gateway strips the header forms.
pub fn overrides_method(query: &str) -> bool {
    query.split(['&', ';']).any(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        let name = name.replace('+', " ");
        let decoded = percent_encoding::percent_decode_str(&name).decode_utf8_lossy();
        let name = decoded.trim();
        METHOD_OVERRIDES
            .iter()
            .any(|m| name.eq_ignore_ascii_case(m))
    })
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
pub(crate) mod tests;
