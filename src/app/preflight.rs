//! What start-up checks before it binds anything, shared with `check-config`:
//! every file the settings name is read (secrets, clients file, mask key, TLS
//! files), the masker is built, and the combinations that cannot work together
//! are refused, each as a [`Problem`] under its key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::access::ClientsFile;
use crate::auth::ClientRegistry;
use crate::config::problems::causes;
use crate::config::{
    AuthModeSetting, AuthSettings, Partial, Problem, SecretSource, Settings, UpstreamSettings,
};
use crate::credentials::CredentialFiles;
use crate::mask::{MaskSettings, Masker};
use crate::reload::Load;
use crate::server::TlsFiles;

/// A secret file's trimmed bytes, or why it cannot be used (the caller names the key).
fn read_secret_file(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(trimmed.to_vec())
}

/// As [`read_secret_file`], the failure a [`Problem`] under `key`.
pub(super) fn secret_file(key: &str, path: &Path) -> Result<Vec<u8>, Problem> {
    read_secret_file(path).map_err(|reason| Problem::new(key, reason))
}

/// The masker the settings describe (None when masking is off), with its key.
/// The key comes back too, for the secret reflection guard.
pub(crate) fn build_masker(mask: &MaskSettings) -> Result<crate::inspect::Masking, Problem> {
    if !mask.enabled {
        tracing::warn!(
            "MASKING IS DISABLED (mask.enabled = false): personal data reaches clients unmasked"
        );
        return Ok((None, None));
    }
    let key = match &mask.hmac_key_file {
        Some(p) => Some(secret_file("mask.hmac_key_file", p)?),
        None => None,
    };
    let masker =
        Masker::new(mask, key.as_deref()).map_err(|e| Problem::new(e.key(), e.reason()))?;
    Ok((Some(Arc::new(masker)), key.map(Vec::into_boxed_slice)))
}

/// The clients file's path, when client authentication is on.
pub(super) fn clients_file(auth: &AuthSettings) -> Result<Option<PathBuf>, Problem> {
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

/// The clients file, read once, when client authentication is on.
/// `certificates_asked`: see [`ClientsFile`].
fn load_clients(
    auth: &AuthSettings,
    certificates_asked: bool,
) -> Result<Option<ClientRegistry>, Problem> {
    clients_file(auth)?
        .map(|path| {
            ClientsFile {
                path,
                certificates_asked,
            }
            .load()
            .map_err(|e| Problem::new("auth.clients_file", causes([&e as _])))
        })
        .transpose()
}

/// Whether the API listener asks clients for a certificate.
pub(super) fn certificates_asked(server: &crate::config::ServerSettings) -> bool {
    server
        .tls
        .as_ref()
        .is_some_and(|t| t.client_auth != crate::config::ClientAuth::Off)
}

pub(super) fn credential_files(settings: &Settings) -> CredentialFiles {
    CredentialFiles::new(
        settings.upstream.token.clone(),
        settings.upstream.signature_key.clone(),
    )
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
        let token = SecretSource::Value("preflight".to_owned().into());
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
pub(super) fn unsigned_writes(
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

/// Everything `App::build` checks before it binds — credentials readable, TLS
/// roots, masking rules and their key, the clients file, the admin token — for
/// every section that validated. `check-config` runs this after the config
/// pass, so "valid" means `serve` will start. Every problem is returned.
pub fn preflight(settings: &Partial) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(u) = &settings.upstream {
        problems.extend(credential_problems(u));
        if let Err(e) = u.buffering.check_spool_dir() {
            problems.push(Problem::new("upstream.buffering.spool_dir", e));
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
    let clients = clients.map(|c| c.map(drop));
    let checks = [
        settings.mask.as_ref().map(|m| build_masker(m).map(drop)),
        clients,
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
/// configured password (after [`preflight`], which checks the files themselves).
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
