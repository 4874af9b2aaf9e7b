//! Accept loops for the API and admin listeners, and graceful draining.

pub mod admin;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::body::GatewayBody;
use crate::config::ServerSettings;

/// How connections are served: hyper's protocol limits, plus the deadline for a
/// connection's first complete request head.
pub struct ConnBuilder {
    hyper: Builder<TokioExecutor>,
    /// hyper's own `header_read_timeout` only starts once it has chosen
    /// HTTP/1.1, and HTTP/2 has none: a client that sends nothing, or part of
    /// the HTTP/2 preface, would otherwise hold its connection forever.
    first_request_timeout: Duration,
}

/// Protocol limits, configured on hyper itself so abuse is refused before a
/// request reaches the gateway's code.
pub fn builder(s: &ServerSettings) -> ConnBuilder {
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(s.header_read_timeout)
        // hyper refuses heads past this buffer with a bare 431; the gateway's
        // own check (with the envelope) runs at `max_header_bytes`, so leave
        // room for it to be the one that answers in ordinary cases.
        .max_buf_size((s.max_header_bytes * 4).max(8192 + 1))
        .max_headers(s.max_headers);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(s.http2_max_concurrent_streams)
        .max_pending_accept_reset_streams(s.http2_max_pending_accept_reset_streams)
        .max_header_list_size((s.max_header_bytes * 4) as u32)
        .keep_alive_interval(Duration::from_secs(30));
    ConnBuilder {
        hyper: b,
        first_request_timeout: s.header_read_timeout,
    }
}

/// Serves connections until `shutdown` resolves, then stops accepting and
/// gives open connections `drain` to finish their in-flight requests.
pub async fn serve<H, F>(
    listener: TcpListener,
    builder: ConnBuilder,
    handler: H,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
    name: &'static str,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<GatewayBody>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let graceful = GracefulShutdown::new();
    let first_request_timeout = builder.first_request_timeout;
    let builder = Arc::new(builder.hyper);
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
                let _ = stream.set_nodelay(true);
                let h = handler.clone();
                let served = Arc::new(AtomicBool::new(false));
                let first = served.clone();
                let svc = service_fn(move |req| {
                    first.store(true, Ordering::Relaxed);
                    let fut = h(req, peer);
                    async move { Ok::<_, Infallible>(fut.await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    tokio::pin!(conn);
                    let ended = tokio::select! {
                        ended = &mut conn => ended,
                        () = tokio::time::sleep(first_request_timeout) => {
                            if !served.load(Ordering::Relaxed) {
                                // Dropping the connection closes the socket.
                                tracing::debug!(listener = name, "no request head within header_read_timeout; closing");
                                return;
                            }
                            conn.await
                        }
                    };
                    if let Err(e) = ended {
                        tracing::debug!(listener = name, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(listener = name, connections = graceful.count(), "draining");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!(listener = name, "drained"),
        () = tokio::time::sleep(drain) => {
            tracing::warn!(listener = name, "drain timeout reached; closing remaining connections");
        }
    }
}
