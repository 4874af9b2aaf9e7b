//! TLS on the API listener: the handshake of each accepted connection, with
//! the `ServerConfig` in force at that moment, and what it tells the request
//! path (the client certificate's names).
//!
//! The handshake runs in the connection's own task, after the connection cap
//! admitted it, bounded by `server.header_read_timeout` (a client that opens a
//! connection and never finishes the handshake is a slowloris like any other)
//! and given up at once when the connection is shed at the cap.

mod files;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::IntCounter;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::io::MeteredIo;
use super::registry::Closed;
use super::state::ConnState;
use super::ServerMetrics;
use crate::auth::ClientCertificate;
use crate::reload::ReloadableFile;

pub use files::TlsFiles;

/// Why a handshake failed: a closed set, the `reason` label of
/// `gateway_tls_handshake_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `client_auth = "required"` and the client sent no certificate.
    NoClientCertificate,
    /// The client's certificate does not chain to the client CA, has expired,
    /// or is otherwise invalid.
    BadClientCertificate,
    /// The client aborted with an alert: most often it does not trust the
    /// gateway's certificate.
    ClientAlert,
    /// Not TLS at all: typically plain HTTP sent to the TLS port.
    NotTls,
    /// No common protocol version or cipher suite, or a malformed handshake.
    Protocol,
    /// Not finished within `server.header_read_timeout`.
    Timeout,
    /// The client closed or reset the connection during the handshake.
    Closed,
}

impl Failure {
    pub const ALL: [Failure; 7] = [
        Failure::NoClientCertificate,
        Failure::BadClientCertificate,
        Failure::ClientAlert,
        Failure::NotTls,
        Failure::Protocol,
        Failure::Timeout,
        Failure::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Failure::NoClientCertificate => "no_client_certificate",
            Failure::BadClientCertificate => "bad_client_certificate",
            Failure::ClientAlert => "client_alert",
            Failure::NotTls => "not_tls",
            Failure::Protocol => "protocol",
            Failure::Timeout => "timeout",
            Failure::Closed => "closed",
        }
    }

    /// What the handshake's I/O error says went wrong.
    fn of(e: &std::io::Error) -> Failure {
        use rustls::Error as E;
        let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return Failure::Closed;
        };
        match tls {
            E::NoCertificatesPresented => Failure::NoClientCertificate,
            E::InvalidCertificate(_) => Failure::BadClientCertificate,
            E::AlertReceived(_) => Failure::ClientAlert,
            E::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => Failure::NotTls,
            _ => Failure::Protocol,
        }
    }
}

use crate::http::TlsVersion;

fn tls_version(v: Option<rustls::ProtocolVersion>) -> TlsVersion {
    TlsVersion(match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "1.2",
        // rustls speaks no other; a closed set all the same.
        _ => "other",
    })
}

/// At most one WARN line per failure reason this often: a client that keeps
/// failing (a service whose certificate expired, a port scanner) must show in
/// the log within seconds and must not flood it.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Per reason: when its last WARN line was written, and how many failures
/// were left out since.
#[derive(Default)]
struct Warned(Mutex<[(Option<Instant>, u64); Failure::ALL.len()]>);

impl Warned {
    /// `Some(left out since the last line)` when a line may be written now.
    fn allow(&self, f: Failure, now: Instant) -> Option<u64> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (last, suppressed) = &mut all[f as usize];
        match last {
            Some(at) if now.duration_since(*at) < WARN_EVERY => {
                *suppressed += 1;
                None
            }
            _ => {
                *last = Some(now);
                Some(std::mem::take(suppressed))
            }
        }
    }
}

/// The listener's TLS: the files in force and the failure counters.
pub struct Tls {
    files: Arc<ReloadableFile<TlsFiles>>,
    failures: [IntCounter; Failure::ALL.len()],
    warned: Warned,
}

impl Tls {
    pub fn new(files: Arc<ReloadableFile<TlsFiles>>, metrics: &ServerMetrics) -> Tls {
        // Every reason exists from the start, so `increase()` sees the first one.
        let failures = Failure::ALL.map(|f| metrics.tls_handshake_failures.with([&f]));
        Tls {
            files,
            failures,
            warned: Warned::default(),
        }
    }

    /// Runs the server side of the handshake on `io` with the configuration
    /// in force now. On success: the stream, and the client certificate's
    /// names when the client sent one (rustls has verified it by then).
    pub async fn accept(
        &self,
        io: MeteredIo,
        peer: SocketAddr,
        state: &ConnState,
        timeout: Duration,
    ) -> Result<
        (
            TlsStream<MeteredIo>,
            Option<Arc<ClientCertificate>>,
            TlsVersion,
        ),
        Closed,
    > {
        let acceptor = TlsAcceptor::from(Arc::clone(&self.files.guard().config));
        let handshake = tokio::time::timeout(timeout, acceptor.accept(io));
        let done = tokio::select! {
            done = handshake => done,
            () = state.evicted() => return Err(Closed::Evicted),
        };
        let failure = match done {
            Ok(Ok(stream)) => {
                let certificate = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(<[_]>::first)
                    .map(|leaf| Arc::new(ClientCertificate::from_der(leaf)));
                let version = tls_version(stream.get_ref().1.protocol_version());
                return Ok((stream, certificate, version));
            }
            Ok(Err(e)) => {
                let f = Failure::of(&e);
                tracing::debug!(reason = f.label(), error = %e, "TLS handshake failed");
                f
            }
            Err(_) => Failure::Timeout,
        };
        self.failures[failure as usize].inc();
        // The peer's address and the reason only: never a certificate's names
        // (they could name a person) nor the handshake's bytes.
        if let Some(suppressed) = self.warned.allow(failure, Instant::now()) {
            tracing::warn!(
                peer = %peer.ip(),
                reason = failure.label(),
                suppressed,
                "TLS handshake failed (gateway_tls_handshake_failures_total counts every one; at most one line per reason every 10 s)"
            );
        }
        Err(match failure {
            Failure::Timeout => Closed::HeaderTimeout,
            _ => Closed::TlsHandshake,
        })
    }
}

crate::label_by!(Failure);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warn_line_per_reason_every_ten_seconds() {
        let w = Warned::default();
        let t0 = Instant::now();
        assert_eq!(w.allow(Failure::NotTls, t0), Some(0));
        assert_eq!(w.allow(Failure::NotTls, t0 + Duration::from_secs(1)), None);
        assert_eq!(w.allow(Failure::NotTls, t0 + Duration::from_secs(2)), None);
        assert_eq!(
            w.allow(Failure::Timeout, t0),
            Some(0),
            "each reason its own"
        );
        assert_eq!(
            w.allow(Failure::NotTls, t0 + WARN_EVERY),
            Some(2),
            "says how many were left out"
        );
    }

    #[test]
    fn io_errors_map_to_their_reason() {
        let tls = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        assert_eq!(
            Failure::of(&tls(rustls::Error::NoCertificatesPresented)),
            Failure::NoClientCertificate
        );
        assert_eq!(
            Failure::of(&tls(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))),
            Failure::BadClientCertificate
        );
        assert_eq!(
            Failure::of(&tls(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            ))),
            Failure::NotTls
        );
        assert_eq!(
            Failure::of(&std::io::ErrorKind::UnexpectedEof.into()),
            Failure::Closed
        );
        let labels: std::collections::BTreeSet<_> = Failure::ALL.map(Failure::label).into();
        assert_eq!(labels.len(), Failure::ALL.len());
    }
}
