//! Masking of personal data in upstream JSON responses.
//!
//! Pure and synchronous: the caller decodes the body ([`crate::http::decode`]) and runs
//! [`Masker::mask`] on every body its route does not declare passthrough. Every failure
//! is fail-closed: the caller must answer with an error instead of forwarding the body.
//!
//! Output is compact JSON with the input's key order. Every token not masked is copied from
//! the input byte for byte: numbers keep their text (`1.50`, 30-digit integers), strings and
//! keys their escapes. A string that a lenient decoder would turn into JSON (after trimming
//! Unicode blanks, after one more level of unquoting, or as a JSON prefix followed by junk) is
//! masked as a document and comes back as a string of that document's compact masked text.

mod config;
pub mod detect;
mod error;
pub mod keynorm;
mod masker;
mod media;
mod memo;
mod metrics;
pub mod policy;
mod rules;
mod settings;
mod walk;

#[cfg(test)]
mod accuracy_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

pub use config::{MaskConfig, RuleConfig, Strategy, KEYS as RELOAD_KEYS};
pub use error::{MaskConfigError, MaskError};
pub use masker::{Masked, Masker, MAX_DEPTH_LIMIT};
pub use media::is_json_media_type;
pub use metrics::MaskPolicyMetrics;
pub use settings::MaskSettings;

/// Secrets shorter than this are not scanned for: they would match ordinary bytes by chance,
/// and no credential the gateway holds is that short. The masker gives the secret guard the
/// readings of every copied string at least this long.
pub const MIN_SECRET_LEN: usize = 8;

/// The shipped `[mask]` section, rules included, from `config/default.toml`.
pub fn default_config() -> MaskConfig {
    crate::defaults::default_section("mask")
}

/// The shipped `[mask]` section, validated.
pub fn default_settings() -> MaskSettings {
    default_config()
        .validate()
        .unwrap_or_else(|e| panic!("config/default.toml [mask] is invalid: {e:?}"))
}

/// The shipped `[[mask.rules]]` tables as TOML text, for a layer that keeps
/// them and adds its own (a layer's `rules` replaces the whole list).
pub fn default_rules_toml() -> String {
    let mut out = String::new();
    let mut in_rules = false;
    for line in crate::defaults::DEFAULT_TOML.lines() {
        let header = line.trim_start();
        if header.starts_with('[') {
            in_rules = header.starts_with("[[mask.rules]]");
        }
        if in_rules {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
