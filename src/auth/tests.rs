//! Registry-level tests: the clients file, authentication, authorization and rate limits.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};

use super::*;

const EXAMPLE: &str = include_str!("../../config/clients.example.toml");

fn x_token(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(X_TOKEN, HeaderValue::from_str(key).expect("header value"));
    h
}

fn bearer(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {key}")).expect("header value"),
    );
    h
}

/// One client named `name` with the given keys and extra TOML lines.
fn client_toml(name: &str, keys: &[&str], extra: &str) -> String {
    let hashes: Vec<String> = keys.iter().map(|k| format!("{:?}", hash_key(k))).collect();
    format!(
        "[[clients]]\nname = {name:?}\nkeys_sha256 = [{}]\n{extra}\n",
        hashes.join(", ")
    )
}

const ALLOW_ALL_GET: &str = r#"allow = [{ methods = ["GET"], path = "/api/**" }]"#;

fn registry(toml: &str) -> ClientRegistry {
    match ClientRegistry::from_toml_str(toml) {
        Ok(r) => r,
        Err(e) => panic!("valid file rejected: {e}"),
    }
}

fn config_error(toml: &str) -> AuthConfigError {
    match ClientRegistry::from_toml_str(toml) {
        Ok(r) => panic!("invalid file accepted: {r:?}"),
        Err(e) => e,
    }
}

fn problem(toml: &str) -> (usize, String, ClientProblem) {
    match config_error(toml) {
        AuthConfigError::Client {
            index,
            name,
            problem,
        } => (index, name, problem),
        other => panic!("expected a client problem, got {other}"),
    }
}

// ---- the example file -------------------------------------------------------------------

#[test]
fn example_file_parses_and_its_fake_keys_work() {
    let reg = registry(EXAMPLE);
    let names: Vec<&str> = reg.client_names().collect();
    assert_eq!(
        names,
        ["support-tool", "payout-service", "checkout-service"]
    );

    let support = reg
        .authenticate(&x_token("pcgw_EXAMPLE_support_tool_NOT_A_REAL_KEY_1"))
        .expect("old support key");
    assert_eq!(&*support.name, "support-tool");
    let support2 = reg
        .authenticate(&x_token("pcgw_EXAMPLE_support_tool_NOT_A_REAL_KEY_2"))
        .expect("new support key");
    assert_eq!(&*support2.name, "support-tool");
    assert!(support
        .authorize(&Method::GET, "/api/v1/customer/customer/customer_0123")
        .is_ok());
    assert_eq!(
        support.authorize(&Method::DELETE, "/api/v1/customer/customer/customer_0123"),
        Err(AuthError::Forbidden)
    );
    assert_eq!(
        support.authorize(&Method::GET, "/api/v1/customer/customer"),
        Err(AuthError::Forbidden)
    );

    let payout = reg
        .authenticate(&bearer("pcgw_EXAMPLE_payout_service_NOT_A_REAL_KEY"))
        .expect("payout key");
    assert!(payout
        .authorize(&Method::POST, "/api/v1/payout/create-payout")
        .is_ok());
    assert!(payout
        .authorize(&Method::GET, "/api/v1/customer/customer?page=2")
        .is_ok());
    assert_eq!(
        payout.authorize(&Method::POST, "/api/v1/customer/create"),
        Err(AuthError::Forbidden)
    );

    let checkout = reg
        .authenticate(&x_token("pcgw_EXAMPLE_checkout_service_NOT_A_REAL_KEY"))
        .expect("checkout key");
    assert!(checkout
        .authorize(&Method::PATCH, "/api/v1/checkout")
        .is_ok());
    // No rate_limit of its own: the [defaults] one applies.
    let limit = checkout.rate_limit().expect("default limit");
    assert_eq!((limit.per_second.get(), limit.burst.get()), (50, 100));
    let limit = support.rate_limit().expect("own limit");
    assert_eq!((limit.per_second.get(), limit.burst.get()), (20, 40));
}

#[test]
fn load_reads_a_file_and_names_a_missing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clients.toml");
    std::fs::write(&path, EXAMPLE).expect("write");
    let reg = ClientRegistry::load(&path).expect("load");
    assert_eq!(reg.client_names().count(), 3);

    let missing = dir.path().join("absent.toml");
    let err = ClientRegistry::load(&missing).expect_err("missing file");
    assert!(matches!(err, AuthConfigError::Read { .. }));
    assert!(err.to_string().contains("absent.toml"));
}

// ---- validation -------------------------------------------------------------------------

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
    assert!(matches!(err, AuthConfigError::Parse(_)));
    assert!(err.to_string().contains("rate_limits"), "{err}");
}

// ---- authentication ---------------------------------------------------------------------

fn two_clients() -> ClientRegistry {
    registry(
        &(client_toml("alpha", &["alpha-old", "alpha-new"], ALLOW_ALL_GET)
            + &client_toml("beta", &["beta-key"], ALLOW_ALL_GET)),
    )
}

#[test]
fn authenticates_via_x_token_and_via_bearer() {
    let reg = two_clients();
    assert_eq!(
        &*reg
            .authenticate(&x_token("beta-key"))
            .expect("x-token")
            .name,
        "beta"
    );
    assert_eq!(
        &*reg.authenticate(&bearer("beta-key")).expect("bearer").name,
        "beta"
    );
}

#[test]
fn both_rotation_keys_identify_the_same_client() {
    let reg = two_clients();
    let old = reg.authenticate(&x_token("alpha-old")).expect("old key");
    let new = reg.authenticate(&bearer("alpha-new")).expect("new key");
    assert!(Arc::ptr_eq(&old, &new));
}

#[test]
fn missing_wrong_and_conflicting_credentials_are_refused() {
    let reg = two_clients();
    assert_eq!(
        reg.authenticate(&HeaderMap::new()).map(|c| c.name.clone()),
        Err(AuthError::Missing)
    );
    assert_eq!(
        reg.authenticate(&x_token("nope")).map(|c| c.name.clone()),
        Err(AuthError::Unknown)
    );
    // The hash itself is not a key.
    assert_eq!(
        reg.authenticate(&x_token(&hash_key("beta-key")))
            .map(|c| c.name.clone()),
        Err(AuthError::Unknown)
    );
    let mut both = x_token("alpha-old");
    both.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer beta-key"),
    );
    assert_eq!(
        reg.authenticate(&both).map(|c| c.name.clone()),
        Err(AuthError::Ambiguous)
    );
}

#[test]
fn refusals_map_to_reasons_and_statuses_without_echoing_keys() {
    assert_eq!(AuthError::Missing.reason(), "unauthenticated");
    assert_eq!(AuthError::Unknown.reason(), "unauthenticated");
    assert_eq!(AuthError::Ambiguous.reason(), "unauthenticated");
    assert_eq!(AuthError::Forbidden.reason(), "forbidden");
    assert_eq!(AuthError::Unknown.status(), http::StatusCode::UNAUTHORIZED);
    assert_eq!(AuthError::Forbidden.status(), http::StatusCode::FORBIDDEN);
    let reg = two_clients();
    let err = reg
        .authenticate(&x_token("secret-wrong-key"))
        .expect_err("unknown");
    assert!(!err.message().contains("secret-wrong-key"));
}

#[test]
fn debug_output_shows_names_and_counts_but_no_hashes() {
    let reg = two_clients();
    let client = reg.authenticate(&x_token("alpha-old")).expect("alpha");
    for text in [format!("{reg:?}"), format!("{client:?}")] {
        assert!(text.contains("alpha"), "{text}");
        for key in ["alpha-old", "alpha-new", "beta-key"] {
            assert!(!text.contains(&hash_key(key)), "{text}");
            assert!(!text.contains(key), "{text}");
        }
    }
}

// ---- rate limits ------------------------------------------------------------------------

// per_second = 1 keeps refill negligible over the few milliseconds a test takes.
const SLOW: &str = "rate_limit = { per_second = 1, burst = 3 }";

#[test]
fn burst_passes_then_the_next_request_is_limited() {
    let reg = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    for i in 0..3 {
        assert!(client.check_rate().is_ok(), "request {i} within burst");
    }
    let limited = client.check_rate().expect_err("burst exhausted");
    assert!(limited.retry_after >= Duration::from_secs(1));
    assert_eq!(limited.retry_after.subsec_nanos(), 0, "whole seconds");
    assert_eq!(limited.retry_after_secs(), 1);
    assert_eq!(limited.reason(), "rate_limited");
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    assert_eq!(RateLimited::from_wait(Duration::ZERO).retry_after_secs(), 1);
    assert_eq!(
        RateLimited::from_wait(Duration::from_millis(1)).retry_after_secs(),
        1
    );
    assert_eq!(
        RateLimited::from_wait(Duration::from_secs(2)).retry_after_secs(),
        2
    );
    assert_eq!(
        RateLimited::from_wait(Duration::from_millis(2001)).retry_after_secs(),
        3
    );
}

#[test]
fn clients_without_limit_or_default_are_unlimited() {
    let reg = registry(&client_toml("svc", &["k"], ALLOW_ALL_GET));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    assert_eq!(client.rate_limit(), None);
    assert!((0..1000).all(|_| client.check_rate().is_ok()));
}

#[test]
fn burst_defaults_to_per_second() {
    let extra = format!("rate_limit = {{ per_second = 2 }}\n{ALLOW_ALL_GET}");
    let reg = registry(&client_toml("svc", &["k"], &extra));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    assert!(client.check_rate().is_ok() && client.check_rate().is_ok());
    assert!(client.check_rate().is_err());
}

#[test]
fn buckets_are_per_client() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let reg = registry(&(client_toml("a", &["ka"], &extra) + &client_toml("b", &["kb"], &extra)));
    let a = reg.authenticate(&x_token("ka")).expect("a");
    let b = reg.authenticate(&x_token("kb")).expect("b");
    while a.check_rate().is_ok() {}
    assert!(b.check_rate().is_ok());
}

#[test]
fn a_reload_with_rotated_keys_keeps_an_exhausted_bucket_exhausted() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let before = registry(&client_toml("svc", &["old"], &extra));
    let client = before.authenticate(&x_token("old")).expect("auth");
    for _ in 0..3 {
        client.check_rate().expect("within burst");
    }
    assert!(client.check_rate().is_err());

    let mut after = registry(&client_toml("svc", &["old", "new"], &extra));
    after.inherit_limiters(&before);
    let reloaded = after.authenticate(&x_token("new")).expect("new key works");
    assert!(reloaded.check_rate().is_err(), "bucket must stay exhausted");

    // Without inheriting, the same reload would have handed out a full bucket.
    let fresh = registry(&client_toml("svc", &["old", "new"], &extra));
    assert!(fresh
        .authenticate(&x_token("new"))
        .expect("auth")
        .check_rate()
        .is_ok());
}

#[test]
fn a_changed_limit_or_a_new_client_gets_a_fresh_bucket() {
    let before = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = before.authenticate(&x_token("k")).expect("auth");
    while client.check_rate().is_ok() {}

    let changed = format!("rate_limit = {{ per_second = 1, burst = 5 }}\n{ALLOW_ALL_GET}");
    let mut after = registry(
        &(client_toml("svc", &["k"], &changed)
            + &client_toml("other", &["o"], &format!("{SLOW}\n{ALLOW_ALL_GET}"))),
    );
    after.inherit_limiters(&before);
    let svc = after.authenticate(&x_token("k")).expect("svc");
    assert!(svc.check_rate().is_ok(), "limit changed: new bucket");
    assert_eq!(svc.rate_limit().map(|l| l.burst.get()), Some(5));
    let other = after.authenticate(&x_token("o")).expect("other");
    assert!(other.check_rate().is_ok());
}

#[test]
fn registry_and_clients_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClientRegistry>();
    assert_send_sync::<Arc<Client>>();
}
