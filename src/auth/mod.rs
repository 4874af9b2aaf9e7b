//! Client access control: who may call the gateway, which routes, and how often.
//!
//! Each internal service gets its own key, or is named by its client certificate (`subjects`:
//! DNS or URI SANs), or both; the clients file stores only SHA-256 hashes of keys, a route
//! allowlist per client and an optional token-bucket rate limit. The HTTP layer calls
//! [`ClientRegistry::identify`], then [`Client::authorize`] and [`Client::check_rate`].
//! Reloads build a fresh registry with [`ClientRegistry::load`], carry the buckets over with
//! [`ClientRegistry::inherit_limiters`], and swap it in atomically.

mod client;
pub mod config;
mod error;
mod file;
mod file_shape;
mod key;
mod metrics;
mod pattern;
mod rate;
mod registry;
mod subject;

pub use client::{Client, LocalBucket, RateLimit};
pub use error::{AuthConfigError, AuthError, ClientProblem, RateLimited};
pub use key::{generate_key, hash_key, KEY_PREFIX, X_TOKEN};
pub use metrics::{ClientMetrics, RejectReason};
pub use rate::{Left, RateDecision, RateState, RATELIMIT, RATELIMIT_POLICY};
pub use registry::ClientRegistry;
pub use subject::{ClientCertificate, Subject};
// The route-pattern syntax of allowlists, also used by `mask.passthrough`.
pub(crate) use pattern::AllowRule;

#[cfg(test)]
mod tests;
