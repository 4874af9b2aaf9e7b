//! The upstream credentials the gateway injects: paycombat's `X-token` and the
//! key that signs request bodies.
//!
//! Held behind an `ArcSwap`: a request takes one snapshot at its start and
//! uses it throughout, so a rotation never mixes an old token with a new key
//! and never blocks or drops a request.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::config::SecretSource;

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

pub struct CredentialStore {
    token: Option<SecretSource>,
    signature_key: Option<SecretSource>,
    current: ArcSwapOption<UpstreamCredentials>,
    loaded_at_unix: AtomicU64,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("token", &self.token)
            .field("signature_key", &self.signature_key)
            .finish_non_exhaustive()
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

impl CredentialStore {
    pub fn new(token: Option<SecretSource>, signature_key: Option<SecretSource>) -> Self {
        CredentialStore {
            token,
            signature_key,
            current: ArcSwapOption::empty(),
            loaded_at_unix: AtomicU64::new(0),
        }
    }

    /// Reads the sources again. On failure the previous credentials stay in
    /// use: a half-written or briefly missing file must not take the gateway down.
    pub fn reload(&self) -> Result<(), CredentialError> {
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
        self.current.store(Some(Arc::new(UpstreamCredentials {
            token,
            signature_key,
        })));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.loaded_at_unix.store(now, Ordering::Relaxed);
        Ok(())
    }

    pub fn current(&self) -> Option<Arc<UpstreamCredentials>> {
        self.current.load_full()
    }

    pub fn has_signature_key(&self) -> bool {
        self.signature_key.is_some()
    }

    /// Unix time of the last successful load; 0 if never.
    pub fn loaded_at_unix(&self) -> u64 {
        self.loaded_at_unix.load(Ordering::Relaxed)
    }

    /// The files to watch for rotation.
    pub fn files(&self) -> Vec<PathBuf> {
        [&self.token, &self.signature_key]
            .into_iter()
            .flatten()
            .filter_map(|s| match s {
                SecretSource::File(p) => Some(p.clone()),
                SecretSource::Value(_) => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_reload_keeps_previous_values() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "snd_first\n").unwrap();
        let store = CredentialStore::new(Some(SecretSource::File(token.clone())), None);
        store.reload().unwrap();
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
        let store = CredentialStore::new(None, None);
        assert!(matches!(store.reload(), Err(CredentialError::NoToken)));
    }
}
