//! Phone numbers in the forms people write them:
//! - international: `+`, then 8 to 15 digits with up to two separators (space, `-`,
//!   parentheses; not `.`, so a signed amount `+150000.00` is not one) between digits: `+62 812-3456-7890`, `+44 20 7946 0958`, `+1 (555) 010-0199`;
//! - national with an area code in parentheses: `(021) 555-1234`;
//! - national with a trunk `0`: `0` then 8 to 13 more digits, single separators allowed:
//!   `081234567890`, `0812-3456-7890`, `020 7946 0958`.
//!
//! Each must stand alone: no letter or digit right before or after it (so `customer_0812…`
//! ids, timestamps and decimal amounts are not phone numbers). A bare national number
//! without its `0` (`85156781124`) is a long digit run, which [`super::digits`] finds.

use std::sync::LazyLock;

use regex::Regex;

/// The fewest digits any phone form here has.
pub(super) const MIN_DIGITS: usize = 8;

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\+ ?\d(?:[ \-()]{0,2}\d){7,14}",
        r"|\(0\d{1,4}\)[ .\-]?\d(?:[ .\-]?\d){4,9}",
        r"|0\d(?:[ .\-]?\d){7,12}",
    ))
    .unwrap_or_else(|e| panic!("phone pattern: {e}"))
});

/// Whether `text` holds a phone number.
pub(super) fn find(text: &str) -> bool {
    // `+62.812.3456.7890`, `+62/812/3456/7890`: the international form in groups joined by
    // another character (see [`super::grouped`] for what keeps amounts and dates out).
    if super::grouped::each(text, usize::MAX, |g| {
        g.plus && !g.amount && (MIN_DIGITS..=15).contains(&g.digits.len())
    }) {
        return true;
    }
    let mut from = 0;
    while let Some(m) = PHONE.find_at(text, from) {
        if stands_alone(text, m.start(), m.end()) {
            return true;
        }
        // Retry one character later: a rejected match may hide one that stands alone.
        from = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '+');
    // `.5` / `,5` / `:5` after the number: a decimal amount or a time, not a phone number.
    let continues = text[end..]
        .strip_prefix(['.', ',', ':', '/'])
        .and_then(|r| r.chars().next())
        .is_some_and(|c| c.is_ascii_digit());
    // A digit one separator before: the middle of a longer number.
    let follows = text[..start]
        .strip_suffix(['.', ',', ':', '/', ' ', '-'])
        .and_then(|r| r.chars().next_back())
        .is_some_and(|c| c.is_ascii_digit());
    // Joined by a dash to a letter or digit: part of an identifier token (`INV-0812…`).
    let dashed_before = text[..start]
        .strip_suffix('-')
        .and_then(|r| r.chars().next_back())
        .is_some_and(char::is_alphanumeric);
    let dashed_after = text[end..]
        .strip_prefix('-')
        .and_then(|r| r.chars().next())
        .is_some_and(char::is_alphanumeric);
    !glued(before) && !glued(after) && !continues && !follows && !dashed_before && !dashed_after
}
