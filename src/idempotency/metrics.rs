//! `gateway_idempotency_*`: what keyed writes met, and what their sends ended as. Every
//! label value comes from a closed set: `route` is the gateway's route template of each
//! `[[idempotency.routes]]` entry (as on every other metric), the others the words below.

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

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

#[derive(Clone)]
pub struct IdempotencyMetrics {
    pub requests: IntCounterVec,
    pub outcomes: IntCounterVec,
    pub store_errors: IntCounterVec,
    pub local_bytes: IntGauge,
}

impl IdempotencyMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<IdempotencyMetrics> {
        let m = IdempotencyMetrics {
            requests: IntCounterVec::new(
                Opts::new(
                    "gateway_idempotency_requests_total",
                    "Keyed writes (and keyless writes on routes that require a key), by route and result (first: sent upstream; replayed: the stored answer; in_flight: 409, the first is still running; mismatch: 422, the key was used for another request; outcome_unknown: 409, the first send's outcome is unknown; missing_key, bad_key: 400; refused: 503, the store could not be used).",
                ),
                &["route", "result"],
            )?,
            outcomes: IntCounterVec::new(
                Opts::new(
                    "gateway_idempotency_outcomes_total",
                    "First sends of keyed writes, by route and outcome (answered: stored for replay; not_executed: never sent, or paycombat 429/503, nothing stored; unknown: sent without a known outcome, retries get 409 IDEMPOTENCY_OUTCOME_UNKNOWN).",
                ),
                &["route", "outcome"],
            )?,
            store_errors: IntCounterVec::new(
                Opts::new(
                    "gateway_idempotency_store_errors_total",
                    "Idempotency store failures, by store and reason (redis unavailable: a claim could not be made; local full: idempotency.max_bytes in use; redis record_lost: an outcome could not be written after the send, so the claim runs out into outcome unknown).",
                ),
                &["store", "reason"],
            )?,
            local_bytes: IntGauge::new(
                "gateway_idempotency_local_bytes",
                "Bytes the in-process idempotency store holds, as counted against idempotency.max_bytes.",
            )?,
        };
        r.register(Box::new(m.requests.clone()))?;
        r.register(Box::new(m.outcomes.clone()))?;
        r.register(Box::new(m.store_errors.clone()))?;
        r.register(Box::new(m.local_bytes.clone()))?;
        for (store, reason) in STORE_ERRORS {
            m.store_errors.with_label_values(&[store, reason]);
        }
        Ok(m)
    }

    /// Creates every route's series, so `increase()` sees a 0 before the first event.
    pub fn routes<'a>(&self, names: impl Iterator<Item = &'a str>) {
        for route in names {
            for result in RESULTS {
                self.requests.with_label_values(&[route, result]);
            }
            for outcome in OUTCOMES {
                self.outcomes.with_label_values(&[route, outcome]);
            }
        }
    }
}
