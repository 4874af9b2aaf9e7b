//! Property: whatever the shape of the document, no personal value survives and nothing else
//! changes.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::tests::DOCUMENTED_PERSONAL_FIELDS;
use super::{default_config, Masker};

/// Keys that no default rule matches.
const PLAIN_KEYS: &[&str] = &[
    "status",
    "message",
    "data",
    "items",
    "id",
    "type",
    "meta",
    "list",
    "created_at",
    "x",
];

fn plain_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-100_000i64..100_000).prop_map(Value::from),
        (-1_000_000i32..1_000_000).prop_map(|n| Value::from(f64::from(n) / 100.0)),
        "[a-z ]{0,8}".prop_map(Value::String),
    ]
}

/// Distinctive personal values: no plain value can contain one.
fn personal_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "PII[A-Z0-9]{12,20}".prop_map(Value::String),
        (100_000_000_000u64..u64::MAX).prop_map(Value::from),
        "pii[a-z0-9]{9,14}@example\\.com".prop_map(Value::String),
        "PII[À-ÿ一-龥]{10,14}".prop_map(Value::String),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    plain_leaf().prop_recursive(8, 256, 6, |inner| {
        let entry = prop_oneof![
            (prop::sample::select(PLAIN_KEYS), inner.clone()),
            (
                prop::sample::select(DOCUMENTED_PERSONAL_FIELDS),
                personal_value()
            ),
        ];
        prop_oneof![
            prop::collection::vec(inner, 0..6).prop_map(Value::Array),
            prop::collection::vec(entry, 0..6).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn personal_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| personal_texts(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if DOCUMENTED_PERSONAL_FIELDS.contains(&k.as_str()) {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        other => out.push(other.to_string()),
                    }
                } else {
                    personal_texts(v, out);
                }
            }
        }
        _ => {}
    }
}

fn without_personal(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(without_personal).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !DOCUMENTED_PERSONAL_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_personal(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn personal_values_never_survive_and_the_rest_is_unchanged(
        doc in document(),
        pretty in any::<bool>(),
    ) {
        let masker = Masker::new(&default_config().expect("rules"), Some(b"prop-key"))
            .expect("valid");
        let body = if pretty {
            serde_json::to_string_pretty(&doc).expect("serialise")
        } else {
            doc.to_string()
        };
        let masked = masker.mask(body.as_bytes()).expect("valid JSON is always maskable");
        let out = std::str::from_utf8(&masked.body).expect("utf-8");

        let mut secrets = Vec::new();
        personal_texts(&doc, &mut secrets);
        for secret in &secrets {
            prop_assert!(!out.contains(secret.as_str()), "{} survived in {}", secret, out);
        }

        let parsed: Value = serde_json::from_str(out).expect("output is JSON");
        prop_assert_eq!(without_personal(&parsed), without_personal(&doc));
    }
}
