use super::*;

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
