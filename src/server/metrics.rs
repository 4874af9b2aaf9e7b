//! The listeners' metric families (connections, TLS, readiness) and their
//! label values, next to the component that counts them; registered by the
//! app on the same registry as every other family.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::metrics::{counter, gauge, reg, Family};

crate::label_enum! {
    /// `listener` of the connection and TLS metrics.
    pub enum Listener {
        Api => "api",
        Admin => "admin",
    }
}

#[derive(Clone)]
pub struct ServerMetrics {
    pub ready: IntGauge,
    pub connections_open: Family<IntGaugeVec, 1>,
    pub connections_closed: Family<IntCounterVec, 2>,
    pub tls_handshake_failures: Family<IntCounterVec, 1>,
    pub tls_certificate_expiry: Family<IntGaugeVec, 1>,
    pub tls_reloads: Family<IntCounterVec, 1>,
}

impl ServerMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<ServerMetrics> {
        Ok(ServerMetrics {
            ready: gauge(r, "gateway_ready", "1 while /readyz answers 200.")?,
            connections_open: Family::new(reg(r, IntGaugeVec::new(Opts::new("gateway_connections_open", "Client connections open now, by listener (api, admin)."), &["listener"])?)?),
            connections_closed: counter(r, "gateway_connections_closed_total", "Client connections ended, by listener and reason (client_closed, idle, evicted, refused_cap, header_timeout, write_stall, drained, error, tls_handshake).", &["listener", "reason"])?,
            tls_handshake_failures: counter(r, "gateway_tls_handshake_failures_total", "TLS handshakes on the API listener that failed, by reason (no_client_certificate, bad_client_certificate, client_alert, not_tls, protocol, timeout, closed).", &["reason"])?,
            // A series only while TLS is on, so an expiry alert cannot fire on a plain listener.
            tls_certificate_expiry: Family::new(reg(r, IntGaugeVec::new(Opts::new("gateway_tls_certificate_expiry_timestamp_seconds", "Unix time at which the certificate the listener serves expires (its notAfter), by listener."), &["listener"])?)?),
            tls_reloads: counter(r, "gateway_tls_reloads_total", "Reloads of the listener's TLS certificate, key and client CA files, by result (ok, failed).", &["result"])?,
        })
    }
}
