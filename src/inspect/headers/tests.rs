//! The header builder: the issue's examples, the old grammar cases, and the
//! class as properties (never looser caching; no seeded value in any value).

use super::*;
use crate::http::headers::map;
use proptest::prelude::*;

fn default_list() -> HeaderAllowlist {
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
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ];
    let vary = ["accept", "accept-language", "origin"];
    HeaderAllowlist::parse(&names.map(str::to_owned), &vary.map(str::to_owned))
        .expect("the shipped list parses")
}

const BODY: &[u8] = br#"{"status":true,"message":"OK","data":{}}"#;

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
    let epoch = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60)
        .to_string();
    let b = json(&[
        ("date", "Sunday, 06-Nov-94 08:49:37 GMT"),
        ("expires", "0"),
        ("retry-after", "120"),
        ("vary", "Accept-Encoding, Origin"),
        ("cache-control", "Public,max-age=60"),
        ("x-ratelimit-remaining", "49"),
        ("x-ratelimit-reset", &epoch),
        ("ratelimit", "limit=100, remaining=50, reset=5"),
    ]);
    assert!(b.refused.is_empty(), "{:?}", b.refused);
    assert_eq!(value(&b, "date"), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_eq!(value(&b, "expires"), Some("0"));
    assert_eq!(value(&b, "retry-after"), Some("120"));
    assert_eq!(value(&b, "vary"), Some("origin"));
    assert_eq!(value(&b, "cache-control"), Some("public, max-age=60"));
    assert_eq!(value(&b, "x-ratelimit-remaining"), Some("49"));
    assert_eq!(value(&b, "x-ratelimit-reset"), Some(epoch.as_str()));
    assert_eq!(
        value(&b, "ratelimit"),
        Some("limit=100, remaining=50, reset=5")
    );
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
    assert_eq!(value(&b, "ratelimit-policy"), Some("\"p1\";q=100;w=60"));
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
    assert_eq!(
        refused,
        [
            "cache-control",
            "ratelimit-limit",
            "ratelimit-policy",
            "vary"
        ]
    );
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
    assert_eq!(b.refused.len(), 6, "{:?}", b.refused);
    let names: Vec<&str> = b.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["content-type", "etag", "ratelimit-remaining"]);
    assert_eq!(value(&b, "ratelimit-remaining"), Some("\"p1\""));
    // A Unix time more than a day away is not a reset moment.
    let b = json(&[("x-ratelimit-reset", "2125550123")]);
    assert!(b.headers.get("x-ratelimit-reset").is_none());
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
    // Lifetimes beyond the bound are shortened to it.
    let b = json(&[(
        "cache-control",
        "max-age=081234567890, stale-if-error=99999999999999999999999",
    )]);
    assert_eq!(
        value(&b, "cache-control"),
        Some(
            format!(
                "max-age={max}, stale-if-error={max}",
                max = vocab::LIFETIME_MAX
            )
            .as_str()
        )
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
    assert_eq!(
        value(&b, "last-modified"),
        Some("Tue, 01 Dec 2026 11:00:00 GMT")
    );
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

// ---- the class, as properties -------------------------------------------------------------

/// Cache-Control lines of known and unknown directives, in any case, with
/// good, malformed or personal arguments, sometimes too long or not text.
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
    matches!(
        crate::cache::storable(StatusCode::OK, h, BODY),
        Err(crate::cache::Refusal::CacheControl)
    )
}

/// Values a hostile upstream seeds: emails, names, phone, ID and account
/// numbers of seven or more digits.
fn seed() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{3,8}\\.[a-z]{3,8}@[a-z]{4,8}\\.(com|co\\.id)",
        "(Alice|Budi|Siti)-(Victimson|Rahasia|Santoso)",
        "0?8[1-9][0-9]{5,11}",
        "[1-9][0-9]{6,17}",
        "\\+62[0-9]{9,11}",
    ]
}

/// Seeds, and upstream header lines each holding one of them in some shape
/// its header might take: listed names and others.
fn seeded_headers() -> impl Strategy<Value = (Vec<String>, Vec<(String, String)>)> {
    let listed = prop::sample::select(KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    let name = prop_oneof![4 => listed.prop_map(str::to_owned), 1 => "x-[a-z]{1,8}"];
    let shape = prop::sample::select(vec![
        "{}",
        "\"{}\"",
        "W/\"{}\"",
        "private=\"{}\"",
        "no-cache=\"{}\", max-age=60",
        "x-{}, origin",
        "\"{}\";q=100;w=60",
        "limit={}, remaining=1",
        "bytes 0-99/{}",
        "bytes {}-{}/1",
        "application/{}+json",
        "text/plain; who={}; charset=utf-8",
        "{}, {}",
        "%{}",
    ]);
    prop::collection::vec(seed(), 1..4).prop_flat_map(move |seeds| {
        let n = seeds.len();
        let lines = prop::collection::vec((0..n, name.clone(), shape.clone()), 1..12);
        (Just(seeds), lines).prop_map(|(seeds, lines)| {
            let lines = lines
                .into_iter()
                .map(|(i, name, shape)| {
                    let seed = &seeds[i];
                    let value = if shape == "%{}" {
                        seed.bytes().map(|b| format!("%{b:02X}")).collect()
                    } else {
                        shape.replace("{}", seed)
                    };
                    (name, value)
                })
                .collect();
            (seeds, lines)
        })
    })
}

fn percent_decoded(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answers() -> impl Strategy<Value = (u16, u8)> {
    (
        prop::sample::select(vec![200u16, 204, 206, 304, 404, 429, 503]),
        0u8..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever upstream's Cache-Control lines hold, what the client gets is
    /// never looser: an answer upstream forbade storing stays unstorable, and
    /// no lifetime longer than one upstream wrote appears.
    #[test]
    fn a_refused_cache_control_value_is_never_looser(lines in prop::collection::vec(cache_control_line(), 1..3)) {
        let mut before = HeaderMap::new();
        for line in &lines {
            before.append(header::CACHE_CONTROL, HeaderValue::from_bytes(line).unwrap());
        }
        let h = default_list().build(&before, StatusCode::OK, Answer::Json { body: BODY }).unwrap().headers;
        if storing_forbidden(&before) {
            prop_assert!(storing_forbidden(&h), "{before:?} became {h:?}");
        }
        let had = |name: &str| {
            crate::cache::cache_control(&before).any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        for (name, arg) in crate::cache::cache_control(&h) {
            if name == "max-age" || name == "s-maxage" {
                let arg: u64 = arg.unwrap_or_default().parse().unwrap();
                prop_assert!(arg <= vocab::LIFETIME_MAX);
                prop_assert!(arg == 0 || crate::cache::cache_control(&before).any(|(n, a)| n.eq_ignore_ascii_case(name) && a.and_then(|a| a.parse::<u128>().ok()).is_some_and(|a| a >= u128::from(arg))), "{name}={arg} from {before:?}");
            }
            if name == "public" {
                prop_assert!(had("public"), "{before:?} became {h:?}");
            }
        }
        for restrictive in ["no-cache", "must-revalidate", "proxy-revalidate", "private"] {
            if had(restrictive) {
                let after = |n: &str| crate::cache::cache_control(&h).any(|(x, _)| x.eq_ignore_ascii_case(n));
                prop_assert!(after(restrictive) || after("no-store"), "{restrictive}: {before:?} became {h:?}");
            }
        }
    }

    /// The class: random upstream header sets, listed names and others, each
    /// value seeded with an email, a name, or a phone, ID or account number
    /// of seven or more digits, on every kind of answer. No value the client
    /// receives holds a seed (lower-cased, percent-decoded).
    #[test]
    fn no_seeded_value_survives_in_any_header(
        (seeds, lines) in seeded_headers(),
        (status, kind) in answers(),
    ) {
        let mut upstream = HeaderMap::new();
        for (n, v) in &lines {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(n.as_bytes()), HeaderValue::from_str(v)) {
                upstream.append(n, v);
            }
        }
        let status = StatusCode::from_u16(status).unwrap();
        let answer = match kind {
            0 => Answer::Json { body: BODY },
            1 => Answer::Json { body: b"" },
            _ => Answer::Passthrough {
                content_type: "application/pdf",
                ranges: true,
                range: Some(ByteRange { first: 0, last: None }),
                sent: Some(100),
            },
        };
        let Ok(built) = default_list().build(&upstream, status, answer) else {
            // Refused whole: nothing of it reaches the client.
            return Ok(());
        };
        for (name, v) in &built.headers {
            let v = percent_decoded(&v.to_str().unwrap().to_ascii_lowercase());
            for s in &seeds {
                let s = s.to_ascii_lowercase();
                prop_assert!(!v.contains(&s), "{name}: {v:?} holds {s:?}");
            }
            prop_assert!(!v.contains('@'), "{name}: {v:?}");
            // No run of seven digits outside a date or a recent Unix time.
            let longest_run = v.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            prop_assert!(longest_run <= 6 || name == "x-ratelimit-reset", "{name}: {v:?}");
        }
        prop_assert!(built.headers.len() <= KNOWN.len());
        prop_assert!(vocab::COUNT_MAX < 1_000_000);
    }
}
