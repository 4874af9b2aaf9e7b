//! How configuration values that must not be printed are held: a secret
//! given as a value ([`SecretText`]) serializes as `"[redacted]"` (or `""`
//! when not set), whoever serializes it. `GET /admin/config` is the
//! configuration serialized, so a secret key shows as redacted by its type,
//! not by a list someone has to keep. A leaf: uses nothing of the crate.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The validated configuration as a document (what `GET /admin/config`
/// shows): each section as its component's raw struct serializes it, in the
/// order of `config/default.toml`. Built by the config pass.
#[derive(Debug, Clone, Default)]
pub struct ConfigView(Vec<(&'static str, serde_json::Value)>);

impl ConfigView {
    /// Section `name` as `raw` serializes, or one owner's keys of it (a
    /// section may have several, as `[upstream]` has): added to what the
    /// section already shows. A raw section is plain data (strings, numbers,
    /// lists, tables): serializing it cannot fail; if it ever did, the
    /// section is shown as null rather than half.
    pub fn show_part<T: Serialize>(&mut self, name: &'static str, raw: &T) {
        let v = serde_json::to_value(raw).unwrap_or(serde_json::Value::Null);
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, serde_json::Value::Object(shown))) => {
                if let serde_json::Value::Object(more) = v {
                    shown.extend(more);
                }
            }
            Some((_, shown)) => *shown = serde_json::Value::Null,
            None => self.0.push((name, v)),
        }
    }

    pub fn forget(&mut self, name: &str) {
        self.0.retain(|(n, _)| *n != name);
    }

    pub fn sections(&self) -> impl Iterator<Item = (&'static str, &serde_json::Value)> + '_ {
        self.0.iter().map(|(n, v)| (*n, v))
    }
}

/// Where a secret comes from: a file (re-read when it changes) or a value
/// given in the environment (fixed for the process lifetime). Config
/// vocabulary: `[upstream]` names its credentials this way, the credentials
/// component reads them.
#[derive(Clone)]
pub enum SecretSource {
    File(std::path::PathBuf),
    Value(SecretString),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "File({})", p.display()),
            SecretSource::Value(_) => f.write_str("Value([redacted])"),
        }
    }
}

/// What a redacted value prints as.
pub const REDACTED: &str = "[redacted]";

/// A secret given in the configuration as text (`upstream.token`).
#[derive(Clone, Default)]
pub struct SecretText(SecretString);

impl SecretText {
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn secret(&self) -> SecretString {
        self.0.clone()
    }
}

impl From<&str> for SecretText {
    fn from(v: &str) -> SecretText {
        SecretText(v.to_owned().into())
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "\"\"" } else { REDACTED })
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretText(s.into()))
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_empty() { "" } else { REDACTED })
    }
}

/// A URL setting, printed as every URL is printed (no userinfo, no query):
/// for `#[serde(serialize_with)]` on a raw URL field. Unset stays `""`.
pub fn url<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    if v.trim().is_empty() {
        s.serialize_str("")
    } else {
        s.serialize_str(&crate::urls::shown_str(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_serializes_nor_debug_prints() {
        let s = SecretText::from("hunter2-token");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(
            serde_json::to_string(&SecretText::default()).unwrap(),
            "\"\""
        );
    }
}
