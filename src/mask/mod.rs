//! Masking of personal data in upstream JSON responses.
//!
//! Pure and synchronous: the caller decodes the body ([`crate::http::decode`]) and runs
//! [`Masker::mask`] on every body its route does not declare passthrough. Every failure
//! is fail-closed: the caller must answer with an error instead of forwarding the body.
//!
//! Output is compact JSON with the input's key order. Values not masked keep their value;
//! integers keep their exact text, other numbers keep their text only when serde_json's
//! `arbitrary_precision` feature is enabled (otherwise they are re-printed in shortest form,
//! e.g. `1.50` becomes `1.5`).
//! A string holding a JSON document is masked as a document and comes back as a string of
//! that document's compact masked text.

mod config;
mod error;
mod masker;
mod media;
mod rules;
mod walk;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

pub use config::{MaskConfig, RuleConfig, Strategy};
pub use error::{MaskConfigError, MaskError};
pub use masker::{Masked, Masker, MAX_DEPTH_LIMIT};
pub use media::is_json_media_type;

/// The shipped `[mask]` section, rules included (also pasted into `config/default.toml`).
pub const DEFAULT_RULES_TOML: &str = include_str!("default_rules.toml");

/// [`DEFAULT_RULES_TOML`] parsed into a config.
pub fn default_config() -> Result<MaskConfig, ::config::ConfigError> {
    ::config::Config::builder()
        .add_source(::config::File::from_str(
            DEFAULT_RULES_TOML,
            ::config::FileFormat::Toml,
        ))
        .build()?
        .get::<MaskConfig>("mask")
}
