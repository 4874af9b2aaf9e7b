//! The listener: HTTP/1.1 and HTTP/2 (prior knowledge or ALPN over TLS) on one port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::config::SandboxConfig;
use super::handler;
use super::state::SandboxState;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// In-flight requests get this long to finish on `shutdown()`; silent ones are then cut.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Back-off after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running sandbox. Dropping it stops the server at once; [`Sandbox::shutdown`] drains first.
pub struct Sandbox {
    addr: SocketAddr,
    tls: bool,
    state: Arc<SandboxState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Serves on `listener` (bind it to port 0 for tests) until dropped or shut down.
    pub async fn start(listener: TcpListener, cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        let state = Arc::new(SandboxState::new(&cfg.token, &cfg.signature_key));
        let acceptor = cfg.tls.map(|tls| {
            let mut tls = (*tls).clone();
            if tls.alpn_protocols.is_empty() {
                tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            }
            TlsAcceptor::from(Arc::new(tls))
        });
        let tls = acceptor.is_some();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), stopped));
        Ok(Sandbox {
            addr,
            tls,
            state,
            stop,
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS (certificates name hosts).
    pub fn base_url(&self) -> String {
        let port = self.addr.port();
        if self.tls {
            return format!("https://localhost:{port}");
        }
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, port))
    }

    pub fn state(&self) -> Arc<SandboxState> {
        self.state.clone()
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s), then closes everything.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            // Aborting the accept task drops its JoinSet, which aborts every connection.
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    state: Arc<SandboxState>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let watcher = graceful.watcher();
                    let state = state.clone();
                    match acceptor.clone() {
                        None => {
                            connections.spawn(serve(stream, state, watcher));
                        }
                        Some(acceptor) => {
                            connections.spawn(async move {
                                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                    Ok(Ok(tls)) => serve(tls, state, watcher).await,
                                    Ok(Err(err)) => tracing::debug!(error = %err, "sandbox TLS handshake failed"),
                                    Err(_) => tracing::debug!("sandbox TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "sandbox accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    connections.shutdown().await;
}

async fn serve<S>(
    stream: S,
    state: Arc<SandboxState>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let service = service_fn(move |request| handler::handle(state.clone(), request));
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(err) = watcher.watch(connection).await {
        // Deliberate resets land here too; it is routine for a fault injector.
        tracing::debug!(error = %err, "sandbox connection ended with an error");
    }
}
