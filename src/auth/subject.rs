//! Certificate subjects: how a client certificate names a client.
//!
//! A client in the clients file may list `subjects = ["dns:billing.internal",
//! "uri:spiffe://prod.example/ns/billing/sa/api"]`; a verified client
//! certificate whose DNS or URI subject alternative names include one of them
//! identifies that client. Both sides go through [`Subject::dns`] and
//! [`Subject::uri`], the one normalisation, so a name written in the file and
//! the same name in a certificate always compare equal, and nothing else does.
//!
//! The certificate's subject DN (CN=…) is never used: SANs are what TLS
//! itself matches on, and what SPIFFE and service meshes put identities in.

use std::fmt;

use rustls::pki_types::CertificateDer;

/// One DNS or URI name, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// Lowercase, without a trailing dot.
    Dns(String),
    /// Scheme lowercased; the rest exactly as written (SPIFFE ids and URL
    /// paths are case-sensitive).
    Uri(String),
}

/// Longer names than this are refused (a SAN is a name, not a document).
const MAX_LEN: usize = 2048;

impl Subject {
    /// A DNS name: letters, digits, `-` and `.`, non-empty labels of at most
    /// 63 characters. Case and one trailing dot do not matter. Wildcards are
    /// refused: a subject names one service, and a wildcard certificate must
    /// not stand for every service it covers.
    pub fn dns(name: &str) -> Result<Subject, String> {
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() || name.len() > 253 {
            return Err("a DNS name must be 1-253 characters".to_owned());
        }
        if name.contains('*') {
            return Err("wildcards are not accepted: name one service".to_owned());
        }
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !name.split('.').all(label_ok) {
            return Err(
                "not a DNS name (labels of letters, digits and '-', separated by '.')".to_owned(),
            );
        }
        Ok(Subject::Dns(name.to_ascii_lowercase()))
    }

    /// A URI with a scheme (`spiffe://trust-domain/path`), without spaces or
    /// control characters.
    pub fn uri(uri: &str) -> Result<Subject, String> {
        if uri.is_empty() || uri.len() > MAX_LEN {
            return Err(format!("a URI must be 1-{MAX_LEN} characters"));
        }
        if uri.bytes().any(|b| b <= b' ' || b == 0x7f || !b.is_ascii()) {
            return Err("a URI may not contain spaces, control or non-ASCII characters".to_owned());
        }
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err("a URI needs a scheme, like spiffe://trust-domain/workload".to_owned());
        };
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok || rest.is_empty() {
            return Err("a URI needs a scheme, like spiffe://trust-domain/workload".to_owned());
        }
        Ok(Subject::Uri(format!(
            "{}:{rest}",
            scheme.to_ascii_lowercase()
        )))
    }

    /// A subject as the clients file writes it: `dns:<name>` or `uri:<uri>`.
    pub fn parse(text: &str) -> Result<Subject, String> {
        match text.split_once(':') {
            Some(("dns", name)) => Subject::dns(name),
            Some(("uri", uri)) => Subject::uri(uri),
            _ => Err(
                "write \"dns:<name>\" (a DNS SAN) or \"uri:<uri>\" (a URI SAN, e.g. \"uri:spiffe://example.org/ns/x/sa/y\")"
                    .to_owned(),
            ),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Dns(n) => write!(f, "dns:{n}"),
            Subject::Uri(u) => write!(f, "uri:{u}"),
        }
    }
}

/// What the gateway knows of a client's verified certificate: its DNS and URI
/// names. Put in each request's extensions by the listener, only after rustls
/// verified the chain against `server.tls.client_ca_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCertificate {
    pub subjects: Vec<Subject>,
}

impl ClientCertificate {
    /// The DNS and URI SANs of `der` that are valid names (others, a wildcard
    /// say, are left out and so never match). A certificate that cannot be
    /// parsed (rustls accepted it, so this should not happen) names nothing.
    pub fn from_der(der: &CertificateDer<'_>) -> ClientCertificate {
        use x509_parser::extensions::GeneralName;
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            return ClientCertificate::default();
        };
        let Ok(Some(san)) = cert.subject_alternative_name() else {
            return ClientCertificate::default();
        };
        let mut subjects: Vec<Subject> = san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Subject::dns(d).ok(),
                GeneralName::URI(u) => Subject::uri(u).ok(),
                _ => None,
            })
            .collect();
        subjects.sort();
        subjects.dedup();
        ClientCertificate { subjects }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_file_forms() {
        assert_eq!(
            Subject::parse("dns:Billing.Internal.").unwrap(),
            Subject::Dns("billing.internal".into())
        );
        assert_eq!(
            Subject::parse("uri:SPIFFE://prod.example/ns/Billing").unwrap(),
            Subject::Uri("spiffe://prod.example/ns/Billing".into()),
            "the scheme is case-insensitive, the path is not"
        );
        for bad in [
            "billing.internal",
            "spiffe://prod.example/x",
            "dns:",
            "dns:*.internal",
            "dns:a..b",
            "dns:-a.b",
            "dns:a b",
            "uri:",
            "uri:no-scheme",
            "uri:1x://a",
            "uri:spiffe://a/b c",
            "DNS:billing.internal",
        ] {
            assert!(Subject::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_generated_certificates_sans_are_read() {
        let mut params =
            rcgen::CertificateParams::new(vec!["Svc.Internal".to_owned(), "*.wild".to_owned()])
                .unwrap();
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://prod.example/ns/a/sa/b".try_into().unwrap(),
        ));
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let got = ClientCertificate::from_der(cert.der());
        assert_eq!(
            got.subjects,
            vec![
                Subject::Dns("svc.internal".into()),
                Subject::Uri("spiffe://prod.example/ns/a/sa/b".into()),
            ],
            "the wildcard and the IP SAN name no client"
        );
        assert_eq!(
            ClientCertificate::from_der(&CertificateDer::from(vec![0x30, 0x00])),
            ClientCertificate::default()
        );
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?"
    }

    proptest! {
        /// Case and a trailing dot never make two names differ; the written
        /// form reads back as the same subject.
        #[test]
        fn dns_names_compare_as_dns_does(labels in prop::collection::vec(label(), 1..5), dot in any::<bool>()) {
            let name = labels.join(".");
            let lower = Subject::dns(&name.to_ascii_lowercase()).unwrap();
            let upper = Subject::dns(&format!("{}{}", name.to_ascii_uppercase(), if dot { "." } else { "" })).unwrap();
            prop_assert_eq!(&lower, &upper);
            prop_assert_eq!(Subject::parse(&lower.to_string()).unwrap(), lower);
        }

        /// Whatever is accepted reads back unchanged from its written form,
        /// and a DNS name never equals a URI.
        #[test]
        fn accepted_subjects_round_trip(text in "(dns|uri):[ -~]{0,40}") {
            if let Ok(s) = Subject::parse(&text) {
                prop_assert_eq!(Subject::parse(&s.to_string()).unwrap(), s.clone());
                let other = match &s {
                    Subject::Dns(n) => Subject::uri(n),
                    Subject::Uri(u) => Subject::dns(u),
                };
                prop_assert_ne!(other.ok(), Some(s));
            }
        }
    }
}
