//! `[upstream]`: where paycombat is, the credentials the gateway holds for
//! it, and how it is talked to (timeouts, pool, cap, retries, breaker, the
//! request header rules). Raw as written, checked into [`UpstreamSettings`];
//! problems are named relative to the section. The section's other keys are
//! not this component's: the response limits and buffering are inspection's
//! (`crate::inspect::RawInspect`), `per_client` is fair's; the config pass
//! reads each owner's keys out of the same section.

use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, Uri};
use serde::{Deserialize, Serialize};

use crate::problems::{optional_path, Problems};
use crate::redact::{SecretSource, SecretText};

/// This component's keys of `[upstream]`, as written. No
/// `deny_unknown_fields` at this level: the section's other keys are
/// inspection's and fair's, and the config pass refuses a key that no owner
/// of the section reads (its tables, `retry` and `circuit_breaker`, refuse
/// unknown keys themselves).
#[derive(Debug, Deserialize, Serialize)]
pub struct RawUpstream {
    #[serde(serialize_with = "crate::redact::url")]
    pub base_url: String,
    pub token_file: String,
    pub signature_key_file: String,
    pub token: SecretText,
    pub signature_key: SecretText,
    pub ca_file: String,
    #[serde(with = "crate::duration_text")]
    pub connect_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub timeout: Duration,
    pub max_concurrent_requests: usize,
    #[serde(with = "crate::duration_text")]
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    pub strip_request_headers: Vec<String>,
    pub retry: RawRetry,
    pub circuit_breaker: RawBreaker,
}

/// Upstream's own keys of `[upstream]` on a configuration reload: the connection pool,
/// credentials, the concurrency cap, breakers and retry budget are built once and keep
/// their state across reloads. (Inspection's and fair's keys of the section are
/// declared by them: `inspect::config::KEYS`, `fair::config::KEYS`.)
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &[
        "base_url",
        "token_file",
        "signature_key_file",
        "token",
        "signature_key",
        "ca_file",
        "connect_timeout",
        "timeout",
        "max_concurrent_requests",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "strip_request_headers",
        "retry",
        "circuit_breaker",
    ],
};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_retries: u32,
    #[serde(with = "crate::duration_text")]
    pub backoff: Duration,
    pub budget_ratio: f64,
    pub budget_min_per_second: f64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failure_threshold: u32,
    #[serde(with = "crate::duration_text")]
    pub cool_down: Duration,
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

/// `upstream.base_url`: scheme, host and port only.
fn base_url(v: &str) -> Result<Uri, String> {
    let url = crate::urls::parse(v, crate::urls::HTTP)?;
    if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
        return Err(
            "give only scheme, host and port: request paths are forwarded unchanged".to_owned(),
        );
    }
    Ok(url)
}

/// A secret from its file or its value (one of the two). `key` is the
/// full key, for the message.
fn secret_source(
    key: &str,
    file: &str,
    value: &SecretText,
) -> Result<Option<SecretSource>, String> {
    match (optional_path(file), value.is_empty()) {
        (Some(_), false) => Err(format!("set either `{key}_file` or `{key}`, not both")),
        (Some(p), true) => Ok(Some(SecretSource::File(p))),
        (None, false) => Ok(Some(SecretSource::Value(value.secret()))),
        (None, true) => Ok(None),
    }
}

impl RawUpstream {
    /// Keys relative to `[upstream]`.
    pub fn check(self, p: &mut Problems) -> Option<UpstreamSettings> {
        let u = self;
        let base_url = p.check("base_url", base_url(&u.base_url));
        let before = p.len();
        let strip_request_headers: Vec<HeaderName> = u
            .strip_request_headers
            .iter()
            .filter_map(|h| {
                let name = HeaderName::from_bytes(h.trim().as_bytes());
                p.check(
                    "strip_request_headers",
                    name.map_err(|_| format!("{h:?} is not a header name")),
                )
            })
            .collect();
        let strip_ok = p.len() == before;
        let token = p.check(
            "token",
            secret_source("upstream.token", &u.token_file, &u.token),
        );
        let signature_key = p.check(
            "signature_key",
            secret_source(
                "upstream.signature_key",
                &u.signature_key_file,
                &u.signature_key,
            ),
        );
        let connect_timeout = p.positive("connect_timeout", u.connect_timeout);
        let timeout = p.positive("timeout", u.timeout);
        let max_concurrent_requests =
            p.positive("max_concurrent_requests", u.max_concurrent_requests);
        let breaker_cool_down =
            p.positive("circuit_breaker.cool_down", u.circuit_breaker.cool_down);
        if !(0.0..=1.0).contains(&u.retry.budget_ratio) {
            p.add("retry.budget_ratio", "must be between 0 and 1");
        }
        if u.retry.budget_min_per_second < 0.0 {
            p.add("retry.budget_min_per_second", "must not be negative");
        }
        if let (Some(connect), Some(total)) = (connect_timeout, timeout) {
            if connect > total {
                p.add("connect_timeout", "must not exceed `upstream.timeout`");
            }
        }
        if p.len() > before || !strip_ok {
            return None;
        }
        Some(UpstreamSettings {
            base_url: base_url?,
            token: token?,
            signature_key: signature_key?,
            ca_file: optional_path(&u.ca_file),
            connect_timeout: connect_timeout?,
            timeout: timeout?,
            max_concurrent_requests: max_concurrent_requests?,
            pool_idle_timeout: u.pool_idle_timeout,
            pool_max_idle_per_host: u.pool_max_idle_per_host,
            strip_request_headers,
            retry: RetrySettings {
                max_retries: u.retry.max_retries,
                backoff: u.retry.backoff,
                budget_ratio: u.retry.budget_ratio,
                budget_min_per_second: u.retry.budget_min_per_second,
            },
            breaker_failure_threshold: u.circuit_breaker.failure_threshold,
            breaker_cool_down: breaker_cool_down?,
        })
    }
}
