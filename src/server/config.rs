//! `[server]` (the API listener, its limits and TLS) and `[admin]` (the admin
//! listener): raw as written, checked into settings. Problems are named
//! relative to the section; the config pass adds the prefix.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::problems::{self, optional_path, Problems};

/// Whether the API listener asks connecting clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No certificate is asked for.
    Off,
    /// A certificate is asked for; a client may send none, but one it sends
    /// must chain to `server.tls.client_ca_file`.
    Optional,
    /// A handshake without a certificate from `server.tls.client_ca_file` fails.
    Required,
}

impl ClientAuth {
    const NAMES: [(&'static str, ClientAuth); 3] = [
        ("off", Self::Off),
        ("optional", Self::Optional),
        ("required", Self::Required),
    ];

    pub fn name(self) -> &'static str {
        problems::name_of(&Self::NAMES, self)
    }
}

impl<'de> Deserialize<'de> for ClientAuth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &Self::NAMES)
    }
}

impl Serialize for ClientAuth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert_file: String,
    pub key_file: String,
    pub client_ca_file: String,
    pub client_auth: ClientAuth,
}

/// TLS on the API listener: where its certificate, key and client CA are
/// read from (re-read when they change, like the other secret files).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Set exactly when `client_auth` is not `Off`.
    pub client_ca_file: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

/// The server's keys of `[server]`, as written. No `deny_unknown_fields` here: the
/// section's other keys are the request pipeline's (`proxy::config::RawPipeline`: the
/// bounds on a request head and body, the trusted proxies), and the config pass
/// refuses a key that no owner of the section reads.
#[derive(Debug, Deserialize, Serialize)]
pub struct RawServer {
    pub listen: String,
    pub max_headers: usize,
    #[serde(with = "crate::duration_text")]
    pub header_read_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub drain_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    pub http2_max_pending_accept_reset_streams: usize,
    pub watch_files: bool,
    #[serde(with = "crate::duration_text")]
    pub idle_timeout: Duration,
    pub max_connections: usize,
    #[serde(with = "crate::duration_text")]
    pub response_write_timeout: Duration,
    pub tls: RawTls,
}

/// The server's keys of `[server]` on a configuration reload: the listener, its
/// connections' protocol limits and timeouts, TLS and the drain are set up once when
/// the listener starts.
pub const SERVER_KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &[
        "listen",
        "max_headers",
        "header_read_timeout",
        "drain_timeout",
        "http2_max_concurrent_streams",
        "http2_max_pending_accept_reset_streams",
        "watch_files",
        "idle_timeout",
        "max_connections",
        "response_write_timeout",
        "tls",
    ],
};

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub max_headers: usize,
    pub header_read_timeout: Duration,
    pub drain_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    pub http2_max_pending_accept_reset_streams: usize,
    pub watch_files: bool,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub response_write_timeout: Duration,
    /// None: plain HTTP (the default).
    pub tls: Option<TlsSettings>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: String,
    pub token_file: String,
}

/// `[admin]` on a configuration reload: the listener is bound and its token read once.
pub const ADMIN_KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &["listen", "token_file"],
};

#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub listen: SocketAddr,
    pub token_file: Option<PathBuf>,
}

/// `127.0.0.1:8080`, or a problem saying so.
pub fn socket_addr(v: &str) -> Result<SocketAddr, String> {
    v.parse()
        .map_err(|_| format!("{v:?} is not an address like 127.0.0.1:8080"))
}

impl RawAdmin {
    pub fn check(self, p: &mut Problems) -> Option<AdminSettings> {
        let listen = p.check("listen", socket_addr(&self.listen))?;
        Some(AdminSettings {
            listen,
            token_file: optional_path(&self.token_file),
        })
    }
}

impl RawServer {
    pub fn check(self, p: &mut Problems) -> Option<ServerSettings> {
        let s = self;
        let listen = p.check("listen", socket_addr(&s.listen));
        let max_headers = p.positive("max_headers", s.max_headers);
        let header_read_timeout = p.positive("header_read_timeout", s.header_read_timeout);
        let http2_max_concurrent_streams = p.positive(
            "http2_max_concurrent_streams",
            s.http2_max_concurrent_streams,
        );
        let http2_max_pending_accept_reset_streams = p.positive(
            "http2_max_pending_accept_reset_streams",
            s.http2_max_pending_accept_reset_streams,
        );
        let idle_timeout = p.positive("idle_timeout", s.idle_timeout);
        let max_connections = p.positive("max_connections", s.max_connections);
        let response_write_timeout = p.positive("response_write_timeout", s.response_write_timeout);
        let tls = p.within("tls", |p| s.tls.check(p));
        Some(ServerSettings {
            listen: listen?,
            max_headers: max_headers?,
            header_read_timeout: header_read_timeout?,
            drain_timeout: s.drain_timeout,
            http2_max_concurrent_streams: http2_max_concurrent_streams?,
            http2_max_pending_accept_reset_streams: http2_max_pending_accept_reset_streams?,
            watch_files: s.watch_files,
            idle_timeout: idle_timeout?,
            max_connections: max_connections?,
            response_write_timeout: response_write_timeout?,
            tls: tls?,
        })
    }
}

impl RawTls {
    /// Which files belong together. Their contents are read by the config
    /// pass's file checks (the config pass) and at start.
    fn check(&self, p: &mut Problems) -> Option<Option<TlsSettings>> {
        let t = self;
        let before = p.len();
        let (cert, key, ca) = (
            optional_path(&t.cert_file),
            optional_path(&t.key_file),
            optional_path(&t.client_ca_file),
        );
        match (&cert, &key) {
            (Some(_), None) => p.add(
                "key_file",
                "required when `server.tls.cert_file` is set (the certificate's private key, PEM)",
            ),
            (None, Some(_)) => p.add(
                "cert_file",
                "required when `server.tls.key_file` is set (the certificate chain, PEM)",
            ),
            _ => {}
        }
        let asks_for_certs = t.client_auth != ClientAuth::Off;
        if asks_for_certs && cert.is_none() && key.is_none() {
            p.add(
                "client_auth",
                format!(
                    "{:?} needs TLS on the listener: set `server.tls.cert_file` and `server.tls.key_file`",
                    t.client_auth.name()
                ),
            );
        }
        match (asks_for_certs, &ca) {
            (true, None) => p.add(
                "client_ca_file",
                format!(
                    "required when `server.tls.client_auth = {:?}` (the CA certificates client certificates must chain to, PEM)",
                    t.client_auth.name()
                ),
            ),
            (false, Some(_)) => p.add(
                "client_ca_file",
                "has no effect while `server.tls.client_auth = \"off\"`: set client_auth to \"optional\" or \"required\", or leave this empty",
            ),
            _ => {}
        }
        if p.len() > before {
            return None;
        }
        Some(cert.zip(key).map(|(cert_file, key_file)| TlsSettings {
            cert_file,
            key_file,
            client_ca_file: ca,
            client_auth: t.client_auth,
        }))
    }
}
