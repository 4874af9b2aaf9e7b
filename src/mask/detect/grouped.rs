//! Digit groups joined by separators: the one place that reads a digit sequence grouped by
//! anything that is neither a letter nor a digit and strips the separators ([`digits_of`]),
//! for every detector that judges digits (`digit_run`, `card`, `phone`). The text comes in
//! the detectors' one digit reading ([`super::ascii_digits`]: every character with a Unicode
//! digit value is its ASCII digit, marks and variation selectors dropped), so a separator is
//! whatever is left between two digit groups: **any run of one to [`MAX_SEPARATOR`]
//! characters that are neither letters nor digits**, the same run throughout a sequence
//! (there is no list of separators). Two readings:
//!
//! - **Identifier grouping**: an ID, account, card or phone number written
//!   `3173.0000.0000.1234`, `0812/3456/7890`, `851_5678_1124`, `+62.812.3456.7890`,
//!   `0812|3456|7890`, `0812+3456+7890`, `(0)(8)(1)(2)…`, `0.8.1.2.…`: at least three
//!   groups of one to six digits (six groups when one has a single digit: a number spelled
//!   digit by digit, not a version such as `10.0.19045.3693`), not a date (`2026/12/06`, `6.12.2024`), an IPv4 address,
//!   thousands grouping or a list (a separator holding `,` or `;`: `10, 20, 30`), and not
//!   joined to a word by `_` or by a separator (`PO/2026/12/000123`,
//!   `report_2024_12_06_0001` are references).
//! - **Amount grouping**: thousands (`6,281,234,567,890`, `1.500.000`, `1'500'000`) or lakh
//!   (`12,50,00,000`) grouping by `,`, `.` or `'`, with an optional fraction after the other
//!   decimal mark (`1,500,000.00`, `1.500.000,00`): read as the numeral it spells, its integer
//!   part judged by [`super::numeral`]'s rule (at least `min_significant` significant digits;
//!   the number threshold, as for a JSON number).

use super::numeral::identifier_like;

/// One standalone sequence.
pub(super) struct Grouped {
    /// Its digits, separators stripped ([`digits_of`]); for amount grouping, those of the
    /// integer part, leading zeros dropped.
    pub(super) digits: String,
    pub(super) groups: usize,
    /// A `+` comes right before it.
    pub(super) plus: bool,
    /// Amount grouping (see the module's doc).
    pub(super) amount: bool,
    /// The number of digits of each group.
    sizes: Vec<usize>,
    /// Joined to a word before or after (see the module's doc).
    joined: bool,
    /// A separator holding `,` or `;`: a list of values, each judged alone.
    list: bool,
}

impl Grouped {
    /// Whether the sequence is the identifier grouping of a digit run.
    pub(super) fn is_run(&self) -> bool {
        let s = &self.sizes;
        let date = s.len() == 3
            && ((s[0] == 4 && s[1] <= 2 && s[2] <= 2) || (s[0] <= 2 && s[1] <= 2 && s[2] == 4));
        let ipv4 = s.len() == 4 && s.iter().all(|&n| n <= 3);
        // A one-digit group spells a number digit by digit (`0.8.1.2.…`, `(0)(8)(1)…`): that
        // takes as many groups as the shortest shape has digits, far more than the parts of a
        // version (`10.0.19045.3693`) or an address.
        let spelled = s.contains(&1);
        !self.amount
            && !self.list
            && s.len() >= if spelled { SPELLED_GROUPS } else { 3 }
            && s.iter().all(|&n| (1..=6).contains(&n))
            && !date
            && !ipv4
            && !self.joined
    }
}

/// The most characters between two digit groups of one sequence: enough for any separator
/// people write (`.`, ` - `, `)(`, a keycap's leftovers), few enough that two numbers in a
/// sentence stay two numbers.
pub(super) const MAX_SEPARATOR: usize = 3;
/// The fewest groups a sequence with one-digit groups needs (see [`Grouped::is_run`]): the
/// fewest digits of any shape a detector claims.
const SPELLED_GROUPS: usize = 6;

/// The separators of an amount grouping (thousands marks).
const THOUSANDS_SEPARATORS: [u8; 3] = [b',', b'.', b'\''];

/// The digits of `span`, every separator stripped: the one normalisation of a digit
/// sequence, whatever grouped it.
pub(super) fn digits_of(span: &str) -> String {
    span.chars().filter(char::is_ascii_digit).collect()
}

/// Whether the group sizes are thousands (`1,234,567`) or lakh (`12,34,567`) grouping.
fn thousands(sizes: &[usize], first_digit: u8) -> bool {
    let Some((&first, rest)) = sizes.split_first() else {
        return false;
    };
    let Some((&last, middle)) = rest.split_last() else {
        return false;
    };
    first_digit != b'0'
        && (1..=3).contains(&first)
        && last == 3
        && (middle.iter().all(|&n| n == 3) || (first <= 2 && middle.iter().all(|&n| n == 2)))
}

/// The separator starting at byte `i` of `text`: one to [`MAX_SEPARATOR`] characters that
/// are neither letters nor digits, followed by an ASCII digit; its end.
fn separator_at(text: &str, i: usize) -> Option<usize> {
    let mut end = i;
    for (n, c) in text[i..].chars().enumerate() {
        if c.is_ascii_digit() {
            return (n > 0).then_some(end);
        }
        if n == MAX_SEPARATOR || c.is_alphanumeric() {
            return None;
        }
        end += c.len_utf8();
    }
    None
}

/// Whether `sep` before a group of `next` digits opens a character escape the readings decode
/// (`%58`, `&#48;`, octal `\060`): those digits are a character's code, read in the decoded
/// text, not a group (`%58%52%76%61…` is percent-encoded text, not a number).
fn escape(sep: &str, next: usize) -> bool {
    (sep.ends_with('%') && next == 2) || sep.ends_with("&#") || (sep.ends_with('\\') && next == 3)
}

/// The end of the ASCII digits of `b` from `i`.
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Calls `f` with every identifier-shaped sequence of `text`, and every amount grouping whose
/// integer part carries `min_significant` significant digits; stops when `f` returns true.
pub(super) fn each(
    text: &str,
    min_significant: usize,
    mut f: impl FnMut(&Grouped) -> bool,
) -> bool {
    let b = text.as_bytes();
    let before = |i: usize| text[..i].chars().next_back();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || before(i).is_some_and(glued) {
            i += 1;
            continue;
        }
        let start = i;
        // Group boundaries: (start, end) of each group.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut sep: Option<&str> = None;
        // Where the next sequence starts: after this one, or at its last group when a
        // different separator ended it (`2026-12-06 0812.3456.7890`).
        let mut restart = None;
        loop {
            let g = i;
            i = digits_end(b, i);
            groups.push((g, i));
            let Some(sep_end) = separator_at(text, i) else {
                break;
            };
            let this = &text[i..sep_end];
            if escape(this, digits_end(b, sep_end) - sep_end) {
                break;
            }
            if sep.is_some_and(|s| s != this) {
                restart = Some(g);
                break;
            }
            sep = Some(this);
            i = sep_end;
        }
        let next = restart.unwrap_or(i).max(start + 1);
        let Some(sep) = sep else {
            i = next;
            continue;
        };
        let sizes: Vec<usize> = groups.iter().map(|(s, e)| e - s).collect();
        let sep1 = (sep.len() == 1).then(|| sep.as_bytes()[0]);
        let amount =
            sep1.is_some_and(|c| THOUSANDS_SEPARATORS.contains(&c)) && thousands(&sizes, b[start]);
        // An amount's fraction, after the other decimal mark: `1,500,000.00`, `1.500.000,00`.
        if amount {
            let mark = b.get(i).copied();
            if mark.is_some_and(|m| matches!(m, b'.' | b',') && Some(m) != sep1)
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i = digits_end(b, i + 1);
            }
        }
        let standalone = text[i..].chars().next().is_none_or(|c| !glued(c));
        // `_` or a separator (of any kind) between the sequence and a word or more digits.
        let joins = |sep: Option<char>, next: Option<char>| {
            sep == Some('_')
                || (sep.is_some_and(|c| matches!(c, '.' | '/' | '-' | ':' | ','))
                    && next.is_some_and(char::is_alphanumeric))
        };
        let mut back = text[..start].chars().rev();
        let mut ahead = text[i..].chars();
        let joined = joins(back.next(), back.next()) || joins(ahead.next(), ahead.next());
        let list = sep.contains([',', ';']);
        let found = if amount {
            let int: String = groups.iter().map(|&(s, e)| &text[s..e]).collect();
            let int = int.trim_start_matches('0');
            (standalone && !joined && identifier_like(int, min_significant)).then(|| Grouped {
                digits: int.to_owned(),
                groups: groups.len(),
                plus: false,
                amount: true,
                sizes,
                joined,
                list,
            })
        } else {
            // A list (`3482, 499, 5780`) is values, each judged alone: no sequence.
            (standalone && !list && groups.len() >= 3 && sizes.iter().all(|&n| n <= 6)).then(|| {
                Grouped {
                    digits: digits_of(&text[start..i]),
                    groups: groups.len(),
                    plus: before(start) == Some('+'),
                    amount: false,
                    sizes,
                    joined,
                    list,
                }
            })
        };
        if found.is_some_and(|g| f(&g)) {
            return true;
        }
        i = if amount { i.max(start + 1) } else { next };
    }
    false
}

/// A character that joins a digit to a word.
fn glued(c: char) -> bool {
    c.is_alphanumeric()
}
