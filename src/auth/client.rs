//! An authenticated caller: its allowlist and its token bucket.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use http::Method;

use super::error::{AuthError, RateLimited};
use super::pattern::AllowRule;
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

/// A token bucket on the gateway's [`Clock`] (so tests can refill it without waiting).
type Bucket = RateLimiter<NotKeyed, InMemoryState, Clock, NoOpMiddleware<std::time::Instant>>;

/// Shared between registries so that a reload keeps the bucket's state.
pub(crate) type Limiter = Arc<Bucket>;

pub(crate) fn new_limiter(limit: RateLimit, clock: &Clock) -> Limiter {
    Arc::new(RateLimiter::direct_with_clock(limit.quota(), clock.clone()))
}

fn take(limiter: &Bucket) -> Result<(), RateLimited> {
    limiter.check().map_err(|not_until| {
        let now = limiter.clock().now();
        RateLimited::from_wait(not_until.wait_time_from(now))
    })
}

/// A client's local token bucket, detached from the registry.
pub struct LocalBucket(Option<Limiter>);

impl LocalBucket {
    /// As [`Client::check_rate`].
    pub fn take(&self) -> Result<(), RateLimited> {
        self.0.as_deref().map_or(Ok(()), take)
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

    /// Takes one token from the client's bucket. Clients without a limit always pass.
    pub fn check_rate(&self) -> Result<(), RateLimited> {
        match &self.limiter {
            Some(limiter) => take(limiter),
            None => Ok(()),
        }
    }

    /// This replica's own bucket, usable after the registry guard is gone (cluster mode
    /// falls back to it when Redis cannot be asked).
    pub fn local_bucket(&self) -> LocalBucket {
        LocalBucket(self.limiter.clone())
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
