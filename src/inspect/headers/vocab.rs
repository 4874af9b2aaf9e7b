//! What each header the gateway writes may hold, rebuilt from the gateway's
//! own vocabulary: numbers within a stated bound, HTTP-dates the gateway
//! formats itself from the parsed time, and tokens from closed lists. No
//! function here returns a byte of upstream text: each returns a value it
//! wrote, or nothing.

use http::header::{HeaderName, HeaderValue};

/// Longest upstream line read at all: a longer one is refused whole.
pub const MAX_LINE: usize = 256;

/// The largest count any numeric header may carry: six digits. A phone,
/// national ID or account number has seven or more, so none fits in one.
pub const COUNT_MAX: u64 = 999_999;

/// The longest freshness or staleness lifetime passed to clients: a week
/// (six digits). A longer one is shortened to it, which is only stricter.
pub const LIFETIME_MAX: u64 = 604_800;

/// Upstream's numbers keep at most this many significant digits. A bound on digits is
/// not a bound on information: six digits hold a birth date as DDMMYY, a postcode or a
/// piece of an ID number. Two keep a duration a duration (90 s, 5 min, 1 h 40 min, a
/// day as 86,000 s) and no run of upstream-chosen digits.
pub const SIGNIFICANT: u32 = 2;

/// `n` with at most [`SIGNIFICANT`] significant digits, rounded down, or up when `up`
/// (each caller rounds towards the stricter answer).
pub fn coarse(n: u64, up: bool) -> u64 {
    let grid = grid(n);
    let down = n / grid * grid;
    if up && down != n {
        down.saturating_add(grid)
    } else {
        down
    }
}

/// The step that keeps `n` to [`SIGNIFICANT`] digits: 1 for a number that has no more.
fn grid(n: u64) -> u64 {
    let digits = n.checked_ilog10().map_or(1, |l| l + 1);
    10u64.pow(digits.saturating_sub(SIGNIFICANT))
}

/// A readable line: visible ASCII, at most [`MAX_LINE`] bytes, trimmed.
pub fn text(v: &HeaderValue) -> Option<&str> {
    v.to_str()
        .ok()
        .filter(|t| t.len() <= MAX_LINE)
        .map(str::trim)
}

/// A non-negative integer of at most `max_digits` digits, as written.
fn digits(v: &str, max_digits: usize) -> Option<u64> {
    (!v.is_empty() && v.len() <= max_digits && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse().ok())
        .flatten()
}

/// A wait in seconds as the gateway writes it: [`coarse`], rounded up (a client waits
/// at least as long as asked), within [`COUNT_MAX`].
fn wait(secs: u64) -> HeaderValue {
    HeaderValue::from(coarse(secs, true).min(coarse(COUNT_MAX, false)))
}

/// How far back a passthrough `Last-Modified` may lie: a year. A date is a
/// number of seconds, so an unbounded one could carry a phone or ID number
/// (year 2227 is Unix time 8123456789); within a year of now its leading
/// digits are the clock's, not upstream's.
pub const LAST_MODIFIED_MAX_AGE: u64 = 365 * 24 * 3600;

fn parse_date(v: &str) -> Option<std::time::SystemTime> {
    httpdate::parse_http_date(v).ok()
}

fn fmt_date(t: std::time::SystemTime) -> Option<HeaderValue> {
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok()
}

/// `Last-Modified` (passthrough only): an HTTP-date within
/// [`LAST_MODIFIED_MAX_AGE`] before now, re-formatted by the gateway (a future
/// or older one is refused), and moved back to a grid that keeps its age to
/// [`SIGNIFICANT`] digits (a date a week old is written to the 10,000 s): the
/// digits below are upstream's. Earlier is only stricter (a client's
/// `If-Modified-Since` then finds the resource modified), and the grid is absolute,
/// so the value is stable from one request to the next.
pub fn last_modified(v: &str, now: std::time::SystemTime) -> Option<HeaderValue> {
    let t = parse_date(v)?;
    let age = now.duration_since(t).ok()?.as_secs();
    if age > LAST_MODIFIED_MAX_AGE {
        return None;
    }
    let grid = grid(age);
    let at = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    fmt_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at / grid * grid))
}

/// `Retry-After`: a count of seconds, or an HTTP-date the gateway turns into
/// the seconds from now (a date in the past is `0`); either at most
/// [`COUNT_MAX`], and written as a [`wait`].
pub fn retry_after(v: &str, now: std::time::SystemTime) -> Option<HeaderValue> {
    let secs = digits(v, 6).or_else(|| {
        let t = parse_date(v)?;
        let secs = t.duration_since(now).map_or(0, |d| d.as_secs());
        (secs <= COUNT_MAX).then_some(secs)
    })?;
    Some(wait(secs))
}

/// `Expires`: an HTTP-date no later than [`LIFETIME_MAX`] from now (a later
/// one is brought forward to that bound: only stricter), its distance from now
/// [`coarse`] (rounded down: earlier), re-formatted by the gateway; a past date
/// or anything else (`0`, `-1`, garbage) means "already expired" (RFC 9111
/// §5.3), written as `0`.
pub fn expires(v: Option<&str>, now: std::time::SystemTime) -> HeaderValue {
    v.and_then(parse_date)
        .and_then(|t| t.duration_since(now).ok())
        .map(|d| coarse(d.as_secs().min(LIFETIME_MAX), false))
        .filter(|secs| *secs > 0)
        .and_then(|secs| fmt_date(now + std::time::Duration::from_secs(secs)))
        .unwrap_or(HeaderValue::from_static("0"))
}

/// Whether `v` is an HTTP-date at all (for counting refusals).
pub fn is_http_date(v: &str) -> bool {
    parse_date(v).is_some()
}

/// `Vary`: `*`, or request-header names from `upstream.vary_request_headers`
/// (written as configured). `Accept-Encoding` is dropped: the gateway always
/// asks upstream for `identity` and answers unencoded. Any other member —
/// a name the gateway was not told about, or an unreadable line — becomes
/// `*`: the strictest reading, so nothing is cached that varied.
pub fn vary(lines: &[Option<&str>], allowed: &[HeaderName]) -> Option<HeaderValue> {
    let mut names: Vec<&HeaderName> = Vec::new();
    for line in lines {
        let Some(line) = line else {
            return Some(HeaderValue::from_static("*"));
        };
        for member in line.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            if member.eq_ignore_ascii_case("accept-encoding") {
                continue;
            }
            match allowed
                .iter()
                .find(|a| a.as_str().eq_ignore_ascii_case(member))
            {
                Some(a) if !names.contains(&a) => names.push(a),
                Some(_) => {}
                None => return Some(HeaderValue::from_static("*")),
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let joined: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    HeaderValue::from_str(&joined.join(", ")).ok()
}

/// Bare response directives (RFC 9111, 8246) the gateway writes.
const BARE: &[&str] = &[
    "no-store",
    "no-cache",
    "private",
    "public",
    "must-revalidate",
    "proxy-revalidate",
    "no-transform",
    "must-understand",
    "immutable",
];
/// Directives whose argument would restrict caching to some fields only:
/// written bare, which restricts the whole answer (stricter, and no field
/// names — upstream's text — pass).
const NARROWABLE: &[&str] = &["no-cache", "private"];
/// Bare directives that only ever restrict: kept bare even when upstream
/// gave them a malformed argument.
const RESTRICTIVE: &[&str] = &[
    "no-store",
    "must-revalidate",
    "proxy-revalidate",
    "no-transform",
];
/// Lifetimes: malformed reads as 0 (stale, RFC 9111 §5.2.2.1).
const LIFETIMES: &[&str] = &["max-age", "s-maxage"];
/// Extensions of staleness: malformed is dropped (no extension).
const STALENESS: &[&str] = &["stale-while-revalidate", "stale-if-error"];

/// `Cache-Control`, rebuilt as one line of known directives: bare tokens
/// from [`BARE`] and lifetimes of at most [`LIFETIME_MAX`] seconds, [`coarse`]. A line
/// that cannot be read may have said `no-store`: it reads as `no-store`.
/// Never looser than what upstream wrote. Returns the line, whether
/// anything upstream wrote was dropped or made stricter, and the directives
/// the line holds as the cache reads them (noted here, so that storability
/// never parses the header again).
pub fn cache_control(
    lines: &[Option<&str>],
) -> (Option<HeaderValue>, bool, crate::cache::UpstreamDirectives) {
    let mut out: Vec<String> = Vec::new();
    let mut changed = false;
    let mut directives = crate::cache::UpstreamDirectives::default();
    let mut push = |d: String, out: &mut Vec<String>| {
        if !out.contains(&d) {
            directives.note(d.split_once('=').map_or(d.as_str(), |(name, _)| name));
            out.push(d);
        }
    };
    for line in lines {
        let Some(line) = line else {
            changed = true;
            push("no-store".to_owned(), &mut out);
            continue;
        };
        for (name, arg) in crate::cache::directives::directives(line) {
            let name = name.to_ascii_lowercase();
            let n = name.as_str();
            if LIFETIMES.contains(&n) || STALENESS.contains(&n) {
                // Any run of digits is a lifetime; one too long for a u64 is
                // longer than the bound anyway.
                let secs = arg
                    .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
                    .map(|a| a.parse::<u64>().unwrap_or(u64::MAX));
                match secs {
                    Some(s) => {
                        // Rounded down: a shorter lifetime is only stricter.
                        let kept = coarse(s.min(LIFETIME_MAX), false);
                        changed |= kept != s;
                        push(format!("{n}={kept}"), &mut out);
                    }
                    None if LIFETIMES.contains(&n) => {
                        changed = true;
                        push(format!("{n}=0"), &mut out);
                    }
                    None => changed = true,
                }
            } else if BARE.contains(&n) {
                match arg {
                    None => push(name, &mut out),
                    Some(_) if NARROWABLE.contains(&n) || RESTRICTIVE.contains(&n) => {
                        changed = true;
                        push(name, &mut out);
                    }
                    // `public=x`, `immutable=x`: a loosening directive that is
                    // malformed is not honoured.
                    Some(_) => changed = true,
                }
            } else {
                changed = true;
            }
        }
    }
    let value = (!out.is_empty())
        .then(|| HeaderValue::from_str(&out.join(", ")).ok())
        .flatten();
    (value, changed, directives)
}
