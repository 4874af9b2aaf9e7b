use super::*;

#[test]
fn bad_names_are_rejected() {
    for bad in [
        "",
        "Support",
        "support tool",
        "support.tool",
        &"a".repeat(65),
    ] {
        let (index, _, p) = problem(&client_toml(bad, &["k"], ALLOW_ALL_GET));
        assert_eq!((index, p), (0, ClientProblem::BadName), "name {bad:?}");
    }
    registry(&client_toml(&"a".repeat(64), &["k"], ALLOW_ALL_GET));
    registry(&client_toml("a_b-9", &["k"], ALLOW_ALL_GET));
}

#[test]
fn duplicate_names_are_rejected() {
    let toml =
        client_toml("svc", &["k1"], ALLOW_ALL_GET) + &client_toml("svc", &["k2"], ALLOW_ALL_GET);
    let (index, name, p) = problem(&toml);
    assert_eq!(
        (index, name.as_str(), p),
        (1, "svc", ClientProblem::DuplicateName { first: 0 })
    );
}

#[test]
fn malformed_key_hashes_are_rejected_without_echoing_them() {
    let short = "abcdef0123";
    let non_hex = "g".repeat(64);
    for bad in [short, non_hex.as_str()] {
        let toml =
            format!("[[clients]]\nname = \"svc\"\nkeys_sha256 = [{bad:?}]\n{ALLOW_ALL_GET}\n");
        let err = config_error(&toml);
        assert!(
            matches!(
                err,
                AuthConfigError::Client {
                    problem: ClientProblem::BadKeyHash { key: 0, .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.to_string().contains(bad));
    }
}

#[test]
fn a_raw_key_in_place_of_its_hash_is_called_out_and_not_echoed() {
    let key = generate_key();
    let toml = format!("[[clients]]\nname = \"svc\"\nkeys_sha256 = [{key:?}]\n{ALLOW_ALL_GET}\n");
    let err = config_error(&toml);
    assert!(matches!(
        err,
        AuthConfigError::Client {
            problem: ClientProblem::RawKeyInsteadOfHash { key: 0 },
            ..
        }
    ));
    assert!(!err.to_string().contains(&key));
}

#[test]
fn uppercase_hex_hashes_are_accepted() {
    let hash = hash_key("k").to_uppercase();
    let toml = format!("[[clients]]\nname = \"svc\"\nkeys_sha256 = [{hash:?}]\n{ALLOW_ALL_GET}\n");
    assert!(registry(&toml).authenticate(&x_token("k")).is_ok());
}

#[test]
fn missing_or_empty_key_lists_are_rejected() {
    let (_, _, p) = problem(&client_toml("svc", &[], ALLOW_ALL_GET));
    assert_eq!(p, ClientProblem::NoKeys);
    let (_, _, p) = problem(&format!("[[clients]]\nname = \"svc\"\n{ALLOW_ALL_GET}\n"));
    assert_eq!(p, ClientProblem::NoKeys);
}

#[test]
fn a_key_hash_shared_by_two_clients_is_rejected_naming_both() {
    let toml = client_toml("first", &["a"], ALLOW_ALL_GET)
        + &client_toml("second", &["b", "a"], ALLOW_ALL_GET);
    let err = config_error(&toml);
    let msg = err.to_string();
    let (index, name, p) = problem(&toml);
    assert_eq!((index, name.as_str()), (1, "second"));
    assert_eq!(
        p,
        ClientProblem::KeyHashShared {
            key: 1,
            other_index: 0,
            other_name: "first".into()
        }
    );
    assert!(msg.contains("clients[1]") && msg.contains("second") && msg.contains("first"));
    assert!(!msg.contains(&hash_key("a")));
}

#[test]
fn a_key_hash_repeated_within_a_client_is_rejected() {
    let (_, _, p) = problem(&client_toml("svc", &["a", "a"], ALLOW_ALL_GET));
    assert_eq!(p, ClientProblem::RepeatedKeyHash { key: 1 });
}

#[test]
fn empty_or_missing_allow_lists_are_rejected() {
    let (_, _, p) = problem(&client_toml("svc", &["k"], "allow = []"));
    assert_eq!(p, ClientProblem::EmptyAllow);
    let (_, _, p) = problem(&client_toml("svc", &["k"], ""));
    assert_eq!(p, ClientProblem::EmptyAllow);
}

#[test]
fn bad_patterns_and_methods_are_rejected_naming_the_rule() {
    let extra = r#"allow = [{ methods = ["GET"], path = "/ok" }, { methods = ["GET"], path = "/api/**/x" }]"#;
    let (index, name, p) =
        problem(&(client_toml("good", &["g"], ALLOW_ALL_GET) + &client_toml("svc", &["k"], extra)));
    assert_eq!((index, name.as_str()), (1, "svc"));
    assert!(matches!(p, ClientProblem::BadRule { rule: 1, .. }), "{p}");

    let extra = r#"allow = [{ methods = ["get"], path = "/ok" }]"#;
    let (_, _, p) = problem(&client_toml("svc", &["k"], extra));
    assert!(matches!(p, ClientProblem::BadRule { rule: 0, .. }), "{p}");
}

#[test]
fn zero_rates_are_rejected() {
    let extra = format!("rate_limit = {{ per_second = 0, burst = 5 }}\n{ALLOW_ALL_GET}");
    let (_, _, p) = problem(&client_toml("svc", &["k"], &extra));
    assert_eq!(
        p,
        ClientProblem::ZeroRate {
            field: "per_second"
        }
    );

    let extra = format!("rate_limit = {{ per_second = 5, burst = 0 }}\n{ALLOW_ALL_GET}");
    let (_, _, p) = problem(&client_toml("svc", &["k"], &extra));
    assert_eq!(p, ClientProblem::ZeroRate { field: "burst" });

    let toml = "[defaults]\nrate_limit = { per_second = 0 }\n".to_owned()
        + &client_toml("svc", &["k"], ALLOW_ALL_GET);
    assert!(matches!(
        config_error(&toml),
        AuthConfigError::Defaults(ClientProblem::ZeroRate {
            field: "per_second"
        })
    ));
}

#[test]
fn an_empty_file_and_unknown_fields_are_rejected() {
    assert!(matches!(config_error(""), AuthConfigError::NoClients));
    let typo = client_toml("svc", &["k"], &format!("{ALLOW_ALL_GET}\nrate_limits = 5"));
    let err = config_error(&typo);
    assert!(matches!(err, AuthConfigError::UnknownKey { .. }));
    assert!(err.to_string().contains("rate_limits"), "{err}");
}

/// An unknown key is one problem among the others, at every level of the file: a
/// typo does not hide the problems after it (nor they it).
#[test]
fn unknown_keys_are_listed_with_every_other_problem() {
    let toml = format!(
        "colour = 1
[defaults]
rate_limit = {{ per_second = 1, brust = 2 }}
         [[clients]]
name = \"Bad Name\"
keys_sha256 = [{:?}]
team = \"x\"
         allow = [{{ methods = [\"GET\"], path = \"/api/v1/**\", paht = \"/x\" }}]
         [[clients]]
name = \"svc\"
keys_sha256 = []
{ALLOW_ALL_GET}
",
        hash_key("k")
    );
    let err = config_error(&toml);
    let each: Vec<String> = err.each().iter().map(|e| e.to_string()).collect();
    for want in [
        "`colour`: unknown key (expected one of `defaults`, `clients`)",
        "`defaults.rate_limit.brust`: unknown key (expected one of `per_second`, `burst`)",
        "`clients[0].team`: unknown key",
        "`clients[0].allow[0].paht`: unknown key (expected one of `methods`, `path`)",
        "clients[0] (\"Bad Name\"): name must be",
        "clients[1] (\"svc\"): neither keys_sha256",
    ] {
        assert!(each.iter().any(|e| e.contains(want)), "{want}: {each:#?}");
    }
    assert_eq!(each.len(), 6, "{each:#?}");
}

/// Every problem of the file in one answer, in file order: a bad client does
/// not hide the next one's problems, nor its own later ones.
#[test]
fn every_problem_of_the_file_is_listed_at_once() {
    let toml = format!(
        "[[clients]]\nname = \"Bad Name\"\nkeys_sha256 = [\"abc\"]\n{ALLOW_ALL_GET}\n\
         [[clients]]\nname = \"svc\"\nkeys_sha256 = []\n\
         [[clients]]\nname = \"ok\"\nkeys_sha256 = [{:?}]\n{ALLOW_ALL_GET}\n",
        hash_key("k")
    );
    let err = config_error(&toml);
    let each: Vec<String> = err.each().iter().map(|e| e.to_string()).collect();
    assert_eq!(each.len(), 4, "{each:#?}");
    assert!(
        each[0].starts_with("clients[0]") && each[0].contains("name must be"),
        "{each:#?}"
    );
    assert!(
        each[1].starts_with("clients[0]") && each[1].contains("keys_sha256[0]"),
        "{each:#?}"
    );
    assert!(
        each[2].starts_with("clients[1]") && each[2].contains("neither keys_sha256"),
        "{each:#?}"
    );
    assert!(
        each[3].starts_with("clients[1]") && each[3].contains("allow list is empty"),
        "{each:#?}"
    );
}
