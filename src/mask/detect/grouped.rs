//! Digit groups joined by a punctuation character: the one place that reads a digit sequence
//! grouped by `.`, `,`, `'`, `/` or `_` and strips the separators ([`digits_of`]), for every
//! detector that judges digits (`digit_run`, `card`, `phone`). Two readings:
//!
//! - **Identifier grouping**: an ID, account, card or phone number written
//!   `3173.0000.0000.1234`, `0812/3456/7890`, `851_5678_1124`, `+62.812.3456.7890`,
//!   `0812|3456|7890`: at least three groups joined by one of [`IDENTIFIER_SEPARATORS`] used
//!   throughout, every group of two to six
//!   digits, not a date (`2026/12/06`, `6.12.2024`), an IPv4 address or thousands grouping,
//!   and not joined to a word by `_` or by a separator (`PO/2026/12/000123`,
//!   `report_2024_12_06_0001` are references). Dashes and spaces are read by
//!   [`super::digits`] and [`super::phone`].
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
    sep: u8,
}

impl Grouped {
    /// Whether the sequence is the identifier grouping of a digit run.
    pub(super) fn is_run(&self) -> bool {
        let s = &self.sizes;
        let date = s.len() == 3
            && ((s[0] == 4 && s[1] <= 2 && s[2] <= 2) || (s[0] <= 2 && s[1] <= 2 && s[2] == 4));
        let ipv4 = s.len() == 4 && s.iter().all(|&n| n <= 3);
        !self.amount
            && IDENTIFIER_SEPARATORS.contains(&self.sep)
            && s.len() >= 3
            && s.iter().all(|&n| (2..=6).contains(&n))
            && !date
            && !ipv4
            && !self.joined
    }

    /// Unix time in milliseconds (see [`super::digits::is_epoch_millis`]).
    pub(super) fn epoch(&self) -> bool {
        super::digits::is_epoch_millis(self.digits.as_bytes())
    }
}

/// The separators of an identifier grouping: the punctuation people and formatters put
/// between digit groups (`.`, `/`, `_`), and the rest a reader skips as readily (`:`, `|`,
/// `~`, `*`; `'` when the groups are no thousands: `0812'3456'7890`). Not `-` and spaces
/// ([`super::digits`] reads those), not `,` (lists of amounts), not `+` (sums).
const IDENTIFIER_SEPARATORS: [u8; 8] = [b'.', b'/', b'_', b':', b'|', b'~', b'*', b'\''];
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

/// Calls `f` with every identifier-shaped sequence of `text`, and every amount grouping whose
/// integer part carries `min_significant` significant digits; stops when `f` returns true.
pub(super) fn each(
    text: &str,
    min_significant: usize,
    mut f: impl FnMut(&Grouped) -> bool,
) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && glued(b[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        let mut groups: Vec<&[u8]> = Vec::new();
        let mut sep: Option<u8> = None;
        let mut g = i;
        loop {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(&b[g..i]);
            let next = b.get(i).copied();
            let more = next.is_some_and(|c| {
                IDENTIFIER_SEPARATORS.contains(&c) || THOUSANDS_SEPARATORS.contains(&c)
            }) && sep.is_none_or(|s| Some(s) == next)
                && b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !more {
                break;
            }
            sep = next;
            i += 1;
            g = i;
        }
        let Some(sep) = sep else {
            i = i.max(start + 1);
            continue;
        };
        let sizes: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        let amount = THOUSANDS_SEPARATORS.contains(&sep) && thousands(&sizes, b[start]);
        // An amount's fraction, after the other decimal mark: `1,500,000.00`, `1.500.000,00`.
        if amount {
            let mark = b.get(i).copied();
            if mark.is_some_and(|m| matches!(m, b'.' | b',') && m != sep)
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        let standalone = b.get(i).is_none_or(|&c| !glued(c));
        // `_` or a separator (of any kind) between the sequence and a word or more digits.
        let joins = |sep: Option<&u8>, next: Option<&u8>| {
            sep == Some(&b'_')
                || (sep.is_some_and(|&c| matches!(c, b'.' | b'/' | b'-' | b':' | b','))
                    && next.is_some_and(u8::is_ascii_alphanumeric))
        };
        let joined = joins(
            start.checked_sub(1).and_then(|j| b.get(j)),
            start.checked_sub(2).and_then(|j| b.get(j)),
        ) || joins(b.get(i), b.get(i + 1));
        let found = if amount {
            let int: String = groups.iter().map(|g| digits_of_bytes(g)).collect();
            let int = int.trim_start_matches('0');
            (standalone && !joined && identifier_like(int, min_significant)).then(|| Grouped {
                digits: int.to_owned(),
                groups: groups.len(),
                plus: false,
                amount: true,
                sizes,
                joined,
                sep,
            })
        } else {
            (standalone && groups.len() >= 3 && sizes.iter().all(|&n| n <= 6)).then(|| Grouped {
                digits: digits_of(&text[start..i]),
                groups: groups.len(),
                plus: start > 0 && b[start - 1] == b'+',
                amount: false,
                sizes,
                joined,
                sep,
            })
        };
        if found.is_some_and(|g| f(&g)) {
            return true;
        }
        i = i.max(start + 1);
    }
    false
}

/// The digits of one group (ASCII digits only, by construction).
fn digits_of_bytes(g: &[u8]) -> &str {
    std::str::from_utf8(g).unwrap_or("")
}

/// A byte that joins a digit to a word.
fn glued(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}
