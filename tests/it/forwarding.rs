//! Forwarding headers end to end: what paycombat receives about the client, as recorded by the
//! sandbox, for a direct (untrusted) client and for one behind a trusted proxy.

use http::Method;

use crate::common::*;

/// Headers a client might send to pose as someone, somewhere or something else.
const SPOOFED: &[(&str, &str)] = &[
    ("x-real-ip", "203.0.113.9"),
    ("x-forwarded-host", "admin.internal"),
    (
        "forwarded",
        "for=203.0.113.9;host=admin.internal;proto=https",
    ),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-port", "443"),
    ("x-forwarded-prefix", "/internal"),
    ("x-original-url", "/api/v1/customer/customer"),
    ("x-rewrite-url", "/api/v1/customer/customer"),
    ("x-original-forwarded-for", "203.0.113.9"),
    ("x-http-method-override", "DELETE"),
    ("true-client-ip", "203.0.113.9"),
];

async fn send_spoofed(app: &TestApp, path: &str, xff: &str) -> paycombat_sandbox::RecordedRequest {
    let mut headers = SPOOFED.to_vec();
    headers.push(("x-forwarded-for", xff));
    let r = app.send(Method::GET, path, &headers, b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = app.state().requests().pop().expect("forwarded");
    assert_eq!(seen.path_and_query, path);
    for (name, _) in SPOOFED {
        if *name != "x-forwarded-proto" {
            assert!(seen.headers.get(*name).is_none(), "{name} reached upstream");
        }
    }
    assert_eq!(seen.headers["x-forwarded-proto"], "http");
    assert_eq!(seen.headers.get_all("x-forwarded-for").iter().count(), 1);
    seen
}

#[tokio::test]
async fn an_untrusted_client_cannot_choose_its_forwarded_address_host_or_scheme() {
    let app = spawn_app().await;
    let seen = send_spoofed(&app, "/api/v1/anything/untrusted", "198.51.100.1, 10.0.0.1").await;
    assert_eq!(
        seen.headers["x-forwarded-for"], "127.0.0.1",
        "the chain is replaced by the peer"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_keeps_its_chain_and_the_peer_is_appended() {
    let app = spawn_app_overlay("[server]\ntrusted_proxies = [\"127.0.0.1/32\"]").await;
    let seen = send_spoofed(&app, "/api/v1/anything/trusted", "198.51.100.1, 10.0.0.1").await;
    assert_eq!(
        seen.headers["x-forwarded-for"],
        "198.51.100.1, 10.0.0.1, 127.0.0.1"
    );
    // Without a chain, the peer starts one.
    let r = app.get("/api/v1/anything/trusted-bare").await;
    assert_eq!(r.status, 200);
    let seen = app.state().requests().pop().unwrap();
    assert_eq!(seen.headers["x-forwarded-for"], "127.0.0.1");
    app.stop().await;
}

#[tokio::test]
async fn a_trusted_list_that_does_not_cover_the_peer_changes_nothing() {
    let app = spawn_app_overlay("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]").await;
    let seen = send_spoofed(&app, "/api/v1/anything/other-proxy", "198.51.100.1").await;
    assert_eq!(seen.headers["x-forwarded-for"], "127.0.0.1");
    app.stop().await;
}
