//! paycombat refusing the gateway's own credentials (a rotated-away token, a
//! wrong signature key) is the gateway's fault, not the caller's: the caller
//! gets 502 UPSTREAM_CREDENTIALS_REJECTED, the metric the alert watches goes
//! up, nothing is cached, and fixing the credential file restores service.

use std::time::Duration;

use crate::common::*;
use http::Method;

const METRIC: &str = "gateway_upstream_credentials_rejected_total";
const ROTATED: &str = "snd_rotated_at_paycombat";

async fn rejected(app: &TestApp, credential: &str) -> f64 {
    value(&app.metrics().await, METRIC, &[("credential", credential)])
}

/// The 502 the caller gets, carrying none of paycombat's refusal and no secret.
fn assert_rejected(app: &TestApp, r: &Resp) {
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.error_code(), "UPSTREAM_CREDENTIALS_REJECTED");
    let v = r.json();
    assert_eq!(v["status"], false);
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a fault of the calling service")
                && m.contains("operators have been alerted")),
        "{v}"
    );
    let text = r.text();
    for secret in [
        app.sandbox_cfg.token.as_str(),
        ROTATED,
        &String::from_utf8_lossy(&app.sandbox_cfg.signature_key),
        CLIENT_KEY,
    ] {
        assert!(!text.contains(secret), "secret in body: {text}");
    }
    assert!(!text.contains("invalid X-token"), "{text}");
    assert!(!text.contains("invalid signature"), "{text}");
}

#[tokio::test]
async fn a_rotated_away_token_is_a_502_for_the_client_and_restores_on_rotation() {
    let app = spawn_app().await;
    // Pre-created, so the alert's increase() starts from 0.
    let scrape = app.metrics().await;
    assert!(
        scrape.contains(&format!("{METRIC}{{credential=\"token\"}} 0")),
        "{scrape}"
    );
    assert!(scrape.contains(&format!("{METRIC}{{credential=\"token_or_signature\"}} 0")));
    let id = customer_id(41);
    assert_eq!(app.get("/api/v1/anything/warm").await.status, 200);

    // paycombat now expects a token the gateway does not hold.
    app.state().set_token(ROTATED);

    let r = app.get("/api/v1/anything/passthrough").await;
    assert_rejected(&app, &r);
    assert_eq!(rejected(&app, "token").await, 1.0);

    // A cached route: refused, and nothing stored, so each read goes upstream.
    let before = app.state().request_count("customer_detail");
    for n in 1..=2 {
        let r = app.get(&detail(&id)).await;
        assert_rejected(&app, &r);
        assert_eq!(
            app.state().request_count("customer_detail"),
            before + n,
            "read {n} went upstream: the refusal was not cached"
        );
    }
    assert_eq!(rejected(&app, "token").await, 3.0);
    assert_eq!(rejected(&app, "token_or_signature").await, 0.0);
    // paycombat answered, so the breakers stay closed: the alarm is not hidden
    // behind UPSTREAM_CIRCUIT_OPEN.
    for _ in 0..6 {
        assert_rejected(&app, &app.get("/api/v1/anything/again").await);
    }

    // The operator writes the current token; the watcher reloads it.
    std::fs::write(app.path("token"), format!("{ROTATED}\n")).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.get("/api/v1/anything/restored").await.status == 200
        })
        .await,
        "the corrected token restores service"
    );
    let before = app.state().request_count("customer_detail");
    let r = app.get(&detail(&id)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.state().request_count("customer_detail"), before + 1);
    let r = app.get(&detail(&id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.state().request_count("customer_detail"),
        before + 1,
        "the good answer is cached as usual"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_signature_key_suspects_token_or_signature() {
    let app = spawn_app().await;
    app.state()
        .set_signature_key(b"a key the gateway does not hold");
    let body = br#"{"customer_type":"INDIVIDUAL","individual":{"first_name":"Ada"}}"#;
    let r = app
        .send(
            Method::POST,
            "/api/v1/customer/create",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_rejected(&app, &r);
    assert_eq!(rejected(&app, "token_or_signature").await, 1.0);
    assert_eq!(rejected(&app, "token").await, 0.0);
    // Unsigned reads still pass: the token is fine.
    assert_eq!(app.get("/api/v1/anything/read").await.status, 200);
    assert_eq!(rejected(&app, "token").await, 0.0);
    app.stop().await;
}

#[tokio::test]
async fn a_403_is_paycombats_answer_and_passes_through() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/forbidden",
            &[("x-sandbox-fault", "status=403")],
            b"",
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_ne!(r.error_code(), "UPSTREAM_CREDENTIALS_REJECTED");
    assert_eq!(rejected(&app, "token").await, 0.0);
    assert_eq!(rejected(&app, "token_or_signature").await, 0.0);
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_token_never_serves_a_stale_entry() {
    let app = spawn_app_overlay(
        r#"
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "30s"
"#,
    )
    .await;
    let id = customer_id(42);
    assert_eq!(app.get(&detail(&id)).await.status, 200);
    // Past the 1 s TTL by the gateway's clock.
    app.clock.advance(Duration::from_millis(1_150));
    // The stale window does serve for a paycombat outage...
    let r = app
        .send(
            Method::GET,
            &detail(&id),
            &[("x-sandbox-fault", "status=503")],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // ...but not once paycombat refuses the gateway's credentials.
    app.state().set_token(ROTATED);
    let r = app.get(&detail(&id)).await;
    assert_rejected(&app, &r);
    assert_eq!(rejected(&app, "token").await, 1.0);
    app.stop().await;
}
