//! `gateway_idempotency_*`: what keyed writes met, and what their sends ended as. Every
//! label value comes from a closed set: `route` is the gateway's route template of each
//! `[[idempotency.routes]]` entry (as on every other metric), the others the words below.

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

use crate::metrics::Family;
use crate::route::RouteLabel;

/// `result` of `gateway_idempotency_requests_total`.
pub const RESULTS: [&str; 8] = [
    "first",
    "replayed",
    "in_flight",
    "mismatch",
    "outcome_unknown",
    "missing_key",
    "bad_key",
    "refused",
];

/// `outcome` of `gateway_idempotency_outcomes_total` (`outcome::Sent::label`).
pub const OUTCOMES: [&str; 3] = ["answered", "not_executed", "unknown"];

/// `store` and `reason` of `gateway_idempotency_store_errors_total`.
pub const STORE_ERRORS: [(&str, &str); 3] = [
    ("redis", "unavailable"),
    ("local", "full"),
    ("redis", "record_lost"),
];

crate::label_enum! {
    /// `result` of `gateway_idempotency_requests_total`.
    pub enum KeyResult {
        First => "first",
        Replayed => "replayed",
        InFlight => "in_flight",
        Mismatch => "mismatch",
        OutcomeUnknown => "outcome_unknown",
        MissingKey => "missing_key",
        BadKey => "bad_key",
        Refused => "refused",
    }
}

crate::label_enum! {
    /// `outcome` of `gateway_idempotency_outcomes_total`.
    pub enum SentLabel {
        Answered => "answered",
        NotExecuted => "not_executed",
        Unknown => "unknown",
    }
}

crate::label_enum! {
    /// `store` of `gateway_idempotency_store_errors_total`.
    pub enum Store {
        Redis => "redis",
        Local => "local",
    }
}

crate::label_enum! {
    /// `reason` of `gateway_idempotency_store_errors_total`.
    pub enum StoreReason {
        Unavailable => "unavailable",
        Full => "full",
        RecordLost => "record_lost",
    }
}

/// The store errors that can happen, each with its series from the start.
const STORE_ERROR_LABELS: [(Store, StoreReason); 3] = [
    (Store::Redis, StoreReason::Unavailable),
    (Store::Local, StoreReason::Full),
    (Store::Redis, StoreReason::RecordLost),
];

#[derive(Clone)]
pub struct IdempotencyMetrics {
    pub requests: Family<IntCounterVec, 2>,
    pub outcomes: Family<IntCounterVec, 2>,
    pub store_errors: Family<IntCounterVec, 2>,
    pub local_bytes: IntGauge,
}

impl IdempotencyMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<IdempotencyMetrics> {
        let requests = IntCounterVec::new(
            Opts::new(
                "gateway_idempotency_requests_total",
                "Keyed writes (and keyless writes on routes that require a key), by route and result (first: sent upstream; replayed: the stored answer; in_flight: 409, the first is still running; mismatch: 422, the key was used for another request; outcome_unknown: 409, the first send's outcome is unknown; missing_key, bad_key: 400; refused: 503, the store could not be used).",
            ),
            &["route", "result"],
        )?;
        let outcomes = IntCounterVec::new(
            Opts::new(
                "gateway_idempotency_outcomes_total",
                "First sends of keyed writes, by route and outcome (answered: stored for replay; not_executed: never sent, or paycombat 429/503, nothing stored; unknown: sent without a known outcome, retries get 409 IDEMPOTENCY_OUTCOME_UNKNOWN).",
            ),
            &["route", "outcome"],
        )?;
        let store_errors = IntCounterVec::new(
            Opts::new(
                "gateway_idempotency_store_errors_total",
                "Idempotency store failures, by store and reason (redis unavailable: a claim could not be made; local full: idempotency.max_bytes in use; redis record_lost: an outcome could not be written after the send, so the claim runs out into outcome unknown).",
            ),
            &["store", "reason"],
        )?;
        let local_bytes = IntGauge::new(
            "gateway_idempotency_local_bytes",
            "Bytes the in-process idempotency store holds, as counted against idempotency.max_bytes.",
        )?;
        r.register(Box::new(requests.clone()))?;
        r.register(Box::new(outcomes.clone()))?;
        r.register(Box::new(store_errors.clone()))?;
        r.register(Box::new(local_bytes.clone()))?;
        let m = IdempotencyMetrics {
            requests: Family::new(requests),
            outcomes: Family::new(outcomes),
            store_errors: Family::new(store_errors),
            local_bytes,
        };
        for (store, reason) in STORE_ERROR_LABELS {
            m.store_errors.with([&store, &reason]);
        }
        Ok(m)
    }

    /// Creates every route's series, so `increase()` sees a 0 before the first event.
    /// `names`: the gateway's route templates of the keyed routes.
    pub fn routes(&self, names: impl Iterator<Item = RouteLabel>) {
        for route in names {
            for result in KeyResult::ALL {
                self.requests.with([&route, &result]);
            }
            for outcome in SentLabel::ALL {
                self.outcomes.with([&route, &outcome]);
            }
        }
    }
}
