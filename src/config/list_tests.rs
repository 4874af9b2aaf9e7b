//! Lists of tables (`[[mask.rules]]`, `[[mask.passthrough]]`,
//! `[[idempotency.routes]]`) and lists of values in a layer: each element's
//! wrong value named under its index, in the same one read as the rest.

use std::collections::BTreeMap;
use std::path::Path;

use super::{check, Layers, DEFAULT_TOML};

/// Every problem one `check` finds with `layer` (TOML) over the defaults, by key.
fn problems(layer: &str) -> BTreeMap<String, Vec<String>> {
    let layers = Layers {
        overlay: Some(format!("[auth]\nmode = \"none\"\n{layer}")),
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

/// A scalar of another scalar type than `v`, which the reader would convert
/// without a word (a number or a boolean where text is asked becomes text; a
/// boolean's or a number's text where one is asked becomes it).
fn other_scalar(v: &toml::Value) -> Option<toml::Value> {
    Some(match v {
        toml::Value::String(_) => toml::Value::Integer(5),
        toml::Value::Boolean(b) => toml::Value::String(b.to_string()),
        toml::Value::Integer(n) => toml::Value::String(n.to_string()),
        toml::Value::Float(f) => toml::Value::String(f.to_string()),
        _ => return None,
    })
}

/// The shipped lists of tables, by dotted key.
fn shipped_lists() -> Vec<(String, Vec<toml::Table>)> {
    fn walk(table: &toml::Table, at: &str, out: &mut Vec<(String, Vec<toml::Table>)>) {
        for (key, value) in table {
            let key = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(inner, &key, out),
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                    let tables: Vec<toml::Table> =
                        items.iter().filter_map(|v| v.as_table().cloned()).collect();
                    if !tables.is_empty() {
                        out.push((key, tables));
                    }
                }
                _ => {}
            }
        }
    }
    let shipped: toml::Table = DEFAULT_TOML.parse().unwrap();
    let mut out = Vec::new();
    walk(&shipped, "", &mut out);
    out
}

/// `value` at dotted `key` of a layer.
fn layer_with(entries: &[(&str, toml::Value)]) -> String {
    let mut layer = toml::Table::new();
    for (key, value) in entries {
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
    toml::to_string(&layer).unwrap()
}

/// The class: in every shipped list of tables, each element given one scalar
/// of another scalar type (the shipped elements, element `i` with its `i`-th
/// scalar key changed) is named under `list[i].key`, once, all in one read.
#[test]
fn every_list_element_key_of_another_type_is_named_once() {
    let lists = shipped_lists();
    let names: Vec<&str> = lists.iter().map(|(k, _)| k.as_str()).collect();
    for expected in ["mask.passthrough", "mask.rules", "idempotency.routes"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let mut entries = Vec::new();
    let mut wrong = Vec::new();
    for (key, tables) in &lists {
        let mut scalars: Vec<String> = Vec::new();
        for t in tables {
            for (k, v) in t {
                if other_scalar(v).is_some() && !scalars.contains(k) {
                    scalars.push(k.clone());
                }
            }
        }
        let mut items = Vec::new();
        for (i, k) in scalars.iter().enumerate() {
            let mut element = tables[i % tables.len()].clone();
            let Some(v) = element.get(k).and_then(other_scalar) else {
                continue;
            };
            element.insert(k.clone(), v);
            items.push(toml::Value::Table(element));
            wrong.push(format!("{key}[{}].{k}", items.len() - 1));
        }
        entries.push((key.as_str(), toml::Value::Array(items)));
    }
    assert!(wrong.len() >= 8, "{wrong:?}");
    let found = problems(&layer_with(&entries));
    for key in &wrong {
        let reasons = found.get(key);
        assert_eq!(
            reasons.map(Vec::len),
            Some(1),
            "{key} is wrong: {reasons:?} (all: {found:?})"
        );
    }
}

#[test]
fn a_number_where_a_rule_names_a_field_is_named_never_read_as_text() {
    let found = problems("[[mask.rules]]\nfield = 5\nstrategy = \"redact\"\n");
    let reason = &found["mask.rules[0].field"][0];
    assert!(reason.contains("an integer"), "{reason}");
    assert!(reason.contains("a string"), "{reason}");
    // The keep_last strategy is a table where the shipped rules hold names: its
    // shape is the reader's to judge, and it is a sound one.
    let found = problems(
        "[[mask.rules]]\nfield = \"a\"\nstrategy = { keep_last = 4 }\n\
         [[idempotency.routes]]\nname = \"r\"\nmethod = \"POST\"\npath = \"/api/v1/x\"\n",
    );
    assert!(
        !found.keys().any(|k| k.starts_with("mask.rules[0]")),
        "{found:?}"
    );
    assert!(
        !found.keys().any(|k| k.starts_with("idempotency")),
        "{found:?}"
    );
}

#[test]
fn a_list_of_values_names_each_element_of_another_type() {
    let found = problems("[upstream]\nstrip_request_headers = [\"cookie\", 5, true]\n");
    assert!(
        found.contains_key("upstream.strip_request_headers[1]"),
        "{found:?}"
    );
    assert!(
        found.contains_key("upstream.strip_request_headers[2]"),
        "{found:?}"
    );
    assert!(
        !found.contains_key("upstream.strip_request_headers[0]"),
        "{found:?}"
    );
}

/// Elements that are not tables are each named, and the elements after them
/// are still read: one read, every problem.
#[test]
fn elements_that_are_not_tables_do_not_hide_the_rest() {
    let found = problems(
        "[mask]\nrules = [1, \"x\", { field = \"a\", strategy = \"nope\" }]\n\
         [idempotency]\nroutes = [true, { name = \"r\", method = \"POST\", path = \"/api/v1/x\", require = \"maybe\" }]\n",
    );
    for key in [
        "mask.rules[0]",
        "mask.rules[1]",
        "mask.rules[2].strategy",
        "idempotency.routes[0]",
        "idempotency.routes[1].require",
    ] {
        assert!(found.contains_key(key), "{key}: {found:?}");
    }
}

/// Through the environment too: a list of tables given as a list of words.
#[test]
fn a_list_of_tables_given_as_words_names_every_word() {
    let layers = Layers {
        overlay: Some("[auth]\nmode = \"none\"\n".into()),
        vars: Some(super::EnvLayer::from_vars([(
            "GATEWAY__MASK__RULES",
            "a,b",
        )])),
        ..Layers::dir(Path::new("/nonexistent"), None)
    };
    let keys: Vec<String> = check(&layers)
        .1
        .into_vec()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert!(keys.contains(&"mask.rules[0]".to_owned()), "{keys:?}");
    assert!(keys.contains(&"mask.rules[1]".to_owned()), "{keys:?}");
}

/// A required key missing from one element abandons the list (a serde visitor
/// cannot be handed a second value), so another element's wrong value is
/// found only on the next run.
#[test]
#[ignore = "review24: a missing key in one list element hides the other elements' problems"]
fn a_missing_key_in_one_element_does_not_hide_the_next() {
    let found = problems(
        "[[idempotency.routes]]\nname = \"a\"\n\
         [[idempotency.routes]]\nname = \"b\"\nmethod = \"POST\"\npath = \"/api/v1/x\"\nrequire = \"maybe\"\n",
    );
    for key in [
        "idempotency.routes[0].method",
        "idempotency.routes[0].path",
        "idempotency.routes[1].require",
    ] {
        assert!(found.contains_key(key), "{key}: {found:?}");
    }
}

/// A reader problem in one element sets the whole list aside, so the list's
/// own checks (a duplicate field, an empty one) are not run on the others.
#[test]
#[ignore = "review24: one wrong element hides the list's own checks of the other elements"]
fn one_wrong_element_does_not_hide_the_lists_checks() {
    let found = problems(
        "[[mask.rules]]\nfield = \"a\"\nstrategy = \"redact\"\n\
         [[mask.rules]]\nfield = \"a\"\nstrategy = \"redact\"\n\
         [[mask.rules]]\nfield = \"b\"\nstrategy = \"bogus\"\n",
    );
    assert!(found.contains_key("mask.rules[2].strategy"), "{found:?}");
    assert!(found.contains_key("mask.rules[1]"), "{found:?}");
}
