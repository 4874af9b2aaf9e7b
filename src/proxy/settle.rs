//! A request is finished exactly once, whatever ends it.
//!
//! [`Settle`] is made when a request arrives (the in-flight gauge goes up)
//! and records the request when it is dropped — `gateway_requests_total`, the
//! duration, the access line, the span, and the in-flight gauge back down —
//! so a request hyper drops (the client hung up, reset its stream, the
//! watchdog or the drain deadline closed the connection) is counted like
//! one that was answered. Once the response head is ready it rides in the
//! response body ([`GatewayBody::watched`]), so it also sees whether the
//! body was sent whole.
//!
//! How a request can end, and what is recorded:
//!
//! - answered: the head was handed to hyper and the body ended whole —
//!   its status, as always;
//! - abandoned by the client before the head (`client_closed`, or
//!   `stream_reset` on HTTP/2): status 499;
//! - cut off by the gateway before the head (`write_timeout`,
//!   `drain_deadline`): status 503, never blamed on the client;
//! - ended while the body was being sent (any of those reasons, or
//!   `body_error` when the body broke off): the status that was sent — the
//!   client has it — with the reason, and the bytes actually handed over;
//! - dropped while a panic in the gateway's code unwinds (`panicked`):
//!   status 500 before the head, never blamed on the client.
//!
//! Every one but the first is also counted in
//! `gateway_requests_abandoned_total{reason, phase}`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;

use super::context::RequestContext;
use super::Proxy;
use crate::body::{BodyEnd, Watch};
use crate::logging::access_log::AccessRecord;
use crate::outcome::{Cause, ConnEnd, Phase};

/// The response head, once handed over.
#[derive(Clone, Copy)]
struct Head {
    status: StatusCode,
    /// From the request head to the response head.
    elapsed: Duration,
}

pub(super) struct Settle {
    proxy: Arc<Proxy>,
    pub ctx: RequestContext,
    conn: ConnEnd,
    h2: bool,
    head: Option<Head>,
    /// Body bytes handed to the connection.
    sent: u64,
    /// None until the body is dropped; then how it ended.
    body: Option<BodyEnd>,
}

impl Settle {
    /// The request is in flight from here until this is dropped.
    pub fn begin(proxy: Arc<Proxy>, ctx: RequestContext, conn: ConnEnd, h2: bool) -> Settle {
        proxy.metrics.inflight.inc();
        Settle {
            proxy,
            ctx,
            conn,
            h2,
            head: None,
            sent: 0,
            body: None,
        }
    }

    /// The response head with `status` is being handed to the connection.
    pub fn answered(&mut self, status: StatusCode) {
        self.head = Some(Head {
            status,
            elapsed: self.ctx.started.elapsed(),
        });
    }

    /// How the request ended: None when answered whole.
    fn outcome(&self) -> Option<(Cause, Phase)> {
        match (self.head, self.body) {
            (Some(_), Some(BodyEnd::Whole)) => None,
            (Some(_), Some(BodyEnd::Broken)) => Some((Cause::BodyError, Phase::Body)),
            // Dropped unfinished, or (never so in practice) dropped without its body.
            (Some(_), Some(BodyEnd::Dropped) | None) => {
                Some((self.conn.cause_for(self.h2), Phase::Body))
            }
            (None, _) => Some((self.conn.cause_for(self.h2), Phase::Waiting)),
        }
    }
}

impl Watch for Settle {
    fn finished(&mut self, sent: u64, end: BodyEnd) {
        self.sent = sent;
        self.body = Some(end);
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        let ended = self.outcome();
        let (status, elapsed) = match self.head {
            Some(h) => (h.status, h.elapsed),
            // No answer: the time it waited for one.
            None => (
                ended.map_or(StatusCode::OK, |(c, _)| c.status()),
                self.ctx.started.elapsed(),
            ),
        };
        let proxy = &*self.proxy;
        let ctx = &self.ctx;
        ctx.requests
            .get(
                &proxy.metrics.requests,
                &ctx.client,
                ctx.route,
                &ctx.method,
                status,
                ctx.cache,
            )
            .inc();
        proxy.route_durations[ctx.route.index()].observe(elapsed.as_secs_f64());
        if let Some((cause, phase)) = ended {
            proxy
                .metrics
                .requests_abandoned
                .with_label_values(&[cause.label(), phase.label()])
                .inc();
        }
        if proxy.access_log.is_on() {
            proxy.access_log.write(&AccessRecord {
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
                bytes_out: self.head.map(|_| self.sent),
                peer: ctx.peer.ip(),
                ended: ended.map(|(c, _)| c.label()),
                idempotency: ctx.idempotency,
            });
        }
        ctx.close_span(status, ended.map(|(c, _)| c));
        // Last, so whoever waits for the gauge to reach 0 (the drain) finds
        // everything above already written.
        proxy.metrics.inflight.dec();
        // Only once someone waits (the drain): no lock on every request.
        if proxy.settling.load(Ordering::SeqCst) && proxy.metrics.inflight.get() <= 0 {
            proxy.settled.notify_waiters();
        }
    }
}

impl Proxy {
    /// Waits, at most `within`, until no request is in flight (each one
    /// recorded): after the drain, so the last lines reach the access log.
    pub async fn settled(&self, within: Duration) {
        let deadline = Instant::now() + within;
        self.settling.store(true, Ordering::SeqCst);
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.metrics.inflight.get() <= 0 {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return;
            }
        }
    }
}
