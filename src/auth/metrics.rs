//! The clients' metric families: requests refused by who called and why, and
//! reloads of the clients file. Auth decides the refusal's reason
//! ([`super::AuthError::rejection`], [`super::RateLimited::rejection`]); the
//! access check that maps its answers to the gateway's counts them, and the
//! reloader of the clients file counts its reloads.

use prometheus::{IntCounterVec, Registry};

use crate::metrics::labels::ReloadResult;
use crate::metrics::{counter, Family};

crate::label_enum! {
    /// `reason` of `gateway_client_rejections_total`.
    pub enum RejectReason {
        Unauthenticated => "unauthenticated",
        Forbidden => "forbidden",
        RateLimited => "rate_limited",
    }
}

#[derive(Clone)]
pub struct ClientMetrics {
    /// `{client, reason}`: the client is a [`crate::metrics::Configured`] name, or `anonymous`.
    pub rejections: Family<IntCounterVec, 2>,
    pub reloads: Family<IntCounterVec, 1>,
}

impl ClientMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<ClientMetrics> {
        let m = ClientMetrics {
            rejections: counter(r, "gateway_client_rejections_total", "Client requests refused, by client and reason (unauthenticated, forbidden, rate_limited).", &["client", "reason"])?,
            reloads: counter(r, "gateway_clients_reloads_total", "Clients-file reloads by result (ok, failed).", &["result"])?,
        };
        // Pre-created, so `increase()` sees a 0 before the first reload.
        for result in ReloadResult::ALL {
            m.reloads.with([&result]);
        }
        Ok(m)
    }
}
