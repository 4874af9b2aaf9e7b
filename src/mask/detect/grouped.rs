//! Digits grouped by a punctuation character people also use between the groups of a card
//! or phone number: `4111.1111.1111.1111`, `4111_1111_1111_1111`, `+62.812.3456.7890`,
//! `+62/812/3456/7890` (dashes and spaces are read by [`super::digits`] and
//! [`super::phone`]). Amounts and dates use the same characters, so a sequence counts only
//! when it has at least three groups (four for a card), one character used throughout, every group of at
//! most six digits, and it is not thousands grouping (every group after the first exactly
//! three digits: `1.234.567.890`).

/// One standalone sequence: its digits, its number of groups, and whether a `+` comes
/// right before it.
pub(super) struct Grouped {
    pub(super) digits: String,
    pub(super) groups: usize,
    pub(super) plus: bool,
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
        let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
        if standalone && groups.len() >= 3 && !thousands && groups.iter().all(|g| g.len() <= 6) {
            let found = Grouped {
                digits: groups
                    .iter()
                    .map(|g| std::str::from_utf8(g).unwrap_or(""))
                    .collect(),
                groups: groups.len(),
                plus: start > 0 && b[start - 1] == b'+',
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
