//! The environment layer: `GATEWAY__SECTION__KEY` variables.
//!
//! The rule: a value arrives as the string it was given, byte for byte, and
//! the key's type decides what it becomes. String settings (secrets, paths,
//! URLs) keep it as is; numbers, booleans and durations are parsed by the
//! typed settings when they are read, exactly as the same string would be
//! from a TOML file; a key whose shipped default (`config/default.toml`) is a
//! list takes a comma-separated list. No value is ever guessed to be a number
//! or a boolean first — config-rs's `try_parsing` did that, which turned a
//! token `00123` into `123` and `TRUE` into `true`.

use std::sync::OnceLock;

use config::{ConfigError, Map, Source, Value, ValueKind};

/// Variables under this prefix are settings (`GATEWAY_ENV` is not one: one `_`).
const PREFIX: &str = "gateway__";
const SEPARATOR: &str = "__";
const LIST_SEPARATOR: char = ',';
const ORIGIN: &str = "the environment";

/// The environment's variables, as `(name, value)` pairs (names as given; a
/// value that is not Unicode is None).
#[derive(Clone, Debug, Default)]
pub struct EnvLayer {
    vars: Vec<(String, Option<String>)>,
}

impl EnvLayer {
    /// The process's variables. A setting whose value is not Unicode is an error,
    /// reported when the layer is read.
    pub fn from_process() -> EnvLayer {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                Some((k, v.into_string().ok()))
            })
            .collect();
        EnvLayer { vars }
    }

    /// Exactly these variables (tests; nothing else from the process).
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> EnvLayer {
        EnvLayer {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), Some(v.into())))
                .collect(),
        }
    }
}

/// The dotted key a variable sets (`GATEWAY__UPSTREAM__TOKEN`: `upstream.token`),
/// or None for a variable that is not a setting.
fn key_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let rest = lower.strip_prefix(PREFIX)?;
    (!rest.is_empty()).then(|| rest.replace(SEPARATOR, "."))
}

/// Whether `key` is a list in the shipped defaults: the one place that says
/// which keys are lists, so a new list key needs no code here.
fn is_list(key: &str) -> bool {
    static DEFAULTS: OnceLock<Value> = OnceLock::new();
    let defaults = DEFAULTS.get_or_init(|| {
        config::Config::builder()
            .add_source(config::File::from_str(
                crate::defaults::DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .build()
            .map(|c| c.cache)
            .unwrap_or_else(|e| panic!("config/default.toml: {e}"))
    });
    matches!(
        super::patch::value_at(defaults, key),
        Some(ValueKind::Array(_))
    )
}

/// What the variable's value becomes: a list of strings for a list key (an
/// empty value is an empty list), else the string itself.
fn value_of(key: &str, raw: &str) -> ValueKind {
    let origin = ORIGIN.to_owned();
    if !is_list(key) {
        return ValueKind::String(raw.to_owned());
    }
    if raw.is_empty() {
        return ValueKind::Array(Vec::new());
    }
    ValueKind::Array(
        raw.split(LIST_SEPARATOR)
            .map(|item| Value::new(Some(&origin), ValueKind::String(item.to_owned())))
            .collect(),
    )
}

impl Source for EnvLayer {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        let origin = ORIGIN.to_owned();
        let mut m = Map::new();
        for (name, raw) in &self.vars {
            let Some(key) = key_of(name) else { continue };
            let Some(raw) = raw else {
                return Err(ConfigError::Message(format!(
                    "environment variable {name} is not valid Unicode"
                )));
            };
            let kind = value_of(&key, raw);
            m.insert(key, Value::new(Some(&origin), kind));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_dotted_keys() {
        assert_eq!(
            key_of("GATEWAY__UPSTREAM__TOKEN").as_deref(),
            Some("upstream.token")
        );
        assert_eq!(
            key_of("gateway__cache__routes__customer_detail__ttl").as_deref(),
            Some("cache.routes.customer_detail.ttl")
        );
        assert_eq!(key_of("GATEWAY_ENV"), None);
        assert_eq!(key_of("GATEWAY__"), None);
        assert_eq!(key_of("PATH"), None);
    }

    #[test]
    fn lists_are_the_keys_the_defaults_make_lists() {
        for list in [
            "server.trusted_proxies",
            "upstream.strip_request_headers",
            "upstream.response_headers",
            "cache.routes.customer_detail.query_allowlist",
        ] {
            assert!(is_list(list), "{list}");
        }
        for scalar in [
            "upstream.token",
            "server.max_connections",
            "server.watch_files",
            "server.idle_timeout",
            "nowhere.at_all",
        ] {
            assert!(!is_list(scalar), "{scalar}");
        }
    }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod layer_tests;
