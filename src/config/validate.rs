//! The config pass: each raw section turned into its validated settings, every
//! problem noted under its key. A section with a problem yields `None`; the
//! other sections are still checked.

use std::net::SocketAddr;
use std::path::PathBuf;

use http::{HeaderName, Uri};

use super::problems::{self, positive};
use super::*;

#[cfg(test)]
#[path = "strict_tests.rs"]
mod strict_tests;

/// The sections that validated. Complete, it is [`Settings`].
#[derive(Debug, Default)]
pub struct Partial {
    pub server: Option<ServerSettings>,
    pub admin: Option<AdminSettings>,
    pub upstream: Option<UpstreamSettings>,
    pub log: Option<LogSettings>,
    pub mask: Option<crate::mask::MaskSettings>,
    pub passthrough: Option<crate::proxy::Passthrough>,
    pub cache: Option<crate::cache::CacheSettings>,
    pub auth: Option<AuthSettings>,
    pub telemetry: Option<crate::telemetry::TelemetrySettings>,
    pub cluster: Option<crate::cluster::ClusterSettings>,
    pub idempotency: Option<crate::idempotency::IdempotencySettings>,
}

impl Partial {
    pub fn complete(self) -> Option<Settings> {
        Some(Settings {
            server: self.server?,
            admin: self.admin?,
            upstream: self.upstream?,
            log: self.log?,
            mask: self.mask?,
            passthrough: self.passthrough?,
            cache: self.cache?,
            auth: self.auth?,
            telemetry: self.telemetry?,
            cluster: self.cluster?,
            idempotency: self.idempotency?,
        })
    }
}

impl Partial {
    /// Drops section `name` (and what is derived from it).
    fn forget(&mut self, name: &str) {
        match name {
            "server" => self.server = None,
            "admin" => self.admin = None,
            "upstream" => self.upstream = None,
            "log" => self.log = None,
            "mask" => (self.mask, self.passthrough) = (None, None),
            "cache" => self.cache = None,
            "telemetry" => self.telemetry = None,
            "cluster" => self.cluster = None,
            "idempotency" => self.idempotency = None,
            _ => self.auth = None,
        }
    }
}

impl From<Settings> for Partial {
    fn from(s: Settings) -> Partial {
        Partial {
            server: Some(s.server),
            admin: Some(s.admin),
            upstream: Some(s.upstream),
            log: Some(s.log),
            mask: Some(s.mask),
            passthrough: Some(s.passthrough),
            cache: Some(s.cache),
            auth: Some(s.auth),
            telemetry: Some(s.telemetry),
            cluster: Some(s.cluster),
            idempotency: Some(s.idempotency),
        }
    }
}

impl Problems {
    /// `v` when greater than zero, else a problem under `key`.
    fn positive<T: PartialOrd + Default + Copy>(&mut self, key: &str, v: T) -> Option<T> {
        self.check(key, positive(v))
    }
}

impl RawSettings {
    /// Sections in the order of `config/default.toml`, so problems are listed that way.
    pub fn validate(mut self, p: &mut Problems) -> Partial {
        let patched = std::mem::take(&mut self.patched);
        let from = p.len();
        let mut partial = self.validate_sections(p);
        // A patched section holds defaults where the operator's values were
        // wrong: a problem it shows only because of a default is not theirs.
        p.retain_since(from, |problem| {
            !patched.iter().any(|(name, written)| {
                let Some(key) = problem.key.strip_prefix(name.as_str()) else {
                    return false;
                };
                let key = key.trim_start_matches('.');
                let shipped = super::default_section::<config::Value>(name);
                key.is_empty()
                    || problems::value_at(written, key) == problems::value_at(&shipped, key)
            })
        });
        for (name, _) in &patched {
            partial.forget(name);
        }
        partial
    }

    fn validate_sections(self, p: &mut Problems) -> Partial {
        let server = self.server.and_then(|s| server(s, p));
        let admin = self.admin.and_then(|a| {
            let listen = p.check("admin.listen", socket_addr(&a.listen))?;
            Some(AdminSettings {
                listen,
                token_file: opt_path(&a.token_file),
            })
        });
        if let (Some(s), Some(a)) = (&server, &admin) {
            if a.listen == s.listen && s.listen.port() != 0 {
                p.add("admin.listen", "must differ from `server.listen`");
            }
        }
        let upstream = self.upstream.and_then(|u| upstream(u, p));
        let log = self.log.and_then(|l| {
            // What `logging::init` will parse; RUST_LOG, when set, is that process's own choice.
            p.check("log.level", log_level(&l.level))?;
            let queue_bytes = p.check("log.queue_bytes", queue_bytes(l.queue_bytes));
            let output = access_output(&l.access)
                .map_err(|(key, why)| p.add(key, why))
                .ok();
            Some(LogSettings {
                format: l.format,
                level: l.level,
                queue_bytes: queue_bytes?,
                access: AccessLogSettings { output: output? },
            })
        });
        let (mask, passthrough) = match self.mask {
            Some(m) => (mask(&m, p), passthrough(&m, p)),
            None => (None, None),
        };
        let cache = self.cache.and_then(|c| c.check(p));
        let auth = self.auth.and_then(|a| {
            let auth = AuthSettings {
                mode: a.mode,
                clients_file: opt_path(&a.clients_file),
            };
            if auth.mode == AuthModeSetting::Keys && auth.clients_file.is_none() {
                p.add(
                    "auth.clients_file",
                    "required when `auth.mode = \"keys\"` (or set `auth.mode = \"none\"` explicitly)",
                );
                return None;
            }
            Some(auth)
        });
        let telemetry = self.telemetry.and_then(|t| t.check(p));
        let cluster = self.cluster.and_then(|c| c.check(p));
        // The component names its problems within its section.
        let idempotency = self.idempotency.and_then(|i| {
            i.validate()
                .map_err(|problems| {
                    for problem in problems {
                        p.add(format!("idempotency.{}", problem.key), problem.reason);
                    }
                })
                .ok()
        });
        Partial {
            server,
            admin,
            upstream,
            log,
            mask,
            passthrough,
            cache,
            auth,
            telemetry,
            cluster,
            idempotency,
        }
    }
}

fn server(s: RawServer, p: &mut Problems) -> Option<ServerSettings> {
    let listen = p.check("server.listen", socket_addr(&s.listen));
    let max_request_body_bytes =
        p.positive("server.max_request_body_bytes", s.max_request_body_bytes);
    let max_header_bytes = p.positive("server.max_header_bytes", s.max_header_bytes);
    let max_headers = p.positive("server.max_headers", s.max_headers);
    let header_read_timeout = p.positive("server.header_read_timeout", s.header_read_timeout);
    let http2_max_concurrent_streams = p.positive(
        "server.http2_max_concurrent_streams",
        s.http2_max_concurrent_streams,
    );
    let http2_max_pending_accept_reset_streams = p.positive(
        "server.http2_max_pending_accept_reset_streams",
        s.http2_max_pending_accept_reset_streams,
    );
    let trusted_proxies = p.check(
        "server.trusted_proxies",
        crate::upstream::trusted::TrustedProxies::parse(&s.trusted_proxies),
    );
    let idle_timeout = p.positive("server.idle_timeout", s.idle_timeout);
    let max_connections = p.positive("server.max_connections", s.max_connections);
    let request_body_timeout = p.positive("server.request_body_timeout", s.request_body_timeout);
    let response_write_timeout =
        p.positive("server.response_write_timeout", s.response_write_timeout);
    let tls = tls(&s.tls, p);
    Some(ServerSettings {
        listen: listen?,
        max_request_body_bytes: max_request_body_bytes?,
        max_header_bytes: max_header_bytes?,
        max_headers: max_headers?,
        header_read_timeout: header_read_timeout?,
        drain_timeout: s.drain_timeout,
        http2_max_concurrent_streams: http2_max_concurrent_streams?,
        http2_max_pending_accept_reset_streams: http2_max_pending_accept_reset_streams?,
        watch_files: s.watch_files,
        trusted_proxies: trusted_proxies?,
        idle_timeout: idle_timeout?,
        max_connections: max_connections?,
        request_body_timeout: request_body_timeout?,
        response_write_timeout: response_write_timeout?,
        tls: tls?,
    })
}

/// `server.tls`: which files belong together. Their contents are read by the
/// preflight (`check-config`) and at start.
fn tls(t: &RawTls, p: &mut Problems) -> Option<Option<TlsSettings>> {
    let before = p.len();
    let (cert, key, ca) = (
        opt_path(&t.cert_file),
        opt_path(&t.key_file),
        opt_path(&t.client_ca_file),
    );
    match (&cert, &key) {
        (Some(_), None) => p.add(
            "server.tls.key_file",
            "required when `server.tls.cert_file` is set (the certificate's private key, PEM)",
        ),
        (None, Some(_)) => p.add(
            "server.tls.cert_file",
            "required when `server.tls.key_file` is set (the certificate chain, PEM)",
        ),
        _ => {}
    }
    let asks_for_certs = t.client_auth != ClientAuth::Off;
    if asks_for_certs && cert.is_none() && key.is_none() {
        p.add(
            "server.tls.client_auth",
            format!(
                "{:?} needs TLS on the listener: set `server.tls.cert_file` and `server.tls.key_file`",
                t.client_auth.name()
            ),
        );
    }
    match (asks_for_certs, &ca) {
        (true, None) => p.add(
            "server.tls.client_ca_file",
            format!(
                "required when `server.tls.client_auth = {:?}` (the CA certificates client certificates must chain to, PEM)",
                t.client_auth.name()
            ),
        ),
        (false, Some(_)) => p.add(
            "server.tls.client_ca_file",
            "has no effect while `server.tls.client_auth = \"off\"`: set client_auth to \"optional\" or \"required\", or leave this empty",
        ),
        _ => {}
    }
    if p.len() > before {
        return None;
    }
    Some(cert.zip(key).map(|(cert_file, key_file)| TlsSettings {
        cert_file,
        key_file,
        client_ca_file: ca,
        client_auth: t.client_auth,
    }))
}

fn upstream(u: RawUpstream, p: &mut Problems) -> Option<UpstreamSettings> {
    let base_url = p.check("upstream.base_url", base_url(&u.base_url));
    let before = p.len();
    let strip_request_headers: Vec<HeaderName> = u
        .strip_request_headers
        .iter()
        .filter_map(|h| {
            let name = HeaderName::from_bytes(h.trim().as_bytes());
            p.check(
                "upstream.strip_request_headers",
                name.map_err(|_| format!("{h:?} is not a header name")),
            )
        })
        .collect();
    let strip_ok = p.len() == before;
    let token = p.check(
        "upstream.token",
        secret_source("upstream.token", &u.token_file, &u.token),
    );
    let signature_key = p.check(
        "upstream.signature_key",
        secret_source(
            "upstream.signature_key",
            &u.signature_key_file,
            &u.signature_key,
        ),
    );
    let connect_timeout = p.positive("upstream.connect_timeout", u.connect_timeout);
    let timeout = p.positive("upstream.timeout", u.timeout);
    let max_concurrent_requests = p.positive(
        "upstream.max_concurrent_requests",
        u.max_concurrent_requests,
    );
    let max_response_body_bytes = p.positive(
        "upstream.max_response_body_bytes",
        u.max_response_body_bytes,
    );
    let response_headers = p.check(
        "upstream.response_headers",
        crate::proxy::HeaderAllowlist::parse(&u.response_headers, &u.vary_request_headers),
    );
    let max_buffered_bytes = p.positive("upstream.max_buffered_bytes", u.max_buffered_bytes);
    let buffering = u.buffering.check(p);
    let per_client = u.per_client.check(p);
    let breaker_cool_down = p.positive(
        "upstream.circuit_breaker.cool_down",
        u.circuit_breaker.cool_down,
    );
    if !(0.0..=1.0).contains(&u.retry.budget_ratio) {
        p.add("upstream.retry.budget_ratio", "must be between 0 and 1");
    }
    if u.retry.budget_min_per_second < 0.0 {
        p.add(
            "upstream.retry.budget_min_per_second",
            "must not be negative",
        );
    }
    // One body at the limit is held up to three times at once (as read,
    // decoded, masked): the budget must fit at least that.
    if let (Some(buffered), Some(body)) = (max_buffered_bytes, max_response_body_bytes) {
        if buffered < body.saturating_mul(3) {
            p.add(
                "upstream.max_buffered_bytes",
                "must be at least 3 × `upstream.max_response_body_bytes`",
            );
        } else if let Some(share) = &per_client {
            // Else a client within its share could never read a body at the limit.
            if (buffered as f64 * share.buffer_share) < body.saturating_mul(3) as f64 {
                p.add(
                    "upstream.per_client.buffer_share",
                    "its share of `upstream.max_buffered_bytes` must hold 3 × `upstream.max_response_body_bytes`",
                );
            }
        }
    }
    if let (Some(connect), Some(total)) = (connect_timeout, timeout) {
        if connect > total {
            p.add(
                "upstream.connect_timeout",
                "must not exceed `upstream.timeout`",
            );
        }
    }
    if p.len() > before || !strip_ok {
        return None;
    }
    Some(UpstreamSettings {
        base_url: base_url?,
        token: token?,
        signature_key: signature_key?,
        ca_file: opt_path(&u.ca_file),
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

fn mask(m: &crate::mask::MaskConfig, p: &mut Problems) -> Option<crate::mask::MaskSettings> {
    m.validate()
        .map_err(|errors| {
            for e in errors {
                p.add(e.key(), e.reason());
            }
        })
        .ok()
}

fn passthrough(m: &crate::mask::MaskConfig, p: &mut Problems) -> Option<crate::proxy::Passthrough> {
    let before = p.len();
    let rules: Vec<_> = m
        .passthrough
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            p.check(
                &format!("mask.passthrough[{i}]"),
                crate::proxy::PassthroughRule::parse(c),
            )
        })
        .collect();
    (p.len() == before).then(|| crate::proxy::Passthrough::new(rules))
}

fn socket_addr(v: &str) -> Result<SocketAddr, String> {
    v.parse()
        .map_err(|_| format!("{v:?} is not an address like 127.0.0.1:8080"))
}

fn base_url(v: &str) -> Result<Uri, String> {
    let url = super::url::parse(v, super::url::HTTP)?;
    if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
        return Err(
            "give only scheme, host and port: request paths are forwarded unchanged".to_owned(),
        );
    }
    Ok(url)
}

/// At least one long line; at most what a sidecar-less pod should hold in memory for logs.
fn queue_bytes(n: usize) -> Result<usize, String> {
    const MIN: usize = 4096;
    const MAX: usize = 256 << 20;
    if (MIN..=MAX).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside {MIN}..={MAX} bytes"))
    }
}

/// The output and, for "file", its path; a problem comes with the key it is about.
fn access_output(a: &RawAccessLog) -> Result<AccessOutput, (&'static str, String)> {
    let file = opt_path(&a.file);
    match (a.output.as_str(), file) {
        ("file", Some(path)) => Ok(AccessOutput::File(path)),
        ("file", None) => Err((
            "log.access.file",
            "required when `log.access.output = \"file\"`".into(),
        )),
        ("stdout" | "stderr" | "off", Some(_)) => Err((
            "log.access.file",
            format!(
                "only read when `log.access.output = \"file\"` (it is {:?})",
                a.output
            ),
        )),
        ("stdout", None) => Ok(AccessOutput::Stdout),
        ("stderr", None) => Ok(AccessOutput::Stderr),
        ("off", None) => Ok(AccessOutput::Off),
        (other, _) => Err((
            "log.access.output",
            format!("{other:?} is not one of \"stdout\", \"stderr\", \"file\", \"off\""),
        )),
    }
}

/// The level names `log.level` takes, alone or per target.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// `log.level`: a level name, or a comma list of a level and `target=level`
/// entries. Checked as a closed set like every other enum: the filter syntax
/// underneath would take a word such as "verbose" as a *target* name and
/// silence every other line.
fn log_level(v: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::try_new(v)
        .map_err(|e| format!("{v:?} is not a log filter ({e})"))?;
    let is_level = |s: &str| LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s.trim()));
    let wrong = v
        .split(',')
        .find(|directive| match directive.rsplit_once('=') {
            Some((target, level)) => target.trim().is_empty() || !is_level(level),
            None => !is_level(directive),
        });
    if let Some(directive) = wrong {
        return Err(format!(
            "{}{} (alone, or per target as in \"warn,paycombat_gateway=debug\")",
            if directive == v {
                String::new()
            } else {
                format!("in {v:?}: ")
            },
            problems::not_one_of(directive.trim(), &LOG_LEVELS),
        ));
    }
    Ok(())
}

fn opt_path(v: &str) -> Option<PathBuf> {
    (!v.trim().is_empty()).then(|| PathBuf::from(v.trim()))
}

fn secret_source(key: &str, file: &str, value: &str) -> Result<Option<SecretSource>, String> {
    match (opt_path(file), value.is_empty()) {
        (Some(_), false) => Err(format!("set either `{key}_file` or `{key}`, not both")),
        (Some(p), true) => Ok(Some(SecretSource::File(p))),
        (None, false) => Ok(Some(SecretSource::Value(value.to_owned().into()))),
        (None, true) => Ok(None),
    }
}
