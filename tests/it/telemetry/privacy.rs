//! No span attribute carries a customer id, a path, a query or personal data.

use std::time::Duration;

use http::Method;

use crate::common::otlp::Receiver;
use crate::common::*;

use super::*;

/// Every string in `v` that looks like personal data (has a digit, an `@`
/// or a space, and at least 6 characters).
fn personal_values(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s)
            if s.len() >= 6
                && s.chars()
                    .any(|c| c.is_ascii_digit() || c == '@' || c == ' ') =>
        {
            out.push(s.clone())
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| personal_values(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| personal_values(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn no_span_attribute_carries_a_customer_id_a_path_a_query_or_personal_data() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let id = customer_id(7004);
    let raw = request(
        &app.client,
        Method::GET,
        &format!("{}/api/v1/customer/customer/{id}", app.sandbox.base_url()),
        &[("x-token", app.sandbox_cfg.token.as_str())],
        b"",
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let mut seeded = Vec::new();
    personal_values(&raw.json(), &mut seeded);
    assert!(
        seeded.len() >= 3,
        "the sandbox seeds personal data: {}",
        raw.text()
    );

    let email = seeded
        .iter()
        .find(|s| s.contains('@'))
        .cloned()
        .unwrap_or_else(|| "someone@example.com".into());
    let calls = [
        (
            Method::GET,
            format!("/api/v1/customer/customer/{id}"),
            Vec::new(),
        ),
        (
            Method::GET,
            format!("/api/v1/customer/customer/{id}"),
            Vec::new(),
        ),
        (
            Method::GET,
            format!("/api/v1/customer/customer?email={email}&page=1"),
            Vec::new(),
        ),
        (
            Method::GET,
            format!("/api/v1/customer/customer-wallet-is-ready/{id}?x=1"),
            Vec::new(),
        ),
        (
            Method::PATCH,
            "/api/v1/customer/update".to_owned(),
            serde_json::json!({"customer_id": id, "email": email})
                .to_string()
                .into_bytes(),
        ),
    ];
    for (method, path, body) in &calls {
        app.send(method.clone(), path, &[], body).await;
    }
    let done = eventually(Duration::from_secs(5), || async {
        rx.spans().iter().filter(|s| s.kind == KIND_SERVER).count() >= calls.len()
    })
    .await;
    assert!(done, "{:#?}", rx.spans());
    let spans = rx.spans();
    let hex_id = id.trim_start_matches("customer_");
    for s in &spans {
        for text in std::iter::once(&s.name).chain(s.attributes.iter().flat_map(|(k, v)| [k, v])) {
            assert!(!text.contains(hex_id), "customer id in {s:#?}");
            assert!(
                !text.contains('/') && !text.contains('?'),
                "a path in {s:#?}"
            );
            for value in &seeded {
                assert!(!text.contains(value.as_str()), "{value:?} in {s:#?}");
            }
        }
    }
    app.stop().await;
}
