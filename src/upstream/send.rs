//! Sending a prepared request: the concurrency cap, the circuit breakers,
//! retries within the budget, and the total deadline.

use super::{CircuitScope, UpstreamOutcome};
use crate::route::RouteLabel;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::time::Instant;

use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;

use super::breaker::{Admit, State};
use super::{retry, Outgoing, Upstream};
use crate::error::GatewayError;
use crate::telemetry::{Span, Trace};

impl Upstream {
    /// Sends `out` upstream through the circuit breakers (the shared one and
    /// `client`'s own, see `upstream::breaker`); idempotent reads are retried on
    /// connect errors and 502/503 within the retry budget and the deadline.
    /// Writes go exactly once. A 401 comes back as
    /// `UpstreamCredentialsRejected` (see `upstream::rejected`), after the
    /// breakers counted it as an answer: paycombat is up, and an open circuit
    /// would hide the credential alarm behind `UPSTREAM_CIRCUIT_OPEN`.
    ///
    /// Traced as an `upstream` span under `parent`, with one `upstream attempt`
    /// child per try; each attempt carries its own span as `traceparent`.
    pub async fn send(
        &self,
        out: &Outgoing,
        route: RouteLabel,
        client: &str,
        deadline: Instant,
        parent: &Trace,
    ) -> Result<Response<Incoming>, GatewayError> {
        let span = parent.child("upstream", SpanKind::Internal, || {
            vec![KeyValue::new("http.route", route.name())]
        });
        let result = self
            .send_retrying(out, route, client, deadline, &span)
            .await
            .and_then(
                |resp| match self.refused_credentials(resp.status(), out, route) {
                    Some(e) => Err(e),
                    None => Ok(resp),
                },
            );
        match &result {
            Ok(resp) => span.set(|| {
                vec![KeyValue::new(
                    "http.response.status_code",
                    i64::from(resp.status().as_u16()),
                )]
            }),
            Err(e) => {
                span.set(|| vec![KeyValue::new("error.type", e.code())]);
                span.fail(e.code());
            }
        }
        result
    }

    async fn send_retrying(
        &self,
        out: &Outgoing,
        route: RouteLabel,
        client: &str,
        deadline: Instant,
        span: &Span,
    ) -> Result<Response<Incoming>, GatewayError> {
        let idempotent = matches!(out.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if idempotent {
            self.retry_budget.deposit();
        }
        let policy = &self.settings.retry;
        let own = self.breakers.client(client);
        let mut attempt = 0;
        loop {
            let now = self.clock.now();
            // Dropped unrecorded (refused by the other circuit, or the client went away
            // mid-call): a probe slot taken here is freed.
            let admitted = match self.breakers.shared().admit(now) {
                Admit::Yes { probe } => match own.admit(now) {
                    Admit::Yes { probe: own_probe } => Ok((
                        self.breakers.shared().track(probe),
                        own.track(own_probe),
                        probe || own_probe,
                    )),
                    Admit::No(retry_after) => Err(retry_after),
                },
                Admit::No(retry_after) => Err(retry_after),
            };
            let (shared, mine) = match admitted {
                Ok((shared, mine, probing)) => {
                    if probing {
                        self.publish_circuits();
                    }
                    (shared, mine)
                }
                Err(retry_after) => {
                    self.metrics
                        .upstream_requests
                        .with([&route, &UpstreamOutcome::CircuitOpen])
                        .inc();
                    return Err(GatewayError::CircuitOpen { retry_after });
                }
            };
            let result = self
                .send_once(out, route, deadline, span.trace(), attempt)
                .await;
            let now = self.clock.now();
            match &result {
                // Transport: the upstream itself; says nothing about this client's requests.
                Err(_) => {
                    shared.record(false, now);
                    drop(mine);
                }
                // An answer: the upstream is up; a 5xx is held against this client only.
                Ok(r) => {
                    shared.record(true, now);
                    mine.record(!r.status().is_server_error(), now);
                }
            }
            self.publish_circuits();
            let retryable = match &result {
                Ok(r) => matches!(
                    r.status(),
                    StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE
                ),
                Err(e) => matches!(e, GatewayError::UpstreamConnect),
            };
            // Tries made, on the `upstream` span (set once: attributes append).
            let tries = || {
                vec![KeyValue::new(
                    "gateway.upstream.attempts",
                    i64::from(attempt) + 1,
                )]
            };
            if !(idempotent && retryable && attempt < policy.max_retries) {
                span.set(tries);
                return result;
            }
            let wait = retry::backoff(policy.backoff, attempt);
            // Only retry if the wait and a fair attempt still fit the deadline.
            if Instant::now() + wait + Duration::from_millis(10) >= deadline
                || !self.retry_budget.withdraw(self.clock.now())
            {
                span.set(tries);
                return result;
            }
            drop(result);
            attempt += 1;
            self.metrics.upstream_retries.with([&route]).inc();
            tokio::time::sleep(wait).await;
        }
    }

    /// Shows every circuit's state on the gauges.
    fn publish_circuits(&self) {
        let s = self.breakers.summary();
        self.metrics.circuit_state.set(s.worst.gauge());
        let open = &self.metrics.circuits_open;
        open.with([&CircuitScope::Upstream])
            .set(i64::from(s.shared != State::Closed));
        open.with([&CircuitScope::Client])
            .set(i64::try_from(s.clients_not_closed).unwrap_or(i64::MAX));
    }

    /// Sends once; maps failures to typed errors and counts the outcome.
    /// `attempt` counts from 0 (the first try).
    async fn send_once(
        &self,
        out: &Outgoing,
        route: RouteLabel,
        deadline: Instant,
        parent: &Trace,
        attempt: u32,
    ) -> Result<Response<Incoming>, GatewayError> {
        let span = parent.child("upstream attempt", SpanKind::Client, || {
            let mut a = vec![
                KeyValue::new(
                    "http.request.method",
                    crate::metrics::method_label(&out.method),
                ),
                KeyValue::new("http.route", route.name()),
                KeyValue::new("gateway.upstream.attempt", i64::from(attempt) + 1),
            ];
            if attempt > 0 {
                a.push(KeyValue::new(
                    "http.request.resend_count",
                    i64::from(attempt),
                ));
            }
            a
        });
        let mut req = Request::new(Full::new(out.body.clone()));
        *req.method_mut() = out.method.clone();
        *req.uri_mut() = out.uri.clone();
        *req.headers_mut() = out.headers.clone();
        span.trace().inject(req.headers_mut());
        let started = std::time::Instant::now();
        let result = tokio::time::timeout_at(deadline, self.client.request(req)).await;
        self.metrics
            .upstream_duration
            .with([&route])
            .observe(started.elapsed().as_secs_f64());
        let (outcome, result) = match result {
            Err(_) => (UpstreamOutcome::Timeout, Err(GatewayError::UpstreamTimeout)),
            Ok(Err(e)) if e.is_connect() => {
                tracing::warn!(route = route.name(), error = %e, "upstream connect failed");
                (
                    UpstreamOutcome::ConnectError,
                    Err(GatewayError::UpstreamConnect),
                )
            }
            Ok(Err(e)) => {
                tracing::warn!(route = route.name(), error = %e, "upstream request failed");
                (UpstreamOutcome::Error, Err(GatewayError::UpstreamProtocol))
            }
            // A final answer is 2xx–5xx. A 101 the gateway never asked for, a 1xx as
            // a final answer or a status past 599 is no answer of paycombat's API:
            // relayed, it would tell the client of a protocol it never negotiated. A
            // broken exchange (502; for a keyed write the outcome is unknown: sent).
            Ok(Ok(resp)) if !(200..=599).contains(&resp.status().as_u16()) => {
                tracing::warn!(
                    route = route.name(),
                    status = resp.status().as_u16(),
                    "upstream answered with a status that is no final HTTP answer"
                );
                (UpstreamOutcome::Error, Err(GatewayError::UpstreamProtocol))
            }
            Ok(Ok(resp)) => {
                let s = resp.status();
                let outcome = if s.is_server_error() {
                    UpstreamOutcome::Http5xx
                } else if s.is_client_error() {
                    UpstreamOutcome::Http4xx
                } else {
                    UpstreamOutcome::Ok
                };
                (outcome, Ok(resp))
            }
        };
        self.metrics
            .upstream_requests
            .with([&route, &outcome])
            .inc();
        match &result {
            Ok(resp) => span.set(|| {
                vec![KeyValue::new(
                    "http.response.status_code",
                    i64::from(resp.status().as_u16()),
                )]
            }),
            Err(_) => span.set(|| vec![KeyValue::new("error.type", outcome.as_str())]),
        }
        if !matches!(outcome, UpstreamOutcome::Ok | UpstreamOutcome::Http4xx) {
            span.fail(outcome.as_str());
        }
        result
    }
}
