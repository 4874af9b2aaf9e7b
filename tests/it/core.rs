//! Forwarding, credentials, header hygiene, paths, TLS, shutdown.

use std::time::Duration;

use http::Method;
use paycombat_gateway::upstream::sign::sign;

use crate::common::*;

#[tokio::test]
async fn every_method_is_forwarded_with_path_query_and_body() {
    let app = spawn_app().await;
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        let body: &[u8] = if method == Method::GET {
            b""
        } else {
            br#"{"amount": 10}"#
        };
        let r = app
            .send(
                method.clone(),
                "/api/v1/anything/else?page=2&limit=5&q=a%20b",
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(r.status, 200, "{method}: {}", r.text());
        let v = r.json();
        assert_eq!(v["data"]["method"], method.as_str());
        assert_eq!(v["data"]["path"], "/api/v1/anything/else");
        assert_eq!(v["data"]["query"], "page=2&limit=5&q=a%20b");
        assert_eq!(v["data"]["body_len"], body.len());
    }
    // The sandbox saw the exact bytes.
    let seen = app.state().requests();
    let patch = seen
        .iter()
        .rev()
        .find(|r| r.method == Method::PATCH)
        .unwrap();
    assert_eq!(&patch.body[..], br#"{"amount": 10}"#);
    assert_eq!(
        patch.path_and_query,
        "/api/v1/anything/else?page=2&limit=5&q=a%20b"
    );
    app.stop().await;
}

#[tokio::test]
async fn client_credentials_never_reach_upstream_and_the_gateways_always_do() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/anything/x",
            &[
                ("authorization", &format!("Bearer {CLIENT_KEY}")),
                ("signature", "client-made-signature"),
                ("cookie", "session=abc"),
            ],
            br#"{"a":1}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app
        .get(&format!("/api/v1/customer/customer/{}", customer_id(7)))
        .await;
    assert_eq!(r.status, 200);
    for seen in app.state().requests() {
        let h = &seen.headers;
        assert_eq!(h.get_all("x-token").iter().count(), 1);
        assert_eq!(h["x-token"], app.sandbox_cfg.token.as_str());
        assert!(h.get("authorization").is_none());
        assert!(h.get("cookie").is_none());
        for v in h.values() {
            assert!(!v
                .as_bytes()
                .windows(CLIENT_KEY.len())
                .any(|w| w == CLIENT_KEY.as_bytes()));
        }
        if seen.method == Method::POST {
            assert_eq!(
                h["signature"],
                sign(&app.sandbox_cfg.signature_key, &seen.body).as_str()
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn writes_carry_a_signature_the_sandbox_accepts() {
    let app = spawn_app().await;
    let id = customer_id(42);
    let body = format!(r#"{{"customer_id":"{id}","description":"signed update"}}"#);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/customer/disable/{id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app.get(&format!("/api/v1/customer/customer/{id}")).await;
    assert_eq!(r.json()["data"]["description"], "signed update");
    assert_eq!(r.json()["data"]["is_active"], false);
    app.stop().await;
}

#[tokio::test]
async fn token_file_rotation_takes_effect_without_restart() {
    let app = spawn_app().await;
    let path = "/api/v1/anything/rotation";
    assert_eq!(app.get(path).await.status, 200);
    // paycombat issues a new token: the sandbox now accepts only it.
    app.state().set_token("snd_rotated-token");
    let r = app.get(path).await;
    assert_eq!(r.status, 502, "old token refused upstream: {}", r.text());
    assert_eq!(r.error_code(), "UPSTREAM_CREDENTIALS_REJECTED");
    std::fs::write(app.path("token"), "snd_rotated-token\n").unwrap();
    let ok = eventually(Duration::from_secs(5), || async {
        app.get(path).await.status == 200
    })
    .await;
    assert!(ok, "the new token was picked up from the file");
    let last = app.state().requests().pop().unwrap();
    assert_eq!(last.headers["x-token"], "snd_rotated-token");
    let scrape = app.metrics().await;
    assert!(
        value(
            &scrape,
            "gateway_credential_reloads_total",
            &[("result", "ok")]
        ) >= 2.0
    );
    app.stop().await;
}

#[tokio::test]
async fn symlink_swap_rotation_like_kubernetes() {
    // Kubernetes mounts a Secret as files that are symlinks through `..data`,
    // and rotates by re-pointing `..data` atomically.
    let mut app = spawn_app().await;
    let dir = app.path("secret");
    std::fs::create_dir_all(dir.join("v1")).unwrap();
    std::fs::write(dir.join("v1/token"), &app.sandbox_cfg.token).unwrap();
    std::os::unix::fs::symlink("v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/token", dir.join("token")).unwrap();
    let settings = test_settings(
        app.dir.path(),
        &app.sandbox.base_url(),
        &format!(
            "[upstream]\ntoken_file = \"{}\"",
            dir.join("token").display()
        ),
    );
    // Restart the gateway on the symlinked token file.
    app.begin_stop().await.unwrap().unwrap();
    let gw = paycombat_gateway::App::build(settings).await.unwrap();
    let addr = gw.api_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gw.run(async move {
        let _ = rx.await;
    }));
    let url = format!("http://{addr}/api/v1/anything/k8s");
    let get = || {
        request(
            &app.client,
            Method::GET,
            &url,
            &[("x-token", CLIENT_KEY)],
            b"",
        )
    };
    assert_eq!(get().await.status, 200);
    app.state().set_token("snd_v2");
    std::fs::create_dir_all(dir.join("v2")).unwrap();
    std::fs::write(dir.join("v2/token"), "snd_v2").unwrap();
    std::os::unix::fs::symlink("v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            get().await.status == 200
        })
        .await
    );
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn hop_by_hop_and_connection_named_headers_are_stripped() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/hop",
            &[
                (
                    "connection",
                    "x-drop-me, x-token, x-forwarded-for, x-request-id",
                ),
                ("x-drop-me", "1"),
                ("x-keep-me", "1"),
                ("keep-alive", "timeout=5"),
                ("te", "trailers"),
                ("proxy-authorization", "Basic abc"),
                ("x-forwarded-for", "10.1.2.3"),
                ("x-request-id", "trace-abc-123"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = app.state().requests().pop().unwrap();
    let h = &seen.headers;
    for gone in [
        "x-drop-me",
        "keep-alive",
        "te",
        "proxy-authorization",
        "connection",
    ] {
        assert!(h.get(gone).is_none(), "{gone} reached upstream");
    }
    assert_eq!(h["x-keep-me"], "1");
    // Connection cannot remove what the gateway injects.
    assert_eq!(h["x-token"], app.sandbox_cfg.token.as_str());
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["accept-encoding"], "identity");
    assert_eq!(h["host"], app.sandbox.local_addr().to_string().as_str());
    // The request id is the gateway's (the client's was Connection-named away), and it round-trips.
    assert_eq!(h["x-request-id"], r.header("x-request-id"));
    app.stop().await;
}

#[tokio::test]
async fn request_id_is_kept_or_generated_and_returned() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/id",
            &[("x-request-id", "abc-123")],
            b"",
        )
        .await;
    assert_eq!(r.header("x-request-id"), "abc-123");
    assert_eq!(
        app.state().requests().pop().unwrap().headers["x-request-id"],
        "abc-123"
    );
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/id",
            &[("x-request-id", "has spaces")],
            b"",
        )
        .await;
    assert_eq!(r.header("x-request-id").len(), 36);
    let r = app.get("/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-request-id").len(), 36, "errors carry an id too");
    assert_eq!(r.json()["error"]["request_id"], r.header("x-request-id"));
    app.stop().await;
}

#[tokio::test]
async fn paths_outside_api_v1_are_404_from_the_gateway() {
    let app = spawn_app().await;
    for p in ["/", "/api", "/api/v2/customer", "/metrics", "/healthz"] {
        let r = app.get(p).await;
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(r.error_code(), "NOT_FOUND");
    }
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn traversal_and_encoded_paths_are_refused_before_forwarding() {
    let app = spawn_app().await;
    for p in [
        "/api/v1/../admin",
        "/api/v1/customer/./customer",
        "/api/v1/%2e%2e/x",
        "/api/v1/customer%2Fcustomer",
        "/api/v1/a%5cb",
        "/api/v1/a%00b",
        "/api/v1//customer",
    ] {
        let req = format!(
            "GET {p} HTTP/1.1\r\nHost: x\r\nX-token: {CLIENT_KEY}\r\nConnection: close\r\n\r\n"
        );
        let out = raw_exchange(app.addr, req.as_bytes()).await;
        assert!(out.starts_with("HTTP/1.1 400"), "{p}: {out}");
        assert!(out.contains("\"BAD_PATH\""), "{p}: {out}");
    }
    // A raw backslash and a raw control byte.
    for p in ["/api/v1/a\\b"] {
        let req = format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let out = raw_exchange(app.addr, req.as_bytes()).await;
        assert!(out.starts_with("HTTP/1.1 400"), "{p}: {out}");
    }
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    app.stop().await;
}

#[tokio::test]
async fn a_large_pdf_streams_through_untouched() {
    let _alone = memory_measurement().await;
    // 24 MiB through a gateway that would refuse to buffer more than 1 MiB:
    // it can only pass if it streams.
    let app = spawn_app_overlay("[upstream]\nmax_response_body_bytes = 1048576").await;
    let size = 24 * 1024 * 1024;
    let r = app
        .get(&format!("/api/v1/payin/memo/p-123?size={size}"))
        .await;
    assert_eq!(
        r.status,
        200,
        "{}",
        String::from_utf8_lossy(&r.body[..200.min(r.body.len())])
    );
    assert_eq!(r.body.len(), size);
    assert!(r.body.starts_with(b"%PDF-1.4"));
    assert_eq!(r.header("content-type"), "application/pdf");
    app.stop().await;
}

#[tokio::test]
async fn tls_upstream_with_a_private_ca_over_http2() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let app = spawn_app_with(Options {
        overlay: format!("[upstream]\nca_file = \"{}\"", ca.display()),
        sandbox_tls: Some(std::sync::Arc::new(tls)),
        ..Options::default()
    })
    .await;
    assert!(app.sandbox.base_url().starts_with("https://localhost:"));
    let r = app
        .get(&format!("/api/v1/customer/customer/{FIXTURE_ID}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["customer_id"], FIXTURE_ID);
    let seen = app.state().requests().pop().unwrap();
    assert_eq!(seen.version, http::Version::HTTP_2, "ALPN chose h2");
    app.stop().await;
}

#[tokio::test]
async fn an_untrusted_tls_upstream_is_a_502_not_a_silent_downgrade() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let app = spawn_app_with(Options {
        sandbox_tls: Some(std::sync::Arc::new(tls)),
        ..Options::default()
    })
    .await;
    let r = app.get("/api/v1/anything/tls").await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_token() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir", "/nonexistent"])
        .env("GATEWAY__AUTH__MODE", "none")
        .env("GATEWAY__SERVER__LISTEN", "127.0.0.1:0")
        .env("GATEWAY__ADMIN__LISTEN", "127.0.0.1:0")
        .env_remove("GATEWAY_ENV")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upstream.token_file"), "{err}");
}

#[tokio::test]
async fn check_config_names_the_bad_key_and_exits_64() {
    let bin = env!("CARGO_BIN_EXE_paycombat-gateway");
    let out = std::process::Command::new(bin)
        .args(["check-config", "--config-dir", "/nonexistent"])
        .env("GATEWAY__UPSTREAM__TIMEOUT", "forever")
        .env_remove("GATEWAY_ENV")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timeout"),
        "{out:?}"
    );
    // "Valid" means `serve` would start: the secrets it names must be readable too.
    let dir = tempfile::tempdir().unwrap();
    let check = |hmac: &std::path::Path| {
        std::process::Command::new(bin)
            .args(["check-config", "--config-dir", "/nonexistent"])
            .env("GATEWAY__AUTH__MODE", "none")
            .env("GATEWAY__UPSTREAM__TOKEN_FILE", dir.path().join("token"))
            // auth.mode = "none" lets anyone write: a signature key is required.
            .env("GATEWAY__UPSTREAM__SIGNATURE_KEY", "sig")
            .env("GATEWAY__MASK__HMAC_KEY_FILE", hmac)
            .env_remove("GATEWAY_ENV")
            .output()
            .unwrap()
    };
    std::fs::write(dir.path().join("token"), "snd_x").unwrap();
    let missing = check(&dir.path().join("no-such-key"));
    assert_eq!(missing.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("mask.hmac_key_file"),
        "{missing:?}"
    );
    std::fs::write(dir.path().join("hmac"), "k").unwrap();
    let ok = check(&dir.path().join("hmac"));
    assert!(ok.status.success(), "{ok:?}");
}
