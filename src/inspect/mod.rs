//! Response inspection, the step between paycombat's answer and the cache or
//! the client: masking (and its counters), the response headers (one builder), the
//! buffer budget, passthrough routes and the secret guard. See [`response`]
//! for the rule every released body follows.

mod allowlist;
mod buffering;
pub(crate) mod config;
pub(crate) mod relay_config;

pub mod headers;
mod metrics;
mod passthrough;
pub mod reflect;
mod relay;
mod response;
mod settings;
mod spool;

use crate::metrics::Configured;
use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderValue;
use prometheus::IntCounter;

use crate::credentials::{CredentialStore, UpstreamCredentials};
use crate::error::GatewayError;
use crate::fair::budget::BodyBudget;
use crate::mask::policy::PolicyFamily;
use crate::mask::{Masked, Masker};
use reflect::{Found, Secrets};

pub use allowlist::HeaderAllowlist;
pub use buffering::{BufferingSettings, RawBuffering};
pub use config::{InspectLimits, RawInspect};
pub use metrics::{InspectMetrics, MaskFailure};
pub use passthrough::{Passthrough, PassthroughRequest, PassthroughRule};
pub use relay_config::RawRelay;
pub use response::{Inspected, Processed};
pub use settings::InspectSettings;

/// The masker (None when masking is off) and its HMAC key, kept only so the
/// secret guard can look for the key in responses.
pub type Masking = (Option<Arc<Masker>>, Option<Box<[u8]>>);

/// Inspects every upstream answer before it is cached or released; one per
/// process, shared by every request.
pub struct Inspector {
    settings: InspectSettings,
    credentials: Arc<CredentialStore>,
    metrics: InspectMetrics,
    masker: Option<Arc<Masker>>,
    /// One counter handle per masking rule, resolved once: the hot path
    /// must not hash label strings per masked field.
    masked_counters: Vec<IntCounter>,
    /// The mask HMAC key, only so the secret guard can look for it.
    mask_key: Option<Box<[u8]>>,
    /// Bound on response bytes held in memory, shared by every request.
    budget: Arc<BodyBudget>,
    /// Spool files of relayed passthrough bodies.
    spool: Arc<spool::SpoolPool>,
    /// The secret guard compiled for the credentials it was built from:
    /// rebuilt only when a reload swaps them, never per response.
    compiled: arc_swap::ArcSwapOption<(Arc<UpstreamCredentials>, Secrets)>,
}

/// One counter handle per rule of `masker`, resolved once.
fn masked_counters(masker: Option<&Masker>, metrics: &InspectMetrics) -> Vec<IntCounter> {
    masker
        .map(|m| {
            m.rule_names()
                .map(|name| {
                    // A rule of the validated `[mask]` configuration.
                    metrics.masked_fields.with([&Configured::declared(name)])
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Inspector {
    pub fn new(
        settings: InspectSettings,
        credentials: Arc<CredentialStore>,
        metrics: InspectMetrics,
        (masker, mask_key): Masking,
    ) -> Inspector {
        let masked_counters = masked_counters(masker.as_deref(), &metrics);
        let u = &settings;
        let budget = Arc::new(BodyBudget::new(
            u.limits.max_buffered_bytes,
            u.limits.buffer_wait,
            u.buffer_share,
            metrics.buffered_bytes.clone(),
            (
                metrics.buffer_exhausted.clone(),
                metrics.client_capacity_refusals.clone(),
            ),
        ));
        let spool = spool::SpoolPool::new(u.limits.buffering.clone(), u.buffer_share, &metrics);
        let inspector = Inspector {
            settings,
            credentials,
            metrics,
            masker,
            masked_counters,
            mask_key,
            budget,
            spool,
            compiled: arc_swap::ArcSwapOption::empty(),
        };
        // Compiled now, so a short secret is warned about at start-up.
        inspector.secrets(None);
        inspector
    }

    /// The inspector of a reloaded configuration: its `settings` and masker, over the
    /// pools this one draws on (response buffers, spool files), the credentials it
    /// guards and the metrics it counts in, which are shared, never rebuilt.
    /// The pools' own bounds are restart-only keys (`inspect::config::KEYS`).
    pub fn next(&self, settings: InspectSettings, (masker, mask_key): Masking) -> Inspector {
        let inspector = Inspector {
            masked_counters: masked_counters(masker.as_deref(), &self.metrics),
            settings,
            credentials: self.credentials.clone(),
            metrics: self.metrics.clone(),
            masker,
            mask_key,
            budget: self.budget.clone(),
            spool: self.spool.clone(),
            compiled: arc_swap::ArcSwapOption::empty(),
        };
        inspector.secrets(None);
        inspector
    }

    /// The `mask.passthrough` rule whose answer to this request is relayed, not
    /// masked (None: the answer is masked). Asked before the request is sent, so
    /// upstream prepares it for the relay (ranges, encodings).
    pub fn passthrough_for(&self, method: &http::Method, path: &str) -> Option<&PassthroughRule> {
        self.settings.passthrough.for_request(method, path)
    }

    /// The masker and key this inspector masks with (for a generation whose mask
    /// rules did not change).
    pub fn masking(&self) -> Masking {
        (self.masker.clone(), self.mask_key.clone())
    }

    fn record_masked(&self, masked: &Masked) {
        for (rule, n) in masked.counts() {
            if let Some(c) = self.masked_counters.get(rule) {
                c.inc_by(u64::from(n));
            }
        }
    }

    /// `reason` is one of the gateway's own words for a refusal (framing,
    /// decoding, masking, the header vocabulary), each a [`MaskFailure`].
    fn mask_failure(&self, reason: &'static str) -> GatewayError {
        match MaskFailure::named(reason) {
            Some(failure) => self.metrics.mask_failures.with([&failure]).inc(),
            // Every producer's words are tested to be in the set
            // (`every_refusal_reason_is_a_mask_failure_label`): not reached.
            None => debug_assert!(false, "unlisted mask failure reason {reason}"),
        }
        tracing::warn!(
            reason,
            "upstream body refused: it could not be inspected for personal data"
        );
        GatewayError::Unmaskable { reason }
    }

    fn reflected(&self, found: Found) -> GatewayError {
        self.metrics.secret_reflections.with([&found]).inc();
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
        let held = self.held_secrets();
        match signature {
            Some(s) => held.with(&Secrets::for_one_request([s.as_bytes()])),
            None => held,
        }
    }

    /// The guard for the credentials and mask key, compiled once per
    /// credentials snapshot.
    fn held_secrets(&self) -> Secrets {
        let Some(creds) = self.credentials.current() else {
            return Secrets::new(self.mask_key.as_deref());
        };
        if let Some(c) = &*self.compiled.load() {
            if Arc::ptr_eq(&c.0, &creds) {
                return c.1.clone();
            }
        }
        use secrecy::ExposeSecret;
        let mut list: Vec<(&'static str, &[u8])> = vec![("upstream.token", creds.token.as_bytes())];
        if let Some(k) = &creds.signature_key {
            list.push(("upstream.signature_key", k.expose_secret()));
        }
        if let Some(k) = &self.mask_key {
            list.push(("mask.hmac_key_file", k));
        }
        for (name, secret) in &list {
            match reflect::strength(secret) {
                reflect::Strength::Canonical => {}
                strength => tracing::warn!(
                    secret = name,
                    bytes = secret.len(),
                    canonical_min = reflect::CANONICAL_MIN_LEN,
                    looked_for = if strength == reflect::Strength::Ignored { "not at all" } else { "byte for byte only" },
                    "a secret is too short for the reflection guard to look for its encoded forms (base64, hex, any case); use a longer one"
                ),
            }
        }
        let secrets = Secrets::new(list.iter().map(|(_, s)| *s));
        self.compiled
            .store(Some(Arc::new((creds, secrets.clone()))));
        secrets
    }

    /// Masks a complete, decoded body: the masked bytes, and the decoded text of the
    /// strings they carry escaped (for the secret guard, see [`Masked::unescaped`]). Only
    /// `mask.enabled = false` (logged loudly at start) releases a body unmasked.
    async fn mask_body(
        &self,
        body: Bytes,
        family: PolicyFamily,
    ) -> Result<(Bytes, Vec<u8>), GatewayError> {
        let Some(masker) = self.masker.clone() else {
            return Ok((body, Vec::new()));
        };
        let masked = off_worker(body.len(), move || masker.mask_for(&body, family)).await;
        match masked {
            Ok(masked) => {
                self.record_masked(&masked);
                let unescaped = masked.unescaped().to_vec();
                Ok((masked.body, unescaped))
            }
            Err(e) => Err(self.mask_failure(e.reason())),
        }
    }
}

/// Bodies at least this large are decoded and masked on the blocking pool.
/// Masking runs at tens of MB/s, so a body near `max_response_body_bytes`
/// would hold an async worker for tens of milliseconds: every other
/// connection on that worker (cache hits, health checks, TLS handshakes)
/// would wait behind one client's large answer. Small bodies, the common
/// case, stay inline: a hop to another thread costs more than masking them.
const OFF_WORKER_BYTES: usize = 64 * 1024;

/// Runs `work` (CPU-bound, over `len` bytes) inline or, when large, on the
/// blocking pool. A panic in it is re-raised here, as it would have been
/// inline, so the request ends the same way either way.
async fn off_worker<T: Send + 'static>(len: usize, work: impl FnOnce() -> T + Send + 'static) -> T {
    if len < OFF_WORKER_BYTES {
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod label_tests {
    use super::MaskFailure;
    use crate::http::coding::DecodeError;
    use crate::mask::MaskError;

    /// A refusal is counted under its reason only when the reason is a
    /// `MaskFailure` label: every word the framing, decoding, masking and
    /// header code can refuse a body with must be one.
    #[test]
    fn every_refusal_reason_is_a_mask_failure_label() {
        let reasons = [
            DecodeError::Unsupported.reason(),
            DecodeError::Corrupt.reason(),
            DecodeError::TooLarge.reason(),
            MaskError::Parse { line: 1, column: 1 }.reason(),
            MaskError::NotUtf8.reason(),
            MaskError::TooDeep.reason(),
            crate::http::framing::AMBIGUOUS,
            super::headers::RANGE_REFUSED,
            // framing.rs's own word for a stacked or unknown coding.
            "bad_encoding",
        ];
        for reason in reasons {
            assert!(MaskFailure::named(reason).is_some(), "{reason}");
        }
        for failure in MaskFailure::ALL {
            assert_eq!(MaskFailure::named(failure.as_str()), Some(failure));
        }
    }
}

#[cfg(test)]
mod off_worker_tests {
    use super::{off_worker, OFF_WORKER_BYTES};

    fn thread() -> std::thread::ThreadId {
        std::thread::current().id()
    }

    #[tokio::test]
    async fn small_work_runs_inline_and_large_work_leaves_the_worker() {
        let here = thread();
        assert_eq!(off_worker(OFF_WORKER_BYTES - 1, thread).await, here);
        assert_ne!(off_worker(OFF_WORKER_BYTES, thread).await, here);
    }

    #[tokio::test]
    async fn a_panic_off_the_worker_reaches_the_caller_as_it_would_inline() {
        let caught = tokio::spawn(off_worker(OFF_WORKER_BYTES, || -> () {
            panic!("masker bug")
        }))
        .await
        .expect_err("the panic propagates");
        assert!(caught.is_panic());
        let payload = caught.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"masker bug"));
    }
}
