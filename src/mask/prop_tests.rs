//! Property: whatever the shape of the document, no personal value survives and nothing else
//! changes.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::tests::DOCUMENTED_PERSONAL_FIELDS;
use super::{default_settings, Masker};

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
        let masker = Masker::new(&default_settings(), Some(b"prop-key"))
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

// ---- spellings, objects under rule keys, JSON inside strings -------------------------------

/// A documented personal key in one of the spellings services use.
fn spelled_rule_key() -> impl Strategy<Value = String> {
    (
        prop::sample::select(DOCUMENTED_PERSONAL_FIELDS),
        0..6u8,
        any::<u64>(),
    )
        .prop_map(|(name, style, bits)| {
            let words: Vec<&str> = name.split('_').collect();
            let cap = |w: &str| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            };
            match style {
                0 => name.to_owned(),
                1 => name.to_ascii_uppercase(),
                2 => words[0].to_owned() + &words[1..].iter().map(|w| cap(w)).collect::<String>(),
                3 => words.iter().map(|w| cap(w)).collect(),
                4 => words.join("-").to_ascii_uppercase(),
                // Random case per letter, `-` or `_` between words.
                _ => words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let sep = if i == 0 {
                            ""
                        } else if bits >> (63 - i) & 1 == 1 {
                            "-"
                        } else {
                            "_"
                        };
                        let w: String = w
                            .chars()
                            .enumerate()
                            .map(|(j, c)| {
                                if bits >> ((i * 7 + j) % 56) & 1 == 1 {
                                    c.to_ascii_uppercase()
                                } else {
                                    c
                                }
                            })
                            .collect();
                        sep.to_owned() + &w
                    })
                    .collect(),
            }
        })
}

/// Seeded personal text usable as an object key.
fn personal_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "PII[A-Z0-9]{12,20}",
        "pii[a-z0-9]{9,14}@example\\.com",
        "PII[À-ÿ一-龥]{10,14}",
    ]
}

/// What a personal key holds: a seeded scalar, or objects (possibly in arrays) whose keys are
/// seeded values.
fn under_rule(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    let keyed = prop::collection::vec((personal_key(), inner), 1..3)
        .prop_map(|e| Value::Object(e.into_iter().collect::<Map<_, _>>()))
        .boxed();
    prop_oneof![
        2 => personal_value(),
        1 => keyed.clone(),
        1 => prop::collection::vec(keyed, 1..3).prop_map(Value::Array),
    ]
}

fn spelled_document() -> impl Strategy<Value = Value> {
    plain_leaf().prop_recursive(5, 128, 5, |inner| {
        let entry = prop_oneof![
            (
                prop::sample::select(PLAIN_KEYS).prop_map(str::to_owned),
                inner.clone()
            ),
            (spelled_rule_key(), under_rule(inner.clone())),
        ];
        let container = prop_oneof![
            prop::collection::vec(inner, 0..5).prop_map(Value::Array),
            prop::collection::vec(entry, 0..5)
                .prop_map(|e| Value::Object(e.into_iter().collect::<Map<_, _>>())),
        ]
        .boxed();
        prop_oneof![
            2 => container.clone(),
            // A JSON document serialised into a string value.
            1 => (container, any::<bool>()).prop_map(|(c, blank)| {
                let text = c.to_string();
                Value::String(if blank { format!(" \n\t{text}") } else { text })
            }),
        ]
    })
}

fn is_seed(s: &str) -> bool {
    (s.starts_with("PII") || s.starts_with("pii")) && s.chars().count() >= 12
}

/// Every seeded value and key, looking inside strings that hold JSON documents.
fn seeds(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| seeds(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if is_seed(k) {
                    out.push(k.clone());
                }
                seeds(v, out);
            }
        }
        Value::String(s) if is_seed(s) => out.push(s.clone()),
        Value::String(s) => {
            if let Ok(doc @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str(s) {
                seeds(&doc, out);
            }
        }
        Value::Number(n) if n.as_u64().is_some_and(|n| n >= 100_000_000_000) => {
            out.push(n.to_string())
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn seeded_values_never_survive_in_any_spelling_key_or_string(doc in spelled_document()) {
        let masker = Masker::new(&default_settings(), Some(b"prop-key"))
            .expect("valid");
        let body = doc.to_string();
        let masked = masker.mask(body.as_bytes()).expect("valid JSON is always maskable");
        let out = std::str::from_utf8(&masked.body).expect("utf-8");
        prop_assert!(serde_json::from_str::<Value>(out).is_ok(), "not JSON: {}", out);

        let mut secrets = Vec::new();
        seeds(&doc, &mut secrets);
        for secret in &secrets {
            prop_assert!(!out.contains(secret.as_str()), "{} survived in {}", secret, out);
        }
    }
}
