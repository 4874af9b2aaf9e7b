//! The fuzz targets (fuzz/) as bounded proptest properties CI can run on stable Rust.

#[allow(unused_imports)]
use crate::common::*;

use paycombat_gateway::mask::{default_settings, Masker};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn masker() -> &'static Masker {
    static MASKER: std::sync::OnceLock<Masker> = std::sync::OnceLock::new();
    MASKER.get_or_init(|| {
        Masker::new(&default_settings(), Some(b"fuzz-hmac-key")).expect("shipped rules build")
    })
}

/// The `mask` fuzz target's oracle: never panic; an accepted non-blank body comes out as JSON.
fn check_mask(masker: &Masker, body: &[u8]) {
    let Ok(masked) = masker.mask(body) else {
        return;
    };
    let content = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if content
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        assert_eq!(&masked.body[..], content, "a blank body passes unchanged");
        return;
    }
    if let Err(e) = serde_json::from_slice::<Value>(&masked.body) {
        panic!(
            "masked output is not JSON ({e}) for input {:?}",
            String::from_utf8_lossy(body)
        );
    }
}

const KEYS: &[&str] = &[
    "status",
    "data",
    "email",
    "first_name",
    "phone_number",
    "identification_value",
    "name",
    "items",
    "dob",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z0-9.@+ ]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A damaged copy of a JSON document: cut, a byte changed, or a slice repeated.
fn mutated_json() -> impl Strategy<Value = Vec<u8>> {
    (
        json_value(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..4,
    )
        .prop_map(|(v, at, byte, how)| {
            let mut b = serde_json::to_vec(&v).expect("serialisable");
            let i = at.index(b.len() + 1);
            match how {
                0 => b.truncate(i),
                1 => b.insert(i, byte),
                2 if i < b.len() => b[i] = byte,
                _ => {
                    let tail = b[i..].to_vec();
                    b.splice(i..i, tail);
                }
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_mask(masker(), &body);
    }

    #[test]
    fn damaged_json_never_panics(body in mutated_json()) {
        check_mask(masker(), &body);
    }

    #[test]
    fn well_formed_json_is_always_accepted(v in json_value()) {
        let body = serde_json::to_vec(&v).expect("serialisable");
        let masked = masker().mask(&body);
        prop_assert!(masked.is_ok(), "{:?}", masked.err());
        check_mask(masker(), &body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn deep_nesting_is_refused_without_overflow(depth in prop_oneof![0usize..130, 0usize..200_000], open in prop::sample::select(&[b'[', b'{'][..])) {
        let mut body = Vec::with_capacity(depth * 6);
        for _ in 0..depth {
            if open == b'[' { body.push(b'['); } else { body.extend_from_slice(br#"{"a":"#); }
        }
        body.extend_from_slice(b"1");
        body.extend(std::iter::repeat_n(if open == b'[' { b']' } else { b'}' }, depth));
        let result = masker().mask(&body);
        prop_assert_eq!(result.is_ok(), depth <= 64, "default max_depth is 64 (depth {})", depth);
        check_mask(masker(), &body);
    }
}
