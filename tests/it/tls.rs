//! TLS and client certificates on the API listener, with certificates made in
//! the test: HTTP/1.1 and h2 by ALPN; mTLS refusing a missing certificate and
//! one from another CA; a certificate naming its client, whose allowlist then
//! applies; certificate and key that disagree; a rotated certificate served
//! to new connections while an open one keeps working.

use std::path::PathBuf;
use std::time::Duration;

use http::{Method, StatusCode, Version};

use crate::common::tls::{connect, dns, get_once, uri, Ca, Leaf};
use crate::common::*;

const CUSTOMER: &str = "/api/v1/customer/customer/customer_67d84b19d50b490a8fa75ab20bbf275a";
const BILLING_ID: &str = "spiffe://test.example/ns/billing/sa/api";

struct Pki {
    ca: Ca,
    server: Leaf,
    client_ca: Ca,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let ca = Ca::new("gateway test CA");
        let server = ca.server(2030);
        let dir = tempfile::tempdir().unwrap();
        server.write(&dir.path().join("cert.pem"), &dir.path().join("key.pem"));
        let client_ca = Ca::new("client test CA");
        client_ca.write(&dir.path().join("client_ca.pem"));
        Pki {
            ca,
            server,
            client_ca,
            dir,
        }
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn overlay(&self, client_auth: &str) -> String {
        let ca = if client_auth == "off" {
            String::new()
        } else {
            format!(
                "client_ca_file = {:?}\n",
                self.path("client_ca.pem").display().to_string()
            )
        };
        format!(
            "[server.tls]\ncert_file = {:?}\nkey_file = {:?}\nclient_auth = {client_auth:?}\n{ca}",
            self.path("cert.pem").display().to_string(),
            self.path("key.pem").display().to_string(),
        )
    }
}

/// The harness's key clients, plus `billing` (certificate only, reads single
/// customers) and `ledger` (certificate and key).
fn clients_with_subjects() -> String {
    use clients::ClientEntry;
    clients::harness_clients_and([
        ClientEntry::new("billing")
            .subject(&format!("uri:{BILLING_ID}"))
            .allow(&["GET"], "/api/v1/customer/customer/*"),
        ClientEntry::new("ledger")
            .key("ledger-key")
            .subject("dns:ledger.internal")
            .allow_all(),
    ])
}

/// With client certificates on, the clients file has certificate clients too
/// (with them off the gateway would refuse it: `billing` could never log in).
async fn spawn_tls(pki: &Pki, client_auth: &str) -> TestApp {
    spawn_app_with(Options {
        overlay: pki.overlay(client_auth),
        clients_toml: (client_auth != "off").then(clients_with_subjects),
        ..Options::default()
    })
    .await
}

async fn failures(app: &TestApp, reason: &str) -> f64 {
    value(
        &app.metrics().await,
        "gateway_tls_handshake_failures_total",
        &[("reason", reason)],
    )
}

#[tokio::test]
async fn tls_serves_http1_and_h2_by_alpn_and_reports_the_expiry() {
    let pki = Pki::new();
    let app = spawn_tls(&pki, "off").await;
    for (alpn, version) in [
        (&b"http/1.1"[..], Version::HTTP_11),
        (&b"h2"[..], Version::HTTP_2),
    ] {
        let mut conn = connect(app.addr, &pki.ca, None, &[alpn]).await.unwrap();
        assert_eq!(conn.alpn.as_deref(), Some(alpn));
        assert_eq!(conn.served, pki.server.der);
        let (v, r) = conn
            .send(
                Method::GET,
                CUSTOMER,
                &[
                    ("x-token", CLIENT_KEY),
                    (
                        "x-request-id",
                        &format!(
                            "tls-{}",
                            if version == Version::HTTP_2 {
                                "h2"
                            } else {
                                "h1"
                            }
                        ),
                    ),
                ],
            )
            .await
            .unwrap();
        assert_eq!((v, r.status), (version, StatusCode::OK), "{}", r.text());
        // Keys still work and are still required over TLS.
        let (_, r) = conn.send(Method::GET, CUSTOMER, &[]).await.unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.error_code(), "UNAUTHENTICATED");
    }

    // Plain HTTP to the TLS port gets no answer, and is counted as such.
    let out = raw_exchange(app.addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(!out.contains("HTTP/1.1"), "{out}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            failures(&app, "not_tls").await == 1.0
        })
        .await
    );
    let scrape = app.metrics().await;
    assert_eq!(
        value(
            &scrape,
            "gateway_tls_certificate_expiry_timestamp_seconds",
            &[("listener", "api")]
        ),
        pki.server.not_after() as f64
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            sample(
                &app.metrics().await,
                "gateway_connections_closed_total",
                &[("listener", "api"), ("reason", "tls_handshake")],
            ) == Some(1.0)
        })
        .await
    );
    // Each access line names the protocol and the TLS version it came over.
    let log = app.stop_and_read_access_log().await;
    for proto in ["h1", "h2"] {
        let id = format!("tls-{proto}");
        let line: serde_json::Value = log
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .find(|v: &serde_json::Value| v["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no line for {id}: {log}"));
        assert_eq!(
            (&line["proto"], &line["tls"]),
            (&proto.into(), &"1.3".into())
        );
    }
}

#[tokio::test]
async fn plain_http_stays_the_default_with_no_tls_series() {
    let app = spawn_app().await;
    assert_eq!(app.get(CUSTOMER).await.status, StatusCode::OK);
    let scrape = app.metrics().await;
    assert!(!scrape.contains("gateway_tls_"), "{scrape}");
    app.stop().await;
}

#[tokio::test]
async fn required_client_auth_refuses_a_missing_and_an_unknown_certificate() {
    let pki = Pki::new();
    let app = spawn_tls(&pki, "required").await;
    let key = [("x-token", CLIENT_KEY)];

    let none = get_once(app.addr, &pki.ca, None, CUSTOMER, &key).await;
    assert!(
        none.is_err(),
        "no certificate: {:?}",
        none.map(|r| r.status)
    );
    let other_ca = Ca::new("someone else's CA");
    let forged = other_ca.client(vec![uri(BILLING_ID)]);
    let unknown = get_once(app.addr, &pki.ca, Some(&forged), CUSTOMER, &key).await;
    assert!(
        unknown.is_err(),
        "a certificate from another CA, even naming a client: {:?}",
        unknown.map(|r| r.status)
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            failures(&app, "no_client_certificate").await == 1.0
                && failures(&app, "bad_client_certificate").await == 1.0
        })
        .await
    );
    assert_eq!(
        app.state().request_count("all"),
        0,
        "nothing reached upstream"
    );

    // A certificate from the client CA, with the key of a client, passes.
    let mesh = pki.client_ca.client(vec![dns("unlisted.internal")]);
    let r = get_once(app.addr, &pki.ca, Some(&mesh), CUSTOMER, &key)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.stop().await;
}

#[tokio::test]
async fn a_known_certificate_is_its_client_and_its_allowlist_applies() {
    let pki = Pki::new();
    let app = spawn_tls(&pki, "optional").await;
    let billing = pki
        .client_ca
        .client(vec![uri(BILLING_ID), dns("billing.internal")]);

    let mut conn = connect(app.addr, &pki.ca, Some(&billing), &[b"h2"])
        .await
        .unwrap();
    let (_, r) = conn.send(Method::GET, CUSTOMER, &[]).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (_, r) = conn
        .send(Method::POST, "/api/v1/customer/create", &[])
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "outside billing's allowlist"
    );
    assert_eq!(r.error_code(), "FORBIDDEN");
    // Another client's key over billing's certificate: refused, not either one.
    let (_, r) = conn
        .send(Method::GET, CUSTOMER, &[("x-token", CLIENT_KEY)])
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "CONFLICTING_CLIENT_IDENTITY");

    let scrape = app.metrics().await;
    let requests = |client: &str, class: &str| {
        value(
            &scrape,
            "gateway_requests_total",
            &[("client", client), ("status_class", class)],
        )
    };
    assert_eq!(
        (requests("billing", "2xx"), requests("billing", "4xx")),
        (1.0, 1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_client_rejections_total",
            &[("client", "billing"), ("reason", "forbidden")]
        ),
        Some(1.0)
    );

    // A client with both: its key and its certificate agree.
    let ledger = pki.client_ca.client(vec![dns("ledger.internal")]);
    let r = get_once(
        app.addr,
        &pki.ca,
        Some(&ledger),
        CUSTOMER,
        &[("x-token", "ledger-key")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A valid certificate naming no client, without a key.
    let mesh = pki.client_ca.client(vec![dns("unlisted.internal")]);
    let r = get_once(app.addr, &pki.ca, Some(&mesh), CUSTOMER, &[])
        .await
        .unwrap();
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_CERTIFICATE");
    // Optional: no certificate and a key is the key's client.
    let r = get_once(
        app.addr,
        &pki.ca,
        None,
        CUSTOMER,
        &[("x-token", CLIENT_KEY)],
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    // Optional still verifies a certificate that is sent.
    let forged = Ca::new("other").client(vec![uri(BILLING_ID)]);
    assert!(get_once(app.addr, &pki.ca, Some(&forged), CUSTOMER, &[])
        .await
        .is_err());
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_requests_total", &[("client", "ledger")]),
        Some(1.0)
    );
    assert_eq!(
        sample(&scrape, "gateway_requests_total", &[("client", "test")]),
        Some(1.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_certificate_is_served_to_new_connections_while_open_ones_keep_working() {
    let pki = Pki::new();
    let app = spawn_tls(&pki, "off").await;
    let key = [("x-token", CLIENT_KEY)];
    let mut open = connect(app.addr, &pki.ca, None, &[b"http/1.1"])
        .await
        .unwrap();
    let (_, r) = open.send(Method::GET, CUSTOMER, &key).await.unwrap();
    assert_eq!(r.status, StatusCode::OK);

    let renewed = pki.ca.server(2031);
    renewed.write(&pki.path("cert.pem"), &pki.path("key.pem"));
    let served_now = || async {
        connect(app.addr, &pki.ca, None, &[b"http/1.1"])
            .await
            .map(|c| c.served)
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            served_now().await.ok() == Some(renewed.der.clone())
        })
        .await,
        "new connections get the renewed certificate"
    );
    let (_, r) = open.send(Method::GET, CUSTOMER, &key).await.unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the open connection keeps working"
    );
    assert_eq!(open.served, pki.server.der);
    let expiry = |scrape: &str| {
        value(
            scrape,
            "gateway_tls_certificate_expiry_timestamp_seconds",
            &[],
        )
    };
    assert_eq!(expiry(&app.metrics().await), renewed.not_after() as f64);

    // A broken file is refused; the renewed certificate stays in force.
    let failed = |scrape: &str| value(scrape, "gateway_tls_reloads_total", &[("result", "failed")]);
    let before = failed(&app.metrics().await);
    std::fs::write(
        pki.path("cert.pem"),
        "-----BEGIN CERTIFICATE-----\ngarbage\n",
    )
    .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            failed(&app.metrics().await) > before
        })
        .await,
        "the bad file is read and refused"
    );
    assert_eq!(served_now().await.unwrap(), renewed.der);
    assert_eq!(expiry(&app.metrics().await), renewed.not_after() as f64);
    let (_, r) = open.send(Method::GET, CUSTOMER, &key).await.unwrap();
    assert_eq!(r.status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_handshake_that_never_completes_is_closed_at_header_read_timeout() {
    let pki = Pki::new();
    let app = spawn_app_with(Options {
        overlay: format!(
            "{}\n[server]\nheader_read_timeout = \"300ms\"",
            pki.overlay("off")
        ),
        ..Options::default()
    })
    .await;
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed by the gateway, not left open")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        eventually(Duration::from_secs(5), || async {
            failures(&app, "timeout").await == 1.0
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_gateway_is_counted_as_its_alert() {
    let pki = Pki::new();
    let app = spawn_tls(&pki, "off").await;
    let stranger = Ca::new("not the gateway's CA");
    assert!(get_once(app.addr, &stranger, None, CUSTOMER, &[])
        .await
        .is_err());
    assert!(
        eventually(Duration::from_secs(5), || async {
            failures(&app, "client_alert").await == 1.0
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn at_the_cap_a_connection_stuck_in_its_handshake_is_shed_for_a_new_one() {
    let pki = Pki::new();
    let app = spawn_app_with(Options {
        overlay: format!("{}\n[server]\nmax_connections = 1", pki.overlay("off")),
        ..Options::default()
    })
    .await;
    // Connected, never says hello: admitted, idle, handshaking.
    let stuck = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            sample(
                &app.metrics().await,
                "gateway_connections_open",
                &[("listener", "api")],
            ) == Some(1.0)
        })
        .await
    );
    let r = get_once(
        app.addr,
        &pki.ca,
        None,
        CUSTOMER,
        &[("x-token", CLIENT_KEY)],
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        eventually(Duration::from_secs(5), || async {
            sample(
                &app.metrics().await,
                "gateway_connections_closed_total",
                &[("listener", "api"), ("reason", "evicted")],
            ) == Some(1.0)
        })
        .await
    );
    drop(stuck);
    app.stop().await;
}
