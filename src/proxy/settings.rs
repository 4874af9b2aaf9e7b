//! What the request pipeline reads from the configuration, split by the phase
//! that reads it. The app builds this from the validated settings; no phase
//! sees a section it does not use.

use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;

use crate::error::GatewayError;

/// The pipeline's own settings (the upstream and inspection phases have theirs
/// inside [`Upstream`](crate::upstream::Upstream) and
/// [`Inspector`](crate::inspect::Inspector)).
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// The admit phase.
    pub admit: AdmitLimits,
    /// The admit phase: the client behind a trusted proxy, for the access log.
    pub trusted_proxies: TrustedPeers,
    /// Reading the request body, before the upstream phase.
    pub request_body: BodyLimits,
}

/// The admit phase's bounds on a request head.
#[derive(Debug, Clone, Copy)]
pub struct AdmitLimits {
    /// `server.max_header_bytes`.
    pub max_header_bytes: usize,
}

/// `server.trusted_proxies`: whose `X-Forwarded-For` names the client in the access log.
pub type TrustedPeers = crate::http::TrustedProxies;

/// Bounds on a request body the gateway reads whole before it is sent.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// `server.max_request_body_bytes`.
    pub max_bytes: usize,
    /// `server.request_body_timeout`.
    pub timeout: Duration,
}

impl BodyLimits {
    pub(super) async fn read(
        self,
        body: Incoming,
        headers: &http::HeaderMap,
    ) -> Result<Bytes, GatewayError> {
        crate::http::read_body(body, headers, self.max_bytes, self.timeout).await
    }
}
