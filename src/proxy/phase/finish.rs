//! Finish: what is recorded about every request, once, however it ended —
//! `gateway_requests_total`, the duration, `gateway_requests_abandoned_total`,
//! the access line, the span, and the in-flight gauge back down. It runs from
//! the request's `Settle` guard when that is dropped (`settle.rs`), never as
//! a call on the answered path, so a request hyper drops unfinished is
//! recorded like one that was answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use prometheus::{Histogram, IntCounterVec, IntGauge};

use crate::metrics::Family;

use super::super::context::RequestContext;
use crate::logging::access_log::{AccessLog, AccessRecord, Flag};
use crate::outcome::{Cause, Phase};
use crate::proxy::RequestMetrics;
use crate::route::RouteLabel;

/// How a request ended, as the finish phase records it.
pub(in crate::proxy) struct Ending {
    /// The status sent, or the one a request without an answer counts as.
    pub status: StatusCode,
    /// To the response head, or until the request ended without one.
    pub elapsed: Duration,
    /// Why it ended without its whole answer; None when answered whole.
    pub ended: Option<(Cause, Phase)>,
    /// Body bytes handed over; None when no head was.
    pub bytes_out: Option<u64>,
    /// The request came over HTTP/2.
    pub h2: bool,
}

/// Everything the finish phase writes to, and nothing else.
pub(in crate::proxy) struct Finisher {
    requests: Family<IntCounterVec, 5>,
    /// Per-route histogram handles, indexed by `RouteLabel::index`.
    route_durations: Vec<Histogram>,
    abandoned: Family<IntCounterVec, 2>,
    inflight: IntGauge,
    access_log: AccessLog,
    /// Woken when the in-flight gauge reaches 0, once `settling`.
    settled: tokio::sync::Notify,
    settling: AtomicBool,
}

impl Finisher {
    pub(in crate::proxy) fn new(metrics: &RequestMetrics, access_log: AccessLog) -> Finisher {
        Finisher {
            requests: metrics.requests.clone(),
            route_durations: RouteLabel::ALL
                .iter()
                .map(|r| metrics.duration.with([r]))
                .collect(),
            abandoned: metrics.abandoned.clone(),
            inflight: metrics.inflight.clone(),
            access_log,
            settled: tokio::sync::Notify::new(),
            settling: AtomicBool::new(false),
        }
    }

    /// The request is in flight from here until [`Finisher::finish`].
    pub(in crate::proxy) fn admitted(&self) {
        self.inflight.inc();
    }

    /// Records the request (see the module doc); called once, from `Settle`'s drop.
    pub(in crate::proxy) fn finish(&self, ctx: &RequestContext, end: &Ending) {
        let Ending {
            status, elapsed, ..
        } = *end;
        ctx.requests
            .get(
                &self.requests,
                &ctx.client,
                ctx.route,
                &ctx.method,
                status,
                ctx.cache,
            )
            .inc();
        self.route_durations[ctx.route.index()].observe(elapsed.as_secs_f64());
        if let Some((cause, phase)) = end.ended {
            self.abandoned.with([&cause, &phase]).inc();
        }
        if self.access_log.is_on() {
            self.access_log.write(&AccessRecord {
                request_id: ctx.request_id.to_str().unwrap_or(""),
                trace_id: ctx.trace_id.as_ref(),
                method: &ctx.method,
                route: ctx.route.name(),
                status: status.as_u16(),
                cache: ctx.cache_label(),
                client: &ctx.client,
                upstream: ctx.upstream,
                duration: elapsed,
                bytes_in: ctx.bytes_in,
                bytes_out: end.bytes_out,
                peer: ctx.peer.ip(),
                client_ip: ctx.client_ip,
                proto: if end.h2 { "h2" } else { "h1" },
                tls: ctx.tls,
                flags: ctx.flags.with(end.ended.map(|(c, _)| Flag::of_cause(c))),
                ended: end.ended.map(|(c, _)| c.label()),
                idempotency: ctx.idempotency,
            });
        }
        ctx.close_span(status, end.ended.map(|(c, _)| c));
        // Last, so whoever waits for the gauge to reach 0 (the drain) finds
        // everything above already written.
        self.inflight.dec();
        // Only once someone waits (the drain): no lock on every request.
        if self.settling.load(Ordering::SeqCst) && self.inflight.get() <= 0 {
            self.settled.notify_waiters();
        }
    }

    /// Waits, at most `within`, until no request is in flight (each one
    /// recorded): after the drain, so the last lines reach the access log.
    pub(in crate::proxy) async fn settled(&self, within: Duration) {
        let deadline = Instant::now() + within;
        self.settling.store(true, Ordering::SeqCst);
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inflight.get() <= 0 {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return;
            }
        }
    }

    pub(in crate::proxy) fn access_log(&self) -> &AccessLog {
        &self.access_log
    }

    pub(in crate::proxy) fn close_access_log(&self, timeout: Duration) {
        self.access_log.close(timeout);
    }
}
