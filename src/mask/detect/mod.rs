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
//! after NFKC, the removal of invisible characters and marks, and in the one digit reading
//! every detector shares ([`ascii_digits`]: every character with a Unicode digit value is its
//! ASCII digit; a zero-width space does not split a number), which allocates for that text
//! only. A value with `%XX` escapes, or with an encoded token long enough to hold the fewest
//! bytes a shape needs (see [`readings`]), is also read decoded (a decode allocates; tokens
//! that decode to binary, such as hex ids, stop there).

mod bytes;
mod card;
mod codings;
mod codings85;
mod digits;
mod email;
mod grouped;
mod hidden;
mod iban;
mod joint;
mod national_id;
mod number_words;
mod numeral;
mod phone;
mod readings;
mod rendered;
mod wide;

pub(crate) use bytes::Origin;
pub(crate) use readings::{any_reading, any_reading_from, any_text_reading, each_reading};

#[cfg(test)]
mod component_props;
#[cfg(test)]
mod digit_props;
#[cfg(test)]
mod point_props;
#[cfg(test)]
mod spelling_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wide_props;
#[cfg(test)]
mod wrapping_props;

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
    /// allowed between them or grouped by any separator ([`grouped`]), or any numeral whose
    /// integer part or written digit runs hold such a number ([`numeral`]'s rule:
    /// `6281234567890.0`, `6281234567890.00`, `6.28123456789E12`, `6,281,234,567,890`,
    /// `0.6281234567890`): ID, account and bare phone numbers;
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

    /// [`Detectors::scan`], and whether a reading of `s` stopped at a bound with text left
    /// unread (a fifth level of encoding, a compressed stream longer than the inflation
    /// bound): such a value is masked whole by the caller, as a value too long to scan is.
    pub fn scan_bounded(&self, s: &str) -> (Option<Detector>, bool) {
        let found = self.scan(s);
        let bounded = found.is_none()
            && Detector::ALL.iter().any(|&d| self.is_enabled(d))
            && readings::last_reading_bounded();
        (found, bounded)
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

    /// The detector that fires on a JSON number, given its source text, on a leaf no
    /// declaration covers: [`Detectors::scan_number_at`] with no clock exemption (a 13-digit
    /// value is a clock only where a declaration says so).
    pub fn scan_number(&self, text: &str) -> Option<Detector> {
        self.scan_number_at(text, false)
    }

    /// The detector that fires on a JSON number, given its source text. Two readings, both
    /// pure functions of the text:
    ///
    /// - **its value's integer part** ([`numeral::denoted`]: sign, fraction and exponent read,
    ///   whatever the spelling: `6281234567890`, `-6281234567890.00`, `6281234567890.57`,
    ///   `6.28123456789e12`): at least `number_digits_min` digits is a phone or ID number sent
    ///   as a number ([`Detector::Card`] when it passes Luhn with 13..=19 digits, else
    ///   [`Detector::DigitRun`]); a spelled number needs `digit_run_min` significant digits
    ///   (round quantities such as `150000000000.00`, `1e15` never fire);
    /// - **every digit run of its text** ([`numeral::each_written_run`]: the integer part, the
    ///   fraction, the exponent, and the mantissa's digits when an exponent moves the point):
    ///   a run of `number_digits_min` digits or more (at most 19) carrying `digit_run_min`
    ///   significant digits is judged as an integer is, so `0.6281234503301`,
    ///   `6.281234503302e-1` and `3173000000003308e-400` hide nothing. An amount's fraction
    ///   (`.00`, `.57`) is far shorter.
    ///
    /// Integers of more than 19 digits (an amount or reference that outgrew 64 bits, which
    /// must come back byte for byte) never fire. `clock`: the leaf is declared (its
    /// declaration says what it is), so a 13-digit integer in the Unix-milliseconds range of
    /// 2015..2040 is taken for a timestamp there, and nowhere else.
    pub fn scan_number_at(&self, text: &str, clock: bool) -> Option<Detector> {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if clock && digits::is_epoch_millis(unsigned.as_bytes()) {
            return None;
        }
        // Longer than any card (19), phone (15) or ID number: an amount or reference that
        // outgrew 64 bits, which must come back byte for byte.
        let value = numeral::denoted(unsigned, card::MAX_DIGITS)
            .filter(|n| n.judged(self.digit_run_min))
            .and_then(|n| self.judge_integer(&n.digits, self.number_digits_min));
        if value.is_some() {
            return value;
        }
        let mut found = None;
        numeral::each_written_run(unsigned, |run| {
            found = self.judge_run(run);
            found.is_some()
        });
        found
    }

    /// The detector that fires on one digit run written in a number's text (see
    /// [`Detectors::scan_number_at`]).
    fn judge_run(&self, run: &str) -> Option<Detector> {
        let significant = run.trim_start_matches('0').trim_end_matches('0');
        if run.len() > card::MAX_DIGITS || significant.len() < self.digit_run_min {
            return None;
        }
        self.judge_integer(run.trim_start_matches('0'), self.number_digits_min)
    }

    /// The detector that fires on the digits of an integer (no leading zeros) that is a
    /// number of its own (a JSON number, or a numeral in a string): at least `min` digits; a
    /// card when 13..=19 digits pass Luhn.
    fn judge_integer(&self, digits: &str, min: usize) -> Option<Detector> {
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

/// The detectors' one digit reading of non-ASCII text (after NFKC, the removal of invisible
/// characters and of combining marks: [`crate::mask::keynorm::prepare_words`]): **every
/// character with a Unicode digit value is its ASCII digit**, whatever script or decoration
/// writes it, so every detector that judges digits sees the same digits:
///
/// - decimal digits (General_Category `Nd`: Arabic-Indic `٠١٢`, Devanagari, Thai, …) and
///   the digit-valued symbols NFKC leaves alone (Numeric_Type `Digit`: dingbat circled
///   `➀❶➊`, double-circled `⓵`, Ethiopic `፩`) by their place in their run: Unicode encodes
///   such digits in contiguous runs, ten from zero or nine from one (a stability guarantee
///   for `Nd`; the enclosed forms follow it), so a digit's value is its offset in its run;
/// - a numeric character without a digit value that is no letter (`➉`, `❿`) is read as a
///   space: it separates digits;
/// - every Unicode dash is `-`, every space (and the blank U+2800) ` `, the Arabic decimal
///   separator `.` (its thousands separator `,`), middle dots `.`, apostrophes and primes
///   that mark thousands `'`, and the full stops UTS #46 reads in a domain `.`.
///
/// Whatever else is neither a letter nor a digit is left for [`grouped`] to read as a
/// separator. NFKC has already mapped the compatibility forms (full-width, mathematical,
/// circled `①`, parenthesised `⑴` → `(1)`, with a full stop `⒏` → `8.`).
fn ascii_digits(text: &str) -> String {
    const MAX_DIGIT_RUN: u32 = 64;
    use icu_properties::props::{GeneralCategory, NumericType};
    use icu_properties::CodePointMapData;
    let gc = CodePointMapData::<GeneralCategory>::new();
    let nt = CodePointMapData::<NumericType>::new();
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
                // The full stops UTS #46 (IDNA) maps to `.` in a domain, as browsers, `mailto:`
                // and Python's `idna` codec read `alice@example。com` (U+FF0E is `.` after NFKC).
                '\u{3002}' | '\u{ff61}' => return '.',
                // A blank that renders as a space but is no Unicode space.
                '\u{2800}' => return ' ',
                // Apostrophes and primes that mark thousands (`6’281’234’567’890`, Swiss
                // style): the ASCII apostrophe the grouping reader knows.
                '\u{2019}' | '\u{02bc}' | '\u{2032}' => return '\'',
                _ => {}
            }
            match gc.get(c) {
                // En and em dashes, the minus sign, …: a dash between groups of digits.
                GeneralCategory::DashPunctuation => return '-',
                GeneralCategory::SpaceSeparator => return ' ',
                _ => {}
            }
            let kind = nt.get(c);
            if kind == NumericType::None {
                return c;
            }
            if kind != NumericType::Decimal && kind != NumericType::Digit {
                // A Han numeral (`一`) is a letter of its text; `➉` is no letter.
                return if c.is_alphabetic() { c } else { ' ' };
            }
            // The digit's run: contiguous code points of the same numeric type.
            let same = |v: u32| char::from_u32(v).is_some_and(|d| nt.get(d) == kind);
            let here = u32::from(c);
            // Bounded: no such run in Unicode is longer than a few blocks of ten.
            let mut start = here;
            while start > 0 && here - start < MAX_DIGIT_RUN && same(start - 1) {
                start -= 1;
            }
            let mut end = here;
            while end - start < MAX_DIGIT_RUN && same(end + 1) {
                end += 1;
            }
            // A run of ten (or more: `Nd` blocks abut) counts from zero, a shorter one from one.
            let from_one = u32::from(end - start + 1 < 10);
            let value = ((here - start) + from_one) % 10;
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
