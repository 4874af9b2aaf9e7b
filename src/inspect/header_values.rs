//! Response header values: an allowlisted header name is not enough.
//!
//! The allowlist says which upstream headers may reach the client, but a
//! header's value is as free as a body field: `Retry-After: alice@example.com`
//! or `ETag: "+33612345678"` would carry personal data past the masker, which
//! reads bodies only. So every value must also match its header's grammar —
//! dates are HTTP-dates, counts are digits, an entity tag is a short opaque
//! token — and a value that does not is refused and counted. A refusal never
//! loosens caching: a `Cache-Control` line keeps only its well-formed known
//! directives (so `no-store` and `private` survive), a `Vary` that cannot be
//! read becomes `*` (not stored), an `Expires` that cannot be read becomes
//! `0` (already stale), and anything else is dropped.
//!
//! `Content-Type` is not checked here: framing reads it, and the inspector
//! rewrites it to the bare media type of what it serves.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Longest value accepted for any header: a grammar match on a megabyte of
/// digits is still a channel.
const MAX_LEN: usize = 256;

/// What a header's values must look like, and what replaces a refused one.
#[derive(Clone, Copy)]
struct Grammar {
    check: fn(&str) -> bool,
    on_refusal: Refusal,
}

#[derive(Clone, Copy)]
enum Refusal {
    Drop,
    Replace(&'static str),
}

fn grammar(name: &HeaderName) -> Grammar {
    let drop = |check| Grammar {
        check,
        on_refusal: Refusal::Drop,
    };
    match name.as_str() {
        "date" | "last-modified" => drop(http_date),
        "expires" => Grammar {
            check: |v| http_date(v) || v == "0",
            on_refusal: Refusal::Replace("0"),
        },
        "retry-after" => drop(|v| count(v) || http_date(v)),
        "vary" => Grammar {
            check: vary,
            on_refusal: Refusal::Replace("*"),
        },
        "etag" => drop(entity_tag),
        "x-request-id" => drop(request_id),
        "content-range" => drop(content_range),
        "accept-ranges" => drop(|v| list(v, |t| t == "bytes" || t == "none")),
        "x-ratelimit-limit" | "x-ratelimit-remaining" => drop(count),
        "x-ratelimit-reset" => drop(|v| count(v) || recent_epoch(v)),
        n if n.starts_with("ratelimit") => drop(structured_counts),
        _ => drop(opaque),
    }
}

/// Checks every value of every header in `headers` (Cache-Control rewritten,
/// the others kept, replaced or dropped line by line). Returns the names of
/// the headers that had a value refused, one entry per refused line.
pub fn enforce(headers: &mut HeaderMap) -> Vec<HeaderName> {
    let mut refused = Vec::new();
    // The common answer has nothing to refuse: find that out without allocating.
    let needs_work = headers.iter().any(|(name, value)| {
        *name != header::CONTENT_TYPE && !matches!(check_line(name, value), Line::Keep)
    });
    if !needs_work {
        return refused;
    }
    let names: Vec<HeaderName> = headers.keys().cloned().collect();
    for name in names {
        if name == header::CONTENT_TYPE {
            continue;
        }
        let values: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
        let mut kept = Vec::with_capacity(values.len());
        let mut changed = false;
        for value in values {
            match check_line(&name, &value) {
                Line::Keep => kept.push(value),
                Line::Replace(v) => {
                    refused.push(name.clone());
                    changed = true;
                    if let Some(v) = v {
                        kept.push(v);
                    }
                }
            }
        }
        if changed {
            headers.remove(&name);
            for v in kept {
                headers.append(name.clone(), v);
            }
        }
    }
    refused
}

enum Line {
    Keep,
    /// The line was refused; what stands in for it, if anything.
    Replace(Option<HeaderValue>),
}

fn check_line(name: &HeaderName, value: &HeaderValue) -> Line {
    let text = value
        .to_str()
        .ok()
        .filter(|t| t.len() <= MAX_LEN)
        .map(str::trim);
    if *name == header::CACHE_CONTROL {
        // A line that cannot be read (not visible ASCII, or longer than MAX_LEN)
        // may have said no-store or private: the strictest answer stands in for
        // it, so neither the gateway's cache nor the client's stores what
        // upstream may have forbidden storing.
        let strictest = || Some(HeaderValue::from_static("no-store"));
        return match text.map(cache_control) {
            // The same directives, spacing and case aside: nothing was removed.
            Some(clean) if same_directives(&clean, text.unwrap_or_default()) => Line::Keep,
            Some(clean) if !clean.is_empty() => {
                Line::Replace(HeaderValue::from_str(&clean).ok().or_else(strictest))
            }
            Some(_) => Line::Replace(None),
            None => Line::Replace(strictest()),
        };
    }
    let g = grammar(name);
    if text.is_some_and(|t| (g.check)(t)) {
        return Line::Keep;
    }
    match g.on_refusal {
        Refusal::Drop => Line::Replace(None),
        Refusal::Replace(v) => Line::Replace(Some(HeaderValue::from_static(v))),
    }
}

fn is_token(t: &str) -> bool {
    !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Comma-separated, optional whitespace, at least one item, each passing `item`.
fn list(v: &str, item: impl Fn(&str) -> bool) -> bool {
    v.split(',').all(|t| item(t.trim()))
}

fn digits(v: &str, max: usize) -> bool {
    !v.is_empty() && v.len() <= max && v.bytes().all(|b| b.is_ascii_digit())
}

fn delta_seconds(v: &str) -> bool {
    digits(v, 10)
}

/// A count or a wait in seconds that a client can act on: at most six digits
/// (11 days). A longer run of digits is as likely a phone or account number.
fn count(v: &str) -> bool {
    digits(v, 6)
}

/// A Unix time within a day of now, as some APIs send a reset moment: a ten
/// digit number anywhere else is not a time.
fn recent_epoch(v: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    digits(v, 10) && v.parse::<u64>().is_ok_and(|t| t.abs_diff(now) <= 24 * 3600)
}

fn http_date(v: &str) -> bool {
    httpdate::parse_http_date(v).is_ok()
}

fn vary(v: &str) -> bool {
    v == "*" || list(v, |t| HeaderName::from_bytes(t.as_bytes()).is_ok())
}

/// `"opaque"` or `W/"opaque"`, where opaque is what servers actually put
/// there — hex, base64 and version counters — never `@` or spaces.
fn entity_tag(v: &str) -> bool {
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.len() <= 130
        && v.strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .is_some_and(|o| {
                o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=:".contains(&b))
            })
}

fn request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
}

/// `bytes a-b/n`, `bytes a-b/*` or `bytes */n`.
fn content_range(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("bytes ") else {
        return false;
    };
    let Some((range, total)) = rest.split_once('/') else {
        return false;
    };
    let total_ok = total == "*" || digits(total, 19);
    let range_ok = range == "*" && total != "*"
        || range
            .split_once('-')
            .is_some_and(|(a, b)| digits(a, 19) && digits(b, 19));
    total_ok && range_ok
}

/// The IETF RateLimit fields (`limit=100, remaining=50, reset=5`,
/// `"default";r=50;t=30`, `100;w=60`): items of numbers and short names with
/// `;key=value` parameters. Names are policy names, so at most 32 characters.
fn structured_counts(v: &str) -> bool {
    let short = |t: &str| {
        let t = t
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(t);
        t.len() <= 32
            && !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*".contains(&b))
    };
    list(v, |item| {
        item.split(';')
            .all(|part| match part.trim().split_once('=') {
                Some((k, val)) => short(k.trim()) && short(val.trim()),
                None => short(part.trim()),
            })
    })
}

/// Headers an operator added to the allowlist that the gateway has no
/// grammar for: a short value of token characters and separators, with no
/// `@` (the one character every email carries).
fn opaque(v: &str) -> bool {
    v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" -._~+/=:,;*\"()".contains(&b))
}

fn same_directives(clean: &str, original: &str) -> bool {
    let squeeze = |s: &str| {
        s.bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|b| b.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    squeeze(clean) == squeeze(original)
}

/// Known response directives (RFC 9111 and 8246, 5861) with well-formed
/// arguments, rejoined. A malformed argument is never read as looser than
/// what upstream wrote: a field-name list (`private="x"`) that is not header
/// names is removed and the bare directive kept; a restrictive directive that
/// takes no argument (`no-store=x`) keeps its bare form; a freshness lifetime
/// that is not a number (`max-age=x`) becomes 0, as RFC 9111 §5.2.2.1 reads an
/// invalid one (stale); an extension of staleness that is not a number goes.
fn cache_control(v: &str) -> String {
    const NUMERIC: &[&str] = &[
        "max-age",
        "s-maxage",
        "stale-while-revalidate",
        "stale-if-error",
    ];
    /// Lifetimes: a malformed one reads as already stale.
    const LIFETIMES: &[&str] = &["max-age", "s-maxage"];
    /// Bare directives whose meaning only ever restricts caching.
    const RESTRICTIVE: &[&str] = &[
        "no-store",
        "no-transform",
        "must-revalidate",
        "proxy-revalidate",
    ];
    const LISTS: &[&str] = &["private", "no-cache"];
    const BARE: &[&str] = &[
        "no-store",
        "no-transform",
        "must-revalidate",
        "proxy-revalidate",
        "must-understand",
        "public",
        "immutable",
    ];
    let mut out: Vec<String> = Vec::new();
    for (name, arg) in crate::cache::directives::directives(v) {
        let name = name.to_ascii_lowercase();
        let kept = if NUMERIC.contains(&name.as_str()) {
            match arg.filter(|a| delta_seconds(a)) {
                Some(a) => Some(format!("{name}={a}")),
                None if LIFETIMES.contains(&name.as_str()) => Some(format!("{name}=0")),
                None => None,
            }
        } else if RESTRICTIVE.contains(&name.as_str()) {
            Some(name)
        } else if LISTS.contains(&name.as_str()) {
            let names = arg
                .and_then(|a| a.strip_prefix('"')?.strip_suffix('"'))
                .filter(|a| list(a, is_token));
            Some(match names {
                Some(names) => format!("{name}=\"{names}\""),
                None => name,
            })
        } else if BARE.contains(&name.as_str()) && arg.is_none() {
            Some(name)
        } else {
            None
        };
        out.extend(kept);
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::map;
    use proptest::prelude::*;

    fn enforced(pairs: &[(&str, &str)]) -> (HeaderMap, Vec<HeaderName>) {
        let mut h = map(pairs);
        let refused = enforce(&mut h);
        (h, refused)
    }

    #[test]
    fn well_formed_values_pass_untouched() {
        let epoch = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 60)
            .to_string();
        let pairs = [
            ("date", "Tue, 01 Dec 2026 11:00:00 GMT"),
            ("last-modified", "Sunday, 06-Nov-94 08:49:37 GMT"),
            ("expires", "0"),
            ("retry-after", "120"),
            ("vary", "Accept-Encoding, Origin"),
            ("etag", "W/\"5f3c-1a2b+Zm9v=\""),
            ("x-request-id", "req_01HZX3:4.2"),
            ("content-range", "bytes 0-99/1234"),
            ("accept-ranges", "bytes"),
            ("cache-control", "private, max-age=0, no-cache=\"x-foo\""),
            ("cache-control", "Public,max-age=60"),
            ("x-ratelimit-remaining", "49"),
            ("x-ratelimit-reset", &epoch),
            ("ratelimit", "limit=100, remaining=50, reset=5"),
            ("ratelimit-policy", "\"default\";q=100;w=60"),
        ];
        let (h, refused) = enforced(&pairs);
        assert!(refused.is_empty(), "{refused:?}");
        for (n, v) in pairs {
            assert!(h.get_all(n).iter().any(|x| x == v), "{n}: {v}");
        }
    }

    #[test]
    fn personal_data_in_an_allowlisted_header_is_refused_and_counted() {
        let (h, refused) = enforced(&[
            ("retry-after", "alice@example.com"),
            ("etag", "\"+33 6 12 34 56 78\""),
            ("date", "Alice Martin"),
            ("x-request-id", "alice@example.com"),
            ("content-range", "bytes alice/1"),
            ("x-ratelimit-reset", "12 rue de la Paix"),
            ("x-ratelimit-remaining", "81234567"),
            ("x-ratelimit-reset", "2125550123"),
            ("ratelimit-policy", "\"alice@example.com\";q=1"),
            ("accept-ranges", "alice"),
            ("x-custom", "alice@example.com"),
        ]);
        assert_eq!(refused.len(), 11, "{refused:?}");
        assert!(h.is_empty(), "{h:?}");
    }

    #[test]
    fn a_refusal_never_loosens_caching() {
        let (h, refused) = enforced(&[
            ("cache-control", "no-store, x-note=\"alice@example.com\""),
            ("cache-control", "private=\"alice@example.com\", max-age=60"),
            ("vary", "alice@example.com"),
            ("expires", "Alice"),
        ]);
        assert_eq!(refused.len(), 4);
        let cc: Vec<_> = h.get_all("cache-control").iter().collect();
        assert_eq!(cc, ["no-store", "private, max-age=60"]);
        assert_eq!(h.get("vary").unwrap(), "*");
        assert_eq!(h.get("expires").unwrap(), "0");
        let (h, _) = enforced(&[("cache-control", "x-note=alice")]);
        assert!(h.get("cache-control").is_none());
    }

    /// A line the grammar cannot read at all (too long, or obs-text) used to
    /// be dropped whole, and with it the `no-store` it carried: the gateway
    /// then stored an answer upstream had forbidden storing.
    #[test]
    fn an_unreadable_cache_control_line_becomes_no_store() {
        let long = format!(
            "no-store, private, no-cache=\"{}\"",
            ["x-a-rather-long-header-name"; 12].join(", ")
        );
        assert!(long.len() > MAX_LEN);
        let mut h = HeaderMap::new();
        h.append(header::CACHE_CONTROL, HeaderValue::from_str(&long).unwrap());
        h.append(
            header::CACHE_CONTROL,
            HeaderValue::from_bytes(b"private, x-note=\"caf\xe9\"").unwrap(),
        );
        let refused = enforce(&mut h);
        assert_eq!(refused.len(), 2, "{refused:?}");
        let cc: Vec<_> = h.get_all(header::CACHE_CONTROL).iter().collect();
        assert_eq!(cc, ["no-store", "no-store"]);
    }

    #[test]
    fn a_malformed_argument_never_loosens_its_directive() {
        for (sent, kept) in [
            ("no-store=\"alice@example.com\"", "no-store"),
            (
                "must-revalidate=1, max-age=60",
                "must-revalidate, max-age=60",
            ),
            ("max-age=alice", "max-age=0"),
            ("public, s-maxage=\"60\"", "public, s-maxage=0"),
            ("max-age=60, stale-while-revalidate=alice", "max-age=60"),
            ("public=alice, max-age=5", "max-age=5"),
        ] {
            let (h, _) = enforced(&[("cache-control", sent)]);
            assert_eq!(h.get("cache-control").unwrap(), kept, "{sent}");
        }
    }

    #[test]
    fn only_some_lines_of_a_repeated_header_go() {
        let (h, refused) = enforced(&[("vary", "origin"), ("vary", "a@b")]);
        assert_eq!(refused, ["vary"]);
        let vary: Vec<_> = h.get_all("vary").iter().collect();
        assert_eq!(vary, ["origin", "*"]);
    }

    #[test]
    fn oversized_values_are_refused_whatever_their_grammar() {
        let long = "1".repeat(MAX_LEN + 1);
        let (h, refused) = enforced(&[("x-custom", &long), ("retry-after", &long)]);
        assert_eq!(refused.len(), 2);
        assert!(h.is_empty());
    }

    /// Cache-Control lines made of known and unknown directives, in any case,
    /// with good, malformed or personal arguments, sometimes too long or not
    /// text at all.
    fn cache_control_line() -> impl Strategy<Value = Vec<u8>> {
        let name = prop::sample::select(vec![
            "no-store",
            "No-Store",
            "private",
            "PRIVATE",
            "no-cache",
            "max-age",
            "s-maxage",
            "must-revalidate",
            "proxy-revalidate",
            "public",
            "immutable",
            "x-note",
            "stale-if-error",
        ]);
        let arg = prop_oneof![
            Just(None),
            "[0-9]{1,12}".prop_map(Some),
            Just(Some("\"alice@example.com\"".to_owned())),
            Just(Some("\"x-foo, etag\"".to_owned())),
            "[a-z ]{0,8}".prop_map(Some),
        ];
        let directive = (name, arg).prop_map(|(n, a)| match a {
            Some(a) => format!("{n}={a}"),
            None => n.to_owned(),
        });
        (
            prop::collection::vec(directive, 1..6),
            prop_oneof![Just(0usize), Just(300)],
            any::<bool>(),
        )
            .prop_map(|(ds, pad, obs)| {
                let mut line = ds.join(", ").into_bytes();
                if pad > 0 {
                    line.extend_from_slice(format!(", x-pad=\"{}\"", "p".repeat(pad)).as_bytes());
                }
                if obs {
                    line.extend_from_slice(b", x-note=\"\xe9\"");
                }
                line
            })
    }

    /// What upstream's lines say about storing, as the gateway's cache reads them.
    fn storing_forbidden(h: &HeaderMap) -> bool {
        let ok = br#"{"status":true,"message":"OK","data":{}}"#;
        matches!(
            crate::cache::storable(http::StatusCode::OK, h, ok),
            Err(crate::cache::Refusal::CacheControl)
        )
    }

    proptest! {
        /// Whatever upstream's Cache-Control lines hold, what the client gets is
        /// never looser: an answer upstream forbade storing stays unstorable
        /// (for the gateway's cache and the client's), and no freshness
        /// lifetime longer than one upstream wrote appears.
        #[test]
        fn a_refused_cache_control_value_is_never_looser(lines in prop::collection::vec(cache_control_line(), 1..3)) {
            let mut h = HeaderMap::new();
            for line in &lines {
                h.append(header::CACHE_CONTROL, HeaderValue::from_bytes(line).unwrap());
            }
            let before = h.clone();
            enforce(&mut h);
            if storing_forbidden(&before) {
                prop_assert!(storing_forbidden(&h), "{before:?} became {h:?}");
            }
            let had = |name: &str| {
                crate::cache::cache_control(&before).any(|(n, _)| n.eq_ignore_ascii_case(name))
            };
            for (name, arg) in crate::cache::cache_control(&h) {
                if name == "max-age" || name == "s-maxage" {
                    let arg = arg.unwrap_or_default();
                    prop_assert!(arg == "0" || crate::cache::cache_control(&before).any(|(n, a)| n.eq_ignore_ascii_case(name) && a == Some(arg)), "{name}={arg} from {before:?}");
                }
                if name == "public" {
                    prop_assert!(had("public"), "{before:?} became {h:?}");
                }
            }
            for restrictive in ["no-cache", "must-revalidate", "proxy-revalidate"] {
                if had(restrictive) {
                    let after = |n: &str| crate::cache::cache_control(&h).any(|(x, _)| x.eq_ignore_ascii_case(n));
                    prop_assert!(after(restrictive) || after("no-store"), "{restrictive}: {before:?} became {h:?}");
                }
            }
            for v in h.values() {
                prop_assert!(!v.as_bytes().contains(&b'@'), "{v:?}");
            }
        }

        /// Whatever upstream puts in any allowlisted header, no `@` and no
        /// run of letters longer than a policy name survives outside the
        /// fixed vocabularies (dates, directives, header names).
        #[test]
        fn no_email_survives_any_header(
            name in prop::sample::select(vec![
                "date", "expires", "last-modified", "retry-after", "vary", "etag",
                "x-request-id", "content-range", "accept-ranges", "cache-control",
                "x-ratelimit-limit", "ratelimit", "ratelimit-policy", "x-anything",
            ]),
            before in "[ -~]{0,40}",
            after in "[ -~]{0,40}",
        ) {
            let value = format!("{before}alice@example.com{after}");
            let Ok(v) = HeaderValue::from_str(&value) else { return Ok(()) };
            let mut h = HeaderMap::new();
            h.insert(HeaderName::from_static(name), v);
            let refused = enforce(&mut h);
            prop_assert_eq!(refused.len(), 1);
            for v in h.values() {
                prop_assert!(!v.as_bytes().contains(&b'@'), "{name}: {v:?}");
            }
        }
    }
}
