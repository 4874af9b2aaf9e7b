//! `GET /admin/config`: the settings in force, after every layer, for an SRE
//! asking "what is this replica actually running with?".
//!
//! The answer is a view built field by field from the typed [`Settings`], not
//! a dump of the merged configuration: a secret can only appear if a field
//! here prints it, and none does. Secret sources print where they come from
//! (`{"file": "/run/secrets/token"}`) or that a value was given
//! (`{"value": "[redacted]"}`); secret files are never opened by this handler.

use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use crate::body::GatewayBody;
use crate::cache::CachedRoute;
use crate::config::{AccessOutput, AuthModeSetting, LogFormat, SecretSource, Settings};
use crate::mask::{RuleConfig, Strategy};

/// What a redacted value prints as.
const REDACTED: &str = "[redacted]";

/// The JSON document `GET /admin/config` returns, in paycombat's envelope.
pub fn response(settings: &Settings) -> Response<GatewayBody> {
    #[derive(Serialize)]
    struct Envelope {
        status: bool,
        message: &'static str,
        data: View,
    }
    let body = serde_json::to_vec(&Envelope {
        status: true,
        message: "OK",
        data: View::from(settings),
    })
    .unwrap_or_default();
    let mut r = Response::new(GatewayBody::full(Bytes::from(body)));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The document names secret files: no shared cache may keep it.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn dur(d: Duration) -> String {
    humantime_serde::re::humantime::format_duration(d).to_string()
}

fn path(p: &Option<std::path::PathBuf>) -> Option<String> {
    p.as_ref().map(|p| p.display().to_string())
}

/// Where a secret comes from, never what it is.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Secret {
    File(String),
    Value(&'static str),
}

fn secret(s: &Option<SecretSource>) -> Option<Secret> {
    s.as_ref().map(|s| match s {
        SecretSource::File(p) => Secret::File(p.display().to_string()),
        SecretSource::Value(_) => Secret::Value(REDACTED),
    })
}

#[derive(Serialize)]
pub struct View {
    version: &'static str,
    revision: &'static str,
    server: Server,
    admin: Admin,
    upstream: Upstream,
    log: Log,
    mask: Mask,
    cache: Cache,
    auth: Auth,
    telemetry: Telemetry,
    /// `None` in single-process mode.
    cluster: Option<Cluster>,
}

/// The Redis URL as every URL is printed: without userinfo (a user name may be
/// there; a password never is) and query.
#[derive(Serialize)]
struct Cluster {
    redis_url: String,
    tls: bool,
    redis_password_file: Option<String>,
    ca_file: Option<String>,
    prefix: String,
    connect_timeout: String,
    command_timeout: String,
    heartbeat_interval: String,
    heartbeat_timeout: String,
    subscribe_timeout: String,
    lease: String,
    publish_deadline: String,
    on_unconfirmed_write: &'static str,
    rate_limit_on_error: &'static str,
    rate_limit_breaker_failures: u32,
    rate_limit_breaker_cooldown: String,
}

impl Cluster {
    fn from(r: &crate::cluster::RedisSettings) -> Cluster {
        use secrecy::ExposeSecret;
        Cluster {
            redis_url: crate::config::url::shown_str(r.url.expose_secret()),
            tls: r.url.expose_secret().starts_with("rediss://"),
            redis_password_file: path(&r.password_file),
            ca_file: path(&r.ca_file),
            prefix: r.prefix.clone(),
            connect_timeout: dur(r.connect_timeout),
            command_timeout: dur(r.command_timeout),
            heartbeat_interval: dur(r.heartbeat_interval),
            heartbeat_timeout: dur(r.heartbeat_timeout),
            subscribe_timeout: dur(r.subscribe_timeout),
            lease: dur(r.lease),
            publish_deadline: dur(r.publish_deadline),
            on_unconfirmed_write: r.on_unconfirmed_write.label(),
            rate_limit_on_error: r.rate_limit_on_error.label(),
            rate_limit_breaker_failures: r.rate_limit_breaker_failures,
            rate_limit_breaker_cooldown: dur(r.rate_limit_breaker_cooldown),
        }
    }
}

#[derive(Serialize)]
struct Server {
    listen: String,
    max_request_body_bytes: usize,
    max_header_bytes: usize,
    max_headers: usize,
    header_read_timeout: String,
    drain_timeout: String,
    http2_max_concurrent_streams: u32,
    http2_max_pending_accept_reset_streams: usize,
    watch_files: bool,
    trusted_proxies: String,
    idle_timeout: String,
    max_connections: usize,
    request_body_timeout: String,
    response_write_timeout: String,
    /// Paths only: the key file is a secret and is never opened here.
    tls: Tls,
}

#[derive(Serialize)]
struct Tls {
    enabled: bool,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_ca_file: Option<String>,
    client_auth: &'static str,
}

#[derive(Serialize)]
struct Admin {
    listen: String,
    token_file: Option<String>,
}

#[derive(Serialize)]
struct Upstream {
    base_url: String,
    token: Option<Secret>,
    signature_key: Option<Secret>,
    ca_file: Option<String>,
    connect_timeout: String,
    timeout: String,
    max_concurrent_requests: usize,
    pool_idle_timeout: String,
    pool_max_idle_per_host: usize,
    strip_request_headers: Vec<String>,
    max_response_body_bytes: usize,
    response_headers: Vec<String>,
    vary_request_headers: Vec<String>,
    max_buffered_bytes: usize,
    buffer_wait: String,
    buffering: Buffering,
    per_client: PerClient,
    retry: Retry,
    circuit_breaker: Breaker,
}

#[derive(Serialize)]
struct Buffering {
    memory_per_response: usize,
    spool_dir: String,
    spool_per_response: u64,
    spool_total: u64,
}

#[derive(Serialize)]
struct PerClient {
    slot_share: f64,
    buffer_share: f64,
}

#[derive(Serialize)]
struct Retry {
    max_retries: u32,
    backoff: String,
    budget_ratio: f64,
    budget_min_per_second: f64,
}

#[derive(Serialize)]
struct Breaker {
    failure_threshold: u32,
    cool_down: String,
}

#[derive(Serialize)]
struct Log {
    format: &'static str,
    level: String,
    queue_bytes: usize,
    access: AccessLog,
}

#[derive(Serialize)]
struct AccessLog {
    output: &'static str,
    file: String,
}

#[derive(Serialize)]
struct Mask {
    enabled: bool,
    placeholder: String,
    mask_char: char,
    max_depth: usize,
    hmac_prefix: String,
    hmac_hex_chars: usize,
    match_spellings: bool,
    hmac_key_file: Option<String>,
    rules: Vec<Rule>,
    passthrough: Vec<Passthrough>,
    /// `[mask.policy]` as configured (no secrets in it): modes, declared paths, key words,
    /// detectors.
    policy: crate::mask::policy::PolicyConfig,
}

#[derive(Serialize)]
struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    strategy: String,
}

#[derive(Serialize)]
struct Passthrough {
    methods: Vec<String>,
    path: String,
    content_types: Vec<String>,
    magic: String,
    ranges: bool,
}

#[derive(Serialize)]
struct Cache {
    enabled: bool,
    max_bytes: u64,
    max_entry_bytes: u64,
    allow_client_no_cache: bool,
    allow_client_no_store: bool,
    routes: std::collections::BTreeMap<&'static str, CacheRoute>,
}

#[derive(Serialize)]
struct CacheRoute {
    enabled: bool,
    ttl: String,
    stale_if_error: String,
    stale_while_revalidate: String,
    negative_ttl: String,
    query_allowlist: Vec<String>,
}

#[derive(Serialize)]
struct Auth {
    mode: &'static str,
    clients_file: Option<String>,
}

/// `otlp_endpoint` is null when tracing is off; the URL holds no credentials
/// (validation refuses user info in it).
#[derive(Serialize)]
struct Telemetry {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
    sampling_ratio: Option<f64>,
    honour_traceparent: bool,
}

fn strategy(s: Strategy) -> String {
    match s {
        Strategy::Redact => "redact".into(),
        Strategy::Last4 => "last4".into(),
        Strategy::KeepLast(n) => format!("keep_last = {n}"),
        Strategy::Email => "email".into(),
        Strategy::Hmac => "hmac".into(),
        Strategy::Null => "null".into(),
    }
}

fn rule(r: &RuleConfig) -> Rule {
    Rule {
        field: r.field.clone(),
        path: r.path.clone(),
        strategy: strategy(r.strategy),
    }
}

impl From<&Settings> for View {
    fn from(s: &Settings) -> View {
        let (sv, u, m, c) = (&s.server, &s.upstream, &s.mask.source, &s.cache);
        View {
            version: crate::build::VERSION,
            revision: crate::build::REVISION,
            server: Server {
                listen: sv.listen.to_string(),
                max_request_body_bytes: sv.max_request_body_bytes,
                max_header_bytes: sv.max_header_bytes,
                max_headers: sv.max_headers,
                header_read_timeout: dur(sv.header_read_timeout),
                drain_timeout: dur(sv.drain_timeout),
                http2_max_concurrent_streams: sv.http2_max_concurrent_streams,
                http2_max_pending_accept_reset_streams: sv.http2_max_pending_accept_reset_streams,
                watch_files: sv.watch_files,
                trusted_proxies: format!("{:?}", sv.trusted_proxies),
                idle_timeout: dur(sv.idle_timeout),
                max_connections: sv.max_connections,
                request_body_timeout: dur(sv.request_body_timeout),
                response_write_timeout: dur(sv.response_write_timeout),
                tls: Tls {
                    enabled: sv.tls.is_some(),
                    cert_file: sv.tls.as_ref().map(|t| t.cert_file.display().to_string()),
                    key_file: sv.tls.as_ref().map(|t| t.key_file.display().to_string()),
                    client_ca_file: sv.tls.as_ref().and_then(|t| path(&t.client_ca_file)),
                    client_auth: sv.tls.as_ref().map_or("off", |t| t.client_auth.name()),
                },
            },
            admin: Admin {
                listen: s.admin.listen.to_string(),
                token_file: path(&s.admin.token_file),
            },
            upstream: Upstream {
                base_url: crate::config::url::shown(&u.base_url),
                token: secret(&u.token),
                signature_key: secret(&u.signature_key),
                ca_file: path(&u.ca_file),
                connect_timeout: dur(u.connect_timeout),
                timeout: dur(u.timeout),
                max_concurrent_requests: u.max_concurrent_requests,
                pool_idle_timeout: dur(u.pool_idle_timeout),
                pool_max_idle_per_host: u.pool_max_idle_per_host,
                strip_request_headers: u
                    .strip_request_headers
                    .iter()
                    .map(|h| h.as_str().to_owned())
                    .collect(),
                max_response_body_bytes: u.max_response_body_bytes,
                response_headers: u.response_headers.names().map(str::to_owned).collect(),
                vary_request_headers: u.response_headers.vary_names().map(str::to_owned).collect(),
                max_buffered_bytes: u.max_buffered_bytes,
                buffer_wait: dur(u.buffer_wait),
                buffering: Buffering {
                    memory_per_response: u.buffering.memory_per_response,
                    spool_dir: u.buffering.spool_dir.display().to_string(),
                    spool_per_response: u.buffering.spool_per_response,
                    spool_total: u.buffering.spool_total,
                },
                per_client: PerClient {
                    slot_share: u.per_client.slot_share,
                    buffer_share: u.per_client.buffer_share,
                },
                retry: Retry {
                    max_retries: u.retry.max_retries,
                    backoff: dur(u.retry.backoff),
                    budget_ratio: u.retry.budget_ratio,
                    budget_min_per_second: u.retry.budget_min_per_second,
                },
                circuit_breaker: Breaker {
                    failure_threshold: u.breaker_failure_threshold,
                    cool_down: dur(u.breaker_cool_down),
                },
            },
            log: Log {
                format: match s.log.format {
                    LogFormat::Human => "human",
                    LogFormat::Json => "json",
                },
                level: s.log.level.clone(),
                queue_bytes: s.log.queue_bytes,
                access: match &s.log.access.output {
                    AccessOutput::Off => access("off", ""),
                    AccessOutput::Stdout => access("stdout", ""),
                    AccessOutput::Stderr => access("stderr", ""),
                    AccessOutput::File(p) => access("file", &p.display().to_string()),
                },
            },
            mask: Mask {
                enabled: m.enabled,
                placeholder: m.placeholder.clone(),
                mask_char: m.mask_char,
                max_depth: m.max_depth,
                hmac_prefix: m.hmac_prefix.clone(),
                hmac_hex_chars: m.hmac_hex_chars,
                match_spellings: m.match_spellings,
                hmac_key_file: path(&m.hmac_key_file),
                rules: m.rules.iter().map(rule).collect(),
                passthrough: m
                    .passthrough
                    .iter()
                    .map(|p| Passthrough {
                        methods: p.methods.clone(),
                        path: p.path.clone(),
                        content_types: p.content_types.clone(),
                        magic: p.magic.clone(),
                        ranges: p.ranges,
                    })
                    .collect(),
                policy: m.policy.clone(),
            },
            cache: Cache {
                enabled: c.enabled,
                max_bytes: c.max_bytes,
                max_entry_bytes: c.max_entry_bytes,
                allow_client_no_cache: c.allow_client_no_cache,
                allow_client_no_store: c.allow_client_no_store,
                routes: CachedRoute::ALL
                    .iter()
                    .map(|&r| {
                        let p = c.route(r);
                        (
                            r.name(),
                            CacheRoute {
                                enabled: p.enabled,
                                ttl: dur(p.ttl),
                                stale_if_error: dur(p.stale_if_error),
                                stale_while_revalidate: dur(p.stale_while_revalidate),
                                negative_ttl: dur(p.negative_ttl),
                                query_allowlist: p.query_allowlist.clone(),
                            },
                        )
                    })
                    .collect(),
            },
            auth: Auth {
                mode: match s.auth.mode {
                    AuthModeSetting::Keys => "keys",
                    AuthModeSetting::None => "none",
                },
                clients_file: path(&s.auth.clients_file),
            },
            telemetry: {
                let e = s.telemetry.exporter.as_ref();
                Telemetry {
                    otlp_endpoint: e.map(|e| crate::config::url::shown(&e.endpoint)),
                    service_name: e.map(|e| e.service_name.clone()),
                    sampling_ratio: e.map(|e| e.sampling_ratio),
                    honour_traceparent: s.telemetry.honour_traceparent,
                }
            },
            cluster: s.cluster.redis.as_ref().map(Cluster::from),
        }
    }
}

fn access(output: &'static str, file: &str) -> AccessLog {
    AccessLog {
        output,
        file: file.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs are shown the one way every URL is printed: no userinfo (a Redis
    /// ACL user name included), no query.
    #[test]
    fn urls_are_shown_without_userinfo() {
        let s = crate::config::load_with(
            std::path::Path::new("/nonexistent"),
            None,
            Some(
                "[auth]\nmode = \"none\"\n[upstream]\nbase_url = \"https://api.example:8443\"\n\
                 [cluster]\nredis_url = \"rediss://gateway-acl-user@redis:6380/0\"\n\
                 [telemetry]\notlp_endpoint = \"http://otel:4318\"\n",
            ),
        )
        .expect("valid");
        let v = serde_json::to_value(View::from(&s)).unwrap();
        assert_eq!(v["upstream"]["base_url"], "https://api.example:8443/");
        assert_eq!(v["cluster"]["redis_url"], "rediss://redis:6380/0");
        assert_eq!(
            v["telemetry"]["otlp_endpoint"],
            "http://otel:4318/v1/traces"
        );
        assert!(!v.to_string().contains("gateway-acl-user"));
    }
}
