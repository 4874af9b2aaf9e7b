//! Masking whatever the answer looks like: error envelopes, other spellings, cache hits, compressed and mislabelled bodies.

use super::*;

#[tokio::test]
async fn error_envelopes_carrying_personal_data_are_masked_on_every_route() {
    let body = br#"{"status":false,"message":"validation failed","data":{"email":"err.person@example.com","identification_value":"S1111111D","phone_number":"98765432","field":"dob"}}"#;
    let base = canned_upstream(vec![(
        "/",
        vec![http_response(
            "422 Unprocessable Entity",
            "application/problem+json",
            body,
        )],
    )])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        ..Options::default()
    })
    .await;
    for path in [
        detail_path(&customer_id(5)),
        "/api/v1/payout/create-payout-status/x".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text());
        for raw in ["err.person@example.com", "S1111111D", "98765432"] {
            assert!(!contains(&r.body, raw.as_bytes()), "{path}: {raw}");
        }
        let d = r.json()["data"].clone();
        assert_eq!(d["email"], "e*****@*****");
        assert_eq!(d["identification_value"], hmac_of("S1111111D").as_str());
        assert_eq!(d["phone_number"], "****5432");
        // On the `report` route the value names a personal field (`dob`), so its object is
        // read as personal and the name is masked with everything else in it; on the
        // `enforce` route it is undeclared, and so is its key: the gateway writes its own.
        if path.starts_with("/api/v1/payout") {
            assert_eq!(d["field"], "[REDACTED]", "{path}");
        } else {
            assert_eq!(d["<key>#3"], "[REDACTED]", "{path}");
            assert!(d.get("field").is_none(), "{path}: an undeclared key copied");
        }
        let message = &r.json()["message"];
        if path.starts_with("/api/v1/payout") {
            assert_eq!(message, "validation failed");
        } else {
            assert_eq!(message, "[REDACTED]", "free text on an enforce route");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn other_spellings_objects_under_rules_and_json_in_strings_are_masked() {
    let note = serde_json::json!({
        "email": "hidden.person@example.com",
        "Phone-Number": "6281234567890",
    })
    .to_string();
    let body = serde_json::json!({
        "status": true,
        "message": "Customer retrieved",
        "data": {
            // An id of the documented shape (`customer_` + 32 hex): a declared `id` copies only
            // id shapes (`cus_canned42` holds the word `canned`, as a name would).
            "customer_id": "customer_00000000000000000000000000cafe42",
            "type": "individual",
            // Declared `text` by the harness: an undeclared key on this `enforce` route would
            // be the gateway's `<key>#N`.
            "description": note,
            "individual": {
                "firstName": "Jennie",
                "phoneNumber": "85156781124",
                "email": {"victim@example.com": true},
            },
        },
    })
    .to_string();
    let base = canned_upstream(vec![(
        "/",
        vec![http_response("200 OK", "application/json", body.as_bytes())],
    )])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        ..Options::default()
    })
    .await;
    let r = app.get(&detail_path(&customer_id(5))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Jennie",
        "85156781124",
        "victim@example.com",
        "hidden.person",
        "6281234567890",
    ] {
        assert!(!contains(&r.body, raw.as_bytes()), "{raw} leaked");
    }
    let ind = r.json()["data"]["individual"].clone();
    assert_eq!(ind["firstName"], "[REDACTED]");
    assert_eq!(ind["phoneNumber"], "*******1124");
    assert_eq!(ind["email"], "[REDACTED]");
    let note: Value =
        serde_json::from_str(r.json()["data"]["description"].as_str().expect("a string")).unwrap();
    assert_eq!(
        note,
        serde_json::json!({"email": "h*****@*****", "Phone-Number": "*********7890"})
    );
    assert_eq!(
        r.json()["data"]["customer_id"],
        "customer_00000000000000000000000000cafe42"
    );
    let scrape = app.metrics().await;
    assert_eq!(masked_total(&scrape, "phone_number"), 2.0);
    assert_eq!(masked_total(&scrape, "email"), 2.0);
    assert_eq!(masked_total(&scrape, "first_name"), 1.0);
    app.stop().await;
}

#[tokio::test]
async fn a_cache_hit_replays_the_masked_bytes() {
    let app = spawn_app().await;
    let raw = upstream(&app, &detail_path(FIXTURE_ID)).await;
    let first = app.get(&detail_path(FIXTURE_ID)).await;
    assert_masked_copy(&raw.body, &first, "first read");
    assert!(
        !first.header("cache-status").contains("hit"),
        "{}",
        first.header("cache-status")
    );
    let masked_once = masked_total(&app.metrics().await, "identification_value");

    let reads = app.state().request_count("customer_detail");
    let second = app.get(&detail_path(FIXTURE_ID)).await;
    assert!(
        second.header("cache-status").contains("hit"),
        "{}",
        second.header("cache-status")
    );
    assert_eq!(second.body, first.body, "byte-identical");
    assert_eq!(
        app.state().request_count("customer_detail"),
        reads,
        "served from the cache"
    );
    // The entry was masked before it was stored: a hit does not run the masker again.
    assert_eq!(
        masked_total(&app.metrics().await, "identification_value"),
        masked_once
    );

    // Wallet-ready, the other cached route, likewise.
    let path = format!("/api/v1/customer/customer-wallet-is-ready/{FIXTURE_ID}");
    let a = app.get(&path).await;
    let b = app.get(&path).await;
    assert!(b.header("cache-status").contains("hit"));
    assert_eq!(a.body, b.body);
    app.stop().await;
}

#[tokio::test]
async fn compressed_bodies_are_decoded_then_masked() {
    let app = spawn_app().await;
    let direct = upstream_with(
        &app,
        "/api/v1/payin/retrieve-payin/pz",
        &[("x-sandbox-fault", "br")],
    )
    .await;
    assert_eq!(
        direct.header("content-encoding"),
        "br",
        "the sandbox really encodes"
    );

    // Whatever the client accepts, the gateway asks paycombat for identity.
    let r = get_with(
        &app,
        "/api/v1/payin/retrieve-payin/pz",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert!(r.headers.get("content-encoding").is_none());
    let seen = app.state().requests().pop().unwrap();
    assert_eq!(seen.headers["accept-encoding"], "identity");

    let passthrough = "/api/v1/payin/retrieve-payin/pz";
    let plain_raw = upstream(&app, passthrough).await;
    let reference = app.get(passthrough).await;
    assert_masked_copy(&plain_raw.body, &reference, "identity payin");
    for (n, coding) in ["gzip", "deflate", "br"].into_iter().enumerate() {
        let r = fault_get(&app, passthrough, coding).await;
        assert_eq!(r.status, 200, "{coding}: {}", r.text());
        assert!(r.headers.get("content-encoding").is_none(), "{coding}");
        assert_eq!(
            r.header("content-length"),
            r.body.len().to_string(),
            "{coding}"
        );
        assert_eq!(
            r.body, reference.body,
            "{coding}: same masked bytes as the identity answer"
        );

        // Cached route, a customer not read before.
        let path = detail_path(&customer_id(900 + n as u64));
        let raw = upstream(&app, &path).await;
        let r = fault_get(&app, &path, coding).await;
        assert!(r.headers.get("content-encoding").is_none(), "{coding}");
        assert_masked_copy(&raw.body, &r, coding);
        assert!(
            r.header("cache-status").contains("stored"),
            "{}",
            r.header("cache-status")
        );
        let refreshed = get_with(&app, &path, &[("cache-control", "no-cache")]).await;
        assert_eq!(refreshed.body, r.body, "{coding}: same as an identity read");
    }
    app.stop().await;
}

#[tokio::test]
async fn json_labelled_text_plain_is_still_masked() {
    let app = spawn_app().await;
    let path = "/api/v1/payin/retrieve-payin/ptext";
    let direct = upstream_with(&app, path, &[("x-sandbox-fault", "wrong_content_type")]).await;
    assert!(direct.header("content-type").starts_with("text/plain"));
    let r = fault_get(&app, path, "wrong_content_type").await;
    assert_masked_copy(
        &upstream(&app, path).await.body,
        &r,
        "passthrough text/plain",
    );

    let detail = detail_path(FIXTURE_ID);
    let r = fault_get(&app, &detail, "wrong_content_type").await;
    assert_masked_copy(&upstream(&app, &detail).await.body, &r, "cached text/plain");
    let hit = app.get(&detail).await;
    assert!(!contains(&hit.body, b"33777777"));
    app.stop().await;
}
