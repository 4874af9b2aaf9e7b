//! `[upstream]`: where paycombat is, the credentials the gateway holds for
//! it, and how it is talked to (timeouts, pool, cap, retries, breaker, the
//! response limits and header rules). Raw as written, checked into
//! [`UpstreamSettings`]; problems are named relative to the section.

use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, Uri};
use serde::{Deserialize, Serialize};

use crate::credentials::SecretSource;
use crate::problems::{optional_path, Problems};
use crate::redact::SecretText;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    #[serde(serialize_with = "crate::redact::url")]
    pub base_url: String,
    pub token_file: String,
    pub signature_key_file: String,
    pub token: SecretText,
    pub signature_key: SecretText,
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

/// `[upstream]` on a configuration reload: what the inspector makes of an answer
/// (header allowlist, body bound) is live; the connection pool, credentials, the
/// concurrency cap, breakers, retry budget and buffer pools are built once and keep
/// their state across reloads.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[
        "max_response_body_bytes",
        "response_headers",
        "vary_request_headers",
    ],
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
        "max_buffered_bytes",
        "buffer_wait",
        "buffering",
        "per_client",
        "retry",
        "circuit_breaker",
    ],
};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_retries: u32,
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    pub budget_ratio: f64,
    pub budget_min_per_second: f64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failure_threshold: u32,
    #[serde(with = "humantime_serde")]
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
    pub max_response_body_bytes: usize,
    pub response_headers: crate::inspect::HeaderAllowlist,
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
        let max_response_body_bytes =
            p.positive("max_response_body_bytes", u.max_response_body_bytes);
        let response_headers = p.check(
            "response_headers",
            crate::inspect::HeaderAllowlist::parse(&u.response_headers, &u.vary_request_headers),
        );
        let max_buffered_bytes = p.positive("max_buffered_bytes", u.max_buffered_bytes);
        let buffering = p.within("buffering", |p| u.buffering.check(p));
        let per_client = p.within("per_client", |p| u.per_client.check(p));
        let breaker_cool_down =
            p.positive("circuit_breaker.cool_down", u.circuit_breaker.cool_down);
        if !(0.0..=1.0).contains(&u.retry.budget_ratio) {
            p.add("retry.budget_ratio", "must be between 0 and 1");
        }
        if u.retry.budget_min_per_second < 0.0 {
            p.add("retry.budget_min_per_second", "must not be negative");
        }
        // One body at the limit is held up to three times at once (as read,
        // decoded, masked): the budget must fit at least that.
        if let (Some(buffered), Some(body)) = (max_buffered_bytes, max_response_body_bytes) {
            if buffered < body.saturating_mul(3) {
                p.add(
                    "max_buffered_bytes",
                    "must be at least 3 × `upstream.max_response_body_bytes`",
                );
            } else if let Some(share) = &per_client {
                // Else a client within its share could never read a body at the limit.
                if (buffered as f64 * share.buffer_share) < body.saturating_mul(3) as f64 {
                    p.add(
                        "per_client.buffer_share",
                        "its share of `upstream.max_buffered_bytes` must hold 3 × `upstream.max_response_body_bytes`",
                    );
                }
            }
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
            max_response_body_bytes: max_response_body_bytes?,
            response_headers: response_headers?,
            max_buffered_bytes: max_buffered_bytes?,
            buffer_wait: u.buffer_wait,
            buffering: buffering?,
            per_client: per_client?,
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
