//! Formatted numbers: a date, a time or a date and time, and an amount with its minor units,
//! each in the closed grammar upstreams and banks write it. In an object such a member is a
//! complete value of its own and breaks the joined text (see `pieces`): a value spelled across
//! members is spelled in fragments (`"0812"`, `"3456"`), never in whole dates and amounts, and
//! gluing a date's last digits to the next member's first (`06/12/2026` + `150000.00` read
//! as `06/12/2026150000.00`, a date with a ten-digit year) made a digit run of two values that
//! each hold none. Each grammar bounds its fields (a month is at most 12, a year is
//! 1900–2099, an amount has exactly two decimals), so a personal number does not fit one.

/// Whether `v` is a date (`2026-12-06`, `2026/12/06`, `06/12/2026`, `06.12.2026`,
/// `12-06-2026`), optionally with a time after `T` or a space, a time alone (`10:00`,
/// `23:59:59.123`, with `Z` or an offset), or an amount (`150000.00`, `1,500,000.00`,
/// `1.500.000,00`, `-25.50`).
pub(super) fn formatted_number(v: &str) -> bool {
    if let Some((date, time)) = v.split_once(['T', ' ']) {
        return self::date(date) && self::time(time);
    }
    date(v) || time(v) || amount(v)
}

/// A field of `len` digits (`1..=len` when `loose`) whose value is in `range`.
fn field(f: &str, len: usize, loose: bool, range: std::ops::RangeInclusive<u32>) -> bool {
    let fits = if loose {
        (1..=len).contains(&f.len())
    } else {
        f.len() == len
    };
    fits && f.bytes().all(|b| b.is_ascii_digit()) && f.parse().is_ok_and(|n| range.contains(&n))
}

/// Year, month and day joined by one of `-`, `/`, `.`: year first, or last after a day and
/// a month in either order.
fn date(v: &str) -> bool {
    let Some(sep) = v.chars().find(|c| matches!(c, '-' | '/' | '.')) else {
        return false;
    };
    let parts: Vec<&str> = v.split(sep).collect();
    let [a, b, c] = parts[..] else {
        return false;
    };
    let year = |f: &str| field(f, 4, false, 1900..=2099);
    let month = |f: &str| field(f, 2, true, 1..=12);
    let day = |f: &str| field(f, 2, true, 1..=31);
    (year(a) && month(b) && day(c)) || (year(c) && ((day(a) && month(b)) || (month(a) && day(b))))
}

/// `HH:MM`, `HH:MM:SS`, a fraction of one to nine digits, then `Z` or an offset (`+07:00`,
/// `+0700`).
fn time(v: &str) -> bool {
    let (clock, zone) = match v.find(['Z', '+', '-']) {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let zone_fits = match zone.as_bytes() {
        [] | [b'Z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let rest = std::str::from_utf8(rest).unwrap_or_default();
            match rest.split_once(':') {
                Some((h, m)) => field(h, 2, false, 0..=14) && field(m, 2, false, 0..=59),
                None => {
                    rest.len() == 4
                        && field(&rest[..2], 2, false, 0..=14)
                        && field(&rest[2..], 2, false, 0..=59)
                }
            }
        }
        _ => false,
    };
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let parts: Vec<&str> = clock.split(':').collect();
    let hm = |h: &str, m: &str| field(h, 2, false, 0..=23) && field(m, 2, false, 0..=59);
    let clock_fits = match parts[..] {
        [h, m] => hm(h, m) && fraction == "0",
        [h, m, s] => hm(h, m) && field(s, 2, false, 0..=60),
        _ => false,
    };
    zone_fits
        && clock_fits
        && (1..=9).contains(&fraction.len())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// An optional `-`, an integer part (`0`, or no leading zero, plainly or grouped in thousands
/// by `,` or `.`), then the other of `.` and `,` and exactly two digits: a currency's minor
/// units.
fn amount(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    let Some(i) = v.len().checked_sub(3) else {
        return false;
    };
    let (int, dec) = v.split_at(i);
    let Some(mark) = dec.chars().next().filter(|c| matches!(c, '.' | ',')) else {
        return false;
    };
    if !dec[1..].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let plain = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if plain(int) {
        return int == "0" || !int.starts_with('0');
    }
    let group = if mark == '.' { ',' } else { '.' };
    let mut groups = int.split(group);
    let head = groups.next().unwrap_or_default();
    plain(head)
        && head.len() <= 3
        && !head.starts_with('0')
        && groups.all(|g| g.len() == 3 && plain(g))
        && int.contains(group)
}

#[cfg(test)]
mod tests {
    use super::formatted_number;

    #[test]
    fn dates_times_and_amounts_are_formatted_numbers() {
        for v in [
            "2026-12-06",
            "06/12/2026",
            "06.12.2026",
            "12/31/2026",
            "6/1/2026",
            "2026-12-07T04:00:00.000Z",
            "2026-12-07 04:00:00",
            "2026-12-07T04:00:00+07:00",
            "10:00",
            "23:59:59.123456789",
            "150000.00",
            "2500000.00",
            "1,500,000.00",
            "1.500.000,00",
            "0.50",
            "-25.50",
        ] {
            assert!(formatted_number(v), "{v}");
        }
    }

    /// Fragments of a personal number, with a separator inside or not, fit no grammar.
    #[test]
    fn fragments_of_numbers_are_not_formatted_numbers() {
        for v in [
            "0812",
            "3456",
            "0812-3456",
            "0812.3456",
            "0812.34",
            "812.345",
            "4111-1111",
            "0812/34/5678",
            "31/13/2026",
            "12/06/0812",
            "2026-12-0612",
            "25:00",
            "10:00:00.1234567890",
            "1,50,000.00",
            "150000.000",
            "12-34-56",
            "",
            ".00",
        ] {
            assert!(!formatted_number(v), "{v}");
        }
    }
}
