//! The clients file's shape: wrong types and missing keys are listed with every other problem,
//! under their dotted paths, and never converted silently.

use super::*;

/// A sound file in which the value at `slot` (a dotted path of the file) is `value`.
fn with_value(slot: &str, value: &str) -> String {
    let template = "[defaults]
rate_limit = { per_second = <defaults.rate_limit.per_second>, burst = 10 }
[[clients]]
name = <clients[0].name>
keys_sha256 = <clients[0].keys_sha256>
subjects = <clients[0].subjects>
rate_limit = { per_second = 1, burst = <clients[0].rate_limit.burst> }
allow = [{ methods = <clients[0].allow[0].methods>, path = <clients[0].allow[0].path> }]
";
    let sound = [
        ("defaults.rate_limit.per_second", "5".to_owned()),
        ("clients[0].name", "\"svc\"".to_owned()),
        ("clients[0].keys_sha256", format!("[{:?}]", hash_key("k"))),
        ("clients[0].subjects", "[\"dns:svc.internal\"]".to_owned()),
        ("clients[0].rate_limit.burst", "2".to_owned()),
        ("clients[0].allow[0].methods", "[\"GET\"]".to_owned()),
        ("clients[0].allow[0].path", "\"/api/**\"".to_owned()),
    ];
    assert!(sound.iter().any(|(s, _)| *s == slot), "no slot {slot}");
    sound.iter().fold(template.to_owned(), |file, (s, v)| {
        file.replace(&format!("<{s}>"), if *s == slot { value } else { v })
    })
}

/// Every key of the file, with a value of each type it must not hold: exactly one problem,
/// naming the key's path and the expected type, and never the value.
#[test]
fn every_key_refuses_every_other_type_by_its_path() {
    // The template itself is sound.
    registry(&with_value("clients[0].name", "\"svc\""));
    let slots = [
        ("defaults.rate_limit.per_second", "a whole number"),
        ("clients[0].name", "a string"),
        ("clients[0].keys_sha256", "a list of strings"),
        ("clients[0].subjects", "a list of strings"),
        ("clients[0].rate_limit.burst", "a whole number"),
        ("clients[0].allow[0].methods", "a list of strings"),
        ("clients[0].allow[0].path", "a string"),
    ];
    let wrong = [
        "\"Secret-Value-9\"",
        "7",
        "true",
        "1.5",
        "[7]",
        "{ a = 7 }",
        "-1",
        "4294967296",
    ];
    for (slot, expected) in slots {
        for value in wrong {
            let fits = match expected {
                "a string" => value.starts_with('"'),
                "a whole number" => value == "7",
                _ => false,
            };
            if fits {
                continue;
            }
            let file = with_value(slot, value);
            let err = config_error(&file);
            let each: Vec<String> = err.each().iter().map(|e| e.to_string()).collect();
            // An element of a list has its own path (`keys_sha256[0]`).
            let mine: Vec<&String> = each
                .iter()
                .filter(|e| e.contains(&format!("`{slot}")))
                .collect();
            assert_eq!(mine.len(), 1, "{slot} = {value}: {each:#?}\n{file}");
            // A list of the wrong element type is refused at its element.
            let expected = if value == "[7]" && expected == "a list of strings" {
                "is not a string"
            } else {
                expected
            };
            assert!(mine[0].contains(expected), "{slot} = {value}: {mine:?}");
            assert!(!mine[0].contains("Secret-Value"), "value echoed: {mine:?}");
            assert_eq!(each.len(), 1, "{slot} = {value}: {each:#?}");
        }
    }
}

/// The `config` crate converts strings to numbers and numbers to strings; the file's types
/// are the file's, so neither is accepted.
#[test]
fn no_value_is_converted_to_its_key_type() {
    for (slot, value) in [
        ("clients[0].rate_limit.burst", "\"10\""),
        ("defaults.rate_limit.per_second", "\"5\""),
        ("clients[0].name", "5"),
        ("clients[0].allow[0].path", "true"),
    ] {
        let err = config_error(&with_value(slot, value));
        assert!(
            matches!(&err, AuthConfigError::WrongType { key, .. } if key == slot),
            "{slot} = {value}: {err}"
        );
    }
}

/// Wrong types, a missing key, an unknown key and a validation problem of another client, all
/// in one answer: an operator fixes the file in one pass.
#[test]
fn wrong_types_are_listed_with_every_other_problem() {
    let toml = format!(
        "[defaults]
rate_limit = {{ per_second = \"ten\" }}
[[clients]]
name = \"a\"
keys_sha256 = [{k:?}]
rate_limit = {{ per_second = 1, burst = \"x\" }}
allow = [{{ methods = \"GET\", path = \"/api/**\" }}]
[[clients]]
keys_sha256 = [{k2:?}]
allow = [{{ methods = [\"GET\"], path = \"/api/**\" }}]
[[clients]]
name = \"Bad Name\"
keys_sha256 = [{k3:?}]
colour = \"blue\"
allow = [{{ methods = [\"GET\"], path = \"/api/**\" }}]
",
        k = hash_key("k1"),
        k2 = hash_key("k2"),
        k3 = hash_key("k3"),
    );
    let err = config_error(&toml);
    let each: Vec<String> = err.each().iter().map(|e| e.to_string()).collect();
    for want in [
        "`defaults.rate_limit.per_second`: is not a whole number",
        "`clients[0].rate_limit.burst`: is not a whole number",
        "`clients[0].allow[0].methods`: is not a list of strings",
        "`clients[1].name`: missing",
        "`clients[2].colour`: unknown key",
        "clients[2] (\"Bad Name\"): name must be",
    ] {
        assert!(each.iter().any(|e| e.contains(want)), "{want}: {each:#?}");
    }
    assert_eq!(each.len(), 6, "{each:#?}");
}

/// A file that is not tables at all, or whose clients are not an array of tables, says so
/// (and not that it defines no clients).
#[test]
fn a_misshapen_top_level_says_what_it_expected() {
    let err = config_error("clients = \"svc\"\n");
    let each: Vec<String> = err.each().iter().map(|e| e.to_string()).collect();
    assert_eq!(each.len(), 1, "{each:#?}");
    assert!(
        each[0].contains("`clients`: is not a list of tables"),
        "{each:#?}"
    );
}
