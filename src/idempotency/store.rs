//! Where records live: the [`Store`] trait, one in-process implementation
//! ([`super::local::LocalStore`]) and one shared through Redis
//! ([`super::redis::RedisStore`]). Every operation that changes a claimed record names
//! the claim (whose owner is unique), so a request that lost its claim cannot
//! overwrite a record another request made since.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::record::Record;

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The record did not exist and is now this request's in-flight claim.
    Claimed,
    /// A record exists already (this request's fingerprint may or may not match it).
    Found(Record),
}

/// Why a store could not be used. Each one is refused before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The store could not be asked (Redis unreachable, slow or failing).
    Unavailable,
    /// The in-process store holds `idempotency.max_bytes` of records still inside their TTL.
    Full,
}

pub trait Store: Send + Sync {
    /// Atomically: stores `claim` under `id` for `ttl` unless a record exists, and
    /// returns the existing one if it does.
    fn claim<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// The record under `id`, if any.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;

    /// Replaces the in-flight `claim` with `record` (kept for `ttl`); nothing if `id`
    /// no longer holds that claim.
    fn settle<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        record: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Removes the in-flight `claim` (the request was never executed): its retry is sent.
    fn release<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}
