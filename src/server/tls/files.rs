//! The listener's certificate, key and client CA, read into a rustls
//! `ServerConfig`: at start, by `check-config`, and on every reload.
//!
//! The three files are one unit: a reload builds a whole new `ServerConfig`
//! and swaps it in, so a renewed certificate, a renewed key and a rotated
//! client CA take effect together on the next handshake, and a handshake never
//! sees a certificate from one read and a key from another. Connections
//! already open keep the session they negotiated.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::IntGauge;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::problems::Problem;
use crate::reload::Load;
use crate::server::config::{ClientAuth, TlsSettings};

/// ALPN, in the server's order of preference: hyper serves either on any
/// connection, so the client's choice is only a hint the gateway honours.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// How `server.tls` is read.
pub struct TlsFiles {
    settings: TlsSettings,
    /// `gateway_tls_certificate_expiry_timestamp_seconds{listener="api"}`.
    expiry: Option<IntGauge>,
}

/// A `ServerConfig` ready for handshakes, and what is reported about it.
pub struct Served {
    pub config: Arc<ServerConfig>,
    /// Unix time the served (leaf) certificate expires.
    pub not_after: i64,
    chain_len: usize,
}

/// Everything wrong with the files, each under its key.
#[derive(Debug)]
pub struct TlsProblems(pub Vec<Problem>);

impl std::fmt::Display for TlsProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.0.iter().map(Problem::to_string).collect();
        f.write_str(&text.join("; "))
    }
}

impl TlsFiles {
    pub fn new(settings: TlsSettings, expiry: Option<IntGauge>) -> TlsFiles {
        TlsFiles { settings, expiry }
    }

    /// What `check-config` reports: every problem of every file.
    pub fn check(settings: &TlsSettings) -> Vec<Problem> {
        build(settings).err().map_or_else(Vec::new, |p| p.0)
    }
}

impl Load for TlsFiles {
    type Value = Served;
    type Error = TlsProblems;
    const WHAT: &'static str = "TLS certificate";

    fn files(&self) -> Vec<PathBuf> {
        let s = &self.settings;
        [
            Some(&s.cert_file),
            Some(&s.key_file),
            s.client_ca_file.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    fn load(&self) -> Result<Served, TlsProblems> {
        build(&self.settings)
    }

    /// Certificates in the served chain.
    fn count(value: &Served) -> usize {
        value.chain_len
    }

    fn in_force(&self, value: &Served) {
        if let Some(g) = &self.expiry {
            g.set(value.not_after);
        }
        tracing::info!(
            not_after = %rfc3339(value.not_after),
            client_auth = self.settings.client_auth.name(),
            "serving TLS certificate"
        );
    }
}

fn rfc3339(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime_serde::re::humantime::format_rfc3339_seconds(t).to_string()
}

fn build(s: &TlsSettings) -> Result<Served, TlsProblems> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut problems = Vec::new();
    let p = &mut problems;
    let chain = note(p, "server.tls.cert_file", certificates(&s.cert_file));
    let not_after = chain.as_ref().and_then(|c| {
        note(
            p,
            "server.tls.cert_file",
            leaf_not_after(&s.cert_file, &c[0]),
        )
    });
    let key = note(p, "server.tls.key_file", private_key(&s.key_file));
    let verifier = match (s.client_auth, &s.client_ca_file) {
        (ClientAuth::Off, _) => Some(None),
        (mode, Some(ca)) => note(
            p,
            "server.tls.client_ca_file",
            client_verifier(ca, mode, &provider).map(Some),
        ),
        // The config pass refuses this; say so rather than serve without mTLS.
        (_, None) => note(
            p,
            "server.tls.client_ca_file",
            Err("required when client_auth is not \"off\"".to_owned()),
        ),
    };
    let (Some(chain), Some(not_after), Some(key), Some(verifier)) =
        (chain, not_after, key, verifier)
    else {
        return Err(TlsProblems(problems));
    };
    let chain_len = chain.len();
    let builder = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsProblems(vec![Problem::new("server.tls", e)]))?;
    let builder = match verifier {
        None => builder.with_no_client_auth(),
        Some(v) => builder.with_client_cert_verifier(v),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        let reason = match e {
            rustls::Error::InconsistentKeys(_) => format!(
                "{} is not the private key of the certificate in `server.tls.cert_file`",
                s.key_file.display()
            ),
            other => format!("{}: {other}", s.key_file.display()),
        };
        TlsProblems(vec![Problem::new("server.tls.key_file", reason)])
    })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Served {
        config: Arc::new(config),
        not_after,
        chain_len,
    })
}

/// `r`'s value, or None once its problem is noted under `key`.
fn note<T>(problems: &mut Vec<Problem>, key: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|reason| problems.push(Problem::new(key, reason)))
        .ok()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Every certificate of a PEM file, in order; at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in {}",
            path.display()
        ));
    }
    Ok(certs)
}

/// The leaf's notAfter; an expired leaf is refused, since no client would
/// accept it and keeping the previous one in force (on reload) is better.
fn leaf_not_after(path: &Path, leaf: &CertificateDer<'_>) -> Result<i64, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| {
        format!(
            "the first certificate in {} is not a valid X.509 certificate: {e}",
            path.display()
        )
    })?;
    let not_after = cert.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if not_after <= now {
        return Err(format!(
            "the certificate in {} expired at {}",
            path.display(),
            rfc3339(not_after)
        ));
    }
    Ok(not_after)
}

/// The one private key of a PEM file (PKCS#8, PKCS#1 or SEC1). Its bytes
/// never appear in a message.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| format!("{} is not valid PEM: {e}", path.display()))?
        .ok_or_else(|| {
            format!(
                "no PEM private key (-----BEGIN PRIVATE KEY-----, or RSA/EC PRIVATE KEY) in {}",
                path.display()
            )
        })
}

/// Verifies client certificates against the CA file; `optional` also admits
/// clients that send none (one that sends a certificate must still pass).
fn client_verifier(
    path: &Path,
    mode: ClientAuth,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = if mode == ClientAuth::Optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path, client_auth: ClientAuth) -> TlsSettings {
        TlsSettings {
            cert_file: dir.join("cert.pem"),
            key_file: dir.join("key.pem"),
            client_ca_file: (client_auth != ClientAuth::Off).then(|| dir.join("ca.pem")),
            client_auth,
        }
    }

    fn keys(r: &[Problem]) -> Vec<&str> {
        r.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn every_file_is_checked_and_each_problem_named() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), ClientAuth::Required);
        let problems = TlsFiles::check(&s);
        assert_eq!(
            keys(&problems),
            [
                "server.tls.cert_file",
                "server.tls.key_file",
                "server.tls.client_ca_file"
            ],
            "{problems:?}"
        );
        assert!(problems[0].reason.contains("cannot read"), "{problems:?}");

        std::fs::write(&s.cert_file, "not pem").unwrap();
        std::fs::write(&s.key_file, "not pem either").unwrap();
        std::fs::write(s.client_ca_file.as_ref().unwrap(), "").unwrap();
        let problems = TlsFiles::check(&s);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].reason.contains("no PEM certificate"));
        assert!(problems[1].reason.contains("no PEM private key"));
    }

    #[test]
    fn a_key_of_another_certificate_and_an_expired_certificate_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), ClientAuth::Off);
        let a = rcgen::generate_simple_self_signed(vec!["a".to_owned()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".to_owned()]).unwrap();
        std::fs::write(&s.cert_file, a.cert.pem()).unwrap();
        std::fs::write(&s.key_file, a.signing_key.serialize_pem()).unwrap();
        let served = build(&s).unwrap();
        assert!(served.not_after > 4_000_000_000, "rcgen's default notAfter");
        assert_eq!(
            served.config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        std::fs::write(&s.key_file, b.signing_key.serialize_pem()).unwrap();
        let problems = TlsFiles::check(&s);
        assert_eq!(keys(&problems), ["server.tls.key_file"]);
        assert!(problems[0].reason.contains("is not the private key"));

        let mut params = rcgen::CertificateParams::new(vec!["old".to_owned()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&s.cert_file, params.self_signed(&key).unwrap().pem()).unwrap();
        std::fs::write(&s.key_file, key.serialize_pem()).unwrap();
        let problems = TlsFiles::check(&s);
        assert_eq!(keys(&problems), ["server.tls.cert_file"]);
        assert!(
            problems[0].reason.contains("expired at 2001-01-01"),
            "{problems:?}"
        );
    }
}
