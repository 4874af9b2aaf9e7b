//! The `[mask]` configuration section as written by operators. Its values come
//! from `config/default.toml` and the layers above it; [`MaskConfig::validate`]
//! turns it into [`super::MaskSettings`].

use serde::{Deserialize, Serialize};

/// Raw `[mask]` settings: the masker's keys. No `deny_unknown_fields` here: the
/// section's `passthrough` entries are inspection's (`inspect::RawRelay`), and the
/// config pass refuses a key that no owner of the section reads.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct MaskConfig {
    /// When false the integrator skips masking entirely; the rules are still validated.
    pub enabled: bool,
    /// Replacement for `redact` (and for booleans under any strategy but `null`).
    pub placeholder: String,
    /// Character that hides the leading part of a `keep_last` / `last4` value.
    pub mask_char: char,
    /// Deepest nesting of arrays/objects accepted; deeper bodies are refused (1..=126).
    pub max_depth: usize,
    /// Prefix of `hmac` outputs, so a reader can tell a digest from a real value.
    pub hmac_prefix: String,
    /// Number of hex digits of the HMAC-SHA256 digest kept (1..=64).
    pub hmac_hex_chars: usize,
    /// Rule names (and path segments) match keys ignoring ASCII case and `_` / `-`, so
    /// `phoneNumber` and `PHONE-NUMBER` meet the `phone_number` rule. False: exact match.
    pub match_spellings: bool,
    /// Domains the `email` strategy may keep: shared mail providers. Any other domain is
    /// masked as well.
    pub shared_mail_domains: Vec<String>,
    pub rules: Vec<RuleConfig>,
    /// File holding the key for `hmac` rules (a mounted secret). Read once at
    /// start: changing it would break matching of values hashed before.
    /// Empty: no key, and `hmac` rules refuse to start.
    #[serde(deserialize_with = "empty_as_none", serialize_with = "none_as_empty")]
    pub hmac_key_file: Option<std::path::PathBuf>,
    /// `[mask.policy]`: per route family field policy, key words and detectors.
    pub policy: super::policy::PolicyConfig,
}

/// The masker's keys of `[mask]` on a configuration reload: rules, strategies and
/// policies are live (answers cached under the old rules are dropped). The HMAC key is read
/// once: a new key would stop `hmac` digests matching those handed out before.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[
        "enabled",
        "placeholder",
        "mask_char",
        "max_depth",
        "hmac_prefix",
        "hmac_hex_chars",
        "match_spellings",
        "shared_mail_domains",
        "rules",
        "policy",
    ],
    restart: &["hmac_key_file"],
};

/// Unset is `""`, as in `config/default.toml`.
fn none_as_empty<S: serde::Serializer>(
    v: &Option<std::path::PathBuf>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &v.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::path::PathBuf>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(std::path::PathBuf::from))
}

/// One `[[mask.rules]]` entry. Exactly one of `field` / `path` must be set.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Object key matched at any depth (inside arrays and nested envelopes too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Dotted object-key path from the root; arrays along the way are transparent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub strategy: Strategy,
}

/// How a personal value is rewritten.
///
/// TOML: `strategy = "redact" | "last4" | "email" | "hmac" | "null"`, or
/// `strategy = { keep_last = N }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The configured placeholder string.
    Redact,
    /// Same as `keep_last = 4`.
    Last4,
    /// Mask characters then the last N characters, never revealing more than half.
    KeepLast(usize),
    /// First character of the local part, `*****`, `@`, the domain.
    Email,
    /// Prefix + truncated hex HMAC-SHA256 under the gateway's key: equal inputs stay equal.
    Hmac,
    /// JSON `null`.
    Null,
}

const STRATEGY_NAMES: [(&str, Strategy); 5] = [
    ("redact", Strategy::Redact),
    ("last4", Strategy::Last4),
    ("email", Strategy::Email),
    ("hmac", Strategy::Hmac),
    ("null", Strategy::Null),
];

/// As written: a name, or `{ keep_last = N }`.
impl Serialize for Strategy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Strategy::KeepLast(n) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("keep_last", n)?;
                m.end()
            }
            other => s.serialize_str(
                STRATEGY_NAMES
                    .iter()
                    .find(|(_, v)| v == other)
                    .map_or("", |&(n, _)| n),
            ),
        }
    }
}

/// By hand, so a wrong strategy is refused in the operator's words (the listed
/// names) rather than serde's, which name the Rust type.
impl<'de> Deserialize<'de> for Strategy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Strategy;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "one of \"redact\", \"last4\", \"email\", \"hmac\", \"null\" or { keep_last = N }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Strategy, E> {
                STRATEGY_NAMES
                    .iter()
                    .find(|(name, _)| *name == v)
                    .map(|&(_, s)| s)
                    .ok_or_else(|| {
                        E::custom(format!(
                            "{} or {{ keep_last = N }}",
                            crate::problems::not_one_of(v, &STRATEGY_NAMES.map(|(n, _)| n))
                        ))
                    })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Strategy, A::Error> {
                use serde::de::Error;
                let table = "a table strategy is written { keep_last = N }";
                let Some(key) = map.next_key::<String>()? else {
                    return Err(A::Error::custom(table));
                };
                if key != "keep_last" {
                    return Err(A::Error::custom(format!("{key:?}: {table}")));
                }
                let n: usize = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(A::Error::custom(table));
                }
                Ok(Strategy::KeepLast(n))
            }
        }
        d.deserialize_any(Visitor)
    }
}
