//! Configuration: the embedded `config/default.toml`, then an optional
//! `<config dir>/<GATEWAY_ENV>.toml`, then `GATEWAY__SECTION__KEY` environment
//! variables. Read once into raw serde structs, then validated into typed
//! `Settings` so the rest of the gateway never sees a string it must parse.
//!
//! A bad configuration fails start-up listing every problem, each under its
//! dotted key (exit code 64). Every default lives in `config/default.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, Uri};
use serde::Deserialize;

/// The documented defaults, compiled in so the binary runs anywhere.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

mod env;
pub(crate) mod problems;
#[cfg(test)]
mod tests;
pub mod url;
mod validate;

pub use env::EnvLayer;
pub use problems::{ConfigError, Problem, Problems};
pub use validate::Partial;

/// The top-level sections; any other is refused.
const SECTIONS: [&str; 10] = [
    "server",
    "admin",
    "upstream",
    "log",
    "mask",
    "cache",
    "auth",
    "telemetry",
    "cluster",
    "idempotency",
];

/// Every section that could be read (`None`: its problem is already noted).
#[derive(Debug, Default)]
pub struct RawSettings {
    pub server: Option<RawServer>,
    pub admin: Option<RawAdmin>,
    pub upstream: Option<RawUpstream>,
    pub log: Option<RawLog>,
    pub mask: Option<crate::mask::MaskConfig>,
    pub cache: Option<crate::cache::CacheConfig>,
    pub auth: Option<RawAuth>,
    pub telemetry: Option<crate::telemetry::RawTelemetry>,
    pub cluster: Option<crate::cluster::RawCluster>,
    pub idempotency: Option<crate::idempotency::RawIdempotency>,
    /// Sections read only after a wrong value was replaced by its default,
    /// as read: checked for more problems, never used.
    pub patched: Vec<(String, config::Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthModeSetting {
    /// Every client presents a key from the clients file.
    Keys,
    /// No client authentication at all: only when said explicitly.
    None,
}

impl<'de> Deserialize<'de> for AuthModeSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &[("keys", Self::Keys), ("none", Self::None)])
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub mode: AuthModeSetting,
    pub clients_file: String,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthModeSetting,
    pub clients_file: Option<PathBuf>,
}

/// Whether the API listener asks connecting clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No certificate is asked for.
    Off,
    /// A certificate is asked for; a client may send none, but one it sends
    /// must chain to `server.tls.client_ca_file`.
    Optional,
    /// A handshake without a certificate from `server.tls.client_ca_file` fails.
    Required,
}

impl ClientAuth {
    pub fn name(self) -> &'static str {
        match self {
            ClientAuth::Off => "off",
            ClientAuth::Optional => "optional",
            ClientAuth::Required => "required",
        }
    }
}

impl<'de> Deserialize<'de> for ClientAuth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(
            d,
            &[
                ("off", Self::Off),
                ("optional", Self::Optional),
                ("required", Self::Required),
            ],
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert_file: String,
    pub key_file: String,
    pub client_ca_file: String,
    pub client_auth: ClientAuth,
}

/// TLS on the API listener: where its certificate, key and client CA are
/// read from (re-read when they change, like the other secret files).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Set exactly when `client_auth` is not `Off`.
    pub client_ca_file: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: String,
    pub max_request_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    pub http2_max_pending_accept_reset_streams: usize,
    pub watch_files: bool,
    pub trusted_proxies: Vec<String>,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    pub max_connections: usize,
    #[serde(with = "humantime_serde")]
    pub request_body_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub response_write_timeout: Duration,
    pub tls: RawTls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: String,
    pub token_file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    pub base_url: String,
    pub token_file: String,
    pub signature_key_file: String,
    pub token: String,
    pub signature_key: String,
    pub ca_file: String,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub max_concurrent_requests: usize,
    #[serde(with = "humantime_serde")]
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    pub strip_request_headers: Vec<String>,
    pub max_response_body_bytes: usize,
    pub response_headers: Vec<String>,
    pub vary_request_headers: Vec<String>,
    pub max_buffered_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub buffer_wait: Duration,
    pub buffering: crate::inspect::RawBuffering,
    pub per_client: crate::fair::RawPerClient,
    pub retry: RawRetry,
    pub circuit_breaker: RawBreaker,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_retries: u32,
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    pub budget_ratio: f64,
    pub budget_min_per_second: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failure_threshold: u32,
    #[serde(with = "humantime_serde")]
    pub cool_down: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &[("human", Self::Human), ("json", Self::Json)])
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: LogFormat,
    pub level: String,
    pub queue_bytes: usize,
    pub access: RawAccessLog,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccessLog {
    pub output: String,
    pub file: String,
}

/// Validated settings. Secrets are not here: only where to read them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub admin: AdminSettings,
    pub upstream: UpstreamSettings,
    pub log: LogSettings,
    pub mask: crate::mask::MaskSettings,
    /// `mask.passthrough`, validated.
    pub passthrough: crate::proxy::Passthrough,
    pub cache: crate::cache::CacheSettings,
    pub auth: AuthSettings,
    pub telemetry: crate::telemetry::TelemetrySettings,
    pub cluster: crate::cluster::ClusterSettings,
    pub idempotency: crate::idempotency::IdempotencySettings,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub max_request_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub header_read_timeout: Duration,
    pub drain_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    pub http2_max_pending_accept_reset_streams: usize,
    pub watch_files: bool,
    /// Peers whose `X-Forwarded-For` chain is kept (and appended to).
    pub trusted_proxies: crate::upstream::trusted::TrustedProxies,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub request_body_timeout: Duration,
    pub response_write_timeout: Duration,
    /// None: plain HTTP (the default).
    pub tls: Option<TlsSettings>,
}

#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub listen: SocketAddr,
    pub token_file: Option<PathBuf>,
}

/// Where the upstream credentials come from: a file (re-read when it changes)
/// or a value given in the environment (fixed for the process lifetime).
#[derive(Clone)]
pub enum SecretSource {
    File(PathBuf),
    Value(secrecy::SecretString),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "File({})", p.display()),
            SecretSource::Value(_) => f.write_str("Value([redacted])"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub base_url: Uri,
    pub token: Option<SecretSource>,
    pub signature_key: Option<SecretSource>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_concurrent_requests: usize,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    pub strip_request_headers: Vec<HeaderName>,
    pub max_response_body_bytes: usize,
    pub response_headers: crate::proxy::HeaderAllowlist,
    pub max_buffered_bytes: usize,
    pub buffer_wait: Duration,
    pub buffering: crate::inspect::BufferingSettings,
    pub per_client: crate::fair::PerClientSettings,
    pub retry: RetrySettings,
    pub breaker_failure_threshold: u32,
    pub breaker_cool_down: Duration,
}

#[derive(Debug, Clone)]
pub struct RetrySettings {
    pub max_retries: u32,
    pub backoff: Duration,
    pub budget_ratio: f64,
    pub budget_min_per_second: f64,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive (checked to parse).
    pub level: String,
    /// Bytes of log lines each output stream holds while its sink is slow.
    pub queue_bytes: usize,
    pub access: AccessLogSettings,
}

#[derive(Debug, Clone)]
pub struct AccessLogSettings {
    pub output: AccessOutput,
}

/// Where access-log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessOutput {
    Off,
    Stdout,
    Stderr,
    File(PathBuf),
}

/// Reads the layered configuration. `config_dir` holds `<env>.toml`.
pub fn load(config_dir: &Path, env: Option<&str>) -> Result<Settings, ConfigError> {
    load_with(config_dir, env, None)
}

/// As `load`, with an extra TOML layer on top of the file but below the
/// environment (used by `demo` and by tests to pass settings as values).
pub fn load_with(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
) -> Result<Settings, ConfigError> {
    let (partial, problems) = check_with(config_dir, env, overlay);
    problems.finish(partial.complete())
}

/// Every section that validated, and every problem found: for `check-config`,
/// which goes on to check what it can of a configuration that is not valid.
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
    let mut problems = Problems::default();
    let raw = read(config_dir, env, overlay, vars, &mut problems);
    let partial = raw.validate(&mut problems);
    (partial, problems)
}

fn layers(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
    vars: EnvLayer,
) -> Result<config::Config, Problem> {
    use config::{Config, File, FileFormat};
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
    if let Some(env) = env.filter(|e| !e.is_empty()) {
        let path = config_dir.join(format!("{env}.toml"));
        if !path.is_file() {
            return Err(Problem::new(
                "GATEWAY_ENV",
                format!("{env:?} selects {}, which does not exist", path.display()),
            ));
        }
        builder = builder.add_source(File::from(path).format(FileFormat::Toml));
    }
    if let Some(overlay) = overlay {
        builder = builder.add_source(File::from_str(overlay, FileFormat::Toml));
    }
    // Strings as given; each key's type decides what they become (see `env`).
    builder = builder.add_source(vars);
    builder
        .build()
        .map_err(|e| problems::from_config_error("configuration", &e))
}

/// Each section on its own, so a wrong value in one does not hide the problems of the others.
fn read(
    config_dir: &Path,
    env: Option<&str>,
    overlay: Option<&str>,
    vars: EnvLayer,
    p: &mut Problems,
) -> RawSettings {
    let cfg = match layers(config_dir, env, overlay, vars) {
        Ok(cfg) => cfg,
        Err(problem) => {
            p.extend([problem]);
            return RawSettings::default();
        }
    };
    match cfg
        .clone()
        .try_deserialize::<config::Map<String, config::Value>>()
    {
        Ok(root) => {
            for key in root.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
                p.add(key.clone(), "unknown section");
            }
        }
        Err(e) => p.extend([problems::from_config_error("", &e)]),
    }
    let mut patched = Vec::new();
    let pa = &mut patched;
    RawSettings {
        server: section(&cfg, "server", p, pa),
        admin: section(&cfg, "admin", p, pa),
        upstream: section(&cfg, "upstream", p, pa),
        log: section(&cfg, "log", p, pa),
        mask: section(&cfg, "mask", p, pa),
        cache: section(&cfg, "cache", p, pa),
        auth: section(&cfg, "auth", p, pa),
        telemetry: section(&cfg, "telemetry", p, pa),
        cluster: section(&cfg, "cluster", p, pa),
        idempotency: section(&cfg, "idempotency", p, pa),
        patched,
    }
}

/// Section `name` deserialized, with every wrong value in it noted: serde
/// stops at the first, so each one found is set aside (its default put in its
/// place) and the section read again. A section read that way is listed in
/// `patched`, so its other values are still checked but it is never used.
fn section<T: serde::de::DeserializeOwned>(
    cfg: &config::Config,
    name: &str,
    p: &mut Problems,
    patched: &mut Vec<(String, config::Value)>,
) -> Option<T> {
    // Through `Value` rather than `Config::get`, which would replace the key of
    // the value at fault with the section's name.
    let mut value = match cfg.get::<config::Value>(name) {
        Ok(v) => v,
        Err(e) => {
            p.extend([problems::from_config_error(name, &e)]);
            return None;
        }
    };
    let mut defaults = None;
    let mut found: Vec<String> = Vec::new();
    // Booleans are strict (`true`/`false`) whichever layer gives them.
    let shipped = defaults.get_or_insert_with(|| default_section::<config::Value>(name));
    for (key, given) in problems::loose_bools(&value, shipped) {
        let full = format!("{name}.{key}");
        p.add(full.clone(), format!("{given} is not true or false"));
        problems::set_aside(&mut value, shipped, &key);
        found.push(full);
    }
    for _ in 0..32 {
        let problem = match value.clone().try_deserialize::<T>() {
            Ok(t) => {
                if !found.is_empty() {
                    patched.push((name.to_owned(), value));
                }
                return Some(t);
            }
            Err(e) => problems::from_config_error(name, &e),
        };
        // A key set aside is then missing, or leaves its parent wrong: nothing new.
        let known = found.iter().any(|f| {
            f == &problem.key
                || f.starts_with(&format!("{}.", problem.key))
                || f.starts_with(&format!("{}[", problem.key))
        });
        let relative = problem
            .key
            .strip_prefix(name)
            .unwrap_or("")
            .trim_start_matches('.');
        if !known {
            found.push(problem.key.clone());
            p.extend([problem.clone()]);
        }
        if relative.is_empty()
            || !problems::set_aside(
                &mut value,
                defaults.get_or_insert_with(|| default_section::<config::Value>(name)),
                relative,
            )
            || known && problem.reason == "is required"
        {
            break;
        }
    }
    None
}

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
