//! Long digit runs: a standalone run of at least `min` digits with spaces and at most one dash
//! allowed between them (`3173000000001234`, `3173 0000 0000 1234`, `0812-3456-7890`,
//! `0812 - 3456 - 7890`, `3173  0000  0000  1234`, `85156781124`): the shape of ID, account
//! and bare phone numbers. Also every numeral spelled with a fraction or an exponent whose
//! integer part is such a number (`6281234567890.0`, `6281234567890.00`, `6.28123456789E12`:
//! see [`super::numeral`]), and digits grouped by `.`, `/`, `_` or thousands marks
//! (`3173.0000.0000.1234`, `0812/3456/7890`, `6,281,234,567,890`: see [`super::grouped`]).
//!
//! Standalone: no letter, digit or `_` touches the run (`customer_67d8…` ids and hex digests
//! are not runs), no dash joins it to a letter or digit (`INV-2026-0042` is a reference), and no `.`/`,`/`:`/`/` joins it to more digits (decimal amounts such as
//! `1500000.00`, grouped amounts, times). Calendar dates (`2024-12-06`, `06-12-2024`) are
//! not runs: a date is personal only by its key (`dob`, `birth`), which the key words see.
//! Unix time in seconds or milliseconds in a string *is* a run: it cannot be told from a
//! national phone number such as `2025550123` or a 13-digit account number; a timestamp is
//! one only where a declaration says so (declared leaves never meet this detector).

/// Calls `f` with every standalone run of `text` (its span, separators included), its digit
/// count and `false`, then with the integer digits of every numeral of `text` spelled with a
/// fraction or an exponent that is judged ([`super::numeral`], `min_significant`), their
/// count and whether it is an amount spelling; stops when `f` returns true.
pub(super) fn each_run(
    text: &str,
    min_significant: usize,
    mut f: impl FnMut(&str, usize, bool) -> bool,
) -> bool {
    each_plain_run(text, &mut |run, n| f(run, n, false))
        || super::numeral::each_in_text(text, min_significant, |n| {
            f(&n.digits, n.digits.len(), n.amount)
        })
}

/// The most bytes between two digits of one run: spaces around at most one dash (` - `,
/// two spaces on each side at most).
const MAX_SEPARATOR: usize = 5;

/// The length of the separator at the start of `b` (spaces, at most one dash, at most
/// [`MAX_SEPARATOR`] bytes) when a digit follows it, else 0.
fn separator(b: &[u8]) -> usize {
    let mut dashes = 0;
    for (i, &c) in b.iter().enumerate().take(MAX_SEPARATOR + 1) {
        match c {
            b' ' => {}
            b'-' if dashes == 0 => dashes += 1,
            c if c.is_ascii_digit() && i > 0 => return i,
            _ => return 0,
        }
    }
    0
}

fn each_plain_run(text: &str, f: &mut impl FnMut(&str, usize) -> bool) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                i += 1;
                end = i;
            } else if let sep @ 1.. = separator(&b[i..]) {
                i += sep;
            } else {
                break;
            }
        }
        // A group glued to a word at either end belongs to that word (`A1 3173 0000 0000
        // 1234`, `… 1234 5a`): the groups between are the run.
        let (mut s, mut e) = (start, end);
        while s < e && !free_before(b, s) {
            s = next_group(b, s, e);
        }
        while s < e && !free_after(b, e) {
            e = previous_group_end(b, s, e);
        }
        let run = &b[s..e];
        if s < e && !is_date(run) {
            let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
            // Every byte in s..e is an ASCII digit, space or dash: a char boundary.
            if f(&text[s..e], digits) {
                return true;
            }
        }
        i = end.max(start + 1);
    }
    false
}

/// The start of the group after the one at `s` (or `e`, the run's end).
fn next_group(b: &[u8], mut s: usize, e: usize) -> usize {
    while s < e && b[s].is_ascii_digit() {
        s += 1;
    }
    while s < e && !b[s].is_ascii_digit() {
        s += 1;
    }
    s
}

/// The end of the group before the one that ends at `e` (or `s`, the run's start).
fn previous_group_end(b: &[u8], s: usize, mut e: usize) -> usize {
    while e > s && b[e - 1].is_ascii_digit() {
        e -= 1;
    }
    while e > s && !b[e - 1].is_ascii_digit() {
        e -= 1;
    }
    e
}

/// Whether `text` holds a standalone run of at least `min` digits, or a numeral or grouped
/// sequence denoting one ([`super::numeral`]'s rule: amount spellings need `number_min`).
pub(super) fn find(text: &str, min: usize, number_min: usize) -> bool {
    let long = |n: usize, amount: bool| n >= if amount { number_min } else { min };
    long_component(text)
        || each_run(text, min, |_, n, amount| long(n, amount))
        || super::grouped::each(text, min, |g| {
            (g.amount || g.is_run()) && long(g.digits.len(), g.amount)
        })
}

/// No letter, digit, `_` or non-ASCII byte right before `start`, no dash joining it to a
/// letter or digit, and no `.`/`,`/`:`/`/` joining it to more digits.
fn free_before(b: &[u8], start: usize) -> bool {
    let at = |back: usize| start.checked_sub(back).and_then(|i| b.get(i));
    !(glued(at(1))
        || dashed(at(1), at(2))
        || (joins(at(1)) && at(2).is_some_and(u8::is_ascii_digit)))
}

/// The same after `end`.
fn free_after(b: &[u8], end: usize) -> bool {
    let (after, after2) = (b.get(end), b.get(end + 1));
    !(glued(after)
        || dashed(after, after2)
        || (joins(after) && after2.is_some_and(u8::is_ascii_digit)))
}

fn glued(c: Option<&u8>) -> bool {
    c.is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
}

fn joins(c: Option<&u8>) -> bool {
    c.is_some_and(|&c| matches!(c, b'.' | b',' | b':' | b'/'))
}

/// `INV-2026-0042`, `2026-0042-A`: a run joined by a dash to letters or digits is part of an
/// identifier token (a reference), not a number of its own.
fn dashed(sep: Option<&u8>, next: Option<&u8>) -> bool {
    sep == Some(&b'-') && next.is_some_and(|&c| c.is_ascii_alphanumeric())
}

/// Unix time in milliseconds between 2015 and 2040 (13 digits, no separators): what a
/// declared timestamp may hold (see [`super::Detectors::scan_number_at`]); undeclared, such a
/// value is judged as any other 13-digit number (an account number may fall in the range).
pub(super) fn is_epoch_millis(run: &[u8]) -> bool {
    const FROM: u64 = 1_420_070_400_000; // 2015-01-01
    const TO: u64 = 2_208_988_800_000; // 2040-01-01
    run.len() == 13
        && run.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(run)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|v| (FROM..TO).contains(&v))
}

/// `YYYY-MM-DD` or `DD-MM-YYYY`, possibly followed by more (a time after a space).
fn is_date(run: &[u8]) -> bool {
    let groups: Vec<usize> = run
        .split(|&c| c == b'-' || c == b' ')
        .map(<[u8]>::len)
        .filter(|&n| n > 0)
        .take(3)
        .collect();
    let dashed = run.iter().filter(|&&c| c == b'-').count() >= 2;
    dashed && (groups == [4, 2, 2] || groups == [2, 2, 4])
}

/// Whether the text ending right before `dash` is a dotted version (`1.2.3`, `v10.0`): a run
/// dashed onto it is a pre-release part (semver `1.2.3-081234567890`), not a reference's.
fn version_before(b: &[u8], dash: usize) -> bool {
    let from = b[..dash]
        .iter()
        .rposition(|c| !(c.is_ascii_digit() || *c == b'.'))
        .map_or(0, |i| i + 1);
    let token = &b[from..dash];
    let lead = from.checked_sub(1).map(|i| b[i]);
    token.first().is_some_and(u8::is_ascii_digit)
        && token.last().is_some_and(u8::is_ascii_digit)
        && token.contains(&b'.')
        && lead.is_none_or(|c| matches!(c, b'v' | b'V') || !c.is_ascii_alphanumeric())
}

/// Whether the text ending right before `dash` is an ISO week date's year and week
/// (`2024-W49`): the run after it is its day (one digit), never more.
fn week_before(b: &[u8], dash: usize) -> bool {
    dash >= 8
        && b[dash - 8..dash - 4].iter().all(u8::is_ascii_digit)
        && b[dash - 4] == b'-'
        && matches!(b[dash - 3], b'W' | b'w')
        && b[dash - 2..dash].iter().all(u8::is_ascii_digit)
}

/// Whether the run `start..end` is a number of an ISO 8601 duration (`P…T081234567890S`): a
/// designator letter after it, and the token it stands in starts with `P`.
fn duration_number(b: &[u8], start: usize, end: usize) -> bool {
    let unit = b.get(end).is_some_and(|c| b"YMWDHSymwdhs".contains(c));
    let from = b[..start]
        .iter()
        .rposition(|c| !c.is_ascii_alphanumeric() && *c != b'.' && *c != b',')
        .map_or(0, |i| i + 1);
    unit && matches!(b.get(from), Some(b'P' | b'p'))
        && b[from..start]
            .iter()
            .all(|c| c.is_ascii_digit() || b"PTYMWDHSptymwdhs.,".contains(c))
}

/// The most digits a component of an exempt shape holds: a time's fraction (nanoseconds: 9),
/// a version's part, an IPv4 octet (3), a date's field (4). A longer run is no such
/// component.
pub(super) const MAX_COMPONENT_DIGITS: usize = 9;

/// Whether `text` holds a run of more than [`MAX_COMPONENT_DIGITS`] ASCII digits that is a
/// component of a shape the standalone rule exempts — joined by `.`, `,`, `:` or `/` to
/// more digits: a time's fraction (`03:53:52.081277665544`, `…52.3173000000004321Z`,
/// `…52,6281355667788`), a version's part (`v3.3173000000002468`, `10.0.3173000000003579`),
/// an address's "octet" (`192.168.081266554433`), a date's "year" (`17/05/081299001122`).
/// Times, versions, IPv4 addresses and dates are exempt only within their real bounds; a
/// longer component is a digit run, as it would be alone. Not the integer part of an amount
/// (`1234567890.12`, `1733456032.779`: the numeral rule judges those), and not a run glued to
/// a letter or `_` (hex ids, references), but for the `Z` that closes a time's fraction.
fn long_component(text: &str) -> bool {
    let b = text.as_bytes();
    let joins = |c: Option<&u8>| c.is_some_and(|&c| matches!(c, b'.' | b',' | b':' | b'/'));
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    let word =
        |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let end = i;
        if end - start <= MAX_COMPONENT_DIGITS {
            continue;
        }
        let at = |j: Option<usize>| j.and_then(|j| b.get(j));
        let (before, before2) = (at(start.checked_sub(1)), at(start.checked_sub(2)));
        let (after, after2) = (b.get(end), b.get(end + 1));
        let joined_before = (joins(before) && digit(before2))
            || (before == Some(&b'-')
                && (version_before(b, start - 1) || week_before(b, start - 1)));
        let joined_after = joins(after) && digit(after2);
        // An ISO 8601 duration's number (`PT081234567890S`): glued to its designators.
        if duration_number(b, start, end) {
            return true;
        }
        if !(joined_before || joined_after) {
            // Standalone or glued: the plain-run rule's own case.
            continue;
        }
        // A fraction may close with the `Z` of a time; any other letter glues it to a word.
        let closes_time = joined_before && matches!(after, Some(b'Z' | b'z')) && !word(after2);
        if word(before) || (word(after) && !closes_time) {
            continue;
        }
        // `1234567890.12`: an amount's integer part and its fraction (nothing joined before,
        // one fraction after, nothing joined after that).
        if !joined_before && matches!(after, Some(b'.' | b',')) && digit(after2) {
            let mut k = end + 1;
            while b.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            if !(joins(b.get(k)) && digit(b.get(k + 1))) {
                continue;
            }
        }
        return true;
    }
    false
}
