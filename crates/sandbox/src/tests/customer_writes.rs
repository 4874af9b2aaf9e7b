use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::{call, detail_path, ready_path, start};
use crate::customer_gen::{generate, sequence_id};

/// An individual, active customer lacking some fields.
fn incomplete_customer() -> (String, Vec<String>) {
    (0..1000)
        .map(|i| sequence_id("incomplete", i))
        .find_map(|id| {
            let c = generate(&id);
            let missing = crate::readiness::missing_fields(&c);
            let fits = c["type"] == "individual" && c["is_active"] == true && !missing.is_empty();
            fits.then_some((id, missing))
        })
        .expect("some generated customer is incomplete")
}

#[tokio::test]
async fn update_changes_detail_and_wallet_readiness() {
    let sb = start().await;
    let (id, missing) = incomplete_customer();
    let before = call(&sb, Method::GET, &ready_path(&id), b"").await.json();
    assert_eq!(before["data"]["is_wallet_ready"], false);
    assert_eq!(before["data"]["missing_field"], json!(missing));

    let mut individual = serde_json::Map::new();
    for path in &missing {
        let field = path.trim_start_matches("individual.");
        individual.insert(field.to_owned(), Value::String(format!("filled-{field}")));
    }
    let body =
        serde_json::to_vec(&json!({"customer_id": id, "individual": individual})).expect("json");
    let updated = call(&sb, Method::PATCH, "/api/v1/customer/update", &body).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.json()["data"]["is_wallet_ready"], true);

    let after = call(&sb, Method::GET, &ready_path(&id), b"").await.json();
    assert_eq!(
        after["data"],
        json!({"is_wallet_ready": true, "missing_field": []})
    );
    let detail = call(&sb, Method::GET, &detail_path(&id), b"").await.json();
    let first_missing = missing[0].trim_start_matches("individual.");
    assert_eq!(
        detail["data"]["individual"][first_missing],
        format!("filled-{first_missing}")
    );

    // An empty string clears the field again.
    let clear = serde_json::to_vec(&json!({"customer_id": id, "individual": {first_missing: ""}}))
        .expect("json");
    assert_eq!(
        call(&sb, Method::PATCH, "/api/v1/customer/update", &clear)
            .await
            .status,
        StatusCode::OK
    );
    let cleared = call(&sb, Method::GET, &ready_path(&id), b"").await.json();
    assert_eq!(cleared["data"]["missing_field"], json!([missing[0]]));

    // Only a wallet-ready customer gets a wallet.
    let wallet = serde_json::to_vec(&json!({"customer_id": id})).expect("json");
    assert_eq!(
        call(&sb, Method::POST, "/api/v1/wallet/create", &wallet)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let refill =
        serde_json::to_vec(&json!({"customer_id": id, first_missing: "again"})).expect("json");
    assert_eq!(
        call(&sb, Method::PATCH, "/api/v1/customer/update", &refill)
            .await
            .status,
        StatusCode::OK
    );
    let created = call(&sb, Method::POST, "/api/v1/wallet/create", &wallet).await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.json()["data"]["customer_id"], id.as_str());
}

#[tokio::test]
async fn create_disable_enable_delete_lifecycle() {
    let sb = start().await;
    let body = serde_json::to_vec(&json!({
        "type": "individual",
        "description": "lifecycle",
        "individual": {"first_name": "Ana", "email": "ana@example.com"}
    }))
    .expect("json");
    let created = call(&sb, Method::POST, "/api/v1/customer/create", &body)
        .await
        .json();
    let id = created["data"]["customer_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(crate::customer_gen::is_valid_id(&id));

    let detail = call(&sb, Method::GET, &detail_path(&id), b"").await.json();
    assert_eq!(detail["data"]["individual"]["email"], "ana@example.com");
    assert_eq!(detail["data"]["is_active"], true);

    let list = call(
        &sb,
        Method::GET,
        "/api/v1/customer/customer?page=1&limit=500",
        b"",
    )
    .await
    .json();
    assert_eq!(list["data"]["limit"], 100);
    assert_eq!(list["data"]["items"].as_array().map(Vec::len), Some(100));
    let total = list["data"]["total_items"].as_u64().expect("total");
    let last_page = total.div_ceil(100);
    let tail = call(
        &sb,
        Method::GET,
        &format!("/api/v1/customer/customer?page={last_page}&limit=100"),
        b"",
    )
    .await
    .json();
    let tail_items = tail["data"]["items"].as_array().expect("items");
    assert_eq!(
        tail_items.last().map(|c| c["customer_id"].clone()),
        Some(Value::String(id.clone()))
    );

    let disabled = call(
        &sb,
        Method::PATCH,
        &format!("/api/v1/customer/disable/{id}"),
        b"",
    )
    .await
    .json();
    for key in [
        "request_id",
        "request_time",
        "success",
        "status_code",
        "status_text",
        "data",
    ] {
        assert!(
            disabled["data"].get(key).is_some(),
            "nested envelope lacks {key}"
        );
    }
    assert_eq!(
        call(&sb, Method::GET, &detail_path(&id), b"").await.json()["data"]["is_active"],
        false
    );
    call(
        &sb,
        Method::PATCH,
        &format!("/api/v1/customer/enable/{id}"),
        b"",
    )
    .await;
    assert_eq!(
        call(&sb, Method::GET, &detail_path(&id), b"").await.json()["data"]["is_active"],
        true
    );

    let deleted = call(&sb, Method::DELETE, &detail_path(&id), b"").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["data"]["status_code"], 200);
    assert_eq!(
        call(&sb, Method::GET, &detail_path(&id), b"").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&sb, Method::GET, &ready_path(&id), b"").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&sb, Method::DELETE, &detail_path(&id), b"")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let update = serde_json::to_vec(&json!({"customer_id": id, "description": "z"})).expect("json");
    assert_eq!(
        call(&sb, Method::PATCH, "/api/v1/customer/update", &update)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A generated customer can be deleted too.
    let generated = sequence_id("api-test", 9);
    call(&sb, Method::DELETE, &detail_path(&generated), b"").await;
    assert_eq!(
        call(&sb, Method::GET, &detail_path(&generated), b"")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
