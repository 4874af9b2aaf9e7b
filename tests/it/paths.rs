//! Path rules end to end: spellings a servlet-style upstream (or a decoding proxy) would read as a
//! different route are refused with 400 BAD_PATH before routing, the allowlist or the upstream.

use http::Method;

use crate::common::*;

const PAYOUT_KEY: &str = "payout-only-client-key";

fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| raw.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// A gateway whose clients file also has a client allowed only `/api/v1/payout/**`.
async fn spawn_with_payout_client(files: &tempfile::TempDir) -> TestApp {
    let clients = files.path().join("clients.toml");
    let payout = clients::ClientEntry::new("payout")
        .key(PAYOUT_KEY)
        .allow(&["*"], "/api/v1/payout/**");
    std::fs::write(&clients, clients::harness_clients_and([payout])).unwrap();
    spawn_app_overlay(&format!("[auth]\nclients_file = \"{}\"", clients.display())).await
}

async fn raw(app: &TestApp, method: &str, path: &str, key: &str) -> String {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nX-token: {key}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    raw_exchange(app.addr, req.as_bytes()).await
}

#[tokio::test]
async fn path_parameter_traversal_from_a_payout_only_client_is_400_and_never_forwarded() {
    let files = tempfile::tempdir().unwrap();
    let app = spawn_with_payout_client(&files).await;
    let id = customer_id(7);
    for path in [
        format!("/api/v1/payout/..;/customer/customer/{id}"),
        format!("/api/v1/payout/..;x=1/customer/customer/{id}"),
        format!("/api/v1/payout/..%3b/customer/customer/{id}"),
        format!("/api/v1/payout/..%3B/customer/customer/{id}"),
        format!("/api/v1/payout/..%253b/customer/customer/{id}"),
        format!("/api/v1/payout/%252e%252e/customer/customer/{id}"),
        format!("/api/v1/payout/%c0%ae%c0%ae/customer/customer/{id}"),
        format!("/api/v1/payout/%e0%80%ae%e0%80%ae/customer/customer/{id}"),
        format!("/api/v1/payout/..%c0%afcustomer/customer/{id}"),
        format!("/api/v1/payout/..%c1%9ccustomer/customer/{id}"),
    ] {
        let out = raw(&app, "DELETE", &path, PAYOUT_KEY).await;
        assert_eq!(statuses(&out), vec![400], "{path}: {out}");
        assert!(out.contains("\"BAD_PATH\""), "{path}: {out}");
    }
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    // The client and its allowlist work: an ordinary payout path goes through.
    let out = raw(&app, "GET", "/api/v1/payout/retrieve", PAYOUT_KEY).await;
    assert!(!out.contains("BAD_PATH"), "{out}");
    assert!(
        app.upstream_received(1).await,
        "the plain path reached upstream"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bare_path_parameter_does_not_reach_the_customer_list() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/customer/customer/;",
        "/api/v1/customer/customer/%3b",
        "/api/v1/customer/customer/%3F",
        "/api/v1/customer/customer;jsessionid=1",
        "/api/v1/customer/customer/%25",
    ] {
        let r = app.send(Method::GET, path, &[], b"").await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert_eq!(r.error_code(), "BAD_PATH", "{path}");
    }
    // Raw non-ASCII in the request line, which hyper passes on as UTF-8.
    let out = raw(
        &app,
        "GET",
        "/api/v1/customer/customer/caf\u{e9}",
        CLIENT_KEY,
    )
    .await;
    assert_eq!(statuses(&out), vec![400], "{out}");
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    // Properly encoded text is forwarded as sent.
    let r = app.get("/api/v1/anything/caf%C3%A9").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        app.state().requests().pop().unwrap().path_and_query,
        "/api/v1/anything/caf%C3%A9"
    );
    app.stop().await;
}

/// Spellings a case-insensitive router or a method-override-honouring framework would
/// serve as another route than the gateway's: refused before routing, over HTTP/1.1 and
/// h2, never forwarded; the exact spellings (ids in any case) still work.
#[tokio::test]
async fn case_variants_of_routes_and_method_overrides_are_400_and_never_forwarded() {
    let app = spawn_app().await;
    let id = customer_id(9);
    let refused = [
        (Method::GET, format!("/api/v1/Customer/customer/{id}")),
        (Method::GET, format!("/api/v1/customer/Customer/{id}")),
        (
            Method::GET,
            format!("/api/v1/customer/CUSTOMER-WALLET-IS-READY/{id}"),
        ),
        (Method::PATCH, "/api/v1/customer/Update".to_owned()),
        (Method::GET, "/api/v1/Payin/list".to_owned()),
        (
            Method::POST,
            format!("/api/v1/customer/customer/{id}?_method=GET"),
        ),
        (
            Method::POST,
            format!("/api/v1/customer/customer/{id}?a=1&%5Fmethod=GET"),
        ),
        (
            Method::GET,
            "/api/v1/payin/list?X-HTTP-Method-Override=DELETE".to_owned(),
        ),
    ];
    let h2 = crate::common::readings::h2c_client();
    for client in [&app.client, &h2] {
        for (method, path) in &refused {
            let url = format!("http://{}{}", app.addr, path);
            let r = request(
                client,
                method.clone(),
                &url,
                &[("x-token", CLIENT_KEY)],
                b"",
            )
            .await;
            assert_eq!(r.status, 400, "{method} {path}: {}", r.text());
            assert_eq!(r.error_code(), "BAD_PATH", "{method} {path}");
        }
    }
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    let exact = app.get(&detail(&id)).await;
    assert_eq!(exact.status, 200, "{}", exact.text());
    assert!(app.upstream_received(1).await);
    app.stop().await;
}
