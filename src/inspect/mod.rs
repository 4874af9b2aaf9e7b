//! Response inspection, the step between paycombat's answer and the cache or
//! the client: masking (and its counters), the response-header allowlist, the
//! buffer budget, passthrough routes and the secret guard. See [`response`]
//! for the rule every released body follows.

mod allowlist;
pub mod budget;
mod header_values;
mod passthrough;
pub mod reflect;
mod response;

use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderValue;
use prometheus::IntCounter;

use crate::config::Settings;
use crate::credentials::CredentialStore;
use crate::error::GatewayError;
use crate::mask::policy::PolicyFamily;
use crate::mask::{Masked, Masker};
use crate::metrics::Metrics;
use reflect::{Found, Secrets};

pub use allowlist::HeaderAllowlist;
pub use passthrough::{Passthrough, PassthroughConfig, PassthroughRule};
pub use response::{Inspected, Processed};

/// The masker (None when masking is off) and its HMAC key, kept only so the
/// secret guard can look for the key in responses.
pub type Masking = (Option<Arc<Masker>>, Option<Box<[u8]>>);

/// Inspects every upstream answer before it is cached or released; one per
/// process, shared by every request.
pub struct Inspector {
    settings: Arc<Settings>,
    credentials: Arc<CredentialStore>,
    metrics: Metrics,
    masker: Option<Arc<Masker>>,
    /// One counter handle per masking rule, resolved once: the hot path
    /// must not hash label strings per masked field.
    masked_counters: Vec<IntCounter>,
    /// The mask HMAC key, only so the secret guard can look for it.
    mask_key: Option<Box<[u8]>>,
    /// Bound on response bytes held in memory, shared by every request.
    budget: budget::BodyBudget,
}

impl Inspector {
    pub fn new(
        settings: Arc<Settings>,
        credentials: Arc<CredentialStore>,
        metrics: Metrics,
        (masker, mask_key): Masking,
    ) -> Inspector {
        let masked_counters = masker
            .as_ref()
            .map(|m| {
                m.rule_names()
                    .map(|name| metrics.masked_fields.with_label_values(&[name]))
                    .collect()
            })
            .unwrap_or_default();
        let u = &settings.upstream;
        let budget = budget::BodyBudget::new(
            u.max_buffered_bytes,
            u.buffer_wait,
            metrics.buffered_bytes.clone(),
            metrics.buffer_exhausted.clone(),
        );
        Inspector {
            settings,
            credentials,
            metrics,
            masker,
            masked_counters,
            mask_key,
            budget,
        }
    }

    fn record_masked(&self, masked: &Masked) {
        for (rule, n) in masked.counts() {
            if let Some(c) = self.masked_counters.get(rule) {
                c.inc_by(u64::from(n));
            }
        }
    }

    fn mask_failure(&self, reason: &'static str) -> GatewayError {
        self.metrics
            .mask_failures
            .with_label_values(&[reason])
            .inc();
        tracing::warn!(
            reason,
            "upstream body refused: it could not be inspected for personal data"
        );
        GatewayError::Unmaskable { reason }
    }

    fn reflected(&self, found: Found) -> GatewayError {
        self.metrics
            .secret_reflections
            .with_label_values(&[found.label()])
            .inc();
        // The secret itself is never logged: only where it was seen.
        tracing::error!(
            location = found.label(),
            "upstream response contained a gateway secret (merchant token, signature key or mask key); refused"
        );
        GatewayError::SecretReflected
    }

    /// The secrets in force now: the credentials snapshot plus the mask key,
    /// and the signature this request carried (an echo of it proves nothing
    /// secret, but it is the merchant's, not the client's).
    fn secrets(&self, signature: Option<&HeaderValue>) -> Secrets {
        let creds = self.credentials.current();
        let mut list: Vec<&[u8]> = Vec::with_capacity(4);
        if let Some(s) = signature {
            list.push(s.as_bytes());
        }
        if let Some(c) = &creds {
            list.push(c.token.as_bytes());
            if let Some(k) = &c.signature_key {
                use secrecy::ExposeSecret;
                list.push(k.expose_secret());
            }
        }
        if let Some(k) = &self.mask_key {
            list.push(k);
        }
        Secrets::new(list)
    }

    /// Masks a complete, decoded body: the masked bytes, and the decoded text of the
    /// strings they carry escaped (for the secret guard, see [`Masked::unescaped`]). Only
    /// `mask.enabled = false` (logged loudly at start) releases a body unmasked.
    fn mask_body(
        &self,
        body: &[u8],
        family: PolicyFamily,
    ) -> Result<(Bytes, Vec<u8>), GatewayError> {
        let Some(masker) = &self.masker else {
            return Ok((Bytes::copy_from_slice(body), Vec::new()));
        };
        match masker.mask_for(body, family) {
            Ok(masked) => {
                self.record_masked(&masked);
                let unescaped = masked.unescaped().to_vec();
                Ok((masked.body, unescaped))
            }
            Err(e) => Err(self.mask_failure(e.reason())),
        }
    }
}
