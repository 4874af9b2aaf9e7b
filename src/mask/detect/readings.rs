//! Every reading of a string a client may decode it to: `%XX` escapes, HTML, literal and CSS
//! character escapes, quoted-printable, `0x…` hex numbers, base64 (a gzip or zlib stream in
//! it inflated), base32 and hex tokens (their bytes read as UTF-8 or UTF-16 text), nested.
//! The one enumeration the detectors and the label check go through, so a decoding added
//! here is seen by both.

use super::bytes::{self, Decoded, Origin};
use super::codings;
use super::codings85;
use super::hidden;
use super::number_words;
use super::rendered;

/// The shortest base64 token read as text: the fewest characters that decode to
/// [`MIN_SHAPE_BYTES`] bytes (6 bits each). A token is read by what its bytes could hold,
/// not skipped for being short: 10 characters hold a 7-digit ID, 15 an 11-digit phone number.
const MIN_BASE64: usize = (MIN_SHAPE_BYTES * 4).div_ceil(3);

/// The fewest bytes any shape a detector claims needs: a six-digit national ID, the shortest
/// digit run the configuration allows (`digit_run_min` >= 6), an email `a@b.cd`. Every token
/// reading (base64, base32, hex) decodes tokens that could hold this many bytes.
pub(super) const MIN_SHAPE_BYTES: usize = 6;

#[path = "token_filter.rs"]
mod token_filter;

/// How many decodings deep a reading goes: a base64 or hex token inside the text of
/// another (base64 of base64, hex of base64, a JWT inside a base64 blob) is read too, this
/// many levels down; each level at least halves the ASCII text a further level can decode
/// (a UTF-16 reading of non-ASCII bytes may be longer, but holds no token to go deeper), so
/// the work stays bounded.
const MAX_NESTED: u8 = 3;

/// Every reading of `s` a client may decode it to — the text itself, its `%XX` escapes
/// undone (up to three levels), its HTML, literal and CSS character escapes, quoted-printable
/// escapes and `0x…` hex numbers undone, and the texts of its base64 tokens (a gzip or zlib
/// stream inside one inflated), base32 and hex tokens, each of
/// those read again the same way ([`MAX_NESTED`] levels) — until `f` holds for one. The
/// one enumeration every check on a string's text goes through (detectors and labels), so a
/// decoding added here is seen by all of them.
pub(crate) fn any_reading(s: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    any_reading_from(s, |t, _| f(t))
}

/// [`any_reading`] restricted to the readings the word rules read (key words naming a
/// field, role words, field names and labels in values): [`Origin::Text`] only, never text
/// carved out of binary (see [`Origin`]).
pub(crate) fn any_text_reading(s: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    any_reading_from(s, |t, origin| origin == Origin::Text && f(t))
}

/// [`any_reading`], telling `f` each reading's [`Origin`]: a reading derived from another
/// (its escapes undone) has that one's origin, the text of a token its own bytes' origin.
pub(crate) fn any_reading_from(s: &str, mut f: impl FnMut(&str, Origin) -> bool) -> bool {
    // Characters no reader sees that the readings remove (zero-width, format, tag
    // characters) carry what no check reads: the value is masked whole, as one a bound cut
    // short (see `hidden`). The common ASCII value is done by one SIMD test.
    BOUNDED.with(|b| b.set(!s.is_ascii() && hidden::hides(s)));
    any_reading_at(s, Origin::Text, &mut f, MAX_NESTED)
}

/// Every reading of `s` ([`any_reading`]'s, and those of its NFKC form when that differs: a
/// client that normalises full-width letters reads the ASCII text), each given to `f`. For a
/// judge other than the detectors (the secret guard): the bound flag the detectors read is
/// left as it was.
pub(crate) fn each_reading(s: &str, mut f: impl FnMut(&str)) {
    let was = last_reading_bounded();
    let mut all = |t: &str| {
        f(t);
        false
    };
    any_reading(s, &mut all);
    if !s.is_ascii() {
        let c = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(s);
        if c != s {
            any_reading(&c, &mut all);
        }
    }
    BOUNDED.with(|b| b.set(was));
}

thread_local! {
    /// Set by the last [`any_reading`] when a bound cut a reading short: a fourth level of
    /// `%XX` escapes, a token still encoded below [`MAX_NESTED`] levels, an inflated stream
    /// longer than [`bytes::MAX_INFLATED`], a compressed stream it cannot open, characters no
    /// reader sees ([`hidden::hides`]). The walk is synchronous, so the flag read right after a
    /// scan is that scan's.
    static BOUNDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the last [`any_reading`] on this thread stopped at a bound with text left unread
/// (see [`BOUNDED`]): a client that decodes further reads what no check saw, so the caller
/// masks the value whole, as it does a value too long to scan.
pub(crate) fn last_reading_bounded() -> bool {
    BOUNDED.with(std::cell::Cell::get)
}

pub(super) fn bounded() {
    BOUNDED.with(|b| b.set(true));
}

/// The readings of the encoded tokens of `t`, one level down; at the last level, only a note
/// that tokens were left unread.
fn deeper(t: &str, f: &mut dyn FnMut(&str, Origin) -> bool, depth: u8) -> bool {
    if depth == 0 {
        if decoded_tokens(t).next().is_some() {
            bounded();
        }
        return false;
    }
    decoded_tokens(t).any(|(x, origin)| any_reading_at(&x, origin, f, depth - 1))
}

/// The readings of `s`, whose origin is `origin`: those derived from it have its origin.
fn any_reading_at(
    s: &str,
    origin: Origin,
    f: &mut dyn FnMut(&str, Origin) -> bool,
    depth: u8,
) -> bool {
    if f(s, origin) {
        return true;
    }
    let mut decoded = percent_decoded(s);
    for _ in 0..3 {
        let Some(d) = decoded else { break };
        // A URL decoder's output rendered (`victim%26%2364%3Bexample.com` is `&#64;`).
        if f(&d, origin)
            || rendered::rendered(&d).is_some_and(|r| f(&r, origin))
            || deeper(&d, f, depth)
        {
            return true;
        }
        decoded = percent_decoded(&d);
    }
    if decoded.is_some() {
        bounded();
    }
    // Character escapes of string literals and HTML, of CSS, of quoted-printable mail, and
    // hex numbers as their decimal value: each one reading of the whole text, never longer
    // than it (but by the few digits a hex number's decimal adds).
    let own = |d: Option<String>| d.map(|d| (d, origin));
    let escaped = [
        own(escapes_decoded(s)),
        own(codings::css_decoded(s)),
        own(codings::quoted_printable_decoded(s)),
        own(codings::hex_numbers_decoded(s)),
        own(codings::markup_stripped(s)),
        own(codings::mail_comments_dropped(s)),
        // A list of byte codes is a token: its text has its bytes' origin.
        codings::byte_codes_decoded(s),
        // Numbers spelled in words (`zero eight one two …`) as their digits.
        own(number_words::spelled_digits(s)),
        // Every renderer step above applied together, to a fixed point.
        own(rendered::rendered(s)),
        // Unicode tag characters read as the ASCII they mirror ("ASCII smuggling"), in
        // place and alone.
        own(hidden::tags_in_place(s)),
        own(hidden::tags_alone(s)),
    ];
    for (d, o) in escaped.into_iter().flatten() {
        if f(&d, o) || deeper(&d, f, depth) {
            return true;
        }
    }
    deeper(s, f, depth)
}

/// The texts of the encoded tokens in `s` a client may decode: base64 ([`base64_texts`]),
/// hex ([`hex_texts`]), base32 ([`codings::base32_texts`]), Ascii85 between `<~ ~>`
/// ([`codings::ascii85_texts`]) and the undelimited base-85 codings and uuencode
/// ([`codings85::texts`]); the bytes of each read by the one table of [`bytes::bytes_text`]
/// (compressors, text encodings, binary records). Text that is not ASCII is read after NFKC
/// too: a token in full-width or mathematical letters is the ASCII token to a client that
/// normalises it.
fn decoded_tokens(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    // After the ASCII readings, and only when they found nothing: NFKC allocates.
    let composed = std::iter::once_with(move || {
        if s.is_ascii() {
            return Vec::new();
        }
        let c = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(s);
        if c == s {
            return Vec::new();
        }
        tokens_of(&c).collect()
    });
    tokens_of(s).chain(composed.flatten())
}

fn tokens_of(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    base64_texts(s)
        .chain(hex_texts(s))
        .chain(codings::base32_texts(s))
        .chain(codings::ascii85_texts(s))
        .chain(codings85::texts(s))
}

/// The shortest hex token read as text: [`MIN_SHAPE_BYTES`] bytes, two characters each.
const MIN_HEX: usize = MIN_SHAPE_BYTES * 2;

/// The texts of the hex tokens in `s` (`76696374…`, either case, even length, at least
/// [`MIN_HEX`] characters) whose bytes are UTF-8 text without control characters: what
/// `bytes.fromhex`, `hex.DecodeString` or `Buffer.from(…, "hex")` give back. Digests and
/// ids decode to bytes that are not such text, and are left alone.
fn hex_texts(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    // Only "cannot hold a piece" skips the split (see `token_filter`).
    let s = token_filter::hex_gate(s, MIN_HEX);
    s.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|t| t.len() >= MIN_HEX && t.len() % 2 == 0)
        .filter_map(|t| {
            let bytes: Option<Vec<u8>> = t
                .as_bytes()
                .chunks_exact(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                .collect();
            bytes::bytes_text(&bytes?)
        })
}

/// `s` with the character escapes a renderer or a string-literal reader undoes decoded, when
/// it holds one: HTML's numeric references (`&#64;`, `&#x40;`) and the named ones that spell
/// an address or a label (`&commat;`, `&period;`, `&quot;`, `&apos;`, `&amp;`), and the
/// literal escapes `\u0040`, `\u{40}`, `\x40`, octal `\100` and `%u0040` (JavaScript's
/// `unescape`); HTML references with any number of leading zeros.
fn escapes_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    memchr::memchr3(b'&', b'\\', b'%', b)?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find(['&', '\\', '%']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match escape_at(tail) {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
                changed = true;
            }
            None => {
                // `&`, `\` and `%` are one byte each.
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The character the escape at the start of `t` stands for, and its length.
fn escape_at(t: &str) -> Option<(char, usize)> {
    const NAMED: [(&str, char); 5] = [
        ("&commat;", '@'),
        ("&period;", '.'),
        ("&quot;", '"'),
        ("&apos;", '\''),
        ("&amp;", '&'),
    ];
    if let Some((name, c)) = NAMED.iter().find(|(n, _)| t.starts_with(n)) {
        return Some((*c, name.len()));
    }
    // Width of the digits: fixed (`\u0040`, `\x40`, `%u0040`, octal `\100`), or any
    // number of leading zeros then up to `max` digits, as a browser reads `&#x0000000040;`
    // and a JavaScript, Rust or Swift literal `\u{40}` (which needs its `}`).
    #[derive(PartialEq)]
    enum Width {
        Fixed,
        Html,
        Brace,
    }
    let octal = t.len() >= 4 && t.starts_with('\\') && (b'0'..=b'3').contains(&t.as_bytes()[1]);
    let (skip, radix, max, width) = if t.starts_with("&#x") || t.starts_with("&#X") {
        (3, 16, 6, Width::Html)
    } else if t.starts_with("&#") {
        (2, 10, 7, Width::Html)
    } else if t.starts_with("\\u{") {
        (3, 16, 6, Width::Brace)
    } else if t.starts_with("\\u") {
        (2, 16, 4, Width::Fixed)
    } else if t.starts_with("\\x") {
        (2, 16, 2, Width::Fixed)
    } else if t.starts_with("%u") || t.starts_with("%U") {
        // JavaScript's `unescape` (and old URL encoders): `victim%u0040example.com`.
        (2, 16, 4, Width::Fixed)
    } else if octal {
        // C, Python and legacy JavaScript string literals: `victim\100example.com`.
        (1, 8, 3, Width::Fixed)
    } else {
        return None;
    };
    let rest = &t[skip..];
    let zeros = if width == Width::Fixed {
        0
    } else {
        rest.bytes().take_while(|&b| b == b'0').count()
    };
    let digits = zeros
        + rest[zeros..]
            .bytes()
            .take(max)
            .take_while(|b| (*b as char).is_digit(radix))
            .count();
    if digits == 0 || (width == Width::Fixed && digits != max) {
        return None;
    }
    // Leading zeros never overflow: at most `max` digits carry a value.
    let c = u32::from_str_radix(&rest[..digits], radix)
        .ok()
        .and_then(char::from_u32)?;
    let end = skip + digits;
    let used = match width {
        Width::Html if t[end..].starts_with(';') => end + 1,
        Width::Brace if t[end..].starts_with('}') => end + 1,
        Width::Brace => return None,
        _ => end,
    };
    Some((c, used))
}

/// The UTF-8 texts of the base64 tokens (standard or URL-safe alphabet, padded or not) in
/// `s` of at least [`MIN_BASE64`] characters. Decoders skip line breaks (MIME wraps base64
/// at 76 characters; Go's and Python's decoders ignore CR and LF), so a text with them is
/// also read with them removed.
fn base64_texts(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    // Only "cannot hold a piece" skips the splits (see `token_filter`); the lenient
    // reading below has no piece of its own to look for, so it reads `s` itself.
    let split = base64_split_texts(token_filter::base64_gate(s, MIN_BASE64));
    // Node's `Buffer.from(s, "base64")`, Python's `b64decode` and Java's MIME decoder skip
    // every character outside the alphabet: `Y29udGFj dCB2aWN0 …`, `Y29u.dGFj…`. Read so too
    // when such characters are few (at most one in four), so prose is not decoded.
    let alphabet = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_' | '=');
    let skipped = s.chars().filter(|&c| !alphabet(c)).count();
    let lenient: Vec<Decoded> = if skipped > 0 && skipped * 4 <= s.len() {
        let kept: String = s.chars().filter(|&c| alphabet(c)).collect();
        base64_token_texts(&kept).collect()
    } else {
        Vec::new()
    };
    split.chain(lenient)
}

/// The pieces of `s` split on everything outside the alphabet, and of `s` with its line
/// breaks removed (a MIME-wrapped token).
pub(super) fn base64_split_texts(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    let joined: Vec<Decoded> = if s.contains(['\r', '\n']) {
        base64_token_texts(&s.replace(['\r', '\n'], "")).collect()
    } else {
        Vec::new()
    };
    base64_token_texts(s).chain(joined)
}

fn base64_token_texts(s: &str) -> impl Iterator<Item = Decoded> + '_ {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    // `=` only pads (or joins a name to a value, `payload=eyJ…`): a separator here.
    s.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')))
        .filter(|t| t.len() >= MIN_BASE64)
        .filter_map(|t| {
            STANDARD_NO_PAD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t))
                .ok()
                .and_then(|b| bytes::bytes_text(&b))
        })
}

/// `s` with every `%XX` decoded (invalid UTF-8 replaced), when it holds one.
fn percent_decoded(s: &str) -> Option<String> {
    codings::hex_escapes_decoded(s, b'%', false)
}

#[cfg(test)]
mod escape_tests {
    use super::escapes_decoded;
    use crate::mask::detect::{Detector, Detectors};

    #[test]
    fn emails_behind_html_and_literal_escapes_are_emails() {
        let d = Detectors::default();
        for text in [
            "alice&#64;example.com",
            "alice&#x40;example&#x2E;com",
            "alice&commat;example&period;com",
            "alice\\u0040example.com",
            "alice\\x40example.com",
        ] {
            assert_eq!(d.scan(text), Some(Detector::Email), "{text}");
        }
    }

    #[test]
    fn text_without_a_complete_escape_is_left_as_it_is() {
        for text in ["Tom &amp Jerry", "C:\\path\\u12", "a &# b", "no escapes"] {
            assert_eq!(escapes_decoded(text), None, "{text}");
        }
        assert_eq!(escapes_decoded("a&amp;b").as_deref(), Some("a&b"));
        assert_eq!(Detectors::default().scan("Tom &amp; Jerry"), None);
    }
}
