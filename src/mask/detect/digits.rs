//! Long digit runs: a standalone run of at least `min` digits with single spaces or dashes
//! allowed between them (`3173000000001234`, `3173 0000 0000 1234`, `0812-3456-7890`,
//! `85156781124`): the shape of ID, account and bare phone numbers.
//!
//! Standalone: no letter, digit or `_` touches the run (`customer_67d8…` ids and hex digests
//! are not runs), no dash joins it to a letter or digit (`INV-2026-0042` is a reference), and no `.`/`,`/`:`/`/` joins it to more digits (decimal amounts such as
//! `1500000.00`, grouped amounts, times). Calendar dates (`2024-12-06`, `06-12-2024`) are
//! not runs: a date is personal only by its key (`dob`, `birth`), which the key words see.
//! Nor is Unix time in milliseconds from 2015 to 2040 (13 digits starting 14 to 22). Unix time
//! in seconds (10 digits) in a string *is* a run: it cannot be told from a national phone
//! number such as `2025550123`.

/// Calls `f` with the digits of every standalone run of `text` (as a slice of `text`,
/// separators included) and its digit count; stops when `f` returns true.
pub(super) fn each_run(text: &str, mut f: impl FnMut(&str, usize) -> bool) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        let mut end = i;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                digits += 1;
                i += 1;
                end = i;
            } else if matches!(b[i], b' ' | b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
            } else {
                break;
            }
        }
        if standalone(b, start, end) && !is_date(&b[start..end]) && !is_epoch_millis(&b[start..end])
        {
            // Every byte in start..end is an ASCII digit, space or dash: a char boundary.
            if f(&text[start..end], digits) {
                return true;
            }
        }
        i = end.max(start + 1);
    }
    false
}

/// Whether `text` holds a standalone run of at least `min` digits.
pub(super) fn find(text: &str, min: usize) -> bool {
    each_run(text, |_, n| n >= min)
}

fn standalone(b: &[u8], start: usize, end: usize) -> bool {
    let glued =
        |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
    let joins = |c: Option<&u8>| c.is_some_and(|&c| matches!(c, b'.' | b',' | b':' | b'/'));
    let before = start.checked_sub(1).and_then(|i| b.get(i));
    let before2 = start.checked_sub(2).and_then(|i| b.get(i));
    let after = b.get(end);
    let after2 = b.get(end + 1);
    // `INV-2026-0042`, `2026-0042-A`: a run joined by a dash to letters or digits is part of
    // an identifier token (a reference), not a number of its own.
    let dashed = |sep: Option<&u8>, next: Option<&u8>| {
        sep == Some(&b'-') && next.is_some_and(|&c| c.is_ascii_alphanumeric())
    };
    let touches = glued(before)
        || glued(after)
        || dashed(before, before2)
        || dashed(after, after2)
        || (joins(after) && after2.is_some_and(u8::is_ascii_digit))
        || (joins(before) && before2.is_some_and(u8::is_ascii_digit));
    !touches
}

/// Unix time in milliseconds between 2015 and 2040 (13 digits, no separators): a timestamp.
/// No phone number of 13 digits starts with 14 to 22 (the country codes there are shorter).
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
        .take(3)
        .collect();
    let dashed = run.iter().filter(|&&c| c == b'-').count() >= 2;
    dashed && (groups == [4, 2, 2] || groups == [2, 2, 4])
}
