//! The `[mask]` configuration section as written by operators.

use serde::Deserialize;

/// Raw `[mask]` settings; turned into a [`super::Masker`] by [`super::Masker::new`],
/// which is where the cross-field checks live.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskConfig {
    /// When false the integrator skips masking entirely; the rules are still validated.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Replacement for `redact` (and for booleans under any strategy but `null`).
    #[serde(default = "default_placeholder")]
    pub placeholder: String,
    /// Character that hides the leading part of a `keep_last` / `last4` value.
    #[serde(default = "default_mask_char")]
    pub mask_char: char,
    /// Deepest nesting of arrays/objects accepted; deeper bodies are refused (1..=126).
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Prefix of `hmac` outputs, so a reader can tell a digest from a real value.
    #[serde(default = "default_hmac_prefix")]
    pub hmac_prefix: String,
    /// Number of hex digits of the HMAC-SHA256 digest kept (1..=64).
    #[serde(default = "default_hmac_hex_chars")]
    pub hmac_hex_chars: usize,
    /// Rule names (and path segments) match keys ignoring ASCII case and `_` / `-`, so
    /// `phoneNumber` and `PHONE-NUMBER` meet the `phone_number` rule. False: exact match.
    #[serde(default = "default_match_spellings")]
    pub match_spellings: bool,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// File holding the key for `hmac` rules (a mounted secret). Read once at
    /// start: changing it would break matching of values hashed before.
    /// Empty: no key, and `hmac` rules refuse to start.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub hmac_key_file: Option<std::path::PathBuf>,
    /// Routes whose bodies of the listed types pass uninspected (validated in
    /// `config.rs`; the shipped entries are in `config/default.toml`).
    #[serde(default)]
    pub passthrough: Vec<crate::proxy::PassthroughConfig>,
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::path::PathBuf>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(std::path::PathBuf::from))
}

impl Default for MaskConfig {
    /// Defaults with no rules: the shipped rule set lives in `default_rules.toml`.
    fn default() -> Self {
        MaskConfig {
            enabled: default_enabled(),
            placeholder: default_placeholder(),
            mask_char: default_mask_char(),
            max_depth: default_max_depth(),
            hmac_prefix: default_hmac_prefix(),
            hmac_hex_chars: default_hmac_hex_chars(),
            match_spellings: default_match_spellings(),
            rules: Vec::new(),
            hmac_key_file: None,
            passthrough: Vec::new(),
        }
    }
}

/// One `[[mask.rules]]` entry. Exactly one of `field` / `path` must be set.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Object key matched at any depth (inside arrays and nested envelopes too).
    #[serde(default)]
    pub field: Option<String>,
    /// Dotted object-key path from the root; arrays along the way are transparent.
    #[serde(default)]
    pub path: Option<String>,
    pub strategy: Strategy,
}

/// How a personal value is rewritten.
///
/// TOML: `strategy = "redact" | "last4" | "email" | "hmac" | "null"`, or
/// `strategy = { keep_last = N }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
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

fn default_enabled() -> bool {
    true
}
fn default_placeholder() -> String {
    "[REDACTED]".to_owned()
}
fn default_mask_char() -> char {
    '*'
}
fn default_max_depth() -> usize {
    64
}
fn default_hmac_prefix() -> String {
    "hmac_".to_owned()
}
fn default_hmac_hex_chars() -> usize {
    16
}
fn default_match_spellings() -> bool {
    true
}
