//! The route family's field policy, applied by the walk.

use std::sync::Arc;

use super::*;
use crate::mask::detect::Detectors;
use crate::mask::policy::{
    DeclaredPaths, FieldPolicy, KeyWords, Kind, Mode, Policies, PolicyFamily, Undeclared,
};

const WORDS: &[&str] = &[
    "name", "address", "birth", "dob", "phone", "mobile", "msisdn", "email", "account", "iban",
    "nik", "ktp", "passport",
];

fn policies(mode: Mode, declared: &[&str]) -> Policies {
    let mut d = DeclaredPaths::default();
    // `path:kind` with a built-in kind, or a bare path for `text` (copied unchecked).
    for p in declared {
        match p.split_once(':') {
            Some((path, kind)) => d.insert(path, Kind::built_in(kind).expect("a built-in kind")),
            None => d.insert(p, Kind::Text),
        };
    }
    Policies::new(
        vec![FieldPolicy {
            family: PolicyFamily::Payin,
            mode,
            declared: d,
        }],
        KeyWords::new(WORDS.iter().copied()),
        Detectors::default(),
        Strategy::Redact,
        Arc::new(Undeclared::default()),
    )
}

fn with(mode: Mode, declared: &[&str]) -> Masker {
    default_masker().with_policies(policies(mode, declared))
}

fn out(m: &Masker, body: &str) -> String {
    let masked = m
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("maskable");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

const SEEDS: &[&str] = &[
    "victim@example.com",
    "081234567890",
    "6281234567890",
    "3173000000001234",
    "Jalan Rahasia 42",
    "1997-08-04",
    "Alice Victimson",
];

fn assert_clean(what: &str, text: &str) {
    for seed in SEEDS {
        assert!(!text.contains(seed), "{what}: {seed} in {text}");
    }
    let _: Value = serde_json::from_str(text).expect("output is JSON");
}

#[test]
fn report_mode_masks_personal_data_outside_the_rule_list() {
    let m = with(Mode::Report, &[]);
    for body in [
        r#"{"status":false,"message":"customer victim@example.com not found"}"#,
        r#"{"description":"call Alice Victimson on 081234567890"}"#,
        r#"{"metadata":{"note":"NIK 3173000000001234"}}"#,
        r#"{"contacts":[{"full_name":"Alice Victimson","mobile":"081234567890"}]}"#,
        r#"{"phone":"081234567890","mobile":"+62 812-3456-7890"}"#,
        r#"{"msisdn":6281234567890}"#,
        r#"{"address":{"street":"Jalan Rahasia 42","city":"Jakarta"}}"#,
        r#"{"date_of_birth":"1997-08-04"}"#,
        r#"{"by_owner":{"victim@example.com":{"balance":1}}}"#,
        r#""victim@example.com""#,
        r#"{"Ｅｍａｉｌ":"x", "la\u017ft_name":"Alice Victimson"}"#,
    ] {
        assert_clean(body, &out(&m, body));
    }
    // What the payments client needs is kept byte for byte.
    let body = r#"{"status":true,"data":{"id":"pi_01HZX","amount":150000.50,"currency":"IDR","reference":"INV-42-A","created_at":"2026-12-06T07:00:00Z","paid":true,"rate":1.50}}"#;
    assert_eq!(out(&m, body), body);
}

#[test]
fn keys_that_hold_personal_data_are_rewritten_unique() {
    let m = with(Mode::Report, &[]);
    let o = out(
        &m,
        r#"{"victim@example.com":1,"<email>#0":2,"<x":3,"alice@gmail.com":4,"ok":5}"#,
    );
    // (`<email>#0` written by upstream holds the key word `email`: its value is masked too;
    // `<x` is no key the gateway can read, so no key it verified: its value is masked.)
    assert_eq!(
        o,
        r#"{"<email>#0":"[REDACTED]","<key>#1":"[REDACTED]","<key>#2":"[REDACTED]","<email>#3":"[REDACTED]","ok":5}"#
    );
    let v: serde_json::Map<String, Value> = serde_json::from_str(&o).expect("json");
    assert_eq!(v.len(), 5, "keys stay unique");
}

#[test]
fn enforce_mode_masks_every_leaf_not_declared() {
    let m = with(
        Mode::Enforce,
        &["status", "data.id", "data.items[].type", "data.amount"],
    );
    let o = out(
        &m,
        r#"{"status":true,"data":{"id":"c_1","amount":123456789012345678901234567.50,"new_field":"Alice Victimson","items":[{"type":"a","note":"x"}],"flag":true},"Alice Victimson":{"id":"c_2"}}"#,
    );
    assert_eq!(
        o,
        // Keys off the declared paths are the gateway's (`<key>#N`), whatever they look like.
        r#"{"status":true,"data":{"id":"c_1","amount":123456789012345678901234567.50,"<key>#2":"[REDACTED]","items":[{"type":"a","<key>#1":"[REDACTED]"}],"<key>#4":"[REDACTED]"},"<key>#2":{"<key>#0":"[REDACTED]"}}"#
    );
    // Declared matching is exact: a key only a loose reader takes for `id` is undeclared.
    let o = out(&m, r#"{"data":{"ID":"x1","id\u200d":"x2"}}"#);
    assert!(!o.contains("x1") && !o.contains("x2"), "{o}");
    // A detector still fires on a declared leaf.
    let o = out(&m, r#"{"data":{"id":"victim@example.com"}}"#);
    assert_clean("declared", &o);
}

/// A declaration covers the scalars at its path, or of an array at it: an array nested in
/// that array is a shape the declaration did not describe, so it is masked in `enforce`.
#[test]
fn enforce_mode_masks_arrays_nested_under_a_declared_array() {
    let m = with(Mode::Enforce, &["status", "data.missing_field[]"]);
    let o = out(
        &m,
        r#"{"status":true,"data":{"missing_field":["dob",["Alice Victimson"],[[6281234567890]],{"x":"Bob Victim"}]}}"#,
    );
    assert_eq!(
        o,
        r#"{"status":true,"data":{"missing_field":["dob",["[REDACTED]"],[["[REDACTED]"]],{"<key>#0":"[REDACTED]"}]}}"#
    );
    let o = out(
        &m,
        r#"{"data":{"missing_field":"[[\"Alice Victimson\"]]"}}"#,
    );
    assert!(!o.contains("Alice"), "{o}");
}

#[test]
fn json_inside_strings_follows_the_policy() {
    let m = with(Mode::Report, &[]);
    let inner = r#"{"contact":{"phone":"081234567890"},"amount":1.50}"#;
    for s in [
        format!("\u{feff}{inner}"),
        format!("\u{a0}{inner}"),
        serde_json::to_string(inner).expect("q"),
        format!("{inner} -- sent by Alice Victimson 081234567890"),
    ] {
        let body = json!({ "payload": s }).to_string();
        let o = out(&m, &body);
        assert_clean(&s, &o);
        assert!(o.contains("1.50"), "{o}");
    }
}

#[test]
fn undeclared_paths_are_recorded_never_values() {
    let p = policies(Mode::Report, &["data.id"]);
    let undeclared = p.undeclared().clone();
    let m = default_masker().with_policies(p);
    m.mask_for(
        br#"{"data":{"id":"x","amount":5,"victim@example.com":"y","tags":["a"]}}"#,
        PolicyFamily::Payin,
    )
    .expect("ok");
    let listing = serde_json::to_string(&undeclared.listing()).expect("json");
    assert!(
        listing.contains("data.amount") && listing.contains("data.tags"),
        "{listing}"
    );
    assert!(!listing.contains("data.id\""), "{listing}");
    assert!(!listing.contains("victim"), "{listing}");
}

#[test]
fn the_shipped_policies_apply_through_mask_for_and_mask_is_rules_only() {
    let m = default_masker();
    let body = r#"{"message":"victim@example.com"}"#;
    let masked = m
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("ok");
    assert_clean("shipped", std::str::from_utf8(&masked.body).expect("utf-8"));
    assert_eq!(masked.by_policy(), 1);
    let masked = m.mask(body.as_bytes()).expect("ok");
    assert_eq!(&masked.body[..], body.as_bytes());
}

/// Finding 4: on a `report` family every key the undeclared-paths listing shows as `<key>`
/// (no plain field name) is written `<key>#N`, and what is below it is masked (a key the
/// gateway cannot read is none it verified: `ชื่อ`, `địa_chỉ`); maps keyed by currency codes,
/// ids, dates and status words keep their keys and values, and the listing agrees.
#[test]
fn report_keys_that_are_no_field_names_are_written_as_placeholders() {
    let m = with(Mode::Report, &[]);
    let body = r#"{"totals":{"Budi Keytotals":150000,"Citra, Jl Melati 42":2},"by":{"DEWI K":"PAID"},"tags":{"eka.k":true},"fx":{"IDR":1,"USD":2,"2024-12-06":3,"cus_N2fr":4,"PAID":5}}"#;
    let o = out(&m, body);
    assert_eq!(
        o,
        r#"{"totals":{"<key>#0":"[REDACTED]","<key>#1":"[REDACTED]"},"by":{"<key>#0":"[REDACTED]"},"tags":{"<key>#0":"[REDACTED]"},"fx":{"IDR":1,"USD":2,"2024-12-06":3,"cus_N2fr":4,"PAID":5}}"#
    );
    let listing = m.policies().expect("policies").undeclared().listing();
    let paths: Vec<&str> = listing
        .families
        .iter()
        .flat_map(|f| f.paths.iter().map(|(p, _)| p.as_str()))
        .collect();
    assert!(paths.contains(&"totals.<key>"), "{paths:?}");
    assert!(paths.contains(&"fx.IDR"), "{paths:?}");
}
