//! How a value is written into an access line: JSON string contents, or the human
//! format's bare-or-quoted value.

pub(super) fn needs_quoting(s: &str) -> bool {
    s.bytes()
        .any(|b| b == b' ' || b == b'"' || b == b'=' || b == b'\\' || b < 0x20)
}

/// JSON string contents: `"`, `\` and control characters escaped; the values
/// logged are checked ids and names, so the fast path is one scan.
pub(super) fn escape_json(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        buf.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 0xf)]);
            }
            _ => buf.push(b),
        }
    }
}

/// Human format: a value with a space, `"`, `=` or a control character is
/// written as a JSON string, so one line stays one line and fields stay apart.
pub(super) fn escape_human(buf: &mut Vec<u8>, s: &str) {
    if s.is_empty() || needs_quoting(s) {
        buf.push(b'"');
        escape_json(buf, s);
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}
