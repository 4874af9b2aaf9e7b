//! The one rule for "this numeral is a long integer", shared by JSON number leaves
//! ([`super::Detectors::scan_number`]), numerals inside strings ([`each_in_text`], read by the
//! `digit_run` and `card` detectors) and grouped amounts ([`super::grouped`]): a phone or ID
//! number does not stop being one when a float formatter, a spreadsheet or an amount
//! formatter spells it `6281234567890.0`, `6281234567890.00`, `6.28123456789e12` or
//! `6,281,234,567,890`. Every spelling is reduced to the digits of its value's integer part
//! (the value truncated toward zero, sign dropped, exponent applied), and those digits are
//! judged as a plain integer would be, under two conditions that keep amounts out:
//!
//! - **Significant digits.** A numeral spelled with a fraction, an exponent or grouping must
//!   carry at least `min_significant` significant digits (trailing zeros of the integer part
//!   not counted): `150000000000.00`, `1e15` and `1.5e12` are round, computed quantities, never
//!   typed identifiers. Plain digit runs are judged as typed.
//! - **Amount spellings meet the number threshold.** In a string, a numeral written as an
//!   amount is written (a fraction of two or more digits, a non-zero fraction, thousands
//!   grouping: `1500000.00`, `1,500,000`) is judged against `number_digits_min`, as a JSON
//!   number is, not against the shorter `digit_run_min`; float spellings of an integer
//!   (`….0`, `…e12`) against `digit_run_min`, as the plain run they stand for.
//!
//! - **The number a numeral spells.** Beside its value's integer part, the digits written in
//!   it are read ([`each_written_run`]): each run, and integer and fraction joined when the
//!   fraction is longer than an amount's (5 digits or more, [`MIN_JOINED_FRACTION`]) or an
//!   exponent moves the point: a point dropped into a card (`4111111111.111111`), a NIK
//!   (`317300000.0001234`) or a phone (`0812.34567890`) does not hide it.
//!
//! So an amount below 10^(`number_digits_min` - 1) with at most four decimals never fires in
//! any spelling, and a value of identifier shape fires in every spelling.

use std::borrow::Cow;

/// The integer part of a numeral, as [`denoted`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Numeral<'a> {
    /// The digits of the value's integer part, without leading zeros (never empty).
    pub(super) digits: Cow<'a, str>,
    /// Written with a fraction or an exponent (not plain digits).
    pub(super) spelled: bool,
    /// Written as an amount: a fraction of two or more digits (no exponent), or a value that
    /// is not an integer.
    pub(super) amount: bool,
}

impl Numeral<'_> {
    /// Whether these digits are judged at all: plain, or carrying `min_significant`
    /// significant digits (see the module's doc).
    pub(super) fn judged(&self, min_significant: usize) -> bool {
        !self.spelled || identifier_like(&self.digits, min_significant)
    }
}

/// Whether the integer `digits` carries at least `min_significant` significant digits
/// (trailing zeros not counted): the shape of a typed identifier, not of a round quantity.
pub(super) fn identifier_like(digits: &str, min_significant: usize) -> bool {
    digits.trim_end_matches('0').len() >= min_significant
}

/// The integer part of the unsigned numeral `text` (digits, an optional `.`/`,` fraction, an
/// optional `e`/`E` exponent). `None` when `text` is no such numeral, or its integer part is
/// zero or longer than `max` digits.
pub(super) fn denoted(text: &str, max: usize) -> Option<Numeral<'_>> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(parse_exponent(&text[i + 1..])?)),
        None => (text, None),
    };
    let (int, frac) = match mantissa.find(['.', ',']) {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_none_or(str::is_empty) {
        return None;
    }
    if !all_digits(int) || !frac.is_none_or(all_digits) {
        return None;
    }
    let spelled = frac.is_some() || exp.is_some();
    let Some(exp) = exp else {
        let frac = frac.unwrap_or("");
        let int = int.trim_start_matches('0');
        let exact = frac.bytes().all(|b| b == b'0');
        return (!int.is_empty() && int.len() <= max).then_some(Numeral {
            digits: Cow::Borrowed(int),
            spelled,
            amount: frac.len() >= 2 || !exact,
        });
    };
    let frac = frac.unwrap_or("");
    let shift = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let mut all = String::with_capacity(int.len() + frac.len());
    all.push_str(int);
    all.push_str(frac);
    let all = all.trim_start_matches('0');
    let (digits, exact) = if shift >= 0 {
        let zeros = usize::try_from(shift).ok()?;
        if all.is_empty() || all.len().saturating_add(zeros) > max {
            return None;
        }
        (format!("{all}{}", "0".repeat(zeros)), true)
    } else {
        let cut = usize::try_from(shift.unsigned_abs()).ok()?;
        let keep = all.len().checked_sub(cut)?;
        let exact = all[keep..].bytes().all(|b| b == b'0');
        (all[..keep].to_owned(), exact)
    };
    (!digits.is_empty() && digits.len() <= max).then_some(Numeral {
        digits: Cow::Owned(digits),
        spelled,
        amount: !exact,
    })
}

/// Calls `f` with every digit run of the unsigned numeral `text` as written: its integer
/// part, its fraction and its exponent (each as written, leading zeros included), and the
/// mantissa's digits joined (the number the numeral spells, wherever the point lands) when
/// an exponent moves the point (`62812.34567890e-5`) or the fraction is longer than an
/// amount's ([`MIN_JOINED_FRACTION`]: `4111111111.111111` is a card, `0812.34567890` a phone).
/// Stops when `f` returns true. A text that is no numeral yields what digit runs it has in
/// those places, which is all a reader sees.
pub(super) fn each_written_run(text: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (
            &text[..i],
            Some(text[i + 1..].trim_start_matches(['+', '-'])),
        ),
        None => (text, None),
    };
    let (int, frac) = match mantissa.find(['.', ',']) {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for run in [int, frac, exp.unwrap_or("")] {
        if digits(run) && f(run) {
            return true;
        }
    }
    // An all-zero fraction spells the integer itself, judged above.
    (exp.is_some() || (frac.len() >= MIN_JOINED_FRACTION && frac.bytes().any(|b| b != b'0')))
        && digits(int)
        && digits(frac)
        && f(&format!("{int}{frac}"))
}

/// The shortest fraction whose digits are read together with the integer part's: longer than
/// an amount's. Two decimals are almost every currency's minor unit, three the dinars', and
/// four a unit price's or a quoted rate's: a fraction of 2 to 4 digits after up to 10 integer
/// digits is an amount's shape and never fires (`1234567890.1234`), so such a split is not
/// read joined, and an 11-digit phone written `81234567.890` passes (stated in the README as
/// residual). From five fraction digits on the joined digits meet the thresholds an integer
/// does (a run of `number_digits_min`, 11, or 13 to 19 passing Luhn), which amounts stay
/// below: an 8-decimal crypto amount up to 99 (`12.34567890`, `0.00012345`), a rate to five
/// places up to 99999 or to six up to 9999 (`15634.12345`, `1234.567890`). Larger ones
/// (`123.45678901`, `15634.123456`) are read as a number where the digit detectors run
/// (undeclared leaves), as a 13-digit Unix time in milliseconds already is.
pub(super) const MIN_JOINED_FRACTION: usize = 5;

/// `[+-]digits`, bounded so that a hostile `e99999…` cannot overflow. Leading zeros are
/// not counted against the bound: every JSON reader reads `e+0000000000000000000002` as
/// `e2`, so a phone number spelled with it is one.
fn parse_exponent(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 6 {
        return None;
    }
    let value: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    Some(if negative { -value } else { value })
}

/// The most digits a numeral in a string may denote: beyond it, the value is a computed
/// quantity (and the expansion would cost memory at upstream's whim).
pub(super) const MAX_TEXT_DIGITS: usize = 64;

/// Calls `f` with every standalone numeral in `text` that is spelled with a fraction or an
/// exponent and is judged ([`Numeral::judged`] with `min_significant`), then with each digit
/// run written in it ([`each_written_run`]) that carries `min_significant` significant
/// digits, as an amount spelling (judged against the number threshold): plain digit runs are
/// [`super::digits`]' own, grouped ones [`super::grouped`]'s. Stops when `f` returns true.
///
/// Standalone as a digit run is: no letter, digit or `_` touches it, no dash joins it to a
/// letter or digit (`INV-6.0`), and no `.`/`,`/`:`/`/` joins it to more digits (so the middle of
/// `1,500,000.0`, a version `1.0.3` or a date is never a numeral of its own).
pub(super) fn each_in_text(
    text: &str,
    min_significant: usize,
    mut f: impl FnMut(&Numeral<'_>) -> bool,
) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // A numeral starts at a digit that follows no digit, or at a `.` that starts a bare
        // fraction (`.628e13`).
        let bare_fraction =
            b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) && !digit_at(b, i, 1);
        if !(bare_fraction || (b[i].is_ascii_digit() && !digit_at(b, i, 1))) {
            i += 1;
            continue;
        }
        let start = i;
        let end = numeral_end(b, start);
        let token = &text[start..end];
        let spelled = token.bytes().any(|c| !c.is_ascii_digit());
        if spelled && standalone(b, start, end) {
            if let Some(n) = denoted(token, MAX_TEXT_DIGITS) {
                if n.judged(min_significant) && f(&n) {
                    return true;
                }
            }
            // Every digit run of it too (its fraction, its exponent), judged as an amount's
            // digits are: `0.6281234503303` hides a number in its fraction.
            if each_written_run(token, |run| {
                let significant = run.trim_start_matches('0').trim_end_matches('0');
                significant.len() >= min_significant
                    && f(&Numeral {
                        digits: Cow::Borrowed(run.trim_start_matches('0')),
                        spelled: true,
                        amount: true,
                    })
            }) {
                return true;
            }
        }
        i = end.max(start + 1);
    }
    false
}

/// Whether the byte `back` places before `i` is an ASCII digit.
fn digit_at(b: &[u8], i: usize, back: usize) -> bool {
    i.checked_sub(back)
        .and_then(|j| b.get(j))
        .is_some_and(u8::is_ascii_digit)
}

/// The end of the numeral starting at `start`: digits, then at most one `.`/`,` and its
/// digits, then at most one exponent (`e`, an optional sign, digits).
fn numeral_end(b: &[u8], start: usize) -> usize {
    let digits_from = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits_from(start);
    if matches!(b.get(i), Some(b'.' | b',')) {
        let after = digits_from(i + 1);
        // `6281234567890.` then a space or the end: an empty fraction. `1.a`: not a numeral part.
        if after > i + 1 || !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
            i = after;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let after = digits_from(i + 1 + sign);
        if after > i + 1 + sign {
            i = after;
        }
    }
    i
}

fn standalone(b: &[u8], start: usize, end: usize) -> bool {
    let glued =
        |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
    let joins = |c: Option<&u8>| c.is_some_and(|&c| matches!(c, b'.' | b',' | b':' | b'/'));
    let at = |i: Option<usize>| i.and_then(|i| b.get(i));
    let before = at(start.checked_sub(1));
    let before2 = at(start.checked_sub(2));
    let after = b.get(end);
    let after2 = b.get(end + 1);
    // A sign is part of the numeral (`+6281234567890.0`); look past it.
    let (before, before2) = match before {
        Some(b'+') => (before2, at(start.checked_sub(3))),
        _ => (before, before2),
    };
    let dashed = |sep: Option<&u8>, next: Option<&u8>| {
        sep == Some(&b'-') && next.is_some_and(|&c| c.is_ascii_alphanumeric())
    };
    !(glued(before)
        || glued(after)
        || dashed(before, before2)
        || dashed(after, after2)
        || (joins(after) && after2.is_some_and(u8::is_ascii_digit))
        || (joins(before) && before2.is_some_and(u8::is_ascii_digit)))
}
