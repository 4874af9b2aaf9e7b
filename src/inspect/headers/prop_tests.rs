//! The header builder's class, as properties: never looser caching, and no
//! seeded personal value in any header the client receives.

use super::tests::{default_list, BODY};
use super::*;
use proptest::prelude::*;

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
        crate::cache::storable(
            StatusCode::OK,
            h,
            crate::cache::UpstreamDirectives::read(h),
            BODY
        ),
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
    percent_encoding::percent_decode_str(v)
        .decode_utf8_lossy()
        .into_owned()
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
        let built = default_list().build(&before, StatusCode::OK, Answer::Json { body: BODY }).unwrap();
        let h = built.headers;
        if storing_forbidden(&before) {
            prop_assert!(storing_forbidden(&h), "{before:?} became {h:?}");
        }
        // What the builder noted while rebuilding is what the client's line says: the
        // cache's one reading of upstream's directives agrees with the line it wrote.
        prop_assert_eq!(
            built.directives,
            crate::cache::UpstreamDirectives::read(&h),
            "{:?} became {:?}", before, h
        );
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
            // No run of seven digits outside a date.
            let longest_run = v.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            prop_assert!(longest_run <= 6, "{name}: {v:?}");
        }
        prop_assert!(built.headers.len() <= KNOWN.len());
        prop_assert!(vocab::COUNT_MAX < 1_000_000);
    }
}
