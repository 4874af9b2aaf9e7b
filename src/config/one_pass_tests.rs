//! One read finds every problem: N wrong values anywhere in the configuration
//! are N problems, each under its own key, from one `check`.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use super::{check, Layers, DEFAULT_TOML};

/// Every value of `config/default.toml` reached through tables (list elements
/// have no key of their own), by dotted key, with a value of another type.
fn wrong_values() -> Vec<(String, toml::Value)> {
    fn walk(table: &toml::Table, at: &str, out: &mut Vec<(String, toml::Value)>) {
        for (key, value) in table {
            let key = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            let wrong = match value {
                toml::Value::Table(inner) => {
                    walk(inner, &key, out);
                    continue;
                }
                toml::Value::Boolean(_) => toml::Value::String("maybe".into()),
                toml::Value::Integer(_) => toml::Value::String("many".into()),
                toml::Value::Float(_) => toml::Value::String("x".into()),
                toml::Value::String(_) => toml::Value::Array(vec![toml::Value::Integer(1)]),
                toml::Value::Array(_) => toml::Value::String("x".into()),
                toml::Value::Datetime(_) => continue,
            };
            out.push((key, wrong));
        }
    }
    let shipped: toml::Table = DEFAULT_TOML.parse().unwrap();
    let mut out = Vec::new();
    walk(&shipped, "", &mut out);
    // The one value the tests' own layer sets (client authentication off).
    out.retain(|(key, _)| key != "auth.mode");
    out
}

/// The problems one `check` finds with `wrong` over the defaults, by key.
fn problems_with(wrong: &[(String, toml::Value)]) -> BTreeMap<String, Vec<String>> {
    let mut layer = toml::Table::new();
    let mut auth = toml::Table::new();
    auth.insert("mode".into(), "none".into());
    layer.insert("auth".into(), toml::Value::Table(auth));
    for (key, value) in wrong {
        let (parents, last) = key.rsplit_once('.').unwrap();
        let mut at = &mut layer;
        for part in parents.split('.') {
            at = at
                .entry(part)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap();
        }
        at.insert(last.to_owned(), value.clone());
    }
    let layers = Layers {
        overlay: Some(toml::to_string(&layer).unwrap()),
        vars: Some(super::EnvLayer::default()),
        ..Layers::dir(Path::new("/nonexistent"), None)
    };
    let (_, problems) = check(&layers);
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in problems.into_vec() {
        by_key.entry(p.key).or_default().push(p.reason);
    }
    by_key
}

/// The problems of the tests' own layer (files it names that do not exist,
/// and what a missing key file means for the rules): not the wrong values'.
fn baseline() -> BTreeMap<String, Vec<String>> {
    problems_with(&[])
}

fn assert_one_each(wrong: &[(String, toml::Value)]) {
    let baseline = baseline();
    let mut found = problems_with(wrong);
    for (key, reasons) in &mut found {
        reasons.retain(|r| !baseline.get(key).is_some_and(|b| b.contains(r)));
    }
    found.retain(|_, reasons| !reasons.is_empty());
    let keys: Vec<&String> = wrong.iter().map(|(k, _)| k).collect();
    for (key, reasons) in &found {
        assert!(
            keys.contains(&key),
            "a problem under {key} ({reasons:?}), not one of the wrong keys"
        );
        assert_eq!(reasons.len(), 1, "{key}: {reasons:?}");
    }
    for key in keys {
        assert!(
            found.contains_key(key),
            "{key} is wrong and not named: {found:?}"
        );
    }
}

#[test]
fn the_tests_layer_alone_has_only_the_files_it_lacks() {
    let keys: Vec<String> = baseline().into_keys().collect();
    assert!(
        keys.iter()
            .all(|k| k.ends_with("_file") || k.starts_with("mask.rules[")),
        "{keys:?}"
    );
}

/// The class at once: every value of the defaults wrong in one layer, every
/// one named once, nothing else named.
#[test]
fn every_shipped_value_wrong_at_once_is_named_once_each() {
    let wrong = wrong_values();
    assert!(wrong.len() > 150, "{}", wrong.len());
    assert_one_each(&wrong);
}

/// Every duration of the defaults, given as longer than a year, is named once
/// each: such a value passed `check-config`, then `serve` panicked at start (a
/// cache refusing a lifetime over a thousand years: `upstream.timeout` is the
/// idempotency store's too).
#[test]
fn every_shipped_duration_over_a_year_is_named_once_each() {
    fn walk(table: &toml::Table, at: &str, out: &mut Vec<(String, toml::Value)>) {
        for (key, value) in table {
            let key = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(inner, &key, out),
                toml::Value::String(s) if humantime::parse_duration(s).is_ok() => {
                    out.push((key, toml::Value::String("99999999999h".into())))
                }
                _ => {}
            }
        }
    }
    let mut wrong = Vec::new();
    walk(&DEFAULT_TOML.parse().unwrap(), "", &mut wrong);
    assert!(wrong.len() > 25, "{wrong:?}");
    assert_one_each(&wrong);
}

/// A number TOML cannot hold (over `i64::MAX`) in the file layer: the merge
/// fails with neither key nor line ("number too large to fit in target type",
/// under the file's name), and every other problem of the configuration goes
/// unreported until it is found by hand.
#[test]
#[ignore = "review24: an out-of-range integer in a file is named by neither key nor line"]
fn an_integer_toml_cannot_hold_is_named_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    std::fs::write(
        &file,
        "[auth]\nmode = \"none\"\n[server]\nmax_request_body_bytes = 18446744073709551615\n",
    )
    .unwrap();
    let layers = Layers {
        file: Some(file),
        vars: Some(super::EnvLayer::default()),
        ..Layers::dir(Path::new("/nonexistent"), None)
    };
    let text: Vec<String> = check(&layers)
        .1
        .into_vec()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("line 4") || t.contains("server.max_request_body_bytes")),
        "{text:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any few of them, scattered over the sections: exactly as many problems.
    #[test]
    fn n_wrong_values_are_n_problems(
        picked in proptest::sample::subsequence(wrong_values(), 1..12)
    ) {
        assert_one_each(&picked);
    }
}
