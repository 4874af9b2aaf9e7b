//! The loaded set of clients and key lookup.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use http::HeaderMap;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::client::Client;
use super::error::{AuthConfigError, AuthError};
use super::key::{digest, presented_key};
use super::subject::{ClientCertificate, Subject};
use crate::clock::Clock;

pub(crate) struct KeyEntry {
    pub(crate) hash: [u8; 32],
    /// Index into `ClientRegistry::clients`.
    pub(crate) client: usize,
}

/// All configured clients. Immutable once built; a reload builds a new registry (see
/// [`ClientRegistry::inherit_limiters`]) which the caller swaps in atomically.
pub struct ClientRegistry {
    pub(crate) clients: Vec<Arc<Client>>,
    pub(crate) keys: Vec<KeyEntry>,
    /// Certificate subject → index into `clients`. Certificates are public, so
    /// looking one up needs no constant-time care.
    pub(crate) subjects: HashMap<Subject, usize>,
}

impl ClientRegistry {
    /// Parses and validates a clients file's contents.
    pub fn from_toml_str(s: &str) -> Result<ClientRegistry, AuthConfigError> {
        super::file::parse(s, &Clock::system())
    }

    /// Reads, parses and validates the clients file at `path`.
    pub fn load(path: &Path) -> Result<ClientRegistry, AuthConfigError> {
        Self::load_on(path, &Clock::system())
    }

    /// As [`Self::load`], with token buckets that read `clock`.
    pub fn load_on(path: &Path, clock: &Clock) -> Result<ClientRegistry, AuthConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        super::file::parse(&text, clock)
    }

    /// Takes over the token buckets of `previous` for every client whose name and rate limit are
    /// unchanged, so a reload (for instance a key rotation) neither resets nor refills them.
    /// Clients that are new, or whose limit changed, keep the fresh (full) bucket.
    pub fn inherit_limiters(&mut self, previous: &ClientRegistry) {
        let old: HashMap<&str, &Client> = previous
            .clients
            .iter()
            .map(|c| (&*c.name, c.as_ref()))
            .collect();
        for client in &mut self.clients {
            let Some(prev) = old.get(&*client.name) else {
                continue;
            };
            if prev.rate_limit != client.rate_limit {
                continue;
            }
            if let Some(limiter) = &prev.limiter {
                *client = Arc::new(client.with_limiter(Arc::clone(limiter)));
            }
        }
    }

    /// Whether some client may send a write (see `AllowRule::allows_writes`).
    pub fn allows_writes(&self) -> bool {
        self.clients
            .iter()
            .any(|c| c.allow.iter().any(|r| r.allows_writes()))
    }

    /// Configured client names, in file order (for pre-registering metric label values).
    pub fn client_names(&self) -> impl Iterator<Item = &str> {
        self.clients.iter().map(|c| &*c.name)
    }

    /// Clients that only a certificate can identify (subjects, no key).
    pub fn certificate_only_clients(&self) -> impl Iterator<Item = &str> {
        self.clients
            .iter()
            .filter(|c| c.certificate_only())
            .map(|c| &*c.name)
    }

    /// Identifies the caller from its key (see [`Self::authenticate`]) and its
    /// verified client certificate, either or both:
    ///
    /// - a key, when presented, must match (constant time), whatever the certificate;
    /// - a certificate whose subjects name a client identifies it; one naming
    ///   two clients is refused ([`AuthError::AmbiguousCertificate`]);
    /// - when both identify a client it must be the same one, else
    ///   [`AuthError::Conflict`]: a service holding another's key, or another's
    ///   certificate, gets nothing;
    /// - a certificate naming no client is enough with a valid key (a mesh
    ///   certificate, say); alone it is [`AuthError::UnknownCertificate`].
    pub fn identify(
        &self,
        headers: &HeaderMap,
        certificate: Option<&ClientCertificate>,
    ) -> Result<Arc<Client>, AuthError> {
        let by_key = match self.authenticate(headers) {
            Ok(client) => Some(client),
            Err(AuthError::Missing) => None,
            Err(e) => return Err(e),
        };
        let by_cert = certificate.map(|c| self.by_certificate(c)).transpose()?;
        match (by_cert.flatten(), by_key) {
            (Some(c), Some(k)) if Arc::ptr_eq(&c, &k) => Ok(c),
            (Some(_), Some(_)) => Err(AuthError::Conflict),
            (Some(client), None) | (None, Some(client)) => Ok(client),
            (None, None) if certificate.is_some() => Err(AuthError::UnknownCertificate),
            (None, None) => Err(AuthError::Missing),
        }
    }

    /// The one client `certificate`'s subjects name, if any.
    fn by_certificate(
        &self,
        certificate: &ClientCertificate,
    ) -> Result<Option<Arc<Client>>, AuthError> {
        let mut found: Option<usize> = None;
        for index in certificate
            .subjects
            .iter()
            .filter_map(|s| self.subjects.get(s))
        {
            match found {
                Some(other) if other != *index => return Err(AuthError::AmbiguousCertificate),
                _ => found = Some(*index),
            }
        }
        Ok(found.and_then(|i| self.clients.get(i)).cloned())
    }

    /// Identifies the caller from `X-token: <key>` or `Authorization: Bearer <key>`.
    ///
    /// Both headers may be sent if they carry the same key; different keys (or repeated headers
    /// with different values) are refused with [`AuthError::Ambiguous`]. The presented key's
    /// SHA-256 is compared with every configured hash in constant time, without stopping at a
    /// match, so response timing reveals neither whether nor where a key matched.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Client>, AuthError> {
        let presented = words(&digest(presented_key(headers)?));
        let mut found = u64::MAX;
        for entry in &self.keys {
            let is_match = words(&entry.hash).as_slice().ct_eq(presented.as_slice());
            found.conditional_assign(&(entry.client as u64), is_match);
        }
        usize::try_from(found)
            .ok()
            .and_then(|i| self.clients.get(i))
            .cloned()
            .ok_or(AuthError::Unknown)
    }
}

/// A digest as four words, for [`ClientRegistry::authenticate`]'s constant-time comparison:
/// `subtle` compares a slice element by element, each through an optimisation barrier, so
/// words take 4 of them per configured key where bytes took 32 (~400 instructions per
/// request per key). The comparison stays without a branch or an early exit on the data.
fn words(digest: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (word, bytes) in out.iter_mut().zip(digest.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        *word = u64::from_ne_bytes(b);
    }
    out
}

// Names and counts only: key hashes stay out of logs.
impl fmt::Debug for ClientRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistry")
            .field(
                "clients",
                &self.clients.iter().map(|c| &*c.name).collect::<Vec<_>>(),
            )
            .field("keys", &self.keys.len())
            .field("subjects", &self.subjects.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::words;
    use proptest::prelude::*;

    proptest! {
        /// Every byte of a digest takes part in the word comparison: equal words exactly
        /// when the digests are equal, whichever byte differs and however.
        #[test]
        fn words_are_equal_exactly_when_the_digests_are(
            a in any::<[u8; 32]>(),
            at in 0usize..32,
            flip in 1u8..=255,
        ) {
            let mut b = a;
            prop_assert_eq!(words(&a), words(&b));
            b[at] ^= flip;
            prop_assert_ne!(words(&a), words(&b));
        }
    }
}
