//! Configuration: the embedded `config/default.toml`, then an optional
//! `<config dir>/<GATEWAY_ENV>.toml`, then `GATEWAY__SECTION__KEY` environment
//! variables. Read once into raw serde structs, then validated into typed
//! `Settings` so the rest of the gateway never sees a string it must parse.
//!
//! A bad value fails start-up with a message naming the key (exit code 64).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, Uri};
use serde::Deserialize;

/// The documented defaults, compiled in so the binary runs anywhere.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

fn bad(key: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("`{key}`: {problem}"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub server: RawServer,
    pub admin: RawAdmin,
    pub upstream: RawUpstream,
    pub log: RawLog,
    pub mask: crate::mask::MaskConfig,
    pub cache: crate::cache::CacheConfig,
    pub auth: RawAuth,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthModeSetting {
    /// Every client presents a key from the clients file.
    Keys,
    /// No client authentication at all: only when said explicitly.
    None,
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
    pub max_buffered_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub buffer_wait: Duration,
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

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: LogFormat,
    pub level: String,
}

/// Validated settings. Secrets are not here: only where to read them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub admin: AdminSettings,
    pub upstream: UpstreamSettings,
    pub log: LogSettings,
    pub mask: crate::mask::MaskConfig,
    /// `mask.passthrough`, validated.
    pub passthrough: crate::proxy::Passthrough,
    pub cache: crate::cache::CacheSettings,
    pub auth: AuthSettings,
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
    pub level: String,
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
    use config::{Config, Environment, File, FileFormat};
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
    if let Some(env) = env.filter(|e| !e.is_empty()) {
        let path = config_dir.join(format!("{env}.toml"));
        if !path.is_file() {
            return Err(ConfigError(format!(
                "GATEWAY_ENV={env} but {} does not exist",
                path.display()
            )));
        }
        builder = builder.add_source(File::from(path).format(FileFormat::Toml));
    }
    if let Some(overlay) = overlay {
        builder = builder.add_source(File::from_str(overlay, FileFormat::Toml));
    }
    builder = builder.add_source(
        Environment::with_prefix("GATEWAY")
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("upstream.strip_request_headers")
            .with_list_parse_key("server.trusted_proxies")
            .try_parsing(true),
    );
    let raw: RawSettings = builder
        .build()
        .and_then(Config::try_deserialize)
        .map_err(|e| ConfigError(e.to_string()))?;
    raw.validate()
}

fn socket_addr(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.parse()
        .map_err(|_| bad(key, format!("{v:?} is not an address like 127.0.0.1:8080")))
}

fn opt_path(v: &str) -> Option<PathBuf> {
    (!v.trim().is_empty()).then(|| PathBuf::from(v.trim()))
}

fn secret_source(key: &str, file: &str, value: &str) -> Result<Option<SecretSource>, ConfigError> {
    match (opt_path(file), value.is_empty()) {
        (Some(_), false) => Err(bad(
            key,
            format!("set either `{key}_file` or `{key}`, not both"),
        )),
        (Some(p), true) => Ok(Some(SecretSource::File(p))),
        (None, false) => Ok(Some(SecretSource::Value(value.to_owned().into()))),
        (None, true) => Ok(None),
    }
}

fn positive<T: PartialOrd + Default + Copy>(key: &str, v: T) -> Result<T, ConfigError> {
    if v > T::default() {
        Ok(v)
    } else {
        Err(bad(key, "must be greater than zero"))
    }
}

impl RawSettings {
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let s = self.server;
        let server = ServerSettings {
            listen: socket_addr("server.listen", &s.listen)?,
            max_request_body_bytes: positive(
                "server.max_request_body_bytes",
                s.max_request_body_bytes,
            )?,
            max_header_bytes: positive("server.max_header_bytes", s.max_header_bytes)?,
            max_headers: positive("server.max_headers", s.max_headers)?,
            header_read_timeout: positive("server.header_read_timeout", s.header_read_timeout)?,
            drain_timeout: s.drain_timeout,
            http2_max_concurrent_streams: positive(
                "server.http2_max_concurrent_streams",
                s.http2_max_concurrent_streams,
            )?,
            http2_max_pending_accept_reset_streams: positive(
                "server.http2_max_pending_accept_reset_streams",
                s.http2_max_pending_accept_reset_streams,
            )?,
            watch_files: s.watch_files,
            trusted_proxies: crate::upstream::trusted::TrustedProxies::parse(&s.trusted_proxies)
                .map_err(|e| bad("server.trusted_proxies", e))?,
            idle_timeout: positive("server.idle_timeout", s.idle_timeout)?,
            max_connections: positive("server.max_connections", s.max_connections)?,
            request_body_timeout: positive("server.request_body_timeout", s.request_body_timeout)?,
            response_write_timeout: positive(
                "server.response_write_timeout",
                s.response_write_timeout,
            )?,
        };
        let admin = AdminSettings {
            listen: socket_addr("admin.listen", &self.admin.listen)?,
            token_file: opt_path(&self.admin.token_file),
        };
        if admin.listen == server.listen && server.listen.port() != 0 {
            return Err(bad("admin.listen", "must differ from `server.listen`"));
        }
        let u = self.upstream;
        let base_url: Uri = u
            .base_url
            .parse()
            .map_err(|e| bad("upstream.base_url", format!("not a URL: {e}")))?;
        match base_url.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(bad("upstream.base_url", "the scheme must be http or https")),
        }
        if base_url.host().is_none() {
            return Err(bad("upstream.base_url", "a host is required"));
        }
        if base_url.path() != "/" && !base_url.path().is_empty() || base_url.query().is_some() {
            return Err(bad(
                "upstream.base_url",
                "give only scheme, host and port: request paths are forwarded unchanged",
            ));
        }
        let strip_request_headers = u
            .strip_request_headers
            .iter()
            .map(|h| {
                HeaderName::from_bytes(h.trim().as_bytes()).map_err(|_| {
                    bad(
                        "upstream.strip_request_headers",
                        format!("{h:?} is not a header name"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let upstream = UpstreamSettings {
            base_url,
            token: secret_source("upstream.token", &u.token_file, &u.token)?,
            signature_key: secret_source(
                "upstream.signature_key",
                &u.signature_key_file,
                &u.signature_key,
            )?,
            ca_file: opt_path(&u.ca_file),
            connect_timeout: positive("upstream.connect_timeout", u.connect_timeout)?,
            timeout: positive("upstream.timeout", u.timeout)?,
            max_concurrent_requests: positive(
                "upstream.max_concurrent_requests",
                u.max_concurrent_requests,
            )?,
            pool_idle_timeout: u.pool_idle_timeout,
            pool_max_idle_per_host: u.pool_max_idle_per_host,
            strip_request_headers,
            max_response_body_bytes: positive(
                "upstream.max_response_body_bytes",
                u.max_response_body_bytes,
            )?,
            response_headers: crate::proxy::HeaderAllowlist::parse(&u.response_headers)
                .map_err(|e| bad("upstream.response_headers", e))?,
            max_buffered_bytes: positive("upstream.max_buffered_bytes", u.max_buffered_bytes)?,
            buffer_wait: u.buffer_wait,
            retry: RetrySettings {
                max_retries: u.retry.max_retries,
                backoff: u.retry.backoff,
                budget_ratio: u.retry.budget_ratio,
                budget_min_per_second: u.retry.budget_min_per_second,
            },
            breaker_failure_threshold: u.circuit_breaker.failure_threshold,
            breaker_cool_down: positive(
                "upstream.circuit_breaker.cool_down",
                u.circuit_breaker.cool_down,
            )?,
        };
        if !(0.0..=1.0).contains(&upstream.retry.budget_ratio) {
            return Err(bad(
                "upstream.retry.budget_ratio",
                "must be between 0 and 1",
            ));
        }
        if upstream.retry.budget_min_per_second < 0.0 {
            return Err(bad(
                "upstream.retry.budget_min_per_second",
                "must not be negative",
            ));
        }
        // One body at the limit is held up to three times at once (as read,
        // decoded, masked): the budget must fit at least that.
        if upstream.max_buffered_bytes < upstream.max_response_body_bytes.saturating_mul(3) {
            return Err(bad(
                "upstream.max_buffered_bytes",
                "must be at least 3 × `upstream.max_response_body_bytes`",
            ));
        }
        if upstream.connect_timeout > upstream.timeout {
            return Err(bad(
                "upstream.connect_timeout",
                "must not exceed `upstream.timeout`",
            ));
        }
        let log = LogSettings {
            format: self.log.format,
            level: self.log.level,
        };
        let cache = self
            .cache
            .validate()
            .map_err(|e| bad(&format!("cache.{}", e.key()), e))?;
        let auth = AuthSettings {
            mode: self.auth.mode,
            clients_file: opt_path(&self.auth.clients_file),
        };
        if auth.mode == AuthModeSetting::Keys && auth.clients_file.is_none() {
            return Err(bad(
                "auth.clients_file",
                "required when `auth.mode = \"keys\"` (or set `auth.mode = \"none\"` explicitly)",
            ));
        }
        let passthrough = self
            .mask
            .passthrough
            .iter()
            .enumerate()
            .map(|(i, c)| {
                crate::proxy::PassthroughRule::parse(c)
                    .map_err(|e| bad(&format!("mask.passthrough[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            server,
            admin,
            upstream,
            log,
            passthrough: crate::proxy::Passthrough::new(passthrough),
            mask: self.mask,
            cache,
            auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_AUTH: &str = "[auth]\nmode = \"none\"";

    fn with(overlay: &str) -> Result<Settings, ConfigError> {
        load_with(Path::new("/nonexistent"), None, Some(overlay))
    }

    #[test]
    fn defaults_are_valid_and_safe() {
        // Client authentication is on by default: without a clients file the
        // gateway refuses to start rather than let anyone act as the merchant.
        let e = with("").unwrap_err().to_string();
        assert!(e.contains("auth.clients_file"), "{e}");
        let s = with(NO_AUTH).unwrap();
        assert!(s.server.listen.ip().is_loopback());
        assert!(s.admin.listen.ip().is_loopback());
        assert_eq!(s.upstream.base_url.host(), Some("api.paycombat.com"));
        assert!(s.upstream.token.is_none());
    }

    #[test]
    fn trusted_proxies_default_to_none_and_bad_entries_name_the_key() {
        let s = with(NO_AUTH).unwrap();
        assert!(s.server.trusted_proxies.is_empty());
        let s = with(&format!(
            "{NO_AUTH}\n[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\"]"
        ))
        .unwrap();
        assert!(s
            .server
            .trusted_proxies
            .contains("10.2.3.4".parse().unwrap()));
        let e = with(&format!(
            "{NO_AUTH}\n[server]\ntrusted_proxies = [\"10.0.0.0/40\"]"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("server.trusted_proxies"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let e = with("[server]\nlisten = \"nope\"").unwrap_err().to_string();
        assert!(e.contains("server.listen"), "{e}");
        let e = with("[upstream]\nbase_url = \"ftp://x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("upstream.base_url"), "{e}");
        let e = with("[upstream]\ntoken_file = \"/a\"\ntoken = \"b\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("upstream.token"), "{e}");
        let e = with("[server]\nlisten_typo = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen_typo"), "{e}");
        let e = with("[server]\ndrain_timeout = \"soon\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("drain_timeout"), "{e}");
        for key in [
            "idle_timeout = \"0s\"",
            "max_connections = 0",
            "request_body_timeout = \"0s\"",
            "response_write_timeout = \"0s\"",
        ] {
            let e = with(&format!("{NO_AUTH}\n[server]\n{key}"))
                .unwrap_err()
                .to_string();
            let name = key.split(' ').next().unwrap();
            assert!(e.contains(&format!("server.{name}")), "{e}");
        }
    }

    #[test]
    fn the_shipped_production_layer_loads() {
        let s = load_with(
            Path::new("config"),
            Some("production"),
            Some("[auth]\nmode = \"none\""),
        )
        .unwrap();
        assert_eq!(s.server.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(s.log.format, LogFormat::Json);
        assert!(
            load(Path::new("config"), Some("staging")).is_err(),
            "a missing layer is an error"
        );
    }

    #[test]
    fn secrets_never_debug_print() {
        let s = with(&format!(
            "{NO_AUTH}\n[upstream]\ntoken = \"snd_supersecret\""
        ))
        .unwrap();
        assert!(!format!("{s:?}").contains("supersecret"));
    }
}
