//! The one rule for "this numeric text denotes a long integer", shared by JSON number leaves
//! ([`super::Detectors::scan_number`]) and numerals inside strings ([`each_in_text`], read by
//! the `digit_run` and `card` detectors): a phone or ID number does not stop being one when a
//! float formatter or a spreadsheet spells it `6281234567890.0`, `6.28123456789e12` or
//! `6.281234567890E+12`. Every spelling is reduced to the digits of the integer it denotes,
//! and those digits are judged as the plain integer would be.
//!
//! What denotes an integer:
//! - plain digits;
//! - digits and a fraction that is empty or a single `0` (`6281234567890.0`, `…,0`, `….`): how
//!   float formatters (Python, Java, spreadsheets) write an integer-valued number;
//! - a mantissa and an exponent whose value is an integer (`62812345678.90e2`), when the
//!   mantissa carries at least `min_significant` significant digits: a round `1e15` or `1.5e12`
//!   is a computed quantity, never a typed identifier.
//!
//! What does not: a real fraction (`6281234567890.5`), and a fraction of two or more digits
//! (`1500000.00`, `62812345678901.00`, `1.500,000`): that is how amounts are written (currencies
//! have 0, 2 or 3 minor digits), and an amount must come back byte for byte.

use std::borrow::Cow;

/// The digits, without leading zeros, of the integer the unsigned numeral `text` (digits, an
/// optional `.`/`,` fraction, an optional `e`/`E` exponent) denotes, per the module's rule.
/// `None` when it denotes no integer, fewer than one digit, or more than `max` digits.
pub(super) fn denoted(text: &str, min_significant: usize, max: usize) -> Option<Cow<'_, str>> {
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
    let Some(exp) = exp else {
        if !matches!(frac, None | Some("" | "0")) {
            return None;
        }
        let int = int.trim_start_matches('0');
        return (!int.is_empty() && int.len() <= max).then_some(Cow::Borrowed(int));
    };
    let frac = frac.unwrap_or("");
    let shift = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let mut all = String::with_capacity(int.len() + frac.len());
    all.push_str(int);
    all.push_str(frac);
    let all = all.trim_start_matches('0');
    if all.trim_end_matches('0').len() < min_significant {
        return None;
    }
    let digits = if shift >= 0 {
        let zeros = usize::try_from(shift).ok()?;
        if all.len().saturating_add(zeros) > max {
            return None;
        }
        format!("{all}{}", "0".repeat(zeros))
    } else {
        let cut = usize::try_from(shift.unsigned_abs()).ok()?;
        let keep = all.len().checked_sub(cut)?;
        if !all[keep..].bytes().all(|b| b == b'0') {
            return None;
        }
        all[..keep].to_owned()
    };
    (!digits.is_empty()).then_some(Cow::Owned(digits))
}

/// `[+-]digits`, bounded so that a hostile `e99999…` cannot overflow.
fn parse_exponent(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The most digits a numeral in a string may denote: beyond it, the value is a computed
/// quantity (and the expansion would cost memory at upstream's whim).
pub(super) const MAX_TEXT_DIGITS: usize = 64;

/// Calls `f` with the denoted digits of every standalone numeral in `text` that is spelled
/// with a fraction or an exponent and denotes an integer (plain digit runs are
/// [`super::digits`]' own); stops when `f` returns true.
///
/// Standalone as a digit run is: no letter, digit or `_` touches it, no dash joins it to a
/// letter or digit (`INV-6.0`), and no `.`/`,`/`:`/`/` joins it to more digits (so the middle of
/// `1,500,000.0`, a version `1.0.3` or a date is never a numeral of its own).
pub(super) fn each_in_text(
    text: &str,
    min_significant: usize,
    mut f: impl FnMut(&str) -> bool,
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
            if let Some(d) = denoted(token, min_significant, MAX_TEXT_DIGITS) {
                if f(&d) {
                    return true;
                }
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
