//! The per-client capacity family: `gateway_client_capacity_refusals_total`,
//! a client refused because it held its whole share of a pool this component
//! divides. Fair decides the refusal (`Refusal::Share`, a budget over its
//! share); the pools' holders (upstream's slots, inspection's buffers and
//! spool) count it with a handle to this one family.

use prometheus::{IntCounterVec, Registry};

use crate::metrics::{counter, Family};

crate::label_enum! {
    /// `resource` of `gateway_client_capacity_refusals_total`: the pools fair divides.
    pub enum Resource {
        UpstreamSlots => "upstream_slots",
        ResponseBuffer => "response_buffer",
        Spool => "spool",
    }
}

#[derive(Clone)]
pub struct FairMetrics {
    /// `{client, resource}`: the client is a [`crate::metrics::Configured`] name.
    pub capacity_refusals: Family<IntCounterVec, 2>,
}

impl FairMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<FairMetrics> {
        Ok(FairMetrics {
            capacity_refusals: counter(r, "gateway_client_capacity_refusals_total", "Requests refused (503 CLIENT_CAPACITY_EXCEEDED) because their client held its whole upstream.per_client share, by client and resource (upstream_slots, response_buffer, spool).", &["client", "resource"])?,
        })
    }
}
