//! Certificates made in the test (rcgen) and a TLS client that speaks
//! HTTP/1.1 or h2 by ALPN, presenting a client certificate or none.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;

use super::Resp;

/// A certificate authority of its own.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub pem: String,
    der: CertificateDer<'static>,
}

/// A certificate signed by a [`Ca`], with its key.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

pub fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().unwrap())
}

pub fn uri(u: &str) -> SanType {
    SanType::URI(u.try_into().unwrap())
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The gateway's certificate: `localhost` and 127.0.0.1, expiring on
    /// 1 January of `expires_year`.
    pub fn server(&self, expires_year: i32) -> Leaf {
        self.leaf(
            vec![dns("localhost"), SanType::IpAddress([127, 0, 0, 1].into())],
            ExtendedKeyUsagePurpose::ServerAuth,
            expires_year,
        )
    }

    /// A client certificate with these SANs.
    pub fn client(&self, sans: Vec<SanType>) -> Leaf {
        self.leaf(sans, ExtendedKeyUsagePurpose::ClientAuth, 2040)
    }

    fn leaf(&self, sans: Vec<SanType>, usage: ExtendedKeyUsagePurpose, year: i32) -> Leaf {
        let mut params = CertificateParams::default();
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![usage];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(year, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, &self.pem).unwrap();
    }
}

impl Leaf {
    /// Writes the certificate and key files (key first: a reload between the
    /// two writes then fails and keeps the old pair, never serves a mix).
    pub fn write(&self, cert: &Path, key: &Path) {
        std::fs::write(key, &self.key_pem).unwrap();
        std::fs::write(cert, &self.cert_pem).unwrap();
    }

    /// Unix time of notAfter.
    pub fn not_after(&self) -> i64 {
        let (_, c) = x509_parser::parse_x509_certificate(self.der.as_ref()).unwrap();
        c.validity().not_after.timestamp()
    }
}

/// One TLS connection to the gateway, with the protocol ALPN chose.
pub struct Conn {
    sender: Sender,
    /// The certificate the gateway served on this connection.
    pub served: CertificateDer<'static>,
    pub alpn: Option<Vec<u8>>,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// Connects to `addr` trusting `ca`, offering `alpn` and presenting
/// `client` (or no certificate). Err: the handshake failed.
pub async fn connect(
    addr: SocketAddr,
    ca: &Ca,
    client: Option<&Leaf>,
    alpn: &[&[u8]],
) -> Result<Conn, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        None => builder.with_no_client_auth(),
        Some(leaf) => builder
            .with_client_auth_cert(
                vec![leaf.der.clone()],
                PrivateKeyDer::try_from(leaf.key_der.clone()).unwrap(),
            )
            .unwrap(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .map_err(|_| "handshake timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let (_, session) = tls.get_ref();
    let served = session.peer_certificates().unwrap()[0].clone();
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    let io = TokioIo::new(tls);
    let sender = if alpn.as_deref() == Some(b"h2") {
        let (s, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Sender::H2(s)
    } else {
        let (s, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Sender::H1(s)
    };
    Ok(Conn {
        sender,
        served,
        alpn,
    })
}

impl Conn {
    /// Sends one request on this connection. Err: the connection failed
    /// (with TLS 1.3 a refused client certificate shows here, after the
    /// client's side of the handshake completed).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Version, Resp), String> {
        let mut req = Request::builder().method(method);
        req = match self.sender {
            Sender::H1(_) => req.uri(path).header("host", "localhost"),
            Sender::H2(_) => req.uri(format!("https://localhost{path}")),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::new())).unwrap();
        let sent = async {
            match &mut self.sender {
                Sender::H1(s) => {
                    s.ready().await?;
                    s.send_request(req).await
                }
                Sender::H2(s) => {
                    s.ready().await?;
                    s.send_request(req).await
                }
            }
        };
        let resp = tokio::time::timeout(Duration::from_secs(10), sent)
            .await
            .map_err(|_| "no response within 10 s".to_owned())?
            .map_err(|e| e.to_string())?;
        let (parts, body) = resp.into_parts();
        let body = tokio::time::timeout(Duration::from_secs(10), body.collect())
            .await
            .map_err(|_| "no body within 10 s".to_owned())?
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            parts.version,
            Resp {
                status: parts.status,
                headers: parts.headers,
                body,
            },
        ))
    }
}

/// Connects and sends one GET: the response, or why there was none.
pub async fn get_once(
    addr: SocketAddr,
    ca: &Ca,
    client: Option<&Leaf>,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Resp, String> {
    let mut conn = connect(addr, ca, client, &[b"http/1.1"]).await?;
    conn.send(Method::GET, path, headers).await.map(|(_, r)| r)
}
