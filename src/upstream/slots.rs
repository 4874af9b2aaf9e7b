//! The upstream concurrency cap (`upstream.max_concurrent_requests`) with
//! each client's share of it (`upstream.per_client.slot_share`).
//!
//! A [`Slot`] is held from before the request is sent until paycombat has
//! sent the whole answer — never while a client reads: inspected bodies are
//! read whole first, passthrough bodies are buffered (`inspect::relay`).

use super::UpstreamOutcome;
use crate::fair::Resource;
use crate::route::RouteLabel;
use std::sync::Arc;

use super::Upstream;
use crate::error::GatewayError;
use crate::fair::{share_of, Caller, Refusal, Shares};

/// The pool of upstream slots.
pub(super) fn pool(total: usize, slot_share: f64) -> Arc<Shares> {
    Shares::new(total, share_of(total, slot_share))
}

pub use crate::fair::Slot;

impl Upstream {
    /// Takes a slot for `caller`, or fails at once: queueing behind a slow
    /// upstream only turns latency into timeouts. The whole cap in use is
    /// 503 GATEWAY_OVERLOADED; the caller's own share in use is 503
    /// CLIENT_CAPACITY_EXCEEDED, for that caller alone.
    pub fn permit(&self, route: RouteLabel, caller: &Caller) -> Result<Slot, GatewayError> {
        let mut held = self.slots.hold(&caller.key);
        match held.grow(1) {
            Ok(()) => {
                self.metrics.upstream_slots_in_use.inc();
                Ok(Slot::new(
                    held,
                    caller.clone(),
                    self.metrics.upstream_slots_in_use.clone(),
                ))
            }
            Err(Refusal::Total) => {
                self.metrics
                    .upstream_requests
                    .with([&route, &UpstreamOutcome::Overloaded])
                    .inc();
                Err(GatewayError::Overloaded)
            }
            Err(Refusal::Share) => {
                self.metrics
                    .upstream_requests
                    .with([&route, &UpstreamOutcome::ClientCapacity])
                    .inc();
                self.metrics
                    .client_capacity_refusals
                    .with([&caller.label, &Resource::UpstreamSlots])
                    .inc();
                Err(GatewayError::ClientCapacity {
                    resource: "upstream slots",
                })
            }
        }
    }
}
