use super::*;

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
    let mesh = ClientCertificate {
        subjects: vec![
            Subject::uri("spiffe://cluster.local/ns/payouts/sa/payout-service").unwrap(),
        ],
    };
    assert!(Arc::ptr_eq(
        &reg.identify(&HeaderMap::new(), Some(&mesh))
            .expect("payout certificate"),
        &payout
    ));
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
