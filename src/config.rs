//! Configuration: the one place that knows every section. The layers, lowest
//! first: the embedded `config/default.toml`, then one file (`--config FILE`,
//! or `<config dir>/<GATEWAY_ENV>.toml`), then `GATEWAY__SECTION__KEY`
//! environment variables, then command-line flags. Read once into each
//! component's raw section, each validated by its component into its
//! settings (problems named relative to the section, prefixed here), then
//! the files the settings name are read (`files`): one pass, run the same
//! way by `serve` and `check-config`.
//!
//! A bad configuration fails start-up listing every problem, each under its
//! dotted key (exit code 64). Every default lives in `config/default.toml`.
//! Components never import this module: it imports them.

use std::path::{Path, PathBuf};

mod env;
pub mod files;
pub mod keys;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod list_tests;
#[cfg(test)]
mod one_pass_tests;
mod patch;
mod section;
#[cfg(test)]
mod tests;
mod types;
mod validate;
#[cfg(test)]
mod view_tests;

pub use crate::auth::config::{AuthModeSetting, AuthSettings, RawAuth};
pub use crate::defaults::{default_section, DEFAULT_TOML};
pub use crate::logging::config::{
    AccessLogSettings, AccessOutput, LogFormat, LogSettings, RawAccessLog, RawLog,
};
pub use crate::problems::{ConfigError, Problem, Problems};
pub use crate::redact::ConfigView;
pub use crate::redact::SecretSource;
pub use crate::server::config::{
    AdminSettings, ClientAuth, RawAdmin, RawServer, RawTls, ServerSettings, TlsSettings,
};
pub use crate::upstream::config::{
    RawBreaker, RawRetry, RawUpstream, RetrySettings, UpstreamSettings,
};
pub use env::EnvLayer;
pub use section::Section;
pub use validate::Partial;

/// Every section that could be read (`None`: its problem is already noted).
#[derive(Debug, Default)]
pub struct RawSettings {
    pub server: Option<RawServer>,
    pub admin: Option<RawAdmin>,
    pub upstream: Option<RawUpstream>,
    /// Inspection's keys of `[upstream]` (see [`section`]: a section may have several owners).
    pub inspect: Option<crate::inspect::RawInspect>,
    /// Fair's key of `[upstream]`: `per_client`.
    pub fair: Option<crate::fair::RawFair>,
    /// The request pipeline's keys of `[server]`.
    pub pipeline: Option<crate::proxy::RawPipeline>,
    pub log: Option<RawLog>,
    pub mask: Option<crate::mask::MaskConfig>,
    /// Inspection's key of `[mask]`: `passthrough`.
    pub relay: Option<crate::inspect::RawRelay>,
    pub cache: Option<crate::cache::CacheConfig>,
    pub auth: Option<RawAuth>,
    pub telemetry: Option<crate::telemetry::RawTelemetry>,
    pub cluster: Option<crate::cluster::RawCluster>,
    pub idempotency: Option<crate::idempotency::RawIdempotency>,
    /// Sections read only after a wrong value was replaced by its default,
    /// as read: checked for more problems, never used.
    pub patched: Vec<(Section, config::Value)>,
}

/// Validated settings. Secrets are not here: only where to read them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    /// The request pipeline's keys of `[server]`.
    pub pipeline: crate::proxy::ProxySettings,
    pub admin: AdminSettings,
    pub upstream: UpstreamSettings,
    /// Inspection's keys of `[upstream]`.
    pub inspect: crate::inspect::InspectLimits,
    /// `[upstream.per_client]`, fair's.
    pub per_client: crate::fair::PerClientSettings,
    pub log: LogSettings,
    pub mask: crate::mask::MaskSettings,
    /// `mask.passthrough`, validated.
    pub passthrough: crate::inspect::Passthrough,
    pub cache: crate::cache::CacheSettings,
    pub auth: AuthSettings,
    pub telemetry: crate::telemetry::TelemetrySettings,
    pub cluster: crate::cluster::ClusterSettings,
    pub idempotency: crate::idempotency::IdempotencySettings,
    /// The validated configuration as the sections read it, redacted: what
    /// `GET /admin/config` shows, under the keys of `config/default.toml`.
    /// Built from each component's raw section by serializing it, so it
    /// cannot drift from what was validated (see `crate::redact`).
    pub view: ConfigView,
}

/// Where the layers above the defaults come from.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// Holds `<env>.toml`.
    pub config_dir: PathBuf,
    /// Selects `<config_dir>/<env>.toml`.
    pub env: Option<String>,
    /// `--config FILE`: this file is the file layer.
    pub file: Option<PathBuf>,
    /// An extra TOML layer on top of the file but below the environment
    /// (used by `demo` and by tests to pass settings as values).
    pub overlay: Option<String>,
    /// The environment layer (None: the process's).
    pub vars: Option<EnvLayer>,
    /// Command-line flags, the top layer: `(dotted key, value)`.
    pub flags: Vec<(String, String)>,
    /// Over every other layer: the running values of the keys that need a restart,
    /// which a configuration reload keeps (`keys::pins`).
    pub pinned: Vec<(String, ::config::Value)>,
}

impl Layers {
    pub fn dir(config_dir: &Path, env: Option<&str>) -> Layers {
        Layers {
            config_dir: config_dir.to_path_buf(),
            env: env.map(str::to_owned),
            ..Layers::default()
        }
    }
}

/// Reads the layered configuration. `config_dir` holds `<env>.toml`.
pub fn load(config_dir: &Path, env: Option<&str>) -> Result<Settings, ConfigError> {
    load_with(config_dir, env, None)
}

/// As `load`, with an extra TOML layer on top of the file but below the
/// environment (used by `demo` and by tests to pass settings as values).
/// The files the settings name are not read here (see [`check`]).
pub fn load_with(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
) -> Result<Settings, ConfigError> {
    let (partial, problems) = check_with(config_dir, env, overlay);
    problems.finish(partial.complete())
}

/// Every section that validated, and every problem found (the files named
/// are not read: see [`check`]).
pub fn check_with(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
) -> (Partial, Problems) {
    check_with_vars(config_dir, env, overlay, EnvLayer::from_process())
}

/// As `check_with`, with `vars` as the environment layer instead of the process's.
pub fn check_with_vars(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
    vars: EnvLayer,
) -> (Partial, Problems) {
    let layers = Layers {
        overlay: overlay.map(str::to_owned),
        vars: Some(vars),
        ..Layers::dir(config_dir, env)
    };
    sections(&layers, &Section::ALL)
}

/// The sections `only` of the layered configuration, validated, every
/// problem noted (the files named are not read).
pub fn sections(layers: &Layers, only: &[Section]) -> (Partial, Problems) {
    let mut problems = Problems::default();
    let raw = section::read(layers, only, &mut problems);
    let partial = raw.validate(&mut problems);
    // A TOML layer's value of another type than the default's, unless its key
    // already has a problem (the same mistake, told once).
    let typed: Vec<Problem> = section::toml_layers(layers)
        .iter()
        .flat_map(|(text, source)| types::problems(text, source))
        .filter(|p| {
            only.iter()
                .any(|s| p.key.split('.').next() == Some(s.name()))
        })
        .filter(|p| !problems.names(&p.key))
        .collect();
    problems.extend(typed);
    (partial, problems)
}

/// The one pass `serve` and `check-config` run: the layers read, every
/// section validated, then every file the valid sections name read and
/// checked (credentials, clients file, mask key, TLS, admin token, Redis
/// secrets). Every problem is listed, in that order.
pub fn check(layers: &Layers) -> (Partial, Problems) {
    let (partial, mut problems) = sections(layers, &Section::ALL);
    problems.extend(files::problems(&partial));
    (partial, problems)
}

/// [`check`], as settings or every problem.
pub fn settle(layers: &Layers) -> Result<Settings, ConfigError> {
    let (partial, problems) = check(layers);
    problems.finish(partial.complete())
}
