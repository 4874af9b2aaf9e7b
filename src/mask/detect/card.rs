//! Card numbers: 13 to 19 digits, single spaces or dashes allowed between them, standing
//! alone as [`super::digits`] defines it, or in four or more groups joined by `.`, `/` or `_`
//! ([`super::grouped`]), or a numeral that denotes such digits (`4.111111111111111e15`, see
//! [`super::numeral`]), passing the Luhn check.

pub(super) const MIN_DIGITS: usize = 13;
pub(super) const MAX_DIGITS: usize = 19;

/// Whether `text` holds a card number (`min_significant`: see [`super::digits::each_run`]).
pub(super) fn find(text: &str, min_significant: usize) -> bool {
    super::digits::each_run(text, min_significant, |run, n, _| {
        (MIN_DIGITS..=MAX_DIGITS).contains(&n) && luhn(run.bytes().filter(u8::is_ascii_digit))
    }) || super::grouped::each(text, min_significant, |g| {
        (g.groups >= 4 || g.amount)
            && (MIN_DIGITS..=MAX_DIGITS).contains(&g.digits.len())
            && luhn(g.digits.bytes())
    })
}

/// The Luhn checksum over ASCII digits, most significant first.
pub(super) fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}
