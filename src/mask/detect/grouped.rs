//! Digits grouped by a punctuation character people also use between the groups of a card
//! or phone number: `4111.1111.1111.1111`, `4111_1111_1111_1111`, `+62.812.3456.7890`,
//! `+62/812/3456/7890` (dashes and spaces are read by [`super::digits`] and
//! [`super::phone`]). Amounts and dates use the same characters, so a sequence counts only
//! when it has at least three groups (four for a card), one character used throughout, every group of at
//! most six digits, and it is not thousands grouping (every group after the first exactly
//! three digits: `1.234.567.890`).
//!
//! As a [`super::Detector::DigitRun`] (an ID, account or phone number written
//! `3173.0000.0000.1234`, `0812/3456/7890`, `851_5678_1124`) a sequence must also have every
//! group of at least two digits (`10.0.19045.3693` is a version), not be a date
//! (`2026/12/06`, `6.12.2024`) or an IPv4 address, and not be joined to a word by `_` or by
//! its own separator (`PO/2026/12/000123`, `report_2024_12_06_0001` are references).

/// One standalone sequence: its digits, its number of groups, and whether a `+` comes
/// right before it.
pub(super) struct Grouped {
    pub(super) digits: String,
    pub(super) groups: usize,
    pub(super) plus: bool,
    /// The number of digits of each group.
    sizes: Vec<usize>,
    /// Joined to a word before or after (see the module's doc).
    joined: bool,
}

impl Grouped {
    /// Whether the sequence is the grouped spelling of a digit run.
    pub(super) fn is_run(&self) -> bool {
        let s = &self.sizes;
        let date = s.len() == 3
            && ((s[0] == 4 && s[1] <= 2 && s[2] <= 2) || (s[0] <= 2 && s[1] <= 2 && s[2] == 4));
        let ipv4 = s.len() == 4 && s.iter().all(|&n| n <= 3);
        s.len() >= 3 && s.iter().all(|&n| n >= 2) && !date && !ipv4 && !self.joined
    }
}

/// Calls `f` with every such sequence of `text`; stops when `f` returns true.
pub(super) fn each(text: &str, mut f: impl FnMut(&Grouped) -> bool) -> bool {
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
            let more = next.is_some_and(|c| matches!(c, b'.' | b'/' | b'_'))
                && sep.is_none_or(|s| Some(s) == next)
                && b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !more {
                break;
            }
            sep = next;
            i += 1;
            g = i;
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
        let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
        if standalone && groups.len() >= 3 && !thousands && groups.iter().all(|g| g.len() <= 6) {
            let found = Grouped {
                digits: groups
                    .iter()
                    .map(|g| std::str::from_utf8(g).unwrap_or(""))
                    .collect(),
                groups: groups.len(),
                plus: start > 0 && b[start - 1] == b'+',
                sizes: groups.iter().map(|g| g.len()).collect(),
                joined,
            };
            if f(&found) {
                return true;
            }
        }
        i = i.max(start + 1);
    }
    false
}

/// A byte that joins a digit to a word or a longer number.
fn glued(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}
