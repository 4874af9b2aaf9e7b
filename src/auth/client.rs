//! An authenticated caller: its allowlist and its token bucket.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use http::Method;

use super::error::AuthError;
use super::pattern::AllowRule;
use super::rate::RateDecision;
use crate::clock::Clock;

/// A token bucket: refills `per_second` tokens a second, holds at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl RateLimit {
    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

/// A direct (one-bucket) limiter on the gateway's [`Clock`] (so tests can refill it
/// without waiting) that also says what is left after each decision, for the client's
/// `RateLimit` field.
type Bucket = RateLimiter<NotKeyed, InMemoryState, Clock, StateInformationMiddleware>;

/// Shared between registries so that a reload keeps the bucket's state.
pub(crate) type Limiter = Arc<Bucket>;

pub(crate) fn new_limiter(limit: RateLimit, clock: &Clock) -> Limiter {
    Arc::new(
        RateLimiter::direct_with_clock(limit.quota(), clock.clone())
            .with_middleware::<StateInformationMiddleware>(),
    )
}

fn take(limiter: &Bucket, limit: RateLimit) -> RateDecision {
    match limiter.check() {
        Ok(state) => RateDecision::allowed(limit, state.remaining_burst_capacity()),
        Err(not_until) => {
            let now = limiter.clock().now();
            RateDecision::refused(limit, not_until.wait_time_from(now))
        }
    }
}

/// A client's local token bucket, detached from the registry.
pub struct LocalBucket(Option<(RateLimit, Limiter)>);

impl LocalBucket {
    /// As [`Client::check_rate`].
    pub fn take(&self) -> Option<RateDecision> {
        self.0
            .as_ref()
            .map(|(limit, limiter)| take(limiter, *limit))
    }
}

/// A configured client. Obtained from [`super::ClientRegistry::authenticate`].
pub struct Client {
    /// Configured name: `[a-z0-9_-]{1,64}`, safe as a metric label and in access logs.
    pub name: crate::metrics::Configured,
    pub(crate) allow: Vec<AllowRule>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) key_count: usize,
    pub(crate) subject_count: usize,
    /// This client's `gateway_requests_total` handles, so a request never
    /// hashes the label values; kept across reloads with the bucket.
    pub requests: Arc<crate::metrics::RequestCounters>,
}

impl Client {
    /// May this client call `method path`? `path` is the request path; a query is ignored.
    pub fn authorize(&self, method: &Method, path: &str) -> Result<(), AuthError> {
        if self.allow.iter().any(|rule| rule.allows(method, path)) {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }

    /// As `authorize`, on the request path the gateway already checked.
    pub fn authorize_checked(
        &self,
        method: &Method,
        path: crate::path::ValidPath<'_>,
    ) -> Result<(), AuthError> {
        if self
            .allow
            .iter()
            .any(|rule| rule.allows_checked(method, path))
        {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }

    /// Takes one token from the client's bucket: the verdict and what is left.
    /// `None` for a client without a limit (it always passes).
    pub fn check_rate(&self) -> Option<RateDecision> {
        self.local_bucket().take()
    }

    /// This replica's own bucket, usable after the registry guard is gone (cluster mode
    /// falls back to it when Redis cannot be asked).
    pub fn local_bucket(&self) -> LocalBucket {
        LocalBucket(self.rate_limit.zip(self.limiter.clone()))
    }

    /// The configured limit, `None` when unlimited.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// Identified only by certificate: no key can name it.
    pub fn certificate_only(&self) -> bool {
        self.key_count == 0
    }

    /// Copy of this client sharing `limiter` (used when a reload keeps the bucket).
    pub(crate) fn with_limiter(&self, limiter: Limiter) -> Client {
        Client {
            name: self.name.clone(),
            allow: self.allow.clone(),
            rate_limit: self.rate_limit,
            limiter: Some(limiter),
            key_count: self.key_count,
            subject_count: self.subject_count,
            requests: Arc::clone(&self.requests),
        }
    }
}

// Hand-written so key material can never slip into logs through `{:?}`.
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .field("keys", &self.key_count)
            .field("subjects", &self.subject_count)
            .field("allow_rules", &self.allow.len())
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}
