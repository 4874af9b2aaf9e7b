//! The access line's connection and outcome fields on real sockets: `proto` (h1, h2c),
//! `client_ip` from a trusted proxy's `X-Forwarded-For` (and never from anyone else's),
//! `upstream_addr` when this request called paycombat, and `flags` for what went wrong.
//! (`tls` is checked with the TLS listener in `tls.rs`.)

use bytes::Bytes;
use http::Method;
use http_body_util::Full;
use hyper_util::client::legacy::Client;

use crate::common::*;

fn lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect()
}

fn line<'a>(all: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    all.iter()
        .find(|v| v["request_id"] == id)
        .unwrap_or_else(|| panic!("no access line for {id}"))
}

#[tokio::test]
async fn protocol_client_ip_and_upstream_address_are_logged() {
    // The test client connects from 127.0.0.1: a trusted proxy here.
    let app = spawn_app_overlay("[server]\ntrusted_proxies = [\"127.0.0.0/8\"]\n").await;
    let sandbox = app.sandbox.local_addr();
    let h2 = Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let path = format!("/api/v1/customer/customer/{}", customer_id(77));
    let url = format!("http://{}{path}", app.addr);
    for (id, client, xff) in [
        // The left-most entry is the caller's own claim; the first hop a trusted
        // proxy did not append is the client.
        ("af-h1", &app.client, "6.6.6.6, 203.0.113.7, 127.0.0.5"),
        ("af-h2", &h2, "203.0.113.8"),
    ] {
        let r = request(
            client,
            Method::GET,
            &url,
            &[
                ("x-token", CLIENT_KEY),
                ("x-request-id", id),
                ("x-forwarded-for", xff),
            ],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "{id}: {}", r.text());
    }
    let log = app.stop_and_read_access_log().await;
    let all = lines(&log);
    let miss = line(&all, "af-h1");
    assert_eq!(miss["proto"], "h1");
    assert_eq!(miss["client_ip"], "203.0.113.7");
    assert_eq!(miss["peer"], "127.0.0.1");
    assert_eq!(miss["upstream_addr"], sandbox.to_string());
    assert_eq!(miss["flags"], "-");
    assert!(miss.get("tls").is_none(), "plain listener: {miss}");
    let hit = line(&all, "af-h2");
    assert_eq!(hit["proto"], "h2");
    assert_eq!(hit["cache"], "hit");
    assert_eq!(hit["client_ip"], "203.0.113.8");
    assert!(
        hit.get("upstream_addr").is_none(),
        "a hit calls nobody: {hit}"
    );
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_chain_is_not_believed() {
    let app = spawn_app().await;
    let path = format!("/api/v1/customer/customer/{}", customer_id(78));
    let r = app
        .send(
            Method::GET,
            &path,
            &[
                ("x-request-id", "af-untrusted"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    let log = app.stop_and_read_access_log().await;
    let all = lines(&log);
    let l = line(&all, "af-untrusted");
    assert!(l.get("client_ip").is_none(), "{l}");
    assert!(!log.contains("203.0.113.9"));
}

/// Request id, path, headers, expected status and flags.
type Call<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16, &'a str);

/// Each way a request goes wrong gets its flag, from the closed vocabulary.
#[tokio::test]
async fn flags_name_what_went_wrong() {
    let app =
        spawn_app_overlay("[upstream]\ntimeout = \"300ms\"\nconnect_timeout = \"200ms\"\n[upstream.retry]\nmax_retries = 0\n")
            .await;
    let detail = |n| format!("/api/v1/customer/customer/{}", customer_id(n));
    let calls: [Call; 5] = [
        (
            "af-timeout",
            "/api/v1/payin/retrieve-payin/p1".to_owned(),
            vec![("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=2s")],
            504,
            "UT",
        ),
        (
            "af-reset",
            "/api/v1/payin/retrieve-payin/p2".to_owned(),
            vec![("x-token", CLIENT_KEY), ("x-sandbox-fault", "reset")],
            502,
            "UC",
        ),
        ("af-nokey", detail(79), vec![], 401, "NA"),
        (
            "af-noroute",
            "/elsewhere".to_owned(),
            vec![("x-token", CLIENT_KEY)],
            404,
            "NR",
        ),
        ("af-ok", detail(79), vec![("x-token", CLIENT_KEY)], 200, "-"),
    ];
    for (id, path, headers, status, _) in &calls {
        let mut headers = headers.clone();
        headers.push(("x-request-id", id));
        let url = format!("http://{}{path}", app.addr);
        let r = request(&app.client, Method::GET, &url, &headers, b"").await;
        assert_eq!(r.status.as_u16(), *status, "{id}: {}", r.text());
    }
    // The read-only client (burst 3) is refused on its fourth read.
    let mut refused = None;
    for i in 0..6 {
        let id = format!("af-rl-{i}");
        let r = app
            .send_raw(
                Method::GET,
                &detail(80),
                &[("x-token", READONLY_KEY), ("x-request-id", &id)],
                b"",
            )
            .await;
        if r.status == 429 {
            refused = Some(id);
            break;
        }
    }
    let refused = refused.expect("the burst runs out");
    let log = app.stop_and_read_access_log().await;
    let all = lines(&log);
    for (id, _, _, _, flags) in &calls {
        assert_eq!(line(&all, id)["flags"], *flags, "{id}");
    }
    assert_eq!(line(&all, &refused)["flags"], "RL");
}
