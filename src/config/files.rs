//! The files the settings name, read and checked as part of the config
//! pass: upstream credentials, the upstream CA, the spool directory, TLS
//! certificate/key/client CA, the clients file, the mask key, the admin
//! token, the Redis password and CA. `App::build` reads the same files with
//! the same functions when it starts.

use std::path::PathBuf;

use crate::access::ClientsFile;
use crate::auth::ClientRegistry;
use crate::credentials::{secret_file, CredentialFiles};
use crate::problems::{causes, Problem};
use crate::redact::SecretSource;
use crate::reload::Load;
use crate::server::TlsFiles;

use super::{AuthModeSetting, AuthSettings, ClientAuth, Partial, ServerSettings, UpstreamSettings};

/// `mask`'s key, read when masking is on and a key file is set, and the
/// rules built with it (an `hmac` rule without a key is refused here).
pub(crate) fn mask_key(mask: &crate::mask::MaskSettings) -> Option<Result<(), Problem>> {
    if !mask.enabled {
        return None;
    }
    let key = match &mask.hmac_key_file {
        Some(p) => match secret_file("mask.hmac_key_file", p) {
            Ok(k) => Some(k),
            Err(problem) => return Some(Err(problem)),
        },
        None => None,
    };
    Some(
        crate::mask::Masker::new(mask, key.as_deref())
            .map(drop)
            .map_err(|e| Problem::new(e.full_key(), e.reason())),
    )
}

/// The clients file's path, when client authentication is on.
pub(crate) fn clients_file(auth: &AuthSettings) -> Result<Option<PathBuf>, Problem> {
    if auth.mode == AuthModeSetting::None {
        return Ok(None);
    }
    auth.clients_file.clone().map(Some).ok_or_else(|| {
        Problem::new(
            "auth.clients_file",
            "required when `auth.mode = \"keys\"` (or set auth.mode = \"none\" explicitly)",
        )
    })
}

/// The clients file, read once, when client authentication is on; every
/// problem in it, each its own line under `auth.clients_file`.
/// `certificates_asked`: see [`ClientsFile`].
pub(crate) fn load_clients(
    auth: &AuthSettings,
    certificates_asked: bool,
) -> Result<Option<ClientRegistry>, Vec<Problem>> {
    let Some(path) = clients_file(auth).map_err(|p| vec![p])? else {
        return Ok(None);
    };
    ClientsFile {
        path,
        certificates_asked,
        // Read to validate: its rate limiters are never used.
        clock: crate::clock::Clock::system(),
    }
    .load()
    .map(Some)
    .map_err(|e| {
        e.each()
            .into_iter()
            .map(|e| Problem::new("auth.clients_file", causes([e as _])))
            .collect()
    })
}

/// Whether the API listener asks clients for a certificate.
pub(crate) fn certificates_asked(server: &ServerSettings) -> bool {
    server
        .tls
        .as_ref()
        .is_some_and(|t| t.client_auth != ClientAuth::Off)
}

/// The key under which a secret comes from `src`.
fn secret_key(name: &str, src: &SecretSource) -> String {
    match src {
        SecretSource::File(_) => format!("{name}_file"),
        SecretSource::Value(_) => name.to_owned(),
    }
}

/// The upstream token and signature key, each checked on its own so a missing
/// token does not hide an unreadable key.
fn credential_problems(u: &UpstreamSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    match &u.token {
        None => problems.push(Problem::new(
            "upstream.token_file",
            "required (or give the token in GATEWAY__UPSTREAM__TOKEN)",
        )),
        Some(src) => {
            if let Err(e) = CredentialFiles::new(Some(src.clone()), None).load() {
                problems.push(Problem::new(secret_key("upstream.token", src), e));
            }
        }
    }
    if let Some(src) = &u.signature_key {
        // A stand-in token, so only the signature key is read here.
        let token = SecretSource::Value("stand-in".to_owned().into());
        if let Err(e) = CredentialFiles::new(Some(token), Some(src.clone())).load() {
            problems.push(Problem::new(secret_key("upstream.signature_key", src), e));
        }
    }
    problems
}

/// A missing signature key where some caller may send a write: paycombat
/// refuses unsigned writes, so every one would fail with a 502 long after a
/// start that looked fine. `clients`: the registry, `None` when
/// authentication is off (any caller may then write).
pub(crate) fn unsigned_writes(
    u: &UpstreamSettings,
    clients: Option<&ClientRegistry>,
) -> Option<Problem> {
    if u.signature_key.is_some() {
        return None;
    }
    let who = match clients {
        None => "`auth.mode = \"none\"` lets any caller send writes",
        Some(c) if c.allows_writes() => {
            "a client in `auth.clients_file` is allowed a method other than GET/HEAD/OPTIONS"
        }
        Some(_) => return None,
    };
    Some(Problem::new(
        "upstream.signature_key_file",
        format!(
            "required: {who}, and paycombat refuses every unsigned write (set the file, \
             or GATEWAY__UPSTREAM__SIGNATURE_KEY, or allow clients only GET)"
        ),
    ))
}

/// Everything `App::build` reads before it binds — credentials readable, TLS
/// roots, masking rules and their key, the clients file, the admin token —
/// for every section that validated. Part of the one config pass
/// ([`super::check`]) that `serve` and `check-config` both run, so "valid"
/// means `serve` will start and `serve` lists every problem at once.
pub fn problems(settings: &Partial) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(u) = &settings.upstream {
        problems.extend(credential_problems(u));
        if let Some(limits) = &settings.inspect {
            if let Err(e) = limits.buffering.check_spool_dir() {
                problems.push(Problem::new("upstream.buffering.spool_dir", e));
            }
        }
        match crate::upstream::client::build(u) {
            Ok(_) => {}
            Err(crate::upstream::client::ClientBuildError::CaFile { path, problem }) => problems
                .push(Problem::new(
                    "upstream.ca_file",
                    format!("{path}: {problem}"),
                )),
            Err(e) => problems.push(Problem::new("upstream", causes([&e as _]))),
        }
    }
    if let Some(tls) = settings.server.as_ref().and_then(|s| s.tls.as_ref()) {
        problems.extend(TlsFiles::check(tls));
    }
    // An invalid server section is reported on its own; the clients file is
    // then checked without the certificate rule.
    let asked = settings.server.as_ref().is_none_or(certificates_asked);
    let clients = settings.auth.as_ref().map(|a| load_clients(a, asked));
    if let (Some(u), Some(Ok(registry))) = (&settings.upstream, &clients) {
        problems.extend(unsigned_writes(u, registry.as_ref()));
    }
    if let Some(Err(each)) = clients {
        problems.extend(each);
    }
    let checks = [
        settings.mask.as_ref().and_then(mask_key),
        settings
            .admin
            .as_ref()
            .and_then(|a| a.token_file.as_ref())
            .map(|p| secret_file("admin.token_file", p).map(drop)),
        settings
            .cluster
            .as_ref()
            .and_then(|c| c.redis.as_ref()?.password_file.as_ref())
            .map(|p| secret_file("cluster.redis_password_file", p).map(drop)),
        settings
            .cluster
            .as_ref()
            .and_then(|c| c.redis.as_ref()?.ca_file.as_ref())
            .map(|p| {
                std::fs::read(p).map(drop).map_err(|e| {
                    Problem::new(
                        "cluster.ca_file",
                        format!("cannot read {}: {e}", p.display()),
                    )
                })
            }),
    ];
    problems.extend(checks.into_iter().flatten().filter_map(Result::err));
    problems
}

/// For `check-config` in cluster mode: whether Redis can be reached and accepts the
/// configured password (after [`problems`], which checks the files themselves).
pub async fn cluster_reachable(settings: &Partial) -> Vec<Problem> {
    let Some(redis) = settings.cluster.as_ref().and_then(|c| c.redis.as_ref()) else {
        return Vec::new();
    };
    let password = match &redis.password_file {
        Some(p) => match secret_file("cluster.redis_password_file", p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Some(s),
                Err(_) => return Vec::new(),
            },
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    let ca = match &redis.ca_file {
        Some(p) => match std::fs::read(p) {
            Ok(pem) => Some(pem),
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    match crate::cluster::check_reachable(redis, password, ca).await {
        Ok(()) => Vec::new(),
        Err(reason) => vec![Problem::new("cluster.redis_url", reason)],
    }
}
