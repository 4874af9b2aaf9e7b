//! Clients named by certificate subjects: lookup, and how a certificate and a key combine.

use super::*;

fn cert(subjects: &[&str]) -> ClientCertificate {
    ClientCertificate {
        subjects: subjects
            .iter()
            .map(|s| Subject::parse(s).unwrap())
            .collect(),
    }
}

/// `billing`: certificate only; `ledger`: key and certificate; `batch`: key only.
fn mixed() -> ClientRegistry {
    registry(&format!(
        "[[clients]]\nname = \"billing\"\nsubjects = [\"uri:spiffe://prod/ns/billing\", \"dns:billing.internal\"]\n{ALLOW_ALL_GET}\n\n{}{}",
        client_toml("ledger", &["ledger-key"], &format!("subjects = [\"dns:ledger.internal\"]\n{ALLOW_ALL_GET}")),
        client_toml("batch", &["batch-key"], ALLOW_ALL_GET),
    ))
}

fn name(r: Result<Arc<Client>, AuthError>) -> Result<String, AuthError> {
    r.map(|c| c.name.to_string())
}

#[test]
fn a_certificate_names_its_client_by_any_of_its_subjects() {
    let reg = mixed();
    let none = HeaderMap::new();
    for c in [
        cert(&["uri:spiffe://prod/ns/billing"]),
        cert(&["dns:BILLING.internal."]),
        cert(&["dns:other.internal", "dns:billing.internal"]),
    ] {
        assert_eq!(name(reg.identify(&none, Some(&c))), Ok("billing".into()));
    }
    assert_eq!(
        reg.certificate_only_clients().collect::<Vec<_>>(),
        ["billing"]
    );
}

#[test]
fn key_and_certificate_must_agree() {
    let reg = mixed();
    let ledger = cert(&["dns:ledger.internal"]);
    assert_eq!(
        name(reg.identify(&x_token("ledger-key"), Some(&ledger))),
        Ok("ledger".into())
    );
    assert_eq!(
        name(reg.identify(&x_token("batch-key"), Some(&ledger))),
        Err(AuthError::Conflict),
        "another client's key over this client's certificate"
    );
    assert_eq!(
        name(reg.identify(&x_token("wrong"), Some(&ledger))),
        Err(AuthError::Unknown),
        "a wrong key is refused even with a good certificate"
    );
}

#[test]
fn an_unknown_certificate_needs_a_key_and_an_ambiguous_one_is_refused() {
    let reg = mixed();
    let mesh = cert(&["uri:spiffe://prod/ns/unlisted"]);
    assert_eq!(
        name(reg.identify(&HeaderMap::new(), Some(&mesh))),
        Err(AuthError::UnknownCertificate)
    );
    assert_eq!(
        name(reg.identify(&x_token("batch-key"), Some(&mesh))),
        Ok("batch".into())
    );
    assert_eq!(
        name(reg.identify(&HeaderMap::new(), None)),
        Err(AuthError::Missing)
    );
    let both = cert(&["dns:billing.internal", "dns:ledger.internal"]);
    assert_eq!(
        name(reg.identify(&x_token("ledger-key"), Some(&both))),
        Err(AuthError::AmbiguousCertificate)
    );
}

#[test]
fn subjects_are_validated_and_never_shared() {
    let (i, _, p) = problem(&format!(
        "[[clients]]\nname = \"a\"\nsubjects = [\"billing.internal\"]\n{ALLOW_ALL_GET}\n"
    ));
    assert_eq!(i, 0);
    assert!(
        matches!(p, ClientProblem::BadSubject { subject: 0, .. }),
        "{p}"
    );
    let (i, _, p) = problem(&format!(
        "[[clients]]\nname = \"a\"\nsubjects = [\"dns:x.internal\", \"dns:X.internal\"]\n{ALLOW_ALL_GET}\n"
    ));
    assert_eq!((i, p), (0, ClientProblem::RepeatedSubject { subject: 1 }));
    let (i, _, p) = problem(&format!(
        "[[clients]]\nname = \"a\"\nsubjects = [\"dns:x.internal\"]\n{ALLOW_ALL_GET}\n[[clients]]\nname = \"b\"\nsubjects = [\"uri:spiffe://y\", \"dns:x.internal.\"]\n{ALLOW_ALL_GET}\n"
    ));
    assert_eq!(
        (i, p),
        (
            1,
            ClientProblem::SubjectShared {
                subject: 1,
                other_index: 0,
                other_name: "a".into()
            }
        )
    );
}
