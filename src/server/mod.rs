//! Accept loops for the API and admin listeners, each connection's watchdog,
//! and graceful draining.

pub mod admin;
pub(crate) mod admin_config;
mod body;
pub mod config;
mod io;
mod metrics;
mod registry;
mod state;
mod tls;
mod watchdog;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use self::config::ServerSettings;
use crate::body::GatewayBody;
use crate::outcome::{Cause, ConnEnd};
use futures_util::FutureExt as _;

use body::ConnBody;
use io::{ConnIo, MeteredIo};
pub use metrics::{Listener, ServerMetrics};
pub use registry::Closed;
use registry::Registry;
use state::{Busy, ConnState};
pub use tls::{Tls, TlsFiles};
use watchdog::{Limits, Verdict, Watchdog};

/// The admin listener's own cap: small, and separate from the API listener's,
/// so `/metrics` and `/readyz` stay reachable when the API is saturated.
pub const ADMIN_MAX_CONNECTIONS: usize = 64;

/// How connections are served: hyper's protocol limits, plus the watchdog's.
pub struct ConnBuilder {
    hyper: Builder<TokioExecutor>,
    /// hyper's own `header_read_timeout` only starts once it has chosen
    /// HTTP/1.1, and HTTP/2 has none: a client that sends nothing, or part of
    /// the HTTP/2 preface, would otherwise hold its connection forever. And
    /// hyper has no idle timeout for HTTP/2 nor any write timeout.
    limits: Limits,
}

/// Protocol limits, configured on hyper itself so abuse is refused before a
/// request reaches the gateway's code.
/// `max_header_bytes` is the request pipeline's bound on a head (`server.max_header_bytes`,
/// the admit phase's), handed across: hyper's buffers are sized from it.
pub fn builder(s: &ServerSettings, max_header_bytes: usize) -> ConnBuilder {
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        // Also bounds an idle keep-alive connection: hyper starts this timer
        // as soon as it waits for the next request head.
        .header_read_timeout(s.header_read_timeout)
        // hyper refuses heads past this buffer with a bare 431; the gateway's
        // own check (with the envelope) runs at `max_header_bytes`, so leave
        // room for it to be the one that answers in ordinary cases.
        .max_buf_size((max_header_bytes * 4).max(8192 + 1))
        .max_headers(s.max_headers);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(s.http2_max_concurrent_streams)
        .max_pending_accept_reset_streams(s.http2_max_pending_accept_reset_streams)
        .max_header_list_size((max_header_bytes * 4) as u32)
        .keep_alive_interval(Duration::from_secs(30));
    ConnBuilder {
        hyper: b,
        limits: Limits {
            idle_timeout: s.idle_timeout,
            write_timeout: s.response_write_timeout,
            first_request_timeout: s.header_read_timeout,
        },
    }
}

/// Which listener this is, for its cap and its metrics.
pub struct Listening {
    pub listener: Listener,
    pub max_connections: usize,
    pub metrics: ServerMetrics,
    /// TLS on this listener; None: plain HTTP.
    pub tls: Option<Arc<Tls>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish in-flight requests, then close (GOAWAY on h2).
    Draining,
    /// The drain timeout passed: close now.
    Stop,
}

/// Serves connections until `shutdown` resolves, then stops accepting and
/// gives open connections `drain` to finish their in-flight requests.
///
/// The handler gets each request with its peer and its connection's
/// [`ConnEnd`], which says, once a request is dropped, why the connection went.
pub async fn serve<H, F>(
    listener: TcpListener,
    builder: ConnBuilder,
    handler: H,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
    listening: Listening,
) where
    H: Fn(Request<Incoming>, SocketAddr, ConnEnd) -> F + Send + Sync + 'static,
    F: Future<Output = Response<GatewayBody>> + Send + 'static,
{
    let name = listening.listener.as_str();
    let registry = Registry::new(
        listening.max_connections,
        listening.listener,
        &listening.metrics,
    );
    let handler = Arc::new(handler);
    let tls = listening.tls;
    let limits = builder.limits;
    let hyper = Arc::new(builder.hyper);
    let (phase_tx, _) = watch::channel(Phase::Serving);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(listener = name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let state = Arc::new(ConnState::default());
                let Some(admitted) = registry.admit(state.clone()) else {
                    // Closing at once costs nothing and works for either protocol;
                    // an answer would need buffers the cap exists to bound.
                    tracing::debug!(listener = name, "connection cap reached; refusing");
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let h = handler.clone();
                let hyper = hyper.clone();
                let tls = tls.clone();
                let phase = phase_tx.subscribe();
                let registry = registry.clone();
                tokio::spawn(async move {
                    let socket = MeteredIo::new(stream, state.clone());
                    let accepted = match &tls {
                        None => Ok((ConnIo::Plain(socket), None, None)),
                        Some(tls) => tls
                            .accept(socket, peer, &state, limits.first_request_timeout)
                            .await
                            .map(|(s, cert, v)| (ConnIo::Tls(Box::new(s)), cert, Some(v))),
                    };
                    let reason = match accepted {
                        Err(reason) => reason,
                        Ok((io, certificate, version)) => {
                            let per_request = state.clone();
                            let svc = service_fn(move |mut req: Request<Incoming>| {
                                let busy = Busy::enter(&per_request);
                                if let Some(c) = &certificate {
                                    req.extensions_mut().insert(Arc::clone(c));
                                }
                                if let Some(v) = version {
                                    req.extensions_mut().insert(v);
                                }
                                let fut = h(req, peer, per_request.end.clone());
                                // `map`, not `async move { fut.await }`: an async block moves
                                // the future it captured into its await slot at the first
                                // poll, one more copy of the whole request future (kilobytes)
                                // for every request, cache hits included.
                                fut.map(move |resp| Ok::<_, Infallible>(resp.map(|b| ConnBody::new(b, busy))))
                            });
                            let conn = hyper.serve_connection(TokioIo::new(io), svc).into_owned();
                            supervise(conn, &state, limits, phase, name).await
                        }
                    };
                    // Closed before counted: a scrape that sees the count sees the gauge down.
                    drop(admitted);
                    registry.closed(reason);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = phase_tx.send(Phase::Draining);
    tracing::info!(listener = name, connections = registry.count(), "draining");
    tokio::select! {
        () = registry.drained() => tracing::info!(listener = name, "drained"),
        () = tokio::time::sleep(drain) => {
            tracing::warn!(listener = name, "drain timeout reached; closing remaining connections");
            let _ = phase_tx.send(Phase::Stop);
        }
    }
}

/// Runs one connection under its watchdog; returns why it ended. Dropping
/// the connection closes the socket and drops any response body in flight
/// (and with it the upstream slot a streamed body holds).
async fn supervise<C>(
    conn: C,
    state: &ConnState,
    limits: Limits,
    mut phase: watch::Receiver<Phase>,
    name: &'static str,
) -> Closed
where
    C: GracefulConnection<Error = Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::pin!(conn);
    let tick = limits.tick();
    let mut ticker = tokio::time::interval_at(Instant::now() + tick, tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut dog = Watchdog::new(limits);
    let mut last = Instant::now();
    // Why the connection was asked to close, and when it must be gone by.
    let mut closing: Option<(Closed, Option<Instant>)> = None;
    let reason = loop {
        tokio::select! {
            ended = conn.as_mut() => {
                break match (closing, ended) {
                    (Some((reason, _)), _) => reason,
                    (None, Ok(())) => Closed::ByClient,
                    (None, Err(e)) => {
                        tracing::debug!(listener = name, error = %e, "connection ended with an error");
                        classify(&*e)
                    }
                };
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                let verdict = dog.observe(state.sample(), now - last);
                last = now;
                match verdict {
                    Verdict::WriteStall => {
                        tracing::debug!(listener = name, "response stalled on the client; closing");
                        break Closed::WriteStall;
                    }
                    Verdict::NoFirstRequest => {
                        tracing::debug!(listener = name, "no request head within header_read_timeout; closing");
                        break Closed::HeaderTimeout;
                    }
                    Verdict::Idle if closing.is_none() => {
                        conn.as_mut().graceful_shutdown();
                        closing = Some((Closed::Idle, Some(now + limits.write_timeout)));
                    }
                    _ => {}
                }
                // A graceful close the client does not complete is finished by force.
                if let Some((reason, Some(by))) = closing {
                    if now >= by {
                        break reason;
                    }
                }
            }
            () = state.evicted(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some((Closed::Evicted, Some(Instant::now() + limits.write_timeout)));
            }
            changed = phase.changed() => {
                let now = if changed.is_ok() { *phase.borrow_and_update() } else { Phase::Stop };
                match now {
                    Phase::Stop => break Closed::Drained,
                    Phase::Draining if closing.is_none() => {
                        conn.as_mut().graceful_shutdown();
                        closing = Some((Closed::Drained, None));
                    }
                    _ => {}
                }
            }
        }
    };
    // Before `conn` is dropped (and with it every request still on it), so
    // those requests are told why.
    state.end.set(cause_of(reason));
    reason
}

/// What a request still running on a connection that ended this way is told.
fn cause_of(reason: Closed) -> Cause {
    match reason {
        Closed::WriteStall | Closed::Idle | Closed::Evicted => Cause::WriteTimeout,
        Closed::Drained => Cause::DrainDeadline,
        Closed::ByClient
        | Closed::Error
        | Closed::HeaderTimeout
        | Closed::RefusedCap
        | Closed::TlsHandshake => Cause::ClientClosed,
    }
}

fn classify(e: &(dyn std::error::Error + 'static)) -> Closed {
    match e.downcast_ref::<hyper::Error>() {
        Some(h) if h.is_timeout() => Closed::HeaderTimeout,
        _ => Closed::Error,
    }
}
