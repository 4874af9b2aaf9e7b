//! Property: random documents with seeded personal values in declared, undeclared and
//! free-text fields, and as keys, under the shipped configuration. No seeded value leaves,
//! on an `enforce` family or a `report` one — except report mode's residual class (a bare
//! name in free text under a neutral key with nothing detectable beside it), which this
//! generator never produces; `body_privacy` documents that class with a test of its own.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::default_masker;
use crate::mask::policy::PolicyFamily;

/// Values a detector claims: emails, phone numbers, ID-length digit runs, IBANs, cards.
fn detectable() -> impl Strategy<Value = String> {
    prop_oneof![
        "seed[a-z]{6,10}@(gmail\\.com|example\\.org|victim\\.id)",
        "08[1-9][0-9]{8,9}",
        "\\+62 8[1-9][0-9]-[0-9]{4}-[0-9]{4}",
        "3173[0-9]{12}",
        Just("GB82WEST12345698765432".to_owned()),
        Just("DE89370400440532013000".to_owned()),
        Just("4111111111111111".to_owned()),
        Just("5500 0000 0000 0004".to_owned()),
    ]
}

/// A bare name: no detector sees it.
fn name() -> impl Strategy<Value = String> {
    "Seed[A-Z][a-z]{5,9}"
}

/// Keys no rule, key word or declaration covers.
const NEUTRAL: &[&str] = &[
    "note", "remark", "info", "details", "extra", "text", "comment",
];
/// Keys whose words name personal data.
const WORDY: &[&str] = &[
    "phone",
    "mobile",
    "msisdn",
    "home_address",
    "contactName",
    "birth_date",
    "email_address",
    "passport_no",
    "nama",
    "alamat_lengkap",
    "no_hp",
    "nomorHp",
    "tanggal_lahir",
    "surel",
    "no_rekening",
    "ibu_kandung",
    "NIK",
];

#[derive(Clone, Debug)]
struct Seeded {
    doc: Value,
    seeds: Vec<String>,
}

fn leaf() -> impl Strategy<Value = (Value, Vec<String>)> {
    prop_oneof![
        // Free text holding a detectable value (and maybe a name beside it).
        (detectable(), proptest::option::of(name()), "[a-z ]{0,12}").prop_map(|(d, n, pad)| {
            let mut seeds = vec![d.clone()];
            let text = match n {
                Some(n) => {
                    seeds.push(n.clone());
                    format!("{pad} {n}, {d} {pad}")
                }
                // Words are separated: a value glued to letters reads as a reference.
                None => format!("{pad} {d} {pad}"),
            };
            (Value::String(text), seeds)
        }),
        // A number-shaped phone or ID.
        (62_800_000_000u64..62_899_999_999).prop_map(|n| (Value::from(n), vec![n.to_string()])),
        // Harmless values.
        "[a-z]{0,8}".prop_map(|s| (Value::String(s), vec![])),
        (0u32..100_000).prop_map(|n| (Value::from(n), vec![])),
    ]
}

fn document() -> impl Strategy<Value = Seeded> {
    let leaf = leaf().prop_map(|(doc, seeds)| Seeded { doc, seeds });
    leaf.prop_recursive(5, 64, 5, |inner| {
        let entry = prop_oneof![
            // Undeclared neutral key: free text with a detectable value, or anything nested.
            (prop::sample::select(NEUTRAL), inner.clone()).prop_map(|(k, v)| (k.to_owned(), v)),
            // A key word: even a bare name under it is masked.
            (prop::sample::select(WORDY), name()).prop_map(|(k, n)| (
                k.to_owned(),
                Seeded {
                    doc: Value::String(n.clone()),
                    seeds: vec![n],
                }
            )),
            // A named rule's key, spelled as a loose client would read it.
            (
                prop::sample::select(
                    &[
                        "la\u{17f}t_name",
                        "ＦＩＲＳＴ_NAME",
                        "email ",
                        "\u{feff}dob"
                    ][..]
                ),
                name()
            )
                .prop_map(|(k, n)| (
                    k.to_owned(),
                    Seeded {
                        doc: Value::String(n.clone()),
                        seeds: vec![n],
                    }
                )),
            // A detectable value used as a key.
            (detectable(), inner.clone()).prop_map(|(k, mut v)| {
                v.seeds.push(k.clone());
                (k, v)
            }),
            // A declared path of the documented customer (enforce) holding a detectable value.
            detectable().prop_map(|d| (
                "customer_id".to_owned(),
                Seeded {
                    doc: Value::String(d.clone()),
                    seeds: vec![d],
                }
            )),
        ];
        prop_oneof![
            prop::collection::vec(inner, 0..4).prop_map(|items| {
                let seeds = items.iter().flat_map(|s| s.seeds.clone()).collect();
                Seeded {
                    doc: Value::Array(items.into_iter().map(|s| s.doc).collect()),
                    seeds,
                }
            }),
            prop::collection::vec(entry, 0..5).prop_map(|entries| {
                let mut seeds = Vec::new();
                let mut map = Map::new();
                for (k, v) in entries {
                    seeds.extend(v.seeds);
                    map.insert(k, v.doc);
                }
                Seeded {
                    doc: Value::Object(map),
                    seeds,
                }
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_seeded_value_leaves_on_any_family(s in document(), wrap in any::<bool>()) {
        let m = default_masker();
        // Also as the customer read's envelope, so declared paths are on the way.
        let doc = if wrap {
            serde_json::json!({"status": true, "message": "OK", "data": s.doc})
        } else {
            s.doc
        };
        let body = doc.to_string();
        for family in [PolicyFamily::CustomerDetail, PolicyFamily::Payin, PolicyFamily::Other] {
            let out = m.mask_for(body.as_bytes(), family).expect("maskable");
            let text = std::str::from_utf8(&out.body).expect("utf-8");
            for seed in &s.seeds {
                prop_assert!(!text.contains(seed.as_str()), "{:?}: {} in {}", family, seed, text);
            }
            let again: Value = serde_json::from_str(text).expect("output is JSON");
            let _ = again;
        }
    }
}
