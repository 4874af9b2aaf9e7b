//! What is wrong with a configuration: every problem at once, each under its
//! dotted key with a reason an operator can act on. Validation of every section
//! goes through [`Problems::check`], so a value is checked and its key named in
//! one way everywhere.

use std::fmt;

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key (`mask.rules[0].strategy`); for a layer that is not TOML at
    /// all, the layer (its file, or `GATEWAY_ENV`).
    pub key: String,
    /// Plain words: what is wrong and, where it helps, what is accepted.
    pub reason: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, reason: impl fmt::Display) -> Problem {
        Problem {
            key: key.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.reason)
    }
}

/// A configuration that cannot be used, with everything wrong in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    pub fn new(problems: Vec<Problem>) -> ConfigError {
        ConfigError { problems }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration:")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems while every section is checked, so one run reports them all.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, key: impl Into<String>, reason: impl fmt::Display) {
        self.0.push(Problem::new(key, reason));
    }

    /// The checked value, or `None` once the reason is noted under `key`.
    pub fn check<T, E: fmt::Display>(&mut self, key: &str, checked: Result<T, E>) -> Option<T> {
        checked.map_err(|e| self.add(key, e)).ok()
    }

    pub fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.0.extend(problems);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Keeps, of the problems noted since the first `from`, those `keep` accepts.
    pub fn retain_since(&mut self, from: usize, mut keep: impl FnMut(&Problem) -> bool) {
        let mut i = 0;
        self.0.retain(|problem| {
            i += 1;
            i <= from || keep(problem)
        });
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }

    /// `value` when nothing was noted. A section that checked clean always has
    /// its value, so `None` without a problem is a defect in the checks.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ConfigError> {
        match (self.0.is_empty(), value) {
            (true, Some(v)) => Ok(v),
            (true, None) => Err(ConfigError::new(vec![Problem::new(
                "configuration",
                "rejected without a reason (a defect in the gateway)",
            )])),
            (false, _) => Err(ConfigError::new(self.0)),
        }
    }
}

/// Greater than zero.
pub fn positive<T: PartialOrd + Default + Copy>(v: T) -> Result<T, &'static str> {
    if v > T::default() {
        Ok(v)
    } else {
        Err("must be greater than zero")
    }
}

/// `"x" is not one of "a", "b"`: the wording for every closed set of names.
pub fn not_one_of(value: &str, names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("{value:?} is not one of {}", names.join(", "))
}

/// Deserializes one of a closed set of names, refusing others in plain words
/// (serde's derive would name the Rust type instead).
pub fn choice<'de, D, T>(d: D, options: &[(&str, T)]) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Copy,
{
    let s = <String as serde::Deserialize>::deserialize(d)?;
    options
        .iter()
        .find(|(name, _)| *name == s)
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|&(n, _)| n).collect();
            serde::de::Error::custom(not_one_of(&s, &names))
        })
}

/// An error of the `config` crate met while reading section `section`, as a
/// problem: the whole dotted key, and serde's wording made plain (no Rust
/// type names, a missing key or an unknown one said as such).
pub fn from_config_error(section: &str, e: &config::ConfigError) -> Problem {
    use config::ConfigError as E;
    match e {
        E::Type {
            unexpected,
            expected,
            key,
            ..
        } => Problem::new(
            join(section, key.as_deref()),
            not_a(&unexpected.to_string(), expected),
        ),
        E::At { error, key, .. } => from_config_error(&join(section, key.as_deref()), error),
        E::NotFound(key) => Problem::new(join(section, Some(key)), "is required"),
        E::Message(m) => from_message(section, m),
        E::FileParse { uri, cause } => {
            Problem::new(uri.clone().unwrap_or_else(|| section.to_owned()), cause)
        }
        other => Problem::new(section, other),
    }
}

/// serde's own messages (its wording is stable), rephrased.
fn from_message(at: &str, m: &str) -> Problem {
    let quoted = |rest: &str| {
        rest.strip_prefix('`')?
            .split_once('`')
            .map(|(k, r)| (k.to_owned(), r.to_owned()))
    };
    if let Some((field, rest)) = m.strip_prefix("unknown field ").and_then(quoted) {
        let reason = match rest.strip_prefix(", expected ") {
            Some(known) => format!("unknown key (expected {known})"),
            None => "unknown key".to_owned(),
        };
        return Problem::new(join(at, Some(&field)), reason);
    }
    if let Some((field, _)) = m.strip_prefix("missing field ").and_then(quoted) {
        return Problem::new(join(at, Some(&field)), "is required");
    }
    for kind in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = m
            .strip_prefix(kind)
            .and_then(|r| r.split_once(", expected "))
        {
            return Problem::new(at, not_a(found, expected));
        }
    }
    Problem::new(at, m)
}

/// `"soon" is not a duration …`, from serde's "found" and "expected" halves.
fn not_a(found: &str, expected: &str) -> String {
    let found = plain_found(found);
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "an integer" => "a whole number",
        e if e.contains("unsigned") && e.contains("integer") => "a whole number, 0 or more",
        e if e.contains("integer") => "a whole number",
        "f32" | "f64" | "a floating point" => "a number",
        "bool" | "a boolean" => "true or false",
        "char" | "a character" => "a single character",
        "a duration" => "a duration like \"250ms\", \"10s\" or \"5m\"",
        "a map" => "a table",
        "an array" | "a sequence" => "a list",
        other => other,
    };
    format!("{found} is not {expected}")
}

fn plain_found(found: &str) -> String {
    let backticked = |s: &str| {
        s.strip_prefix('`')
            .and_then(|s| s.strip_suffix('`'))
            .map(str::to_owned)
    };
    for prefix in [
        "64-bit integer ",
        "64-bit unsigned integer ",
        "128-bit integer ",
        "128-bit unsigned integer ",
        "integer ",
        "floating point ",
        "boolean ",
        "char ",
    ] {
        if let Some(v) = found.strip_prefix(prefix).and_then(backticked) {
            return v;
        }
    }
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "a table".to_owned(),
        "unit value" => "an empty value".to_owned(),
        other => other.strip_prefix("string ").unwrap_or(other).to_owned(),
    }
}

/// `section` + `key` as one dotted key. The `config` crate writes an element's
/// field without its dot (`rules[0]strategy`); it gets one here.
fn join(section: &str, key: Option<&str>) -> String {
    let key = key.unwrap_or("");
    let mut out = String::with_capacity(section.len() + key.len() + 4);
    out.push_str(section);
    if !section.is_empty() && !key.is_empty() && !key.starts_with('[') {
        out.push('.');
    }
    let mut prev = None;
    for c in key.chars() {
        if prev == Some(']') && c != '[' && c != '.' {
            out.push('.');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// An error and its causes as one line, each cause once: many errors already
/// quote their source in their own message, and repeating it helps no one.
pub fn causes<'a>(
    chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut out = String::new();
    for e in chain {
        let text = e.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Sets aside the value at dotted `key` (relative to `root`) so the rest can
/// be read: the shipped default takes its place when `defaults` has one, else
/// it is removed. An element of a list takes the whole list with it. False when
/// there is no such value.
pub fn set_aside(root: &mut config::Value, defaults: &config::Value, key: &str) -> bool {
    let shipped = {
        let mut defaults = defaults.clone();
        parent(&mut defaults, key).and_then(|(table, last)| table.remove(last))
    };
    let Some((table, last)) = parent(root, key) else {
        return false;
    };
    match shipped {
        Some(v) => table.insert(last.to_owned(), v).is_some(),
        None => table.remove(last).is_some(),
    }
}

/// The value at dotted `key` (relative to `root`), if any.
pub fn value_at(root: &config::Value, key: &str) -> Option<config::ValueKind> {
    let mut root = root.clone();
    parent(&mut root, key)
        .and_then(|(table, last)| table.remove(last))
        .map(|v| v.kind)
}

/// The table holding the value at `key`, and that value's name in it.
fn parent<'a, 'k>(
    root: &'a mut config::Value,
    key: &'k str,
) -> Option<(&'a mut config::Map<String, config::Value>, &'k str)> {
    use config::ValueKind;
    let parts: Vec<(&str, Option<usize>)> = key
        .split('.')
        .map(|part| match part.split_once('[') {
            Some((field, rest)) => (field, rest.split(']').next().and_then(|i| i.parse().ok())),
            None => (part, None),
        })
        .collect();
    let ((last, _), path) = parts.split_last()?;
    let mut at = root;
    for (field, index) in path {
        let ValueKind::Table(table) = &mut at.kind else {
            return None;
        };
        let next = table.get_mut(*field)?;
        at = match index {
            None => next,
            Some(i) => match &mut next.kind {
                ValueKind::Array(items) => items.get_mut(*i)?,
                _ => return None,
            },
        };
    }
    match &mut at.kind {
        ValueKind::Table(table) => Some((table, last)),
        _ => None,
    }
}

/// The keys (relative to `value`) where the shipped default is a boolean but
/// the value given is not `true` or `false`, with the value as given. The
/// `config` crate would read "yes", "on", "1" as true; a boolean here is
/// strict, whichever layer it comes from, so a value that may have been
/// meant otherwise is refused rather than guessed. Tables are walked; lists
/// (whose elements have no shipped default) are not.
pub fn loose_bools(value: &config::Value, defaults: &config::Value) -> Vec<(String, String)> {
    use config::ValueKind;
    let mut out = Vec::new();
    let (ValueKind::Table(given), ValueKind::Table(shipped)) = (&value.kind, &defaults.kind) else {
        return out;
    };
    let mut keys: Vec<&String> = given.keys().collect();
    keys.sort();
    for key in keys {
        let (v, Some(d)) = (&given[key], shipped.get(key)) else {
            continue;
        };
        match (&v.kind, &d.kind) {
            (ValueKind::Boolean(_), ValueKind::Boolean(_)) => {}
            (ValueKind::String(s), ValueKind::Boolean(_))
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {}
            (other, ValueKind::Boolean(_)) => out.push((key.clone(), shown(other))),
            (ValueKind::Table(_), ValueKind::Table(_)) => out.extend(
                loose_bools(v, d)
                    .into_iter()
                    .map(|(k, s)| (format!("{key}.{k}"), s)),
            ),
            _ => {}
        }
    }
    out
}

fn shown(v: &config::ValueKind) -> String {
    match v {
        config::ValueKind::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
