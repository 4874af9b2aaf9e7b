//! Upstream's metric families (calls to paycombat, retries, circuits, slots,
//! refused credentials) and their label values, next to the component that
//! counts them; registered by the app on the same registry as every other
//! family.

use prometheus::{HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::fair::FairMetrics;
use crate::metrics::{counter, gauge, histogram, reg, Family};

crate::label_enum! {
    /// `outcome` of `gateway_upstream_requests_total`.
    pub enum UpstreamOutcome {
        Ok => "ok",
        Http4xx => "http_4xx",
        Http5xx => "http_5xx",
        Timeout => "timeout",
        ConnectError => "connect_error",
        Error => "error",
        Overloaded => "overloaded",
        ClientCapacity => "client_capacity",
        CircuitOpen => "circuit_open",
    }
}

crate::label_enum! {
    /// `scope` of `gateway_circuit_breakers_open`.
    pub enum CircuitScope {
        Upstream => "upstream",
        Client => "client",
    }
}

#[derive(Clone)]
pub struct UpstreamMetrics {
    pub upstream_requests: Family<IntCounterVec, 2>,
    pub upstream_duration: Family<HistogramVec, 1>,
    pub upstream_retries: Family<IntCounterVec, 1>,
    pub circuit_state: IntGauge,
    pub circuits_open: Family<IntGaugeVec, 1>,
    pub upstream_slots_in_use: IntGauge,
    pub upstream_credentials_rejected: Family<IntCounterVec, 1>,
    /// `gateway_client_capacity_refusals_total`: fair's (every pool it divides
    /// counts there, the response buffers too), so a handle to that one family.
    pub client_capacity_refusals: Family<IntCounterVec, 2>,
}

impl UpstreamMetrics {
    pub fn register(r: &Registry, fair: &FairMetrics) -> prometheus::Result<UpstreamMetrics> {
        let m = UpstreamMetrics {
            upstream_requests: counter(r, "gateway_upstream_requests_total", "Calls to paycombat by route and outcome.", &["route", "outcome"])?,
            upstream_duration: histogram(r, "gateway_upstream_duration_seconds", "Upstream call time to response head.", &["route"])?,
            upstream_retries: counter(r, "gateway_upstream_retries_total", "Retried idempotent upstream calls.", &["route"])?,
            circuit_state: gauge(r, "gateway_circuit_breaker_state", "Worst upstream circuit (the shared one or any client's): 0 closed, 1 open, 2 half-open.")?,
            circuits_open: Family::new(reg(r, IntGaugeVec::new(Opts::new("gateway_circuit_breakers_open", "Circuits failing fast (open or half-open), by scope: upstream (shared, 0 or 1) or client (how many clients' own)."), &["scope"])?)?),
            upstream_slots_in_use: gauge(r, "gateway_upstream_slots_in_use", "Upstream slots (of upstream.max_concurrent_requests) held now: from taking the slot until paycombat has sent the whole answer.")?,
            upstream_credentials_rejected: counter(r, "gateway_upstream_credentials_rejected_total", "Upstream 401s to the gateway's own credentials, by the credential suspected (token, token_or_signature).", &["credential"])?,
            client_capacity_refusals: fair.capacity_refusals.clone(),
        };
        // Pre-created, so `increase()` sees a 0 before the first event.
        for scope in CircuitScope::ALL {
            m.circuits_open.with([&scope]);
        }
        Ok(m)
    }
}
