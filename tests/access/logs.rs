//! Access log lines: client names but never keys, trace/cache/upstream fields, the span's trace
//! id, and rate-limited TLS handshake failures.

use std::time::Duration;

use http::Method;

use crate::common::*;

use super::*;

#[tokio::test]
async fn access_log_names_the_client_and_never_the_key() {
    let app = start("").await;
    let ids = ["log-test-1", "log-ro-2", "log-anon-3", "log-unknown-4"];
    let ro_bearer = format!("Bearer {READONLY_KEY}");
    let calls: [(&str, &Headers, &str); 4] = [
        (
            "/api/v1/anything/log",
            &vec![("x-token", CLIENT_KEY)],
            ids[0],
        ),
        (
            "/api/v1/customer/customer/customer_00000000000000000000000000000010",
            &vec![("authorization", &ro_bearer)],
            ids[1],
        ),
        ("/api/v1/anything/log", &vec![], ids[2]),
        (
            "/api/v1/anything/log",
            &vec![("x-token", "unknown-key-in-log-test")],
            ids[3],
        ),
    ];
    for (path, headers, id) in calls {
        let mut h = headers.clone();
        h.push(("x-request-id", id));
        app.send_raw(Method::GET, path, &h, b"").await;
    }
    let access_log = app.stop_and_read_access_log().await;

    // The secrets are looked for in both streams: the access log and every other line.
    let text = format!("{}{access_log}", captured_logs().text());
    let access: Vec<serde_json::Value> = access_log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "access")
        .collect();
    let client_of = |id: &str| {
        let line = access
            .iter()
            .find(|v| v["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{text}"));
        (
            line["client"].as_str().unwrap_or("").to_owned(),
            line["status"].as_u64().unwrap_or(0),
        )
    };
    assert_eq!(client_of(ids[0]), ("test".to_owned(), 200));
    assert_eq!(client_of(ids[1]), ("readonly".to_owned(), 200));
    assert_eq!(client_of(ids[2]), ("anonymous".to_owned(), 401));
    assert_eq!(client_of(ids[3]), ("anonymous".to_owned(), 401));
    for secret in [
        CLIENT_KEY,
        READONLY_KEY,
        "unknown-key-in-log-test",
        "pcgw_pasted_the_key_itself",
    ] {
        assert!(!text.contains(secret), "{secret} appears in the logs");
    }
}

#[tokio::test]
async fn access_lines_carry_trace_cache_and_upstream_fields_and_never_the_path() {
    let app = start("").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    let calls = [
        (
            detail(&customer_id(40)),
            "fields-miss",
            traceparent.as_str(),
        ),
        // Upper-case hex is not a valid traceparent: no trace id rather than a wrong one.
        (
            detail(&customer_id(40)),
            "fields-hit",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ),
        (
            "/api/v1/anything/fields".to_owned(),
            "fields-forward",
            traceparent.as_str(),
        ),
    ];
    for (path, id, tp) in &calls {
        let r = app
            .send(
                Method::GET,
                path,
                &[("x-request-id", id), ("traceparent", tp)],
                b"",
            )
            .await;
        assert_eq!(r.status, 200, "{id}: {}", r.text());
    }
    let log = app.stop_and_read_access_log().await;
    let line = |id: &str| -> serde_json::Value {
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{log}"))
    };
    let miss = line("fields-miss");
    assert_eq!(miss["target"], "access");
    assert_eq!(miss["trace_id"], trace);
    assert_eq!(miss["method"], "GET");
    assert_eq!(miss["route"], "customer_detail");
    assert_eq!(miss["cache"], "miss");
    assert_eq!(miss["client"], "test");
    assert_eq!(miss["status"], 200);
    assert_eq!(miss["upstream_status"], 200);
    assert!(miss["upstream_us"].as_u64().is_some(), "{miss}");
    assert!(
        miss["duration_us"].as_u64() >= miss["upstream_us"].as_u64(),
        "{miss}"
    );
    assert!(miss["bytes_out"].as_u64().unwrap_or(0) > 0, "{miss}");
    assert_eq!(miss["bytes_in"], 0);
    assert_eq!(miss["peer"], "127.0.0.1");

    let hit = line("fields-hit");
    assert_eq!(hit["cache"], "hit");
    // A hit calls nobody: no upstream fields, and no trace id from a malformed header.
    for absent in ["upstream_status", "upstream_us", "trace_id"] {
        assert!(hit.get(absent).is_none(), "{absent} in {hit}");
    }
    let forward = line("fields-forward");
    assert_eq!(forward["cache"], "none");
    assert_eq!(forward["route"], "other");
    assert_eq!(forward["upstream_status"], 200);
    // The route template stands for the path: no customer id, no raw path.
    for never in [customer_id(40).as_str(), "/api/v1", "customer/customer"] {
        assert!(!log.contains(never), "{never} in the access log");
    }
}

#[tokio::test]
async fn access_log_carries_the_trace_id_of_the_request_span() {
    let rx = common::otlp::Receiver::start().await;
    let traced = start(&rx.overlay("")).await;
    let untraced = start("").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let tp = format!("00-{trace}-00f067aa0ba902b7-01");
    traced
        .send(
            Method::GET,
            "/api/v1/anything/traced",
            &[("traceparent", &tp), ("x-request-id", "trace-log-1")],
            b"",
        )
        .await;
    // Without a parent the gateway starts a trace of its own.
    traced
        .send(
            Method::GET,
            "/api/v1/anything/traced",
            &[("x-request-id", "trace-log-2")],
            b"",
        )
        .await;
    untraced
        .send(
            Method::GET,
            "/api/v1/anything/untraced",
            &[("traceparent", &tp), ("x-request-id", "trace-log-3")],
            b"",
        )
        .await;
    let text = format!(
        "{}{}",
        traced.stop_and_read_access_log().await,
        untraced.stop_and_read_access_log().await
    );
    let trace_id_of = |id: &str| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["target"] == "access" && v["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}"))["trace_id"]
            .as_str()
            .unwrap_or("<missing>")
            .to_owned()
    };
    assert_eq!(trace_id_of("trace-log-1"), trace);
    let own = trace_id_of("trace-log-2");
    assert!(
        own.len() == 32
            && own
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{own:?}"
    );
    assert_ne!(own, trace);
    assert_eq!(
        trace_id_of("trace-log-3"),
        trace,
        "telemetry off: the caller's own trace id, from its traceparent"
    );
    // The exported root span is the one the log line names.
    let exported = rx.trace_with(trace, "GET other", 1).await;
    assert!(
        exported.iter().any(|s| s.name == "GET other"),
        "{exported:#?}"
    );
}

/// A failed TLS handshake is a WARN line with the peer's address and the reason (the
/// metric's closed label), at most one per reason every 10 s: plain HTTP sent to the TLS
/// port, twice, is one line, and both are counted.
#[tokio::test]
async fn a_failed_tls_handshake_is_logged_with_peer_and_reason_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let ca = common::tls::Ca::new("warn test CA");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    ca.server(2030).write(&cert, &key);
    let app = start(&format!(
        "[server.tls]\ncert_file = {:?}\nkey_file = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    ))
    .await;
    for _ in 0..2 {
        raw_exchange(app.addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    }
    let counted = eventually(Duration::from_secs(5), || async {
        common::sample(
            &app.metrics().await,
            "gateway_tls_handshake_failures_total",
            &[("reason", "not_tls")],
        ) == Some(2.0)
    })
    .await;
    assert!(counted, "both failures counted");
    app.stop().await;
    let lines: Vec<serde_json::Value> = captured_logs()
        .text()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("TLS handshake failed"))
                && v["reason"] == "not_tls"
                && v["level"] == "WARN"
        })
        .collect();
    // (Each failure also has a DEBUG line with the TLS library's error.)
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["peer"], "127.0.0.1");
}
