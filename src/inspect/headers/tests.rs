//! The header builder: the issue's examples and the grammar cases (the
//! class as properties is in `prop_tests`).

use super::*;
use crate::http::headers::map;

pub(super) fn default_list() -> HeaderAllowlist {
    let names = [
        "content-type",
        "date",
        "cache-control",
        "expires",
        "etag",
        "last-modified",
        "vary",
        "retry-after",
        "x-request-id",
        "content-range",
        "accept-ranges",
    ];
    let vary = ["accept", "accept-language", "origin"];
    HeaderAllowlist::parse(&names.map(str::to_owned), &vary.map(str::to_owned))
        .expect("the shipped list parses")
}

pub(super) const BODY: &[u8] = br#"{"status":true,"message":"OK","data":{}}"#;

fn json(pairs: &[(&str, &str)]) -> Built {
    default_list()
        .build(&map(pairs), StatusCode::OK, Answer::Json { body: BODY })
        .expect("a JSON answer always builds")
}

fn value<'a>(b: &'a Built, name: &str) -> Option<&'a str> {
    b.headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn well_formed_values_are_rewritten_by_the_gateway() {
    let b = json(&[
        ("date", "Sunday, 06-Nov-94 08:49:37 GMT"),
        ("expires", "0"),
        ("retry-after", "120"),
        ("vary", "Accept-Encoding, Origin"),
        ("cache-control", "Public,max-age=60"),
    ]);
    assert!(b.refused.is_empty(), "{:?}", b.refused);
    // `Date` is the gateway's own (hyper writes it): upstream's is never read.
    assert_eq!(value(&b, "date"), None);
    assert_eq!(value(&b, "expires"), Some("0"));
    assert_eq!(value(&b, "retry-after"), Some("120"));
    assert_eq!(value(&b, "vary"), Some("origin"));
    assert_eq!(value(&b, "cache-control"), Some("public, max-age=60"));
    assert_eq!(
        value(&b, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(b.headers.get("etag"), Some(&etag_of(BODY)));
}

/// Every header example of issue 21's "Why" list.
#[test]
fn the_issue_examples_are_rebuilt_without_upstream_text() {
    let b = json(&[
        ("content-type", "application/victim.person@example.com+json"),
        ("vary", "x-081234567890, Alice-Victimson"),
        (
            "cache-control",
            "private=\"Alice-Victimson-3173000000001234\"",
        ),
        ("cache-control", "no-cache=\"x-081234567890\""),
        ("ratelimit-policy", "\"081234567890\";q=100;w=60"),
        ("ratelimit-limit", "9876543210123"),
        ("etag", "\"081234567890\""),
        ("last-modified", "Tue, 01 Dec 2026 11:00:00 GMT"),
        ("x-request-id", "Alice-Victimson-081234567890"),
    ]);
    assert_eq!(
        value(&b, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(value(&b, "vary"), Some("*"));
    assert_eq!(value(&b, "cache-control"), Some("private, no-cache"));
    // paycombat's rate-limit fields never pass: the gateway writes its own.
    assert_eq!(value(&b, "ratelimit-policy"), None);
    assert_eq!(value(&b, "ratelimit-limit"), None);
    assert_eq!(b.headers.get("etag"), Some(&etag_of(BODY)));
    assert_eq!(
        value(&b, "last-modified"),
        None,
        "no upstream validator on JSON"
    );
    assert_eq!(
        value(&b, "x-request-id"),
        None,
        "the gateway's own is set later"
    );
    for (_, v) in &b.headers {
        let v = v.to_str().unwrap().to_ascii_lowercase();
        for seed in [
            "victim",
            "alice",
            "081234567890",
            "3173000000001234",
            "9876543210123",
        ] {
            assert!(!v.contains(seed), "{v}");
        }
    }
    let mut refused = b.refused.clone();
    refused.sort_unstable();
    assert_eq!(refused, ["cache-control", "vary"]);
    // Empty, bodiless and HEAD answers: the same type, no validator.
    for status in [200, 204, 304, 404] {
        let b = default_list()
            .build(
                &map(&[(
                    "content-type",
                    "text/plain; who=victim.person@example.com; phone=081234567890",
                )]),
                StatusCode::from_u16(status).unwrap(),
                Answer::Json { body: b"" },
            )
            .unwrap();
        assert_eq!(
            value(&b, "content-type"),
            Some("application/json; charset=utf-8")
        );
        assert!(b.headers.get("etag").is_none());
    }
}

#[test]
fn personal_data_in_a_listed_header_is_refused_and_counted() {
    let b = json(&[
        ("retry-after", "alice@example.com"),
        ("date", "Alice Martin"),
        ("x-ratelimit-reset", "12 rue de la Paix"),
        ("x-ratelimit-remaining", "81234567"),
        ("x-ratelimit-limit", "1000000"),
        ("ratelimit-remaining", "\"alice@example.com\""),
        ("retry-after", "2125550123"),
    ]);
    // `Date` is not read at all (the gateway writes its own), and upstream's
    // rate-limit fields are never written (the gateway's own are): only
    // `Retry-After` is counted.
    assert_eq!(b.refused, ["retry-after"]);
    let names: Vec<&str> = b.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["content-type", "etag"]);
}

#[test]
fn a_refusal_never_loosens_caching() {
    let b = json(&[
        ("cache-control", "no-store, x-note=\"alice@example.com\""),
        ("cache-control", "private=\"alice@example.com\", max-age=60"),
        ("vary", "alice@example.com"),
        ("expires", "Alice"),
    ]);
    assert_eq!(b.refused.len(), 3, "{:?}", b.refused);
    assert_eq!(
        value(&b, "cache-control"),
        Some("no-store, private, max-age=60")
    );
    assert_eq!(value(&b, "vary"), Some("*"));
    let b = json(&[("expires", "Alice")]);
    assert_eq!(value(&b, "expires"), Some("0"));
    assert_eq!(b.refused, ["expires"]);
    let b = json(&[("cache-control", "x-note=alice")]);
    assert!(b.headers.get("cache-control").is_none());
    // Lifetimes beyond the bound are shortened to it, and every lifetime keeps two
    // significant digits, rounded down.
    let b = json(&[(
        "cache-control",
        "max-age=081234567890, stale-if-error=99999999999999999999999",
    )]);
    assert_eq!(
        value(&b, "cache-control"),
        Some(
            format!(
                "max-age={max}, stale-if-error={max}",
                max = vocab::coarse(vocab::LIFETIME_MAX, false)
            )
            .as_str()
        )
    );
    let b = json(&[(
        "cache-control",
        "max-age=170590, stale-if-error=123456, stale-while-revalidate=59",
    )]);
    assert_eq!(
        value(&b, "cache-control"),
        Some("max-age=170000, stale-if-error=120000, stale-while-revalidate=59")
    );
}

/// A line the builder cannot read at all (too long, or obs-text) may have
/// said no-store: it reads as no-store.
#[test]
fn an_unreadable_cache_control_line_becomes_no_store() {
    let long = format!(
        "no-store, private, no-cache=\"{}\"",
        ["x-a-rather-long-header-name"; 12].join(", ")
    );
    assert!(long.len() > vocab::MAX_LINE);
    let mut h = HeaderMap::new();
    h.append(header::CACHE_CONTROL, HeaderValue::from_str(&long).unwrap());
    h.append(
        header::CACHE_CONTROL,
        HeaderValue::from_bytes(b"private, x-note=\"caf\xe9\"").unwrap(),
    );
    let b = default_list()
        .build(&h, StatusCode::OK, Answer::Json { body: BODY })
        .unwrap();
    assert_eq!(b.refused, ["cache-control"]);
    assert_eq!(value(&b, "cache-control"), Some("no-store"));
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
        let b = json(&[("cache-control", sent)]);
        assert_eq!(value(&b, "cache-control"), Some(kept), "{sent}");
    }
}

#[test]
fn passthrough_answers_carry_the_listed_type_and_no_upstream_validator() {
    let upstream = map(&[
        ("content-type", "application/pdf; name=081234567890"),
        ("etag", "\"081234567890\""),
        ("last-modified", "Tue, 01 Dec 2026 11:00:00 GMT"),
        ("content-range", "bytes 0-99/081234567890"),
        ("accept-ranges", "bytes"),
    ]);
    let answer = |ranges, range, sent| Answer::Passthrough {
        content_type: "application/pdf",
        ranges,
        range,
        sent,
    };
    let b = default_list()
        .build(&upstream, StatusCode::OK, answer(false, None, Some(100)))
        .unwrap();
    assert_eq!(value(&b, "content-type"), Some("application/pdf"));
    assert!(b.headers.get("etag").is_none());
    // The date, moved back to a grid of a tenth of its age at most: its low digits
    // are not upstream's.
    let written = httpdate::parse_http_date(value(&b, "last-modified").unwrap()).unwrap();
    let given = httpdate::parse_http_date("Tue, 01 Dec 2026 11:00:00 GMT").unwrap();
    let age = std::time::SystemTime::now().duration_since(given).unwrap();
    assert!(written <= given);
    assert!(given.duration_since(written).unwrap() <= age / 10);
    assert!(b.headers.get("content-range").is_none());
    assert!(b.headers.get("accept-ranges").is_none());
    // A 206 with the range the client asked for and the bytes sent.
    let range = Some(ByteRange {
        first: 0,
        last: Some(99),
    });
    let b = default_list()
        .build(
            &upstream,
            StatusCode::PARTIAL_CONTENT,
            answer(true, range, Some(100)),
        )
        .unwrap();
    assert_eq!(value(&b, "content-range"), Some("bytes 0-99/*"));
    assert_eq!(value(&b, "accept-ranges"), Some("bytes"));
    // A 206 whose range does not agree, or that nobody asked for: refused.
    for (ranges, range, sent) in [
        (true, range, Some(99)),
        (true, None, Some(100)),
        (false, range, Some(100)),
        (true, range, None),
    ] {
        let r = default_list().build(
            &upstream,
            StatusCode::PARTIAL_CONTENT,
            answer(ranges, range, sent),
        );
        assert_eq!(r.err(), Some(RANGE_REFUSED));
    }
}

#[test]
fn if_none_match_is_evaluated_against_the_gateways_tag() {
    let b = json(&[]);
    let tag = etag_of(BODY);
    let inm = |v: &str| HeaderValue::from_str(v).unwrap();
    assert!(not_modified(&tag, &b.headers));
    assert!(not_modified(
        &inm(&format!("\"x\", W/{}", tag.to_str().unwrap())),
        &b.headers
    ));
    assert!(not_modified(&inm("*"), &b.headers));
    assert!(!not_modified(&inm("\"x\""), &b.headers));
    assert!(!not_modified(&etag_of(b"other bytes"), &b.headers));
    assert!(
        !not_modified(&inm("*"), &HeaderMap::new()),
        "no tag, nothing to match"
    );
    assert_eq!(etag_of(BODY), etag_of(BODY), "the same bytes, the same tag");
}

/// A date is a number of seconds: each one the gateway writes lies within a
/// stated distance of its own clock, so upstream cannot pick its digits.
#[test]
fn dates_are_bounded_by_the_gateways_clock() {
    use std::time::{Duration, SystemTime};
    let now = SystemTime::now();
    let fmt = |t: SystemTime| httpdate::fmt_http_date(t);
    // Year 2227 is Unix time 8123456789 — a phone number in seconds.
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(8_123_456_789);
    assert!(vocab::last_modified(&fmt(far), now).is_none());
    let older = now - Duration::from_secs(vocab::LAST_MODIFIED_MAX_AGE + 60);
    assert!(vocab::last_modified(&fmt(older), now).is_none());
    let recent = now - Duration::from_secs(3600);
    assert!(vocab::last_modified(&fmt(recent), now).is_some());
    // Expires: a later date is brought forward to the lifetime bound, a past one is 0.
    let bound = now + Duration::from_secs(vocab::LIFETIME_MAX);
    let e = vocab::expires(Some(&fmt(far)), now);
    let t = httpdate::parse_http_date(e.to_str().unwrap()).unwrap();
    assert!(t <= bound + Duration::from_secs(1), "{e:?}");
    assert_eq!(vocab::expires(Some(&fmt(older)), now), "0");
    // Retry-After: a date becomes seconds from now, at most six digits.
    let soon = now + Duration::from_secs(120);
    let r = vocab::retry_after(&fmt(soon), now).unwrap();
    let secs: u64 = r.to_str().unwrap().parse().unwrap();
    assert!((118..=120).contains(&secs), "{secs}");
    assert!(vocab::retry_after(&fmt(far), now).is_none());
    assert_eq!(vocab::retry_after(&fmt(older), now).unwrap(), "0");
}

#[test]
fn numbers_keep_two_significant_digits_rounded_towards_the_stricter_side() {
    assert_eq!(vocab::coarse(0, false), 0);
    assert_eq!(vocab::coarse(59, true), 59);
    assert_eq!(vocab::coarse(170_590, false), 170_000);
    assert_eq!(vocab::coarse(170_590, true), 180_000);
    assert_eq!(vocab::coarse(86_400, false), 86_000);
    let mut n = 1u64;
    for _ in 0..5000 {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = (n >> (n % 50)) % 1_000_000_000_000_000;
        for up in [false, true] {
            let c = vocab::coarse(x, up);
            let significant = c.to_string().trim_end_matches('0').len();
            assert!(significant <= 2 || c == x, "{x} -> {c}");
            assert!(if up { c >= x } else { c <= x }, "{x} -> {c} ({up})");
        }
    }
    let now = std::time::SystemTime::now();
    assert_eq!(vocab::retry_after("170590", now).unwrap(), "180000");
    assert_eq!(vocab::retry_after("999999", now).unwrap(), "990000");
    assert_eq!(vocab::retry_after("30", now).unwrap(), "30");
}
