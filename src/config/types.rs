//! A TOML layer's values have the types of the shipped defaults. The `config`
//! crate converts between types on read (`"true"` to a boolean, `5` to the
//! string `"5"`, `"30"` to a number): right for the environment layer, whose
//! values are all strings, but in a file it hides a mistake (a quoted boolean,
//! a number where text was meant). A TOML layer says what type it means, so a
//! value whose type differs from the default's at the same key is refused,
//! naming both. Keys the defaults do not hold are left to their section's
//! check.

use crate::problems::Problem;

/// Every value in `layer` (a TOML document, named `source` in the problems)
/// whose type is not the shipped default's at the same key. An integer where
/// the default is a float is a number either way and passes.
pub fn problems(layer: &str, source: &str) -> Vec<Problem> {
    let (Ok(given), Ok(shipped)) = (
        layer.parse::<toml::Table>(),
        crate::defaults::DEFAULT_TOML.parse::<toml::Table>(),
    ) else {
        // A layer that does not parse is reported by the merge, with its position.
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&given, &shipped, "", source, &mut out);
    out
}

fn walk(
    given: &toml::Table,
    shipped: &toml::Table,
    at: &str,
    source: &str,
    out: &mut Vec<Problem>,
) {
    for (key, value) in given {
        let Some(default) = shipped.get(key) else {
            continue;
        };
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match (value, default) {
            (toml::Value::Table(g), toml::Value::Table(s)) => walk(g, s, &path, source, out),
            (toml::Value::Array(g), toml::Value::Array(s)) => elements(g, s, &path, source, out),
            (v, d) => compare(v, d, Shipped::Default, path, source, out),
        }
    }
}

/// The elements of a list, each against the shape of the shipped elements
/// (`[[mask.rules]]`, `[[idempotency.routes]]`, a list of strings): what one
/// shipped element holds at a key, every element holds there. A shipped list
/// whose elements disagree on a key's type says nothing about that key.
fn elements(
    given: &[toml::Value],
    shipped: &[toml::Value],
    at: &str,
    source: &str,
    out: &mut Vec<Problem>,
) {
    let mut shape = toml::Table::new();
    let mut mixed: Vec<String> = Vec::new();
    for table in shipped.iter().filter_map(toml::Value::as_table) {
        for (key, value) in table {
            match shape.get(key) {
                Some(seen) if seen.type_str() != value.type_str() => mixed.push(key.clone()),
                Some(_) => {}
                None => {
                    shape.insert(key.clone(), value.clone());
                }
            }
        }
    }
    for key in &mixed {
        shape.remove(key);
    }
    let scalar = match shipped {
        [first, rest @ ..]
            if !first.is_table()
                && !first.is_array()
                && rest.iter().all(|v| v.type_str() == first.type_str()) =>
        {
            Some(first)
        }
        _ => None,
    };
    for (i, value) in given.iter().enumerate() {
        let path = format!("{at}[{i}]");
        match (value, scalar) {
            (toml::Value::Table(g), _) if !shape.is_empty() => {
                elements_of(g, &shape, &path, source, out)
            }
            (v, Some(d)) => compare(v, d, Shipped::Element, path, source, out),
            _ => {}
        }
    }
}

/// One element of a list of tables against the shipped elements' shape. Only a
/// scalar of another scalar type is named here (the silent conversion this
/// check exists for); a table or a list where a scalar is shipped (a rule's
/// `strategy = { keep_last = 4 }`) is the section's reader's to judge.
fn elements_of(
    given: &toml::Table,
    shape: &toml::Table,
    at: &str,
    source: &str,
    out: &mut Vec<Problem>,
) {
    for (key, value) in given {
        let Some(default) = shape.get(key) else {
            continue;
        };
        let path = format!("{at}.{key}");
        match (value, default) {
            (toml::Value::Table(g), toml::Value::Table(s)) => walk(g, s, &path, source, out),
            (toml::Value::Array(g), toml::Value::Array(s)) => elements(g, s, &path, source, out),
            (toml::Value::Table(_) | toml::Value::Array(_), _) => {}
            (v, d) => compare(v, d, Shipped::Element, path, source, out),
        }
    }
}

/// What the shipped value a layer's value is compared with is.
#[derive(Clone, Copy)]
enum Shipped {
    /// The default at the same key.
    Default,
    /// A shipped element of the same list: the operator's element has no default.
    Element,
}

/// `value` at `path` against the shipped `default`: of its type, or named.
fn compare(
    value: &toml::Value,
    default: &toml::Value,
    shipped: Shipped,
    path: String,
    source: &str,
    out: &mut Vec<Problem>,
) {
    match (value, default) {
        (toml::Value::Integer(_), toml::Value::Float(_)) => {}
        (v, d) if v.type_str() == d.type_str() => {}
        // The value itself is not quoted: a wrong-typed value may be a secret
        // (`token = 1234…` unquoted); the shipped default is not one.
        (v, d) => {
            let (given, wanted) = (article(v.type_str()), article(d.type_str()));
            let reason = match shipped {
                Shipped::Default => format!(
                    "{given} in {source}, where the default ({d}) is {wanted}: write it as {wanted}"
                ),
                Shipped::Element => format!(
                    "{given} in {source}, where the shipped entries (like {d}) hold {wanted}: \
                     write it as {wanted}"
                ),
            };
            out.push(Problem::new(path, reason))
        }
    }
}

/// "a string", "an integer", … for TOML's own type names.
fn article(type_str: &str) -> String {
    let noun = match type_str {
        "string" => "string",
        "integer" => "integer",
        "float" => "number",
        "boolean" => "boolean (true or false, unquoted)",
        "datetime" => "date-time",
        "array" => "list",
        "table" => "table",
        other => other,
    };
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

#[cfg(test)]
mod tests {
    use super::problems;

    #[test]
    fn a_value_of_another_type_than_the_default_is_named_with_both() {
        let found = problems(
            "[cache]\nenabled = \"true\"\n[mask]\nplaceholder = 5\n",
            "prod.toml",
        );
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["cache.enabled", "mask.placeholder"]);
        let reason = &found[0].reason;
        assert!(reason.contains("a string in prod.toml"), "{reason}");
        assert!(reason.contains("a boolean"), "{reason}");
        assert!(
            found[1].reason.contains("an integer in prod.toml"),
            "{}",
            found[1].reason
        );
    }

    /// A secret written with the wrong type is named by its key, never quoted.
    #[test]
    fn a_wrong_typed_value_is_never_quoted() {
        let found = problems(
            "[upstream]
token = 918273645546372819
",
            "prod.toml",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "upstream.token");
        assert!(
            !found[0].reason.contains("918273645546372819"),
            "{}",
            found[0].reason
        );
    }

    #[test]
    fn the_defaults_own_types_pass_and_unknown_keys_are_left_to_their_section() {
        let layer = crate::defaults::DEFAULT_TOML;
        assert!(problems(layer, "default.toml").is_empty());
        // An integer where a float is shipped is still a number.
        assert!(problems("[telemetry]\nsampling_ratio = 1\n", "f").is_empty());
        assert!(problems("[cache.routes.new_route]\nttl = 5\n[nowhere]\nx = 1\n", "f").is_empty());
        assert!(problems("not toml [", "f").is_empty());
    }

    #[test]
    fn every_shipped_scalar_refuses_a_value_of_each_other_type() {
        // Class, not examples: for each key of the defaults, a value of each
        // other scalar type is named.
        let shipped: toml::Table = crate::defaults::DEFAULT_TOML.parse().unwrap();
        let samples = [
            toml::Value::String("x".into()),
            toml::Value::Integer(7),
            toml::Value::Boolean(true),
            toml::Value::Array(Vec::new()),
        ];
        let mut checked = 0;
        for (section, table) in &shipped {
            let Some(table) = table.as_table() else {
                continue;
            };
            for (key, default) in table {
                if default.is_table() {
                    continue;
                }
                for sample in &samples {
                    let same = sample.type_str() == default.type_str()
                        || (sample.is_integer() && default.is_float());
                    let mut layer = toml::Table::new();
                    let mut inner = toml::Table::new();
                    inner.insert(key.clone(), sample.clone());
                    layer.insert(section.clone(), toml::Value::Table(inner));
                    let found = problems(&toml::to_string(&layer).unwrap(), "f");
                    assert_eq!(found.is_empty(), same, "{section}.{key} = {sample}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }
}
