//! What is wrong with a configuration: every problem at once, each under its
//! dotted key with a reason an operator can act on. Validation of every section
//! goes through [`Problems::check`], so a value is checked and its key named in
//! one way everywhere.
//!
//! A leaf: this module uses nothing of the crate, so every component can
//! validate its own section with it without depending on the config loader.
//! A component names keys relative to its section (`listen`, `tls.cert_file`);
//! the loader runs it under [`Problems::within`], which adds the section's
//! prefix (`server.listen`).

use std::fmt;

pub mod de;

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

    /// `v` when greater than zero, else a problem under `key`.
    pub fn positive<T: PartialOrd + Default + Copy>(&mut self, key: &str, v: T) -> Option<T> {
        self.check(key, positive(v))
    }

    /// Runs `check` (which names keys relative to `section`) and puts
    /// `section` in front of every key it noted: `listen` becomes
    /// `server.listen`, `[0].path` becomes `passthrough[0].path`.
    pub fn within<T>(&mut self, section: &str, check: impl FnOnce(&mut Problems) -> T) -> T {
        let from = self.0.len();
        let out = check(self);
        for p in &mut self.0[from..] {
            p.key = prefixed(section, &p.key);
        }
        out
    }

    pub fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.0.extend(problems);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a problem is already noted under exactly `key`.
    pub fn names(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
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

/// `key` under `section`, as one dotted key.
pub fn prefixed(section: &str, key: &str) -> String {
    match (section.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => section.to_owned(),
        (false, false) if key.starts_with('[') => format!("{section}{key}"),
        (false, false) => format!("{section}.{key}"),
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

/// The name `value` has in `options` (the table [`choice`] reads): one
/// table per closed set, so the name read and the name shown are the same.
pub fn name_of<T: Copy + PartialEq>(options: &[(&'static str, T)], value: T) -> &'static str {
    options
        .iter()
        .find(|&&(_, v)| v == value)
        .map_or("", |&(n, _)| n)
}

/// A path setting: empty (or blanks) means "not set".
pub fn optional_path(v: &str) -> Option<std::path::PathBuf> {
    (!v.trim().is_empty()).then(|| std::path::PathBuf::from(v.trim()))
}

/// Deserializes one of a closed set of names, refusing others in plain words
/// (serde's derive would name the Rust type instead). Asked for as an enum
/// of those names, so the configuration's reader ([`de`]) checks the name
/// itself and reads on past a wrong one.
pub fn choice<'de, D, T>(d: D, options: &'static [(&'static str, T)]) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Copy + 'static,
{
    struct Names<T: 'static>(&'static [(&'static str, T)]);
    impl<'de, T: Copy> serde::de::Visitor<'de> for Names<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let names: Vec<String> = self.0.iter().map(|(n, _)| format!("{n:?}")).collect();
            write!(f, "one of {}", names.join(", "))
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            self.0
                .iter()
                .find(|(name, _)| *name == s)
                .map(|&(_, v)| v)
                .ok_or_else(|| {
                    let names: Vec<&str> = self.0.iter().map(|&(n, _)| n).collect();
                    E::custom(not_one_of(s, &names))
                })
        }
        fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
            use serde::de::VariantAccess;
            let (name, variant): (String, _) = data.variant()?;
            variant.unit_variant()?;
            self.visit_str(&name)
        }
    }
    d.deserialize_enum("choice", names_of(options), Names(options))
}

/// The names of a closed set, as the `'static` list `deserialize_enum` takes:
/// made once per set (there are a handful), then reused.
fn names_of<T>(options: &'static [(&'static str, T)]) -> &'static [&'static str] {
    use std::sync::Mutex;
    static SETS: Mutex<Vec<&'static [&'static str]>> = Mutex::new(Vec::new());
    let mut sets = SETS.lock().unwrap_or_else(|e| e.into_inner());
    let same = |set: &&&'static [&'static str]| set.iter().copied().eq(options.iter().map(|o| o.0));
    if let Some(set) = sets.iter().find(same) {
        return set;
    }
    let set: &'static [&'static str] = Box::leak(
        options
            .iter()
            .map(|o| o.0)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    sets.push(set);
    set
}

/// An error of the `config` crate that is not a value's (those are the
/// reader's, [`de`]): a layer that does not parse (its position kept, its
/// text left out), a missing key, the merge's own message.
pub fn from_config_error(section: &str, e: &config::ConfigError) -> Problem {
    use config::ConfigError as E;
    match e {
        E::At { error, key, .. } => from_config_error(&join(section, key.as_deref()), error),
        E::NotFound(key) => Problem::new(join(section, Some(key)), "is required"),
        E::Message(m) => Problem::new(section, m),
        E::FileParse { uri, cause } => Problem::new(
            uri.clone().unwrap_or_else(|| section.to_owned()),
            without_snippet(&cause.to_string()),
        ),
        other => Problem::new(section, other),
    }
}

/// A file's parse error with the file's text left out: the parser quotes the offending
/// line under a `|` gutter, and that line may hold a secret (a token with a missing
/// quote). What is kept says where (line and column) and what was wrong, never what the
/// file holds there; problems are logged and printed by `check-config`.
fn without_snippet(cause: &str) -> String {
    let gutter = |line: &str| {
        let rest = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit());
        rest.trim_start().starts_with('|')
    };
    let kept: Vec<&str> = cause
        .lines()
        .filter(|l| !gutter(l) && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    kept.join(": ")
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

#[cfg(test)]
mod snippet_tests {
    use super::*;

    #[test]
    fn a_parse_error_says_where_never_what_the_file_holds() {
        for text in [
            "[upstream]\ntoken = \"s3cr3t-Value\n",
            "[upstream]\ntoken = s3cr3t-Value\n",
            "s3cr3t-Value\n",
            "[upstream\ns3cr3t-Value = 1\n",
        ] {
            let e = config::Config::builder()
                .add_source(config::File::from_str(text, config::FileFormat::Toml))
                .build()
                .expect_err(text);
            let problem = from_config_error("gateway.toml", &e).to_string();
            assert!(!problem.contains("s3cr3t"), "{problem}");
            assert!(problem.contains("line"), "{problem}");
        }
    }
}
