//! Properties of the `enforce` side of the field policy, under the shipped configuration:
//! - keys: on an `enforce` family every key a client receives is on a declared path, a named
//!   rule's field (its value masked by the rule) or the gateway's own `<…>#N`, whatever
//!   upstream wrote and whatever the value (`null`, `{}`, `[]`);
//! - kinds: text a person writes (names, addresses, dates of birth, digit runs), put at any
//!   declared path, never leaves;
//! - the customer object: extra fields inside it, wherever a customer family's answer holds
//!   it (`data`, `data[]`, `data.items[]`, `data.data`), never leave;
//! - containers under partial-reveal and digest rules: a value split across array elements
//!   shows no more than `last4` shows of the whole, and its digest is no codebook;
//! - policy choice: a path's policy does not depend on the method, and is `enforce` whenever
//!   any method's route at that path is.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::default_masker;
use crate::mask::keynorm::fold_key;
use crate::mask::policy::{DeclaredPaths, Mode, PolicyFamily};

const ENFORCED: [PolicyFamily; 3] = [
    PolicyFamily::CustomerDetail,
    PolicyFamily::WalletReady,
    PolicyFamily::Customer,
];

fn mask(family: PolicyFamily, doc: &Value) -> String {
    let m = default_masker();
    let out = m
        .mask_for(doc.to_string().as_bytes(), family)
        .expect("maskable");
    String::from_utf8(out.body.to_vec()).expect("utf-8")
}

/// Whether `k` is one of the shipped rules' field names, once folded.
fn rule_name(k: &str) -> bool {
    let folded = fold_key(k);
    crate::mask::default_config()
        .rules
        .iter()
        .filter_map(|r| r.field.as_deref())
        .any(|f| fold_key(f) == folded)
}

/// Every key of `v` is a step on `d`'s declared paths (followed from `node`), a named rule's
/// field or a placeholder.
fn keys_are_declared_or_ours(
    d: &DeclaredPaths,
    node: Option<u32>,
    v: &Value,
) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let child = node.and_then(|n| d.child(n, k));
                let ours = k.starts_with('<') && k.contains(">#");
                if child.is_none() && !ours && !rule_name(k) {
                    return Err(format!("key {k:?} copied"));
                }
                keys_are_declared_or_ours(d, child, x)?;
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .try_for_each(|x| keys_are_declared_or_ours(d, node, x)),
        _ => Ok(()),
    }
}

/// A name-like key (what `enforce` used to copy) or a documented one.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "Seed[A-Z][a-z]{3,8}",
        "seed_[a-z]{3,8}",
        prop::sample::select(
            &[
                "customer_id",
                "type",
                "individual",
                "first_name",
                "firstName",
                "data",
                "items",
                "missing_field"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

fn doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        Just(json!({})),
        Just(json!([])),
        Just(json!(true)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|e| Value::Object(e.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Text a person writes: no kind that copies a value fits it.
fn personal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "Seed[A-Z][a-z]{3,8}",
        "Seed[A-Z][a-z]{3,8} [A-Z][a-z]{3,8}",
        "Jalan Seed[a-z]{3,6} [1-9][0-9]?, Jakarta",
        "19[5-9][0-9]-0[1-9]-1[0-9]",
        "08[1-9][0-9]{8,9}",
        "3173[0-9]{12}",
        "VIP: Seed[A-Z][a-z]{3,8}",
    ]
}

/// `value` placed at dotted `path` (from the root).
fn at_path(path: &str, value: Value) -> Value {
    path.rsplit('.')
        .fold(value, |v, seg| json!({ seg.trim_end_matches("[]"): v }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn enforce_copies_only_declared_keys(d in doc(), wrap in any::<bool>()) {
        let doc = if wrap { json!({"status": true, "data": d}) } else { d };
        let policies = crate::mask::default_settings().policies;
        for family in ENFORCED {
            let out = mask(family, &doc);
            let v: Value = serde_json::from_str(&out).expect("JSON");
            let decl = &policies.for_family(family).declared;
            if let Err(e) = keys_are_declared_or_ours(decl, Some(decl.root()), &v) {
                prop_assert!(false, "{:?}: {} in {}", family, e, out);
            }
            prop_assert!(!out.contains("Seed") && !out.contains("seed_"), "{:?}: {}", family, out);
        }
    }

    #[test]
    fn personal_text_at_any_declared_path_never_leaves(
        text in personal_text(),
        pick in any::<prop::sample::Index>(),
    ) {
        let policies = crate::mask::default_settings().policies;
        for family in ENFORCED {
            let paths = policies.for_family(family).declared.paths();
            let (path, _) = pick.get(&paths);
            let out = mask(family, &at_path(path, Value::String(text.clone())));
            prop_assert!(!out.contains(&text), "{:?} {}: {}", family, path, out);
        }
    }

    #[test]
    fn the_customer_object_is_enforced_in_every_customer_answer(
        extra in "seed_[a-z]{3,8}",
        text in personal_text(),
        shape in 0usize..4,
        inside in any::<bool>(),
    ) {
        let mut customer = json!({
            "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
            "type": "individual",
            "individual": {"first_name": "Kim"},
        });
        let holder = if inside { &mut customer["individual"] } else { &mut customer };
        holder[extra.as_str()] = Value::String(text.clone());
        let data = match shape {
            0 => customer,
            1 => json!([customer]),
            2 => json!({"items": [customer], "page": 1, "total_items": 1}),
            _ => json!({"request_id": "3f2b8c1e-9a4d", "success": true, "data": customer}),
        };
        let doc = json!({"status": true, "message": "OK", "data": data});
        for family in [PolicyFamily::Customer, PolicyFamily::CustomerDetail] {
            let out = mask(family, &doc);
            prop_assert!(!out.contains(&text) && !out.contains(&extra), "{:?}: {}", family, out);
        }
        // What a client needs of the object is kept.
        let out = mask(PolicyFamily::Customer, &doc);
        prop_assert!(out.contains("customer_67d84b19d50b490a8fa75ab20bbf275a"), "{}", out);
    }

    #[test]
    fn a_split_value_shows_no_more_than_the_whole_would(
        digits in "[0-9]{12,20}",
        cuts in prop::collection::vec(1usize..6, 1..8),
        numbers in any::<bool>(),
        nested in any::<bool>(),
    ) {
        // Split `digits` into pieces of the drawn lengths (the rest in the last one).
        let mut pieces = Vec::new();
        let mut rest = digits.as_str();
        for c in cuts {
            if rest.len() <= c {
                break;
            }
            let (a, b) = rest.split_at(c);
            pieces.push(a.to_owned());
            rest = b;
        }
        pieces.push(rest.to_owned());
        let elems: Vec<Value> = pieces
            .iter()
            .map(|p| match p.trim_start_matches('0').parse::<u64>() {
                Ok(n) if numbers && !p.starts_with('0') => Value::from(n),
                _ => Value::String(p.clone()),
            })
            .collect();
        let arr = if nested { json!([elems, []]) } else { Value::Array(elems) };
        for key in ["account_number", "phone_number", "customer_phone", "bsb"] {
            let out = mask(PolicyFamily::Payin, &json!({ key: arr.clone() }));
            let shown = out.bytes().filter(u8::is_ascii_digit).count();
            prop_assert!(shown <= 4, "{}: {} digits in {}", key, shown, out);
        }
        // A digest of the whole, never of a piece: no piece's own digest appears.
        let out = mask(
            PolicyFamily::Payin,
            &json!({ "identification_value": arr.clone(), "payer_id": pieces[0].clone() }),
        );
        let v: Value = serde_json::from_str(&out).expect("JSON");
        let piece = v["payer_id"].as_str().expect("digest").to_owned();
        let whole = v["identification_value"].as_str().expect("one digest");
        prop_assert!(whole.starts_with("hmac_") && whole != piece, "{}", out);
    }

    #[test]
    fn a_paths_policy_is_the_same_for_every_method(
        rest in prop::sample::select(&[
            "customer/customer/customer_1",
            "customer/customer-wallet-is-ready/customer_1",
            "customer/customer",
            "customer/create",
            "customer/update",
            "customer/enable/customer_1",
            "customer/disable/customer_1",
            "payin/retrieve-payin/p1",
            "payout/beneficiary",
            "nothing/known",
        ][..]),
        method in prop::sample::select(&["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"][..]),
    ) {
        let path = format!("/api/v1/{rest}");
        let policies = crate::mask::default_settings().policies;
        let chosen = PolicyFamily::of_path(&path);
        let m = http::Method::from_bytes(method.as_bytes()).expect("method");
        let by_method = PolicyFamily::of(&crate::route::Route::classify(&m, &path));
        // The method's own route never names a stricter policy than the path's.
        if policies.for_family(by_method).mode == Mode::Enforce {
            prop_assert_eq!(policies.for_family(chosen).mode, Mode::Enforce, "{} {}", method, path);
        }
    }
}
