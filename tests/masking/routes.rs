//! Masking by route: the fixture and generated customers with each strategy, lists, writes and nested envelopes.

use super::*;

#[tokio::test]
async fn fixture_customer_is_masked_with_each_strategy() {
    let app = spawn_app().await;
    let before = app.metrics().await;
    let raw = upstream(&app, &detail_path(FIXTURE_ID)).await;
    let r = app.get(&detail_path(FIXTURE_ID)).await;
    let values = assert_masked_copy(&raw.body, &r, "fixture detail");
    assert_eq!(values.len(), 17, "the fixture's non-null personal fields");
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    assert!(r.headers.get("content-encoding").is_none());
    assert_eq!(
        r.header("content-length"),
        r.body.len().to_string(),
        "the length of the masked body"
    );

    let d = &r.json()["data"];
    let p = &d["individual"];
    assert_eq!(p["phone_number"], "*******1124");
    assert_eq!(p["phone_number_e164"], "**********1124");
    assert_eq!(p["email"], "f*****@*****");
    assert_eq!(p["identification_value"], hmac_of("33777777").as_str());
    assert!(p["identification_value"]
        .as_str()
        .unwrap()
        .starts_with("hmac_"));
    for redacted in [
        "first_name",
        "last_name",
        "dob",
        "nationality",
        "country_of_residence",
        "identification_type",
        "address_line1",
        "address_line2",
        "address_city",
        "address_state",
        "address_zip_code",
        "address_country",
        "phone_country_code",
    ] {
        assert_eq!(p[redacted], "[REDACTED]", "{redacted}");
    }
    assert!(
        p["identification_custom_type"].is_null(),
        "null carries nothing and stays null"
    );
    assert!(d["company_domain"].is_null());
    // Non-personal fields, spelled out.
    assert_eq!(d["customer_id"], FIXTURE_ID);
    assert_eq!(d["org_id"], "org_59b8fb2f52254f95ac54d0e140f4e429");
    assert_eq!(d["type"], "individual");
    assert_eq!(d["is_active"], false);
    // Declared by the test harness (the shipped policy masks it; see tests/it/common).
    assert_eq!(d["description"], "Test New Customer 2");
    assert_eq!(d["created_at"], "2024-12-06T03:53:52.779Z");
    assert_eq!(d["updated_at"], "2024-12-19T10:55:31.771Z");

    // One body: each rule counted exactly as often as it fired.
    let after = app.metrics().await;
    for field in [
        "identification_value",
        "email",
        "phone_number",
        "first_name",
        "address_line2",
    ] {
        assert_eq!(
            masked_total(&after, field) - masked_total(&before, field),
            1.0,
            "{field}"
        );
    }
    assert_eq!(
        masked_total(&after, "identification_custom_type"),
        0.0,
        "null values are not counted"
    );
    app.stop().await;
}

#[tokio::test]
async fn generated_individual_and_company_customers_are_masked() {
    let app = spawn_app().await;
    let (ind, raw_ind) = generated_customer(&app, "individual", 1).await;
    let r = app.get(&detail_path(&ind)).await;
    assert_masked_copy(&raw_ind.body, &r, "individual");
    let raw = raw_ind.json();
    let p = &r.json()["data"]["individual"];
    assert_eq!(
        p["identification_value"],
        hmac_of(
            raw["data"]["individual"]["identification_value"]
                .as_str()
                .unwrap()
        )
        .as_str()
    );
    assert_eq!(p["first_name"], "[REDACTED]");

    let (co, raw_co) = generated_customer(&app, "company", 1).await;
    let r = app.get(&detail_path(&co)).await;
    assert_masked_copy(&raw_co.body, &r, "company");
    let raw = raw_co.json();
    let (c, rc) = (&r.json()["data"]["company"], &raw["data"]["company"]);
    assert_eq!(c["name"], "[REDACTED]");
    assert_eq!(c["company_domain"], "[REDACTED]");
    assert_eq!(r.json()["data"]["company_domain"], "[REDACTED]");
    let reg = rc["registration_number"].as_str().unwrap();
    // `last4` keeps digits of a number only: a registration number with letters is masked
    // whole (a partial strategy checks the part it keeps).
    let expected = if reg.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}{}", "*".repeat(reg.len() - 4), &reg[reg.len() - 4..])
    } else {
        "[REDACTED]".to_owned()
    };
    assert_eq!(c["registration_number"], expected.as_str());
    let domain = rc["company_domain"].as_str().unwrap();
    // A company domain names the company: masked with the rest.
    assert_eq!(c["company_email"], "f*****@*****");
    assert!(!r.text().contains(domain));
    let user = &c["authorized_user"];
    assert_eq!(user["last_name"], "[REDACTED]");
    assert_eq!(
        user["identification_value"],
        hmac_of(
            rc["authorized_user"]["identification_value"]
                .as_str()
                .unwrap()
        )
        .as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn lists_wallet_ready_and_beneficiaries_are_masked_with_exact_counts() {
    let app = spawn_app().await;
    let path = "/api/v1/customer/customer?page=1&limit=30";
    let raw = upstream(&app, path).await;
    let before = app.metrics().await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "customer list");
    assert_eq!(r.json()["data"]["items"].as_array().unwrap().len(), 30);
    let after = app.metrics().await;
    for field in [
        "identification_value",
        "email",
        "phone_number",
        "name",
        "company_email",
    ] {
        let expected = count_of(&values, field);
        assert!(expected > 0.0, "{field} occurs in the list");
        assert_eq!(
            masked_total(&after, field) - masked_total(&before, field),
            expected,
            "{field}"
        );
    }

    // Beneficiaries: bank fields, and individual / company objects nested in an array.
    let path = "/api/v1/payout/beneficiary?limit=25";
    let raw = upstream(&app, path).await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "beneficiary list");
    for key in [
        "account_number",
        "iban",
        "bsb",
        "bic_swift",
        "aba",
        "sort_code",
        "pay_id",
        "ifsc",
        "proxy_value",
        "beneficiary_name",
    ] {
        assert_eq!(count_of(&values, key), 25.0, "{key} in every beneficiary");
    }
    let items = r.json()["data"]["items"].as_array().unwrap().clone();
    assert!(items
        .iter()
        .any(|b| b["individual"]["first_name"] == "[REDACTED]"));
    assert!(items
        .iter()
        .any(|b| b["company"]["authorized_user"]["first_name"] == "[REDACTED]"));
    let acct = raw.json()["data"]["items"][0]["account_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        items[0]["account_number"],
        format!("{}{}", "*".repeat(acct.len() - 4), &acct[acct.len() - 4..]).as_str()
    );

    // Wallet-ready holds no personal value: it goes through the masker unchanged but for
    // the envelope's free text, which its `enforce` policy does not declare.
    for id in [FIXTURE_ID.to_owned(), customer_id(3), customer_id(4)] {
        let path = format!("/api/v1/customer/customer-wallet-is-ready/{id}");
        let mut raw = upstream(&app, &path).await.json();
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.text());
        raw["message"] = "[REDACTED]".into();
        assert_eq!(r.json(), raw, "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn payins_and_customer_writes_mask_the_response_but_never_the_request() {
    let app = spawn_app().await;
    // Payin retrieve.
    let path = "/api/v1/payin/retrieve-payin/payin_abc123";
    let raw = upstream(&app, path).await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "payin retrieve");
    assert_eq!(values.len(), 5);
    let p = r.json()["data"].clone();
    assert_eq!(p["customer_full_name"], "[REDACTED]");
    assert!(p["payer_id"].as_str().unwrap().starts_with("hmac_"));
    assert!(p["customer_personal_number"]
        .as_str()
        .unwrap()
        .starts_with("hmac_"));
    assert!(p["customer_email"].as_str().unwrap().contains("*****@"));

    // Payin create: the sandbox echoes the caller's fields.
    let body = br#"{"amount":"42.00","currency":"SGD","customer_full_name":"Wanda Personal","customer_email":"wanda.personal@example.org","customer_phone":"+6591234567","customer_personal_number":"S9876543Q","payer_id":"P1234567X"}"#;
    let r = app
        .send(
            Method::POST,
            "/api/v1/payin/create",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Wanda Personal",
        "wanda.personal@example.org",
        "+6591234567",
        "S9876543Q",
        "P1234567X",
    ] {
        assert!(
            !contains(&r.body, raw.as_bytes()),
            "{raw} in the payin create response"
        );
    }
    let d = r.json()["data"].clone();
    assert_eq!(d["amount"], "42.00");
    assert_eq!(d["customer_phone"], "*******4567");
    assert_eq!(d["customer_email"], "w*****@*****");
    assert_eq!(d["customer_personal_number"], hmac_of("S9876543Q").as_str());
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "payin_create")
        .unwrap();
    assert_eq!(
        &seen.body[..],
        &body[..],
        "the request reached paycombat byte for byte, unmasked"
    );

    // Customer create and update: same.
    let create = br#"{"type":"individual","description":"masking test","individual":{"first_name":"Quentin","last_name":"Rawvalue","email":"quentin.rawvalue@example.net","phone_number":"81234567","identification_value":"X7777777Z","dob":"1990-02-03"}}"#;
    let r = app
        .send(
            Method::POST,
            "/api/v1/customer/create",
            &[("content-type", "application/json")],
            create,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Quentin",
        "Rawvalue",
        "quentin.rawvalue@example.net",
        "81234567",
        "X7777777Z",
        "1990-02-03",
    ] {
        assert!(
            !contains(&r.body, raw.as_bytes()),
            "{raw} in the create response"
        );
    }
    assert_eq!(r.json()["data"]["description"], "masking test");
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "customer_create")
        .unwrap();
    assert_eq!(&seen.body[..], &create[..]);

    let id = r.json()["data"]["customer_id"].as_str().unwrap().to_owned();
    let update =
        format!(r#"{{"customer_id":"{id}","individual":{{"address_line1":"12 Secret Lane"}}}}"#);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            update.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!contains(&r.body, b"Secret Lane"));
    assert_eq!(
        r.json()["data"]["individual"]["address_line1"],
        "[REDACTED]"
    );
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "customer_update")
        .unwrap();
    assert_eq!(&seen.body[..], update.as_bytes());
    // paycombat stored the real value: the sandbox, asked directly, has it.
    assert!(contains(
        &upstream(&app, &detail_path(&id)).await.body,
        b"12 Secret Lane"
    ));
    app.stop().await;
}

#[tokio::test]
async fn nested_write_envelopes_and_upstream_errors_go_through_the_masker() {
    let app = spawn_app().await;
    let id = customer_id(77);
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/customer/disable/{id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["data"]["success"], true);
    assert_eq!(v["data"]["status_code"], 200);
    assert_eq!(
        v["data"]["data"],
        serde_json::json!({"customer_id": id, "is_active": false})
    );

    let r = app.send(Method::DELETE, &detail_path(&id), &[], b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["data"]["data"],
        serde_json::json!({"customer_id": id, "deleted": true})
    );

    // paycombat's own 404 envelope: its free text is masked on this `enforce` route (a message
    // may name the customer), the rest comes back as paycombat wrote it.
    let before = app.state().request_count("customer_detail");
    for _ in 0..2 {
        let r = app.get(&detail_path(&id)).await;
        assert_eq!(r.status, 404);
        assert_eq!(
            &r.body[..],
            br#"{"status":false,"message":"[REDACTED]","data":null}"#
        );
    }
    assert_eq!(
        app.state().request_count("customer_detail"),
        before + 2,
        "an error is never cached"
    );

    // An upstream failure status is forwarded as an envelope, not as raw bytes.
    let r = fault_get(&app, "/api/v1/payin/retrieve-payin/p1", "status=400").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["status"], false);
    app.stop().await;
}
