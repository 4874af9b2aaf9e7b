//! Everything about talking to paycombat, owned by one [`Upstream`]: the
//! pooled client, the credentials it injects, the base URI, request header
//! rules and signing ([`Upstream::prepare`]), and sending within the
//! concurrency cap, the circuit breakers, the retry budget and a deadline
//! ([`Upstream::permit`], [`Upstream::send`]).

pub(crate) mod breaker;
pub(crate) mod client;
pub mod config;
pub(crate) mod headers;
mod metrics;
mod prepare;
mod rejected;
pub(crate) mod retry;
mod send;
pub mod sign;
mod slots;

use std::sync::Arc;

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{Method, Uri};
use tokio::time::Instant;

use self::config::UpstreamSettings;
use crate::clock::Clock;
use crate::credentials::CredentialStore;
use crate::http::TrustedProxies;
use breaker::Breakers;
use client::UpstreamClient;
use retry::RetryBudget;

pub use metrics::{CircuitScope, UpstreamMetrics, UpstreamOutcome};
pub use rejected::Credential;
pub use slots::Slot;

/// The address paycombat answered from, as the pooled connection recorded it
/// (hyper-util's `HttpInfo`), for the access log.
pub(crate) fn answered_from<B>(resp: &http::Response<B>) -> Option<std::net::SocketAddr> {
    resp.extensions()
        .get::<hyper_util::client::legacy::connect::HttpInfo>()
        .map(|i| i.remote_addr())
}

/// A request ready to be sent, kept whole so an idempotent GET can be sent again.
pub struct Outgoing {
    pub method: Method,
    pub uri: Uri,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Outgoing {
    /// The signature the gateway put on this request, if any (an echo of it
    /// in the response is refused like any other secret).
    pub fn signature(&self) -> Option<&http::HeaderValue> {
        self.headers.get(headers::SIGNATURE)
    }
}

/// paycombat as the gateway talks to it; one per process, shared by every request.
pub struct Upstream {
    /// `[upstream]`: this component's own section, nothing else.
    settings: UpstreamSettings,
    /// `server.trusted_proxies`: whose `X-Forwarded-For` chain is kept.
    trusted: TrustedProxies,
    client: UpstreamClient,
    credentials: Arc<CredentialStore>,
    metrics: UpstreamMetrics,
    base_scheme: Scheme,
    base_authority: Authority,
    slots: Arc<crate::fair::Shares>,
    breakers: Breakers,
    retry_budget: RetryBudget,
    /// What the breakers' cool-downs and the retry budget's refill are timed
    /// by (tests advance an adjustable one instead of waiting them out);
    /// deadlines and socket timeouts keep real time.
    clock: Clock,
}

impl Upstream {
    /// `slot_share`: each client's share of the slots
    /// (`upstream.per_client.slot_share`, fair's key, handed over as a value).
    pub fn new(
        settings: UpstreamSettings,
        trusted: TrustedProxies,
        slot_share: f64,
        client: UpstreamClient,
        credentials: Arc<CredentialStore>,
        metrics: UpstreamMetrics,
        clock: Clock,
    ) -> Upstream {
        // Its label values are this component's (`rejected.rs`): it creates the series, so
        // they exist at 0 from the start and the metrics registry imports nothing of it.
        for credential in rejected::Credential::ALL {
            metrics.upstream_credentials_rejected.with([&credential]);
        }
        let u = &settings;
        let base_scheme = u.base_url.scheme().cloned().unwrap_or(Scheme::HTTPS);
        let base_authority = u
            .base_url
            .authority()
            .cloned()
            .unwrap_or_else(|| Authority::from_static("api.paycombat.com"));
        Upstream {
            base_scheme,
            base_authority,
            slots: slots::pool(u.max_concurrent_requests, slot_share),
            breakers: Breakers::new(u.breaker_failure_threshold, u.breaker_cool_down),
            retry_budget: RetryBudget::new(
                u.retry.budget_ratio,
                u.retry.budget_min_per_second,
                clock.now(),
            ),
            clock,
            settings,
            trusted,
            client,
            credentials,
            metrics,
        }
    }

    /// When a request starting now must have its whole answer
    /// (`upstream.timeout`).
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.settings.timeout
    }
}
