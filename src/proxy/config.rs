//! The request pipeline's keys of `[server]`: the admit phase's bound on a request
//! head and whose `X-Forwarded-For` it believes, and the bounds on a request body the
//! pipeline reads. Operators keep them in `[server]`, next to the listener's limits;
//! they are the pipeline's. The config pass reads them out of `[server]` beside the
//! server component's keys; problems are named relative to the section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{AdmitLimits, BodyLimits, ProxySettings};
use crate::problems::Problems;

/// The pipeline's keys of `[server]` on a configuration reload: the request-body
/// bounds are read per request from the current generation; the head bound also
/// sizes the listener's buffers and the trusted proxies are the upstream side's too,
/// both set up once.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &["max_request_body_bytes", "request_body_timeout"],
    restart: &["max_header_bytes", "trusted_proxies"],
};

/// The pipeline's keys of `[server]`, as written. No `deny_unknown_fields` here: the
/// section's other keys are the server's, and the config pass refuses a key that no
/// owner of the section reads.
#[derive(Debug, Deserialize, Serialize)]
pub struct RawPipeline {
    pub max_header_bytes: usize,
    pub trusted_proxies: Vec<String>,
    pub max_request_body_bytes: usize,
    #[serde(with = "crate::duration_text")]
    pub request_body_timeout: Duration,
}

impl RawPipeline {
    /// Keys relative to `[server]`.
    pub fn check(self, p: &mut Problems) -> Option<ProxySettings> {
        let max_request_body_bytes =
            p.positive("max_request_body_bytes", self.max_request_body_bytes);
        let max_header_bytes = p.positive("max_header_bytes", self.max_header_bytes);
        let trusted_proxies = p.check(
            "trusted_proxies",
            crate::http::TrustedProxies::parse(&self.trusted_proxies),
        );
        let request_body_timeout = p.positive("request_body_timeout", self.request_body_timeout);
        Some(ProxySettings {
            admit: AdmitLimits {
                max_header_bytes: max_header_bytes?,
            },
            trusted_proxies: trusted_proxies?,
            request_body: BodyLimits {
                max_bytes: max_request_body_bytes?,
                timeout: request_body_timeout?,
            },
        })
    }
}
