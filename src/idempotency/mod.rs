//! Idempotent writes: an `Idempotency-Key` makes a retried payin, payout or checkout
//! reach paycombat once, across replicas (the IETF httpapi draft where it speaks,
//! Stripe's behaviour where it does not; the README's "Retrying writes safely" states
//! the exact rules).
//!
//! On a configured write route (`[[idempotency.routes]]`) a keyed request is scoped by
//! its caller (client name, or peer address with authentication off) and route, and
//! fingerprinted (method, path, query, SHA-256 of the body bytes). Its first arrival
//! claims the key atomically ([`Store::claim`]) and is sent; what paycombat did with it
//! decides the record a retry finds ([`outcome::Sent`]): the masked answer (replayed
//! with `Idempotent-Replayed: true`), nothing (never executed: the retry is sent), or
//! "outcome unknown" (409, reconcile). The proxy calls this component at one place, the
//! forward of a write (`proxy::idempotent`).

pub mod key;
mod local;
pub mod metrics;
pub mod outcome;
pub mod record;
mod redis;
pub mod settings;
pub mod store;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method};

use crate::cluster::Cluster;
use crate::error::GatewayError;
use crate::fair::{Caller, ShareKey};
use crate::route::RouteLabel;
use key::{Fingerprint, Key};
use metrics::{KeyResult, Store as StoreLabel, StoreReason};
use outcome::Sent;
use record::{Record, State, StoredAnswer};
use store::{Claim, Store, StoreError};

pub use local::LocalStore;
pub use metrics::IdempotencyMetrics;
pub use settings::{IdempotencySettings, KeyedRoute, OnInFlight, OnStoreError, RawIdempotency};

/// How often a request waiting for another with its key (`on_in_flight = "wait"`) looks.
const WAIT_POLL: Duration = Duration::from_millis(25);

/// The component: settings, the in-process store, the shared one in cluster mode.
pub struct Idempotency {
    settings: IdempotencySettings,
    /// How long a claim is trusted: `upstream.timeout` + `idempotency.lease_margin`.
    lease: Duration,
    local: LocalStore,
    /// Redis in cluster mode.
    shared: Option<Arc<dyn Store>>,
    metrics: IdempotencyMetrics,
}

/// What a keyed write does next.
pub enum Begin {
    /// The stored answer of the key's first request.
    Replay(StoredAnswer),
    /// This request holds the key's claim: send it, then [`Idempotency::finish`].
    First(Ticket),
}

/// One claimed key, until its send is finished.
pub struct Ticket {
    id: String,
    claim: Record,
    /// Its metric label.
    route: RouteLabel,
    /// The claim was made in the in-process store (no cluster, or the `local` fallback).
    local: bool,
}

impl Idempotency {
    /// None when `idempotency.enabled = false`. `upstream_timeout` bounds a send, so a
    /// claim outlives every send it covers.
    pub fn new(
        settings: &IdempotencySettings,
        upstream_timeout: Duration,
        cluster: Option<Arc<Cluster>>,
        metrics: IdempotencyMetrics,
    ) -> Option<Arc<Idempotency>> {
        if !settings.enabled {
            return None;
        }
        let shared = cluster.map(|c| Arc::new(redis::RedisStore::new(c)) as Arc<dyn Store>);
        let lease = upstream_timeout + settings.lease_margin;
        Some(Arc::new(Idempotency::with_stores(
            settings, lease, shared, metrics,
        )))
    }

    /// The component over any shared store (tests inject failing ones).
    fn with_stores(
        settings: &IdempotencySettings,
        lease: Duration,
        shared: Option<Arc<dyn Store>>,
        metrics: IdempotencyMetrics,
    ) -> Idempotency {
        metrics.routes(settings.routes.iter().map(|r| r.label));
        let mut settings = settings.clone();
        // A record's expiry is also its claim's: a `ttl` shorter than a send would let
        // the claim expire while its request is still with paycombat, and a retry be
        // sent a second time. So a record lives at least as long as a claim is trusted.
        settings.ttl = settings.ttl.max(lease);
        Idempotency {
            lease,
            local: LocalStore::new(settings.ttl, settings.max_bytes),
            shared,
            settings,
            metrics,
        }
    }

    /// The configured keyed route a request is, if any.
    pub fn route(&self, method: &Method, path: &str) -> Option<&KeyedRoute> {
        self.settings.route(method, path)
    }

    fn count(&self, route: RouteLabel, result: KeyResult) {
        self.metrics.requests.with([&route, &result]).inc();
    }

    /// The request's key on `route`: None for a keyless write the route does not
    /// require a key for.
    pub fn key(
        &self,
        headers: &HeaderMap,
        route: &KeyedRoute,
    ) -> Result<Option<Key>, GatewayError> {
        match key::parse(headers, self.settings.max_key_bytes) {
            Ok(Some(k)) => Ok(Some(k)),
            Ok(None) if route.require => {
                self.count(route.label, KeyResult::MissingKey);
                Err(GatewayError::IdempotencyKeyRequired)
            }
            Ok(None) => Ok(None),
            Err(bad) => {
                self.count(route.label, KeyResult::BadKey);
                Err(GatewayError::IdempotencyKeyInvalid {
                    reason: bad.reason(),
                })
            }
        }
    }

    /// Claims `key` for this request, or says what its earlier request left.
    pub async fn begin(
        &self,
        route: &KeyedRoute,
        caller: &Caller,
        key: &Key,
        fingerprint: Fingerprint,
    ) -> Result<Begin, GatewayError> {
        let id = key::record_id(&identity(caller), &route.name, key);
        let owner = uuid::Uuid::new_v4().simple().to_string();
        let claim = Record {
            fingerprint: fingerprint.to_hex(),
            state: State::InFlight {
                owner,
                lease_until_ms: now_ms() + millis(self.lease),
            },
        };
        let waiting_until = tokio::time::Instant::now() + self.settings.in_flight_wait;
        loop {
            let (claimed, local) = self.claim(&id, &claim).await.map_err(|e| {
                self.count(route.label, KeyResult::Refused);
                match e {
                    StoreError::Full => GatewayError::IdempotencyStoreFull,
                    StoreError::Unavailable => GatewayError::IdempotencyUnavailable,
                }
            })?;
            let found = match claimed {
                Claim::Claimed => {
                    self.count(route.label, KeyResult::First);
                    return Ok(Begin::First(Ticket {
                        id,
                        claim,
                        route: route.label,
                        local,
                    }));
                }
                Claim::Found(found) => found,
            };
            // The fingerprint first: another request under a used key is the client's
            // mistake whatever state its first one is in.
            if found.fingerprint != claim.fingerprint {
                self.count(route.label, KeyResult::Mismatch);
                return Err(GatewayError::IdempotencyKeyReused);
            }
            match found.state {
                State::Answered(answer) => {
                    self.count(route.label, KeyResult::Replayed);
                    return Ok(Begin::Replay(answer));
                }
                State::Unknown { .. } => {
                    self.count(route.label, KeyResult::OutcomeUnknown);
                    return Err(GatewayError::IdempotencyOutcomeUnknown);
                }
                // Its replica stopped (or lost the store) mid-request.
                State::InFlight { lease_until_ms, .. } if lease_until_ms < now_ms() => {
                    self.count(route.label, KeyResult::OutcomeUnknown);
                    return Err(GatewayError::IdempotencyOutcomeUnknown);
                }
                State::InFlight { .. } => {
                    let wait = self.settings.on_in_flight == OnInFlight::Wait
                        && tokio::time::Instant::now() + WAIT_POLL < waiting_until;
                    if !wait {
                        self.count(route.label, KeyResult::InFlight);
                        return Err(GatewayError::IdempotencyInFlight);
                    }
                    tokio::time::sleep(WAIT_POLL).await;
                }
            }
        }
    }

    /// Claims in Redis in cluster mode, else (or as the `local` fallback) here.
    /// `.1`: the claim was made locally.
    async fn claim(&self, id: &str, claim: &Record) -> Result<(Claim, bool), StoreError> {
        let ttl = self.settings.ttl;
        if let Some(shared) = &self.shared {
            match shared.claim(id, claim, ttl).await {
                Ok(Claim::Claimed) if self.settings.on_store_error == OnStoreError::Local => {
                    // Mirrored here: should Redis fail before this key's outcome is
                    // written to it, this replica's fallback still knows the key (in
                    // flight, then its outcome), so a retry here is never sent again.
                    // Without room, the mirror is skipped (Redis still holds the claim).
                    let mirror = self.local.claim(id, claim, ttl).await;
                    self.metrics.local_bytes.set(gauge(self.local.used_bytes()));
                    if let Ok(Claim::Found(known)) = mirror {
                        // This replica knows the key from while Redis was down (or
                        // Redis lost it): that record stands, and replaces the claim
                        // in Redis so the other replicas know it too.
                        let _ = shared.settle(id, claim, &known, ttl).await;
                        return Ok((Claim::Found(known), false));
                    }
                    return Ok((Claim::Claimed, false));
                }
                Ok(c) => return Ok((c, false)),
                Err(e) => {
                    // A claim that timed out may still be applied once Redis reads it (a
                    // hung server runs what it had received): withdraw it behind, on the
                    // same connection, so a request that was never sent does not leave
                    // its key "in flight" and then "outcome unknown".
                    let (shared, id, claim) = (shared.clone(), id.to_owned(), claim.clone());
                    tokio::spawn(async move {
                        let _ = shared.release(&id, &claim).await;
                    });
                    self.metrics
                        .store_errors
                        .with([&StoreLabel::Redis, &StoreReason::Unavailable])
                        .inc();
                    if self.settings.on_store_error == OnStoreError::Refuse {
                        return Err(e);
                    }
                }
            }
        }
        let claimed = self.local.claim(id, claim, ttl).await;
        self.metrics.local_bytes.set(gauge(self.local.used_bytes()));
        if claimed == Err(StoreError::Full) {
            self.metrics
                .store_errors
                .with([&StoreLabel::Local, &StoreReason::Full])
                .inc();
        }
        claimed.map(|c| (c, true))
    }

    /// Records what the send of `ticket` ended as: `answer` is the answer the client
    /// got, when paycombat answered.
    pub async fn finish(&self, ticket: Ticket, sent: Sent, answer: Option<StoredAnswer>) {
        let sent = match (sent, &answer) {
            (Sent::Answered, Some(a)) if a.body.len() > self.settings.max_answer_bytes => {
                Sent::Unknown("answer_too_large")
            }
            (Sent::Answered, None) => Sent::Unknown("internal"),
            _ => sent,
        };
        self.metrics
            .outcomes
            .with([&ticket.route, &sent.metric_label()])
            .inc();
        let store: &dyn Store = match (&self.shared, ticket.local) {
            (Some(shared), false) => shared.as_ref(),
            _ => &self.local,
        };
        // A Redis claim under `on_store_error = "local"` has a local mirror (`claim`):
        // it is settled too (a no-op where the mirror was not made).
        let mirrored = !ticket.local
            && self.shared.is_some()
            && self.settings.on_store_error == OnStoreError::Local;
        let Ticket { id, claim, .. } = ticket;
        let record = |state| Record {
            fingerprint: claim.fingerprint.clone(),
            state,
        };
        let outcome = match (sent, answer) {
            (Sent::NotExecuted, _) => None,
            (Sent::Answered, Some(answer)) => Some(record(State::Answered(answer))),
            (other, _) => {
                let why = match other {
                    Sent::Unknown(w) => w,
                    _ => "internal",
                };
                Some(record(State::Unknown {
                    why: why.to_owned(),
                }))
            }
        };
        let ttl = self.settings.ttl;
        let done = match &outcome {
            None => store.release(&id, &claim).await,
            Some(r) => store.settle(&id, &claim, r, ttl).await,
        };
        if mirrored {
            let _ = match &outcome {
                None => self.local.release(&id, &claim).await,
                Some(r) => self.local.settle(&id, &claim, r, ttl).await,
            };
        }
        self.metrics.local_bytes.set(gauge(self.local.used_bytes()));
        if done.is_err() {
            // The claim stays until its lease ends; retries meet 409 until then and
            // "outcome unknown" after: never a second send.
            self.metrics
                .store_errors
                .with([&StoreLabel::Redis, &StoreReason::RecordLost])
                .inc();
            tracing::warn!(
                outcome = sent.label(),
                "idempotency: the outcome of a keyed write could not be written to Redis; its retries will be told the outcome is unknown"
            );
        }
    }
}

/// Whose keys: the client, or with authentication off the peer's address share.
fn identity(caller: &Caller) -> String {
    match &caller.key {
        ShareKey::Client(name) => format!("client:{name}"),
        ShareKey::Peer(ip) => format!("peer:{}", IpAddr::to_string(ip)),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
