//! More text codings a client may undo, for [`super::readings`]: base32 (RFC 4648, both
//! alphabets), quoted-printable (`=40`), CSS escapes (`\40 `, `\000040`) and `0x…` hex
//! numbers. Each gives one reading of at most about the length of its input (decoding only
//! shrinks text, and a hex number's decimal is at most 20 digits for 18 characters), so the
//! readings stay bounded in size as well as in depth.

/// The shortest base32 token read as text: the fewest characters that decode to
/// [`super::readings::MIN_SHAPE_BYTES`] bytes (8 bits each, 5 per character).
const MIN_BASE32: usize = (super::readings::MIN_SHAPE_BYTES * 8).div_ceil(5);

/// The UTF-8 texts (no control characters but white space) of the base32 tokens in `s`:
/// the standard alphabet (`A–Z2–7`) and the extended-hex one (`0–9A–V`), padded with `=`
/// or not, in either case (Python's `b32decode(casefold=True)`, Go's `base32.StdEncoding`,
/// `base32.HexEncoding`). Ids and digests decode to bytes that are no such text.
pub(super) fn base32_texts(s: &str) -> impl Iterator<Item = super::bytes::Decoded> + '_ {
    use data_encoding::{BASE32, BASE32HEX, BASE32HEX_NOPAD, BASE32_NOPAD};
    s.split(|c: char| !c.is_ascii_alphanumeric() && c != '=')
        .filter(|t| t.trim_end_matches('=').len() >= MIN_BASE32)
        .filter_map(|t| {
            let upper = t.to_ascii_uppercase();
            let padded = upper.ends_with('=');
            let engines = if padded {
                [&BASE32, &BASE32HEX]
            } else {
                [&BASE32_NOPAD, &BASE32HEX_NOPAD]
            };
            engines
                .iter()
                .filter_map(|e| e.decode(upper.as_bytes()).ok())
                .find_map(|b| super::bytes::bytes_text(&b))
        })
}

/// No control characters other than white space.
pub(super) fn readable(t: &str) -> bool {
    !t.chars().any(|c| c.is_control() && !c.is_whitespace())
}

/// `bytes` as UTF-16 text, as `Buffer.toString("utf16le")`, Python's `decode("utf-16")`,
/// .NET's `Encoding.Unicode` or Java's `UTF_16` read them: a byte-order mark says which order
/// (and is dropped); without one, both orders. The text must be valid
/// UTF-16 of assigned characters that are no controls (white space aside) and no private-use
/// characters, as text a person reads is: most binary (digests, ids) decodes to something else.
/// At least half its characters must be ASCII, as a UTF-16 text a detector or a label can
/// fire on is (binary is not read as UTF-16). One more reading of decoded bytes.
pub(super) fn utf16_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 2 || bytes.len() % 2 != 0 {
        return None;
    }
    let (body, order) = match bytes {
        [0xff, 0xfe, rest @ ..] => (rest, Some(true)),
        [0xfe, 0xff, rest @ ..] => (rest, Some(false)),
        _ => (bytes, None),
    };
    let decode = |le: bool| -> Option<String> {
        let units = body.chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        // Text encoded as UTF-16 is mostly ASCII (a zero high byte) when it is what the
        // detectors and labels read (digits, `@`, Latin labels); binary (digests, ids) almost
        // never is, so it is not decoded into garbage to be read at every level.
        let ascii = units.clone().filter(|&u| u < 0x80).count();
        if ascii * 2 < body.len() / 2 {
            return None;
        }
        let t: String = char::decode_utf16(units).collect::<Result<_, _>>().ok()?;
        super::wide::person_text(&t).then_some(t)
    };
    match order {
        Some(le) => decode(le),
        // Readers disagree on the order without a mark (Python and .NET read little-endian,
        // Java big-endian): both readings, a space between, when both are text.
        None => match (decode(true), decode(false)) {
            (Some(le), Some(be)) => Some(format!("{le} {be}")),
            (le, be) => le.or(be),
        },
    }
}

/// `s` with its quoted-printable escapes undone (RFC 2045: `=40` is `@`, `=\r\n` a soft line
/// break), when it holds one; invalid UTF-8 replaced.
pub(super) fn quoted_printable_decoded(s: &str) -> Option<String> {
    hex_escapes_decoded(s, b'=', true)
}

/// `s` with every `<marker>XX` (two hex digits) decoded to its byte, and with
/// `soft_breaks`, every `<marker>` followed by line breaks removed with them (quoted-printable's
/// soft line break), when it holds one. `%XX` and `=XX` are the same decoding with another
/// marker. The bytes are read as UTF-8 when they are readable UTF-8 text; otherwise by the
/// byte table every decoder shares ([`super::bytes::bytes_text`]: UTF-16, UTF-32, Latin-1,
/// compressed, binary record), that reading first, then the bytes as UTF-8 with invalid bytes
/// replaced, a list mark between (no reading the escapes had before is lost) when that is no
/// longer than `s` (so repeated decoding never grows), else the table's reading alone.
pub(super) fn hex_escapes_decoded(s: &str, marker: u8, soft_breaks: bool) -> Option<String> {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let escape = |i: usize| hex(i + 1).is_some() && hex(i + 2).is_some();
    let soft = |i: usize| soft_breaks && matches!(b.get(i + 1), Some(b'\r' | b'\n'));
    let first = memchr::memchr_iter(marker, b).find(|&i| escape(i) || soft(i))?;
    let mut out = b[..first].to_vec();
    let mut i = first;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (m, Some(h), Some(l)) if m == marker => {
                out.push(u8::try_from(h << 4 | l).unwrap_or(marker));
                i += 3;
            }
            (m, ..) if m == marker && soft(i) => {
                i += 1;
                while matches!(b.get(i), Some(b'\r' | b'\n')) {
                    i += 1;
                }
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Ok(t) = std::str::from_utf8(&out) {
        if readable(t) {
            return Some(t.to_owned());
        }
    }
    let lossy = String::from_utf8_lossy(&out);
    // The table's text (its origin is the percent-decoded text's: a client shows it as text).
    Some(match super::bytes::bytes_text(&out).map(|(read, _)| read) {
        Some(read) if read != lossy && read.len() + lossy.len() + 2 <= s.len() => {
            format!("{read}; {lossy}")
        }
        Some(read) if read != lossy => read,
        _ => lossy.into_owned(),
    })
}

/// `s` with its CSS escapes undone (CSS Syntax §4.3.7: a backslash, one to six hex digits,
/// then one optional white-space character: `victim\40 example.com`,
/// `victim\000040example.com`), when it holds one. A stylesheet, a `content:` value or a
/// selector reader decodes them; octal and `\u` readings of the same backslash are tried
/// elsewhere.
pub(super) fn css_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    memchr::memchr(b'\\', b)?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let digits = tail
            .bytes()
            .take(6)
            .take_while(u8::is_ascii_hexdigit)
            .count();
        let c = (digits > 0)
            .then(|| u32::from_str_radix(&tail[..digits], 16).ok())
            .flatten()
            .and_then(char::from_u32);
        match c {
            Some(c) => {
                out.push(c);
                let mut used = digits;
                // One white-space character ends the escape (`\r\n` counts as one).
                if tail[used..].starts_with("\r\n") {
                    used += 2;
                } else if tail[used..].starts_with([' ', '\t', '\n', '\r', '\u{c}']) {
                    used += 1;
                }
                rest = &tail[used..];
                changed = true;
            }
            None => {
                out.push('\\');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Most hex digits of a `0x…` number read as its decimal value: 64 bits, more than any phone
/// or ID number needs; longer tokens are digests and addresses.
const MAX_HEX_NUMBER: usize = 16;

/// `s` with every `0x…` hex number (`0x1E3F…`, at most [`MAX_HEX_NUMBER`] digits, standing
/// alone) written as its decimal value, when it holds one: what `int(s, 16)`, `strtol` or
/// `Number("0x…")` give back, so a phone or ID number sent as hex is seen as digits.
pub(super) fn hex_numbers_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    let mut changed = false;
    while let Some(at) = memchr::memchr(b'0', &b[i..]).map(|p| i + p) {
        let starts = at == 0 || !b[at - 1].is_ascii_alphanumeric();
        let x = matches!(b.get(at + 1), Some(b'x' | b'X'));
        let digits = b[(at + 2).min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let end = at + 2 + digits;
        let ends = b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
        if starts && x && (1..=MAX_HEX_NUMBER).contains(&digits) && ends {
            if let Ok(n) = u64::from_str_radix(&s[at + 2..end], 16) {
                out.push_str(&s[copied..at]);
                out.push_str(&n.to_string());
                copied = end;
                changed = true;
            }
            i = end;
        } else {
            i = at + 1;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// `s` with the comments of an email address dropped (RFC 5322: `alice(work)@example.com`,
/// `alice@(x)example.com` are `alice@example.com` to a mail parser), when it holds an `@` and
/// a parenthesised run of at most 64 bytes without spaces or `@`.
pub(super) fn mail_comments_dropped(s: &str) -> Option<String> {
    let b = s.as_bytes();
    memchr::memchr(b'@', b)?;
    memchr::memchr(b'(', b)?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('(') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let close = tail
            .get(..66.min(tail.len()))
            .and_then(|t| t.find(')'))
            .filter(|&e| !tail[1..e].contains([' ', '@', '(']));
        match close {
            Some(e) => {
                rest = &tail[e + 1..];
                changed = true;
            }
            None => {
                out.push('(');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Fewest byte codes read as text: fewer hold too few characters for any shape.
const MIN_BYTE_CODES: usize = 8;

/// The text a list of byte codes spells, when `s` is one: at least [`MIN_BYTE_CODES`]
/// decimal numbers 0–255 (`99,111,110,…`, `99 111 110 …`) or hex pairs (`63:6f:6e:…`,
/// `63-6F-6E-…`, `0x63, 0x6f, …`) separated by commas, colons, dashes, semicolons or white
/// space, whose bytes are UTF-8 text: what `Buffer.from(list)`, `bytes(list)` or a hex-dump
/// reader gives back.
pub(super) fn byte_codes_decoded(s: &str) -> Option<super::bytes::Decoded> {
    // Most strings hold a letter no code list has: done without allocating.
    let list_byte = |b: u8| {
        b.is_ascii_hexdigit()
            || matches!(b, b',' | b':' | b'-' | b';' | b'x' | b'X')
            || b.is_ascii_whitespace()
    };
    if s.len() < MIN_BYTE_CODES * 2 || !s.bytes().all(list_byte) {
        return None;
    }
    let tokens: Vec<&str> = s
        .split(|c: char| matches!(c, ',' | ':' | '-' | ';') || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.len() < MIN_BYTE_CODES {
        return None;
    }
    let hex = |t: &str| {
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        (t.len() == 2)
            .then(|| u8::from_str_radix(t, 16).ok())
            .flatten()
    };
    let decimal = |t: &str| {
        (t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u8>().ok())
            .flatten()
    };
    let as_decimal: Option<Vec<u8>> = tokens.iter().map(|t| decimal(t)).collect();
    let as_hex: Option<Vec<u8>> = tokens.iter().map(|t| hex(t)).collect();
    [as_decimal, as_hex]
        .into_iter()
        .flatten()
        .find_map(|bytes| {
            super::bytes::bytes_text(&bytes).filter(|(t, _)| t.chars().any(char::is_alphabetic))
        })
}

/// The longest Ascii85 token decoded: longer ones are read on their first this many
/// characters (and noted as a bound).
const MAX_ASCII85: usize = 64 * 1024;

/// The bytes of the Adobe Ascii85 tokens in `s` (`<~…~>`: Python's `a85decode(adobe=True)`,
/// PostScript, PDF), read by [`super::bytes::bytes_text`]: groups of five characters `!`–`u`
/// for four bytes, `z` for four zero bytes, white space skipped, a short last group padded.
pub(super) fn ascii85_texts(s: &str) -> impl Iterator<Item = super::bytes::Decoded> + '_ {
    let mut rest = s;
    std::iter::from_fn(move || loop {
        let start = rest.find("<~")?;
        let body = &rest[start + 2..];
        let end = body.find("~>").unwrap_or(body.len());
        rest = &body[end..];
        if end > MAX_ASCII85 {
            super::readings::bounded();
        }
        let token = &body[..end.min(MAX_ASCII85)];
        if let Some(text) = ascii85_decoded(token).and_then(|b| super::bytes::bytes_text(&b)) {
            return Some(text);
        }
    })
}

/// The bytes an Ascii85 body spells, or `None` when it holds a character outside the
/// alphabet or a group that overflows 32 bits.
pub(super) fn ascii85_decoded(body: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() * 4 / 5 + 4);
    let mut group = [0u8; 5];
    let mut n = 0;
    let flush = |group: &[u8; 5], n: usize, out: &mut Vec<u8>| -> Option<()> {
        let mut padded = *group;
        padded[n..].fill(b'u' - b'!');
        let v = padded.iter().try_fold(0u32, |acc, &d| {
            acc.checked_mul(85)?.checked_add(u32::from(d))
        })?;
        out.extend_from_slice(&v.to_be_bytes()[..n - 1]);
        Some(())
    };
    for b in body.bytes() {
        match b {
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group[n] = b - b'!';
                n += 1;
                if n == 5 {
                    flush(&group, 5, &mut out)?;
                    n = 0;
                }
            }
            _ if b.is_ascii_whitespace() => {}
            _ => return None,
        }
    }
    match n {
        0 => {}
        1 => return None,
        _ => flush(&group, n, &mut out)?,
    }
    Some(out)
}

/// Longest tag or comment a renderer's reading drops.
const MAX_TAG: usize = 256;

/// `s` as a renderer shows it, when that differs: HTML tags (`<span>`, `</b>`, `<wbr>`, at
/// most [`MAX_TAG`] bytes) and comments (`<!-- … -->`) dropped, and markdown's backslash
/// escapes of punctuation undone (`victim\@example.com`), so `victim<span>@</span>example.com`
/// and `0812<br>3456<br>7890` read as the email and the number they show.
pub(super) fn markup_stripped(s: &str) -> Option<String> {
    let b = s.as_bytes();
    memchr::memchr2(b'<', b'\\', b)?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find(['<', '\\']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let skip = if let Some(body) = tail.strip_prefix("<!--") {
            body.find("-->").map(|e| 4 + e + 3)
        } else if let Some(inner) = tail.strip_prefix('<') {
            let starts_tag = inner
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/');
            tail.get(..MAX_TAG.min(tail.len()))
                .and_then(|t| t.find('>'))
                .filter(|_| starts_tag)
                .map(|e| e + 1)
        } else {
            None
        };
        match skip {
            Some(n) => {
                rest = &tail[n..];
                changed = true;
            }
            None if tail.starts_with('\\')
                && tail[1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_punctuation()) =>
            {
                // `\@` → `@`: the escaped character itself, one byte.
                out.push_str(&tail[1..2]);
                rest = &tail[2..];
                changed = true;
            }
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::detect::{Detector, Detectors};

    #[test]
    fn each_coding_is_undone() {
        let b32 = data_encoding::BASE32.encode(b"victim@example.com");
        assert_eq!(
            base32_texts(&b32).map(|(t, _)| t).collect::<Vec<_>>(),
            ["victim@example.com"]
        );
        let hex32 = data_encoding::BASE32HEX_NOPAD.encode(b"victim@example.com");
        assert_eq!(
            base32_texts(&hex32.to_lowercase())
                .map(|(t, _)| t)
                .collect::<Vec<_>>(),
            ["victim@example.com"]
        );
        assert_eq!(
            quoted_printable_decoded("victim=40example.com=\r\n!").as_deref(),
            Some("victim@example.com!")
        );
        assert_eq!(
            css_decoded("victim\\40 example.com").as_deref(),
            Some("victim@example.com")
        );
        assert_eq!(
            css_decoded("victim\\000040example.com").as_deref(),
            Some("victim@example.com")
        );
        assert_eq!(
            hex_numbers_decoded("call 0x12E9F522D2 now").as_deref(),
            Some("call 81234567890 now")
        );
    }

    #[test]
    fn detectors_see_through_every_coding() {
        let d = Detectors::default();
        let b32 = data_encoding::BASE32_NOPAD.encode(b"mail victim.b32@example.com");
        for (text, want) in [
            (b32.as_str(), Detector::Email),
            ("victim=40example.com", Detector::Email),
            ("victim\\40 example.com", Detector::Email),
            ("victim\\000040example.com", Detector::Email),
            ("0x12E9F522D2", Detector::DigitRun),
            // attack21d F7: groups joined by punctuation outside `.` `/` `_`.
            ("WA: 0812|3456|7890", Detector::DigitRun),
            ("0812:3456:7890", Detector::DigitRun),
            ("0812~3456~7890", Detector::DigitRun),
            ("0812*3456*7890", Detector::DigitRun),
            ("0812'3456'7890", Detector::DigitRun),
            // attack21d F12: base64 broken by characters lenient decoders skip.
            (
                "Y29udGFj dCB2aWN0 aW0uc3Bh Y2VkQGV4 YW1wbGUu Y29t",
                Detector::Email,
            ),
            (
                "Y29udGFjdCB2.aWN0aW0uc3Bh.Y2VkQGV4YW1w.bGUuY29t",
                Detector::Email,
            ),
            // attack21d F14: markup a renderer drops, markdown escapes it undoes.
            ("victim.tag<span>@</span>example.com", Detector::Email),
            ("victim.cmt<!-- x -->@example.com", Detector::Email),
            ("victim.wbr@exa<wbr>mple.com", Detector::Email),
            ("victim.md\\@example.com", Detector::Email),
            ("0812<br>3456<br>7890", Detector::Phone),
            // attack21d F4 (comments), F7 (blanks, keycaps, dingbat digits).
            ("alice.comment(work)@example.com", Detector::Email),
            // attack21d F13: text as byte codes.
            ("99,111,110,116,97,99,116,32,118,105,99,116,105,109,46,98,64,101,120,97,109,112,108,101,46,99,111,109", Detector::Email),
            ("63:6f:6e:74:61:63:74:20:76:69:63:74:69:6d:40:65:78:61:6d:70:6c:65:2e:63:6f:6d", Detector::Email),
            ("0x76, 0x69, 0x63, 0x74, 0x69, 0x6d, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d", Detector::Email),
            ("0812\u{2800}3456\u{2800}7890", Detector::Phone),
            ("0\u{fe0f}\u{20e3}8\u{fe0f}\u{20e3}1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}3\u{fe0f}\u{20e3}4\u{fe0f}\u{20e3}5\u{fe0f}\u{20e3}6\u{fe0f}\u{20e3}7\u{fe0f}\u{20e3}8\u{fe0f}\u{20e3}", Detector::Phone),
            ("\u{2780}\u{2781}\u{2782}\u{2783}\u{2784}\u{2785}\u{2786}\u{2787}", Detector::DigitRun),
        ] {
            assert_eq!(d.scan(text), Some(want), "{text}");
        }
    }

    #[test]
    fn payment_values_decode_to_nothing_personal() {
        let d = Detectors::default();
        for text in [
            "customer_67d84b19d50b490a8fa75ab20bbf275a",
            "PAYIN2026ABCDEFGHIJKLMNOP",
            "ref=AB12&amount=4000",
            "C:\\payments\\batch1",
            "0x0",
            "INV-2026-0042",
            "MFRGGZDFMZTWQ2LK",
            "10:00:00",
            "2026:12:06",
            "1'500'000",
            "a|b|c 12|34",
            "Refund for order 42 approved by the merchant team",
            "10, 20, 30, 40, 50, 60, 70, 80",
            "2026-12-06 10:00:00",
            "12:30:45",
            "a < b and c > d",
            "C:\\payments\\batch1 <ok>",
        ] {
            assert_eq!(d.scan(text), None, "{text}");
        }
    }
}
