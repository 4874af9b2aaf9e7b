//! The upstream credentials the gateway injects: paycombat's `X-token` and the
//! key that signs request bodies.
//!
//! Held in a [`ReloadableFile`]: a request takes one snapshot at its start and
//! uses it throughout, so a rotation never mixes an old token with a new key
//! and never blocks or drops a request.

use std::path::PathBuf;
use std::sync::Arc;

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::metrics::labels::ReloadResult;
use crate::metrics::{counter, reg, Family};
use crate::redact::SecretSource;
use crate::reload::{Load, ReloadableFile};

/// The credentials' metric families, next to the component they describe;
/// registered by the app on the same registry as every other family.
#[derive(Clone)]
pub struct CredentialMetrics {
    /// `result` of each reload (`ok`, `failed`), both from the start.
    pub reloads: Family<prometheus::IntCounterVec, 1>,
    /// Set at scrape time by the admin listener, from [`CredentialStore`].
    pub last_load: prometheus::Gauge,
    pub age: prometheus::Gauge,
}

impl CredentialMetrics {
    pub fn register(r: &prometheus::Registry) -> prometheus::Result<CredentialMetrics> {
        let m = CredentialMetrics {
            reloads: counter(
                r,
                "gateway_credential_reloads_total",
                "Upstream credential reloads by result (ok, failed).",
                &["result"],
            )?,
            last_load: reg(
                r,
                prometheus::Gauge::new(
                    "gateway_credentials_last_load_timestamp_seconds",
                    "Unix time of the last successful credential load.",
                )?,
            )?,
            age: reg(
                r,
                prometheus::Gauge::new(
                    "gateway_credentials_age_seconds",
                    "Seconds since the credentials were last loaded.",
                )?,
            )?,
        };
        for result in ReloadResult::ALL {
            m.reloads.with([&result]);
        }
        Ok(m)
    }
}

/// A secret file's trimmed bytes, or why it cannot be used (the caller names the key).
pub(crate) fn read_secret_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(trimmed.to_vec())
}

/// As [`read_secret_file`], the failure a problem under `key`.
pub(crate) fn secret_file(
    key: &str,
    path: &std::path::Path,
) -> Result<Vec<u8>, crate::problems::Problem> {
    read_secret_file(path).map_err(|reason| crate::problems::Problem::new(key, reason))
}

pub struct UpstreamCredentials {
    /// Marked sensitive so hyper's HPACK never indexes it and Debug hides it.
    pub token: HeaderValue,
    pub signature_key: Option<SecretBox<Vec<u8>>>,
}

impl std::fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamCredentials")
            .field("token", &"[redacted]")
            .field(
                "signature_key",
                &self.signature_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no upstream token configured: set `upstream.token_file` (or GATEWAY__UPSTREAM__TOKEN)"
    )]
    NoToken,
    #[error("reading {what} from {path}: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("the upstream token contains bytes not allowed in an HTTP header")]
    BadToken,
}

/// Where the credentials are read from; see [`CredentialStore`] for the
/// value in force.
pub struct CredentialFiles {
    token: Option<SecretSource>,
    signature_key: Option<SecretSource>,
}

/// The credentials in force, re-read when their files change.
pub type CredentialStore = ReloadableFile<CredentialFiles>;

impl std::fmt::Debug for CredentialFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialFiles")
            .field("token", &self.token)
            .field("signature_key", &self.signature_key)
            .finish()
    }
}

fn read_source(what: &'static str, src: &SecretSource) -> Result<SecretString, CredentialError> {
    let raw = match src {
        SecretSource::Value(v) => v.expose_secret().to_owned(),
        SecretSource::File(path) => {
            std::fs::read_to_string(path).map_err(|e| CredentialError::Read {
                what,
                path: path.display().to_string(),
                reason: e.kind().to_string(),
            })?
        }
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(CredentialError::Empty { what });
    }
    Ok(trimmed.to_owned().into())
}

impl CredentialFiles {
    pub fn new(token: Option<SecretSource>, signature_key: Option<SecretSource>) -> Self {
        CredentialFiles {
            token,
            signature_key,
        }
    }

    pub fn has_signature_key(&self) -> bool {
        self.signature_key.is_some()
    }
}

impl Load for CredentialFiles {
    type Value = UpstreamCredentials;
    type Error = CredentialError;
    const WHAT: &'static str = "upstream credentials";

    fn files(&self) -> Vec<PathBuf> {
        [&self.token, &self.signature_key]
            .into_iter()
            .flatten()
            .filter_map(|s| match s {
                SecretSource::File(p) => Some(p.clone()),
                SecretSource::Value(_) => None,
            })
            .collect()
    }

    fn load(&self) -> Result<UpstreamCredentials, CredentialError> {
        let token_src = self.token.as_ref().ok_or(CredentialError::NoToken)?;
        let token = read_source("upstream token", token_src)?;
        let mut token =
            HeaderValue::from_str(token.expose_secret()).map_err(|_| CredentialError::BadToken)?;
        token.set_sensitive(true);
        let signature_key = match &self.signature_key {
            Some(src) => Some(SecretBox::new(Box::new(
                read_source("signature key", src)?
                    .expose_secret()
                    .as_bytes()
                    .to_vec(),
            ))),
            None => None,
        };
        Ok(UpstreamCredentials {
            token,
            signature_key,
        })
    }

    fn count(value: &UpstreamCredentials) -> usize {
        1 + usize::from(value.signature_key.is_some())
    }
}

impl CredentialStore {
    /// Always `Some` once the store exists (it is built by a successful
    /// read); an `Option` so the request path keeps a fail-closed branch.
    pub fn current(&self) -> Option<Arc<UpstreamCredentials>> {
        Some(self.get())
    }

    pub fn has_signature_key(&self) -> bool {
        self.loader().has_signature_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> crate::metrics::Family<prometheus::IntCounterVec, 1> {
        crate::metrics::Family::new(
            prometheus::IntCounterVec::new(prometheus::Opts::new("t", "t"), &["result"]).unwrap(),
        )
    }

    #[test]
    fn failed_reload_keeps_previous_values() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "snd_first\n").unwrap();
        let files = CredentialFiles::new(Some(SecretSource::File(token.clone())), None);
        assert_eq!(files.files(), vec![token.clone()]);
        let store = CredentialStore::open(files, &counter()).unwrap();
        assert_eq!(store.current().unwrap().token, "snd_first");
        std::fs::write(&token, "  \n").unwrap();
        assert!(matches!(store.reload(), Err(CredentialError::Empty { .. })));
        assert_eq!(store.current().unwrap().token, "snd_first");
        std::fs::write(&token, "snd_second").unwrap();
        store.reload().unwrap();
        assert_eq!(store.current().unwrap().token, "snd_second");
        assert!(!format!("{:?}", store.current().unwrap()).contains("snd_"));
    }

    #[test]
    fn no_token_is_an_error() {
        let files = CredentialFiles::new(None, None);
        assert!(matches!(files.load(), Err(CredentialError::NoToken)));
        assert!(CredentialStore::open(files, &counter()).is_err());
    }
}
