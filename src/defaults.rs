//! The documented defaults (`config/default.toml`), compiled in so the binary
//! runs anywhere. A leaf: components build their own section's defaults from
//! it (tests, benches, fuzz targets) without depending on the config loader.

/// `config/default.toml`, the first layer of every configuration.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Section `name` of the embedded `config/default.toml`: what tests, benches
/// and fuzz targets build from, so they run with what ships.
pub fn default_section<T: serde::de::DeserializeOwned>(name: &str) -> T {
    config::Config::builder()
        .add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ))
        .build()
        .and_then(|c| c.get::<T>(name))
        .unwrap_or_else(|e| panic!("config/default.toml [{name}]: {e}"))
}
