use super::*;
use proptest::prelude::*;

const A: &str = "customer_0123456789abcdef0123456789abcdef";
const B: &str = "customer_fedcba9876543210fedcba9876543210";

fn default_scanner() -> IdScanner {
    IdScanner::new("^customer_[0-9a-f]{32}$").unwrap()
}

fn ids(mut found: Vec<String>) -> Vec<String> {
    found.sort();
    found
}

fn both() -> Vec<String> {
    let mut v = vec![A.to_owned(), B.to_owned()];
    v.sort();
    v
}

#[test]
fn quirky_bodies_name_every_id() {
    let s = default_scanner();
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!(r#"{{"customer_id":"{A}","customer_id":"{B}"}}"#),
            both(),
        ),
        (
            format!("\u{feff}{{\"customer_id\":\"{A}\"}}"),
            vec![A.into()],
        ),
        (
            format!(r#"{{"x":{{"deep":[1,{{"customer_id":"{A}"}}]}},"ids":["{B}"]}}"#),
            both(),
        ),
        (
            format!(r#"{{"customer_id":"customer\u005f{}"}}"#, &A[9..]),
            vec![A.into()],
        ),
        (
            // Every character escaped, and an escaped solidus around it.
            format!(
                r#"{{"customer_id":"\/{}"}}"#,
                A.chars()
                    .map(|c| format!("\\u{:04X}", c as u32))
                    .collect::<String>()
            ),
            vec![A.into()],
        ),
        (format!("customer_id={A}&other=1"), vec![A.into()]),
        (
            format!("customer_id=customer%5F{}", &A[9..]),
            vec![A.into()],
        ),
        (format!("not json at all {A}!!"), vec![A.into()]),
        (format!("{{\"customer_id\":\"{A}\"  "), vec![A.into()]),
        (format!("glued{A}glued"), vec![A.into()]),
        ("{\"customer_id\":\"customer_nothex\"}".to_owned(), vec![]),
        (String::new(), vec![]),
    ];
    for (body, want) in cases {
        assert_eq!(ids(s.scan(body.as_bytes())), want, "{body}");
    }
}

#[test]
fn utf16_bodies_are_read_too() {
    let s = default_scanner();
    let text = format!("{{\"customer_id\":\"{A}\"}}");
    for big_endian in [false, true] {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            bytes.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        assert_eq!(ids(s.scan(&bytes)), vec![A.to_owned()]);
    }
}

#[test]
fn anchors_anywhere_in_the_pattern_are_dropped_for_the_search() {
    for pattern in [
        "^customer_[0-9a-f]{32}$",
        "customer_[0-9a-f]{32}",
        "^(?:customer_[0-9a-f]{32})$",
        "^customer_[0-9a-f]{32}$|^legacy-[0-9]+$",
        "(?m)^customer_[0-9a-f]{32}$",
    ] {
        let s = IdScanner::new(pattern).unwrap();
        assert_eq!(
            ids(s.scan(format!("[\"x{A}\",\"{B}\"]").as_bytes())),
            both(),
            "{pattern}"
        );
    }
    let s = IdScanner::new("^customer_[0-9a-f]{32}$|^legacy-[0-9]+$").unwrap();
    assert_eq!(
        ids(s.scan(br#"{"customer_id":"legacy-42"}"#)),
        vec!["legacy-42".to_owned()]
    );
}

#[test]
fn a_lazy_pattern_still_finds_the_whole_token() {
    let s = IdScanner::new("cust-[0-9]+?").unwrap();
    let found = ids(s.scan(br#"{"customer_id":"cust-123"}"#));
    assert!(found.contains(&"cust-123".to_owned()), "{found:?}");
}

#[test]
fn however_many_ids_a_body_names_each_is_found_once() {
    let s = default_scanner();
    let names: Vec<String> = (0..2000).map(|n| format!("customer_{n:032x}")).collect();
    let body = serde_json::json!({ "ids": names, "again": names }).to_string();
    let found = s.scan(body.as_bytes());
    assert_eq!(found, names, "all of them, deduplicated, in order");
}

fn id() -> impl Strategy<Value = String> {
    "[0-9a-f]{32}".prop_map(|hex| format!("customer_{hex}"))
}

/// An id as it may appear inside a JSON string: some characters `\u`-escaped.
fn encoded(id: String) -> impl Strategy<Value = String> {
    proptest::collection::vec((any::<bool>(), any::<bool>()), id.len()).prop_map(move |flags| {
        id.chars()
            .zip(flags)
            .map(|(c, (escape, upper))| match (escape, upper) {
                (true, true) => format!("\\u{:04X}", c as u32),
                (true, false) => format!("\\u{:04x}", c as u32),
                _ => c.to_string(),
            })
            .collect()
    })
}

fn ws() -> impl Strategy<Value = String> {
    "[ \t\r\n]{0,3}"
}

/// A JSON value naming `lit` (an encoded id) somewhere, maybe nested, maybe in an array.
fn wrapped(lit: String) -> impl Strategy<Value = String> {
    let leaf = Just(format!("\"{lit}\""));
    leaf.prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            (inner.clone(), ws()).prop_map(|(v, w)| format!("[{w}1,{w}{v}{w}]")),
            (inner.clone(), "[a-z_]{1,8}").prop_map(|(v, k)| format!("{{\"{k}\":{v}}}")),
            (inner, "[a-z_]{1,8}")
                .prop_map(|(v, k)| format!("{{\"{k}\":null,\"customer_id\":{v}}}")),
        ]
    })
}

/// A write body naming `first` somewhere (wrapped, escaped) and `last` as the final
/// `customer_id` key, with optional BOM and whitespace between tokens.
fn body() -> impl Strategy<Value = (String, String, String)> {
    (id(), id(), any::<bool>(), ws()).prop_flat_map(|(first, last, bom, w)| {
        let nested = encoded(first.clone()).prop_flat_map(wrapped);
        (nested, encoded(last.clone())).prop_map(move |(nested, lit)| {
            let body = format!(
                "{}{{{w}\"customer_id\"{w}:{w}{nested},{w}\"customer_id\":{w}\"{lit}\"{w}}}",
                if bom { "\u{feff}" } else { "" }
            );
            (first.clone(), last.clone(), body)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever the wrapper, every id the body carries, in particular the one a JSON
    /// reader keeping the last duplicate key acts on, is found.
    #[test]
    fn every_id_a_reader_could_act_on_is_found((first, last, body) in body()) {
        let found = ids(default_scanner().scan(body.as_bytes()));
        prop_assert!(found.contains(&first), "{} in {}", first, body);
        prop_assert!(found.contains(&last), "{} in {}", last, body);
        let parsed: serde_json::Value =
            serde_json::from_str(body.trim_start_matches('\u{feff}')).unwrap();
        let read = parsed["customer_id"].as_str().unwrap().to_owned();
        prop_assert!(found.contains(&read), "{} (what a reader acts on) in {}", read, body);
    }

    /// The same ids percent-encoded in a form body are found.
    #[test]
    fn form_encoded_ids_are_found(first in id(), escape in proptest::collection::vec(any::<bool>(), 41)) {
        let value: String = first
            .chars()
            .zip(escape)
            .map(|(c, e)| if e { format!("%{:02X}", c as u32) } else { c.to_string() })
            .collect();
        let body = format!("a=1&customer_id={value}&b=2");
        prop_assert_eq!(ids(default_scanner().scan(body.as_bytes())), vec![first]);
    }
}
