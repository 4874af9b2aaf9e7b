//! The wide text encodings of the byte table ([`super::bytes`]): UTF-32 and UTF-16, each in
//! either byte order, with or without a byte-order mark. One entry, [`wide_text`], so every
//! decoder that yields bytes (the token codings, `%XX` and `=XX` escapes) reads them alike.

use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;

/// `bytes` as UTF-32 text, else as UTF-16 text ([`super::codings::utf16_text`]), when they
/// are one. UTF-32 first: its gate (a zero byte in every code unit) fails on the first unit
/// of most other bytes, and UTF-16 never reads UTF-32 (its zero units are NULs).
pub(super) fn wide_text(bytes: &[u8]) -> Option<String> {
    utf32_text(bytes).or_else(|| super::codings::utf16_text(bytes))
}

/// Text a person reads: no controls (white space aside), no unassigned or private-use
/// characters. Most binary (digests, ids) decodes to something else.
pub(super) fn person_text(t: &str) -> bool {
    let gc = CodePointMapData::<GeneralCategory>::new();
    !t.is_empty()
        && t.chars().all(|c| {
            (!c.is_control() || c.is_whitespace())
                && !matches!(
                    gc.get(c),
                    GeneralCategory::Unassigned | GeneralCategory::PrivateUse
                )
        })
}

/// `bytes` as UTF-32 text, as Python's `decode("utf-32")`, Java's `Charset.forName("UTF-32")`
/// and ICU read them: a byte-order mark says which order (and is dropped); without one, both
/// orders. Gated on the shape UTF-32 has and little else does: every code point is at most
/// U+10FFFF, so one byte of each four-byte unit is zero, and (as for UTF-16) at least half the
/// characters are ASCII, three zero bytes each. Then the same test of text a person reads.
pub(super) fn utf32_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 4 || bytes.len() % 4 != 0 {
        return None;
    }
    let (body, order) = match bytes {
        [0xff, 0xfe, 0, 0, rest @ ..] => (rest, Some(true)),
        [0, 0, 0xfe, 0xff, rest @ ..] => (rest, Some(false)),
        _ => (bytes, None),
    };
    let decode = |le: bool| -> Option<String> {
        let unit = |q: &[u8]| {
            let q = [q[0], q[1], q[2], q[3]];
            if le {
                u32::from_le_bytes(q)
            } else {
                u32::from_be_bytes(q)
            }
        };
        // The cheap gate: the top byte of every unit is zero (fails on the first unit of
        // almost any other bytes).
        let top = if le { 3 } else { 0 };
        if body.chunks_exact(4).any(|q| q[top] != 0) {
            return None;
        }
        let units = body.chunks_exact(4).map(unit);
        let ascii = units.clone().filter(|&u| u < 0x80).count();
        if ascii * 2 < body.len() / 4 {
            return None;
        }
        let t: String = units.map(char::from_u32).collect::<Option<_>>()?;
        person_text(&t).then_some(t)
    };
    match order {
        Some(le) => decode(le),
        // Without a mark, both orders, as for UTF-16 (an ASCII text is text in one only).
        None => match (decode(true), decode(false)) {
            (Some(le), Some(be)) => Some(format!("{le} {be}")),
            (le, be) => le.or(be),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(t: &str) -> Vec<u8> {
        t.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect()
    }

    fn be(t: &str) -> Vec<u8> {
        t.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect()
    }

    #[test]
    fn each_utf32_reading_is_read() {
        let text = "Zoë victim@example.com 081234567890";
        let with_mark =
            |mark: &[u8], b: Vec<u8>| -> Vec<u8> { mark.iter().copied().chain(b).collect() };
        for bytes in [
            le(text),
            be(text),
            with_mark(&[0xff, 0xfe, 0, 0], le(text)),
            with_mark(&[0, 0, 0xfe, 0xff], be(text)),
        ] {
            assert_eq!(utf32_text(&bytes).as_deref(), Some(text), "{bytes:02x?}");
            assert_eq!(wide_text(&bytes).as_deref(), Some(text));
        }
    }

    #[test]
    fn utf16_is_still_read_and_never_as_utf32() {
        let text = "victim@example.com";
        let u16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(utf32_text(&u16le), None);
        assert_eq!(wide_text(&u16le).as_deref(), Some(text));
        // And UTF-32 is never read as UTF-16 (its zero units are NULs).
        assert_eq!(super::super::codings::utf16_text(&le(text)), None);
    }

    #[test]
    fn binary_and_short_bytes_are_not_utf32() {
        for hex in [
            "67d84b19d50b490a8fa75ab20bbf275a",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            // Zero top bytes but controls: a record of small integers, not text.
            "01000000020000000300000004000000",
            // A code point past U+10FFFF.
            "0000110000001100",
        ] {
            let bytes = hex::decode(hex).expect("hex");
            assert_eq!(utf32_text(&bytes), None, "{hex}");
        }
        assert_eq!(utf32_text(&[0, 0, 0]), None);
        assert_eq!(utf32_text(&[0xff, 0xfe, 0, 0]), None);
    }
}
