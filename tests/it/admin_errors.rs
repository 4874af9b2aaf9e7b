//! The admin listener answers its errors in the same envelope as the API,
//! with stable codes and a request id a caller can quote.

use crate::common::*;
use http::Method;

/// The envelope's keys in paycombat's order, the code, and a request id that
/// is the one in the `X-Request-Id` header (the caller's when it sent one).
fn assert_envelope(r: &Resp, status: u16, code: &str, sent_id: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.body.starts_with(br#"{"status":false,"message":"#),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["data"], serde_json::Value::Null);
    assert_eq!(v["error"]["code"], code);
    let id = v["error"]["request_id"].as_str().expect("request id");
    assert!(!id.is_empty(), "{}", r.text());
    assert_eq!(id, r.header("x-request-id"));
    if let Some(sent) = sent_id {
        assert_eq!(id, sent);
    }
}

async fn purge_all(app: &TestApp, authorization: &str) -> Resp {
    app.admin(
        Method::POST,
        "/admin/cache/purge?all=true",
        &[("authorization", authorization)],
    )
    .await
}

#[tokio::test]
async fn admin_errors_carry_the_envelope_and_a_request_id() {
    let app = spawn_app().await;
    let auth = format!("Bearer {ADMIN_TOKEN}");

    let r = app.admin(Method::GET, "/nope", &[]).await;
    assert_envelope(&r, 404, "NOT_FOUND", None);
    let r = app
        .admin(Method::GET, "/nope", &[("x-request-id", "sre-42")])
        .await;
    assert_envelope(&r, 404, "NOT_FOUND", Some("sre-42"));

    let r = purge_all(&app, "Bearer wrong").await;
    assert_envelope(&r, 401, "UNAUTHENTICATED", None);

    let r = app
        .admin(
            Method::POST,
            "/admin/cache/purge",
            &[("authorization", &auth)],
        )
        .await;
    assert_envelope(&r, 400, "BAD_REQUEST", None);

    // Successes too: paycombat's key order, as the README shows them.
    let r = purge_all(&app, &auth).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"status":true,"message":"purged","data":{"all":true}}"#
    );
    let r = app
        .admin(
            Method::GET,
            "/admin/mask/undeclared",
            &[("authorization", &auth)],
        )
        .await;
    assert!(
        r.body
            .starts_with(br#"{"status":true,"message":"OK","data":{"#),
        "{}",
        r.text()
    );
    app.stop().await;

    let app = spawn_app_overlay("[cache]\nenabled = false").await;
    let r = purge_all(&app, &auth).await;
    assert_envelope(&r, 409, "CACHE_DISABLED", None);
    app.stop().await;

    let app = spawn_app_overlay("[admin]\ntoken_file = \"\"").await;
    let r = purge_all(&app, &auth).await;
    assert_envelope(&r, 404, "NOT_FOUND", None);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("admin.token_file"));
    app.stop().await;
}
