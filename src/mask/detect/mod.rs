//! Value-shape detectors: does a string (or a number's text) hold a personal value whose
//! shape can be seen — an email, a phone number, a long digit run (ID and account numbers),
//! an IBAN, a card number?
//!
//! They exist for the `report` field policy (see [`super::policy`]): on routes whose full
//! schema the gateway cannot know, a string leaf in which any detector fires is masked whole
//! (free text holding one personal value usually holds others no shape can see, such as a
//! name). They are tuned for **zero false positives on what a payments client needs** (ids,
//! references, amounts, currency codes, timestamps, statuses); the accuracy test in
//! `tests.rs` runs them over the documented API and the sandbox.
//!
//! The common no-match path allocates nothing: one pass counts digits and looks for `@`, and
//! a string with neither enough digits nor an `@` is done. Text that is not ASCII is read
//! after NFKC, the removal of invisible characters and with every Unicode decimal digit as
//! its ASCII digit (full-width and Arabic-Indic digits are digits, a
//! zero-width space does not split a number), which allocates for that text only.
//! A value with `%XX` escapes, or with a base64 token of 16 characters or more, is also read
//! decoded (a decode allocates; tokens that decode to binary, such as hex ids, stop there).

mod card;
mod digits;
mod email;
mod grouped;
mod iban;
mod national_id;
mod numeral;
mod phone;

#[cfg(test)]
mod spelling_tests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

/// One value shape. A closed set: [`Detector::label`] is a metric label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Detector {
    /// `local@domain.tld`.
    Email,
    /// International (`+62 812-3456-7890`, `+44 20 7946 0958`) and national
    /// (`081234567890`, `(021) 555-1234`) phone numbers.
    Phone,
    /// A standalone run of at least `digit_run_min` digits (default 7), spaces and a dash
    /// allowed between them or grouped by `.`, `/`, `_`, or any numeral whose integer part is
    /// such a number ([`numeral`]'s rule: `6281234567890.0`, `6281234567890.00`,
    /// `6.28123456789E12`, `6,281,234,567,890`): ID, account and bare phone numbers;
    /// also the letter-framed national IDs a run cannot see (Singapore NRIC/FIN
    /// `S1234567D`, UK National Insurance `AB123456C`).
    DigitRun,
    /// An IBAN whose country, length, BBAN format and mod-97 checksum are valid.
    Iban,
    /// 13 to 19 digits (single spaces or dashes between them) passing the Luhn check.
    Card,
}

impl Detector {
    /// Every detector, in the order [`Detectors::scan`] tries them.
    pub const ALL: [Detector; 5] = [
        Detector::Email,
        Detector::Iban,
        Detector::Phone,
        Detector::Card,
        Detector::DigitRun,
    ];

    /// The metric label and configuration name.
    pub const fn label(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::DigitRun => "digit_run",
            Detector::Iban => "iban",
            Detector::Card => "card",
        }
    }

    /// The detector a configuration name means.
    pub fn from_label(name: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.label() == name)
    }

    /// The placeholder a key in which this detector fires is listed as (an undeclared path
    /// never shows the key itself then): `<email>`, `<phone>`, …
    pub const fn placeholder(self) -> &'static str {
        match self {
            Detector::Email => "<email>",
            Detector::Phone => "<phone>",
            Detector::DigitRun => "<digit_run>",
            Detector::Iban => "<iban>",
            Detector::Card => "<card>",
        }
    }
}

/// The detectors that still run on declared leaves (see [`Detectors::scan_declared`]).
const DECLARED_SAFE: [Detector; 2] = [Detector::Email, Detector::Iban];

/// Default of [`Detectors::digit_run_min`].
pub const DEFAULT_DIGIT_RUN_MIN: usize = 7;
/// Default of [`Detectors::number_digits_min`].
pub const DEFAULT_NUMBER_DIGITS_MIN: usize = 11;

/// The configured set of detectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detectors {
    enabled: [bool; 5],
    /// Fewest digits a standalone digit run in a string needs to be a [`Detector::DigitRun`].
    digit_run_min: usize,
    /// Fewest digits an integer JSON number needs to be a [`Detector::DigitRun`] (a phone or
    /// ID number sent as a number): larger than `digit_run_min`, because amounts and Unix
    /// times in seconds are numbers too (an amount in rupiah easily has 7 to 10 digits).
    number_digits_min: usize,
}

impl Default for Detectors {
    /// All five, default thresholds.
    fn default() -> Self {
        Detectors::new(
            &Detector::ALL,
            DEFAULT_DIGIT_RUN_MIN,
            DEFAULT_NUMBER_DIGITS_MIN,
        )
    }
}

impl Detectors {
    /// The listed detectors with the given thresholds (validated by the config layer:
    /// `digit_run_min` 6..=19, `number_digits_min` >= `digit_run_min`).
    pub fn new(enabled: &[Detector], digit_run_min: usize, number_digits_min: usize) -> Self {
        let mut set = [false; 5];
        for d in enabled {
            set[d.index()] = true;
        }
        Detectors {
            enabled: set,
            digit_run_min,
            number_digits_min,
        }
    }

    /// No detector at all.
    pub fn none() -> Self {
        Detectors::new(&[], DEFAULT_DIGIT_RUN_MIN, DEFAULT_NUMBER_DIGITS_MIN)
    }

    pub fn is_enabled(&self, d: Detector) -> bool {
        self.enabled[d.index()]
    }

    pub fn digit_run_min(&self) -> usize {
        self.digit_run_min
    }

    pub fn number_digits_min(&self) -> usize {
        self.number_digits_min
    }

    /// The first enabled detector (in [`Detector::ALL`] order) that fires on the string `s`
    /// (a string leaf's decoded value, or an object key).
    pub fn scan(&self, s: &str) -> Option<Detector> {
        self.scan_among(s, &Detector::ALL)
    }

    /// [`Detectors::scan`] for a leaf on a **declared** path: only the detectors whose shape no
    /// payment value has (`email`, `iban`). A declared reference or amount may be any run of
    /// digits (`20241206001234`, `15000000`), may start with `0` or pass Luhn by chance, so
    /// `digit_run`, `phone` and `card` would mask what the operator declared safe.
    pub fn scan_declared(&self, s: &str) -> Option<Detector> {
        self.scan_among(s, &DECLARED_SAFE)
    }

    fn scan_among(&self, s: &str, among: &[Detector]) -> Option<Detector> {
        if !among.iter().any(|&d| self.is_enabled(d)) {
            return None;
        }
        // Every reading a client may decode the text to is judged, by the one enumeration
        // the label check uses too ([`any_reading`]): `victim%40example.com` is an email to a
        // URL decoder, `alice&#64;example.com` to a renderer, `eyJlbWFpbCI6…` to a base64
        // decoder. The text as written comes first, so the common path decodes nothing.
        let mut found = None;
        any_reading(s, |t| {
            found = self.scan_plain(t, among);
            found.is_some()
        });
        found
    }

    fn scan_plain(&self, s: &str, among: &[Detector]) -> Option<Detector> {
        let text: Cow<'_, str> = if s.is_ascii() {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(ascii_digits(&crate::mask::keynorm::prepare_words(s)))
        };
        let text = &*text;
        let has_at = memchr::memchr(b'@', text.as_bytes()).is_some();
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        // Every shape but an email needs at least this many digits (a phone number 8, an
        // IBAN more than 7, a card 13, a run `digit_run_min`, a framed national ID 6).
        if !has_at && digits < self.digit_run_min.min(phone::MIN_DIGITS).min(6) {
            return None;
        }
        among
            .iter()
            .copied()
            .filter(|&d| self.is_enabled(d))
            .find(|&d| match d {
                Detector::Email => has_at && email::find(text),
                Detector::Iban => iban::find(text),
                Detector::Phone => phone::find(text),
                Detector::Card => {
                    digits >= card::MIN_DIGITS && card::find(text, self.digit_run_min)
                }
                Detector::DigitRun => {
                    (digits >= self.digit_run_min
                        && digits::find(text, self.digit_run_min, self.number_digits_min))
                        || (digits >= 6 && national_id::find(text))
                }
            })
    }

    /// The detector that fires on a JSON number, given its source text: a number whose value's
    /// integer part ([`numeral::denoted`]: sign, fraction and exponent read, whatever the
    /// spelling: `6281234567890`, `-6281234567890.00`, `6281234567890.57`,
    /// `6.28123456789e12`) has at least `number_digits_min` digits is a phone or ID number sent
    /// as a number ([`Detector::Card`] when it passes Luhn with 13..=19 digits, else
    /// [`Detector::DigitRun`]). A spelled number needs `digit_run_min` significant digits
    /// (round quantities such as `150000000000.00`, `1e15` never fire); shorter integer parts,
    /// integers of more than 19 digits and Unix times in milliseconds (2015 to 2040) never
    /// fire.
    pub fn scan_number(&self, text: &str) -> Option<Detector> {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        // Longer than any card (19), phone (15) or ID number: an amount or reference that
        // outgrew 64 bits, which must come back byte for byte.
        let n = numeral::denoted(unsigned, card::MAX_DIGITS)?;
        if !n.judged(self.digit_run_min) {
            return None;
        }
        self.judge_integer(&n.digits, self.number_digits_min)
    }

    /// The detector that fires on the digits of an integer (no leading zeros) that is a
    /// number of its own (a JSON number, or a numeral in a string): at least `min` digits and
    /// not Unix milliseconds of 2015..2040; a card when 13..=19 digits pass Luhn.
    fn judge_integer(&self, digits: &str, min: usize) -> Option<Detector> {
        if digits::is_epoch_millis(digits.as_bytes()) {
            return None;
        }
        let n = digits.len();
        if self.is_enabled(Detector::Card)
            && (card::MIN_DIGITS..=card::MAX_DIGITS).contains(&n)
            && card::luhn(digits.bytes())
        {
            return Some(Detector::Card);
        }
        (self.is_enabled(Detector::DigitRun) && n >= min).then_some(Detector::DigitRun)
    }
}

/// The shortest base64 token read as text: shorter ones hold too few bytes for any shape.
const MIN_BASE64: usize = 16;

/// How many decodings deep a reading goes: a base64 or hex token inside the text of
/// another (base64 of base64, hex of base64, a JWT inside a base64 blob) is read too, this
/// many levels down; each level at least halves the text, so the work stays bounded.
const MAX_NESTED: u8 = 3;

/// Every reading of `s` a client may decode it to — the text itself, its `%XX` escapes
/// undone (up to three levels), its HTML and literal character escapes undone, and the texts
/// of its base64 tokens (a gzip or zlib stream inside one inflated) and hex tokens, each of
/// those read again the same way ([`MAX_NESTED`] levels) — until `f` holds for one. The
/// one enumeration every check on a string's text goes through (detectors and labels), so a
/// decoding added here is seen by all of them.
pub(crate) fn any_reading(s: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    any_reading_at(s, &mut f, MAX_NESTED)
}

fn any_reading_at(s: &str, f: &mut dyn FnMut(&str) -> bool, depth: u8) -> bool {
    if f(s) {
        return true;
    }
    let mut decoded = percent_decoded(s);
    for _ in 0..3 {
        let Some(d) = decoded else { break };
        if f(&d) || (depth > 0 && decoded_tokens(&d).any(|t| any_reading_at(&t, f, depth - 1))) {
            return true;
        }
        decoded = percent_decoded(&d);
    }
    if let Some(d) = escapes_decoded(s) {
        if f(&d) || (depth > 0 && decoded_tokens(&d).any(|t| any_reading_at(&t, f, depth - 1))) {
            return true;
        }
    }
    depth > 0 && decoded_tokens(s).any(|t| any_reading_at(&t, f, depth - 1))
}

/// The texts of the encoded tokens in `s` a client may decode: base64 ([`base64_texts`])
/// and hex ([`hex_texts`]).
fn decoded_tokens(s: &str) -> impl Iterator<Item = String> + '_ {
    base64_texts(s).chain(hex_texts(s))
}

/// The shortest hex token read as text (8 bytes): shorter ones hold too few for any shape.
const MIN_HEX: usize = 16;

/// The texts of the hex tokens in `s` (`76696374…`, either case, even length, at least
/// [`MIN_HEX`] characters) whose bytes are UTF-8 text without control characters: what
/// `bytes.fromhex`, `hex.DecodeString` or `Buffer.from(…, "hex")` give back. Digests and
/// ids decode to bytes that are not such text, and are left alone.
fn hex_texts(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|t| t.len() >= MIN_HEX && t.len() % 2 == 0)
        .filter_map(|t| {
            let bytes: Option<Vec<u8>> = t
                .as_bytes()
                .chunks_exact(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                .collect();
            String::from_utf8(bytes?)
                .ok()
                .filter(|t| !t.chars().any(|c| c.is_control() && !c.is_whitespace()))
        })
}

/// The largest inflated text read from a compressed base64 token: enough for any value a
/// client would show, bounded so a small token cannot make the gateway inflate a bomb.
const MAX_INFLATED: u64 = 64 * 1024;

/// `bytes` as text: UTF-8 as they are, or a gzip or zlib stream (`H4sI…`, `eJ…` in base64)
/// inflated to UTF-8 (at most [`MAX_INFLATED`] bytes), as a client that gunzips a
/// compressed payload reads it.
fn bytes_text(bytes: Vec<u8>) -> Option<String> {
    use std::io::Read;
    let inflated = |r: &mut dyn Read| {
        let mut out = Vec::new();
        r.take(MAX_INFLATED).read_to_end(&mut out).ok()?;
        String::from_utf8(out).ok()
    };
    match bytes.as_slice() {
        [0x1f, 0x8b, ..] => inflated(&mut flate2::read::MultiGzDecoder::new(&bytes[..])),
        [0x78, second, ..] if (u16::from(0x78u8) << 8 | u16::from(*second)) % 31 == 0 => {
            inflated(&mut flate2::read::ZlibDecoder::new(&bytes[..]))
        }
        _ => String::from_utf8(bytes).ok(),
    }
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
fn base64_texts(s: &str) -> impl Iterator<Item = String> + '_ {
    let joined: Vec<String> = if s.contains(['\r', '\n']) {
        base64_token_texts(&s.replace(['\r', '\n'], "")).collect()
    } else {
        Vec::new()
    };
    base64_token_texts(s).chain(joined)
}

fn base64_token_texts(s: &str) -> impl Iterator<Item = String> + '_ {
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
                .and_then(bytes_text)
        })
}

/// `s` with every `%XX` decoded (invalid UTF-8 replaced), when it holds one.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let first =
        memchr::memchr_iter(b'%', b).find(|&i| hex(i + 1).is_some() && hex(i + 2).is_some())?;
    let mut out = b[..first].to_vec();
    let mut i = first;
    while i < b.len() {
        if let (b'%', Some(h), Some(l)) = (b[i], hex(i + 1), hex(i + 2)) {
            out.push(u8::try_from(h << 4 | l).unwrap_or(b'%'));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Every Unicode dash as `-`, every space as ` `, the Arabic decimal separator as `.` (and
/// its thousands separator as `,`), middle dots as `.`, and every Unicode decimal digit
/// (General_Category `Nd`: Arabic-Indic `٠١٢`, Devanagari, Thai, …) as its ASCII digit: readers such as Go's `unicode.IsDigit`, Python's
/// `int()` and a person read them as digits, so a phone number in them is one. NFKC has
/// already mapped the compatibility forms (full-width, mathematical).
fn ascii_digits(text: &str) -> String {
    use icu_properties::props::GeneralCategory;
    use icu_properties::CodePointMapData;
    let gc = CodePointMapData::<GeneralCategory>::new();
    let is_nd =
        |c: u32| char::from_u32(c).is_some_and(|c| gc.get(c) == GeneralCategory::DecimalNumber);
    text.chars()
        .map(|c| {
            match c {
                _ if c.is_ascii() => return c,
                // U+2212 MINUS SIGN is a math symbol, but reads as a dash all the same.
                '\u{2212}' => return '-',
                // The Arabic decimal and thousands separators (`٦٢٨…٫٠` is `628….0`), and the
                // middle dots people group digits with: punctuation, not dashes or spaces.
                '\u{066b}' => return '.',
                '\u{066c}' => return ',',
                '\u{00b7}' | '\u{2022}' | '\u{2027}' | '\u{30fb}' => return '.',
                // Apostrophes and primes that mark thousands (`6’281’234’567’890`, Swiss
                // style): the ASCII apostrophe the grouping reader knows.
                '\u{2019}' | '\u{02bc}' | '\u{2032}' => return '\'',
                _ => {}
            }
            match gc.get(c) {
                // En and em dashes, the minus sign, …: a dash between groups of digits.
                GeneralCategory::DashPunctuation => return '-',
                GeneralCategory::SpaceSeparator => return ' ',
                GeneralCategory::DecimalNumber => {}
                _ => return c,
            }
            // Unicode encodes decimal digits in contiguous runs of ten, ascending from
            // zero (a stability guarantee), so a digit's value is its offset in its run.
            let mut start = u32::from(c);
            while start > 0 && is_nd(start - 1) {
                start -= 1;
            }
            let value = (u32::from(c) - start) % 10;
            char::from_digit(value, 10).unwrap_or(c)
        })
        .collect()
}

impl Detector {
    const fn index(self) -> usize {
        match self {
            Detector::Email => 0,
            Detector::Phone => 1,
            Detector::DigitRun => 2,
            Detector::Iban => 3,
            Detector::Card => 4,
        }
    }
}

#[cfg(test)]
mod escape_tests {
    use super::{escapes_decoded, Detector, Detectors};

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
