//! Client access control end to end: keys, allowlists, rate limits, reloads, metrics, `hash-key`.
//! Also the home of every test that sends SIGHUP to the test process (see `RELOAD_COUNTING`).

// The harness shared with the `it` binary.
#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http::Method;
use paycombat_gateway::auth::hash_key;

use common::metrics::moved;
use common::*;

/// SIGHUP reaches every gateway in this test process; tests that count reloads exactly, or send
/// SIGHUP, hold this so they do not see each other's reloads.
static RELOAD_COUNTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Request headers as name/value pairs.
type Headers<'a> = Vec<(&'a str, &'a str)>;

const SECOND_KEY: &str = "test-client-key-rotated";

/// The harness's clients file with the full-access client `test` holding `test_keys`.
fn clients_file(test_keys: &[&str]) -> String {
    let test = test_keys
        .iter()
        .fold(clients::ClientEntry::new("test"), |c, k| c.key(k))
        .allow_all();
    let mut all = clients::harness_clients();
    all[0] = test;
    clients::clients_file(&all)
}

/// Every test starts its gateway through here, so log capture is in place before any of the
/// gateway's log call sites is first used.
async fn start(overlay: &str) -> TestApp {
    captured_logs();
    spawn_app_overlay(overlay).await
}

async fn get_with(app: &TestApp, path: &str, key: &str) -> Resp {
    app.send(Method::GET, path, &[("x-token", key)], b"").await
}

async fn keyless(app: &TestApp, method: Method, path: &str) -> Resp {
    app.send_raw(method, path, &[], b"").await
}

fn requests_total(scrape: &str, client: &str) -> Option<f64> {
    sample(scrape, "gateway_requests_total", &[("client", client)])
}

fn rejections(scrape: &str, client: &str, reason: &str) -> Option<f64> {
    sample(
        scrape,
        "gateway_client_rejections_total",
        &[("client", client), ("reason", reason)],
    )
}

fn reloads(scrape: &str, result: &str) -> f64 {
    value(
        scrape,
        "gateway_clients_reloads_total",
        &[("result", result)],
    )
}

#[tokio::test]
async fn missing_key_is_401_unauthenticated_and_not_forwarded() {
    let app = start("").await;
    let r = keyless(&app, Method::GET, "/api/v1/anything/x").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    // Empty values and other Authorization schemes are no key either.
    for (name, value) in [
        ("x-token", "  "),
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("authorization", "Bearer"),
    ] {
        let r = app
            .send(Method::GET, "/api/v1/anything/x", &[(name, value)], b"")
            .await;
        assert_eq!(r.status, 401, "{name}: {value}");
        assert_eq!(r.error_code(), "UNAUTHENTICATED", "{name}: {value}");
    }
    // A write without a key is refused before its body is read or sent.
    let r = keyless(&app, Method::POST, "/api/v1/customer/create").await;
    assert_eq!(r.status, 401);
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_or_conflicting_key_is_401_unknown_client_key() {
    let app = start("").await;
    let r = get_with(&app, "/api/v1/anything/x", "not-a-configured-key").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/x",
            &[("authorization", "Bearer not-a-configured-key")],
            b"",
        )
        .await;
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // The hash itself is not a key.
    let r = get_with(&app, "/api/v1/anything/x", &hash_key(CLIENT_KEY)).await;
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // Two different valid keys at once: refused rather than picking one.
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(1)),
            &[
                ("x-token", CLIENT_KEY),
                ("authorization", &format!("Bearer {READONLY_KEY}")),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn right_key_via_x_token_or_bearer_is_served() {
    let app = start("").await;
    let r = get_with(&app, "/api/v1/anything/xt", CLIENT_KEY).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for auth in [
        format!("Bearer {CLIENT_KEY}"),
        format!("bearer  {CLIENT_KEY}"),
    ] {
        let r = app
            .send(
                Method::GET,
                "/api/v1/anything/bearer",
                &[("authorization", &auth)],
                b"",
            )
            .await;
        assert_eq!(r.status, 200, "{auth}: {}", r.text());
    }
    // The same key in both headers is one identity.
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/both",
            &[
                ("x-token", CLIENT_KEY),
                ("authorization", &format!("Bearer {CLIENT_KEY}")),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The readonly key works on its one allowed route, through either header.
    assert_eq!(
        get_with(&app, &detail(&customer_id(1)), READONLY_KEY)
            .await
            .status,
        200
    );
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(2)),
            &[("authorization", &format!("Bearer {READONLY_KEY}"))],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.state().request_count("echo"), 4);
    assert_eq!(app.state().request_count("customer_detail"), 2);
    app.stop().await;
}

#[tokio::test]
async fn routes_outside_the_allowlist_are_403_forbidden() {
    let app = start("").await;
    let id = customer_id(3);
    for (method, path) in [
        (Method::GET, wallet(&customer_id(3))),
        (Method::DELETE, detail(&customer_id(3))),
        (Method::GET, format!("/api/v1/customer/customer/{id}/extra")),
        (Method::GET, "/api/v1/customer/customer".to_owned()),
        (Method::POST, "/api/v1/customer/create".to_owned()),
        (Method::GET, "/api/v1/payout/list".to_owned()),
    ] {
        let r = app
            .send(method.clone(), &path, &[("x-token", READONLY_KEY)], b"{}")
            .await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert_eq!(r.error_code(), "FORBIDDEN", "{method} {path}");
    }
    assert_eq!(app.state().request_count("all"), 0);
    // The same routes are fine for the full-access client.
    assert_eq!(app.get(&wallet(&customer_id(3))).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_warm_cache_never_skips_authorization() {
    let app = start("").await;
    let (d, w) = (detail(&customer_id(5)), wallet(&customer_id(5)));
    assert_eq!(app.get(&d).await.status, 200);
    assert_eq!(app.get(&w).await.status, 200);
    let r = app.get(&d).await;
    assert!(
        r.header("cache-status").contains("hit"),
        "warm: {}",
        r.header("cache-status")
    );
    let r = app.get(&w).await;
    assert!(
        r.header("cache-status").contains("hit"),
        "warm: {}",
        r.header("cache-status")
    );
    let before = app.metrics().await;
    let lookups =
        |s: &str, route: &str| value(s, "gateway_cache_lookups_total", &[("route", route)]);

    let r = get_with(&app, &w, READONLY_KEY).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "FORBIDDEN");
    assert!(r.headers.get("cache-status").is_none());
    let r = keyless(&app, Method::GET, &d).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    let r = get_with(&app, &d, "wrong-key").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // Refusals carry no customer data and did not even look at the cache.
    let after = app.metrics().await;
    assert_eq!(
        lookups(&after, "customer_detail"),
        lookups(&before, "customer_detail")
    );
    assert_eq!(
        lookups(&after, "customer_wallet_ready"),
        lookups(&before, "customer_wallet_ready")
    );

    // The readonly client may read the detail: served from the cache.
    let r = get_with(&app, &d, READONLY_KEY).await;
    assert_eq!(r.status, 200);
    assert!(r.header("cache-status").contains("hit"));
    assert_eq!(app.state().request_count("customer_detail"), 1);
    assert_eq!(app.state().request_count("customer_wallet_ready"), 1);
    app.stop().await;
}

#[tokio::test]
async fn rate_limit_is_429_with_retry_after_per_client() {
    let app = start("").await;
    // Refusals for the route do not use up the bucket.
    for _ in 0..2 {
        assert_eq!(
            get_with(&app, &wallet(&customer_id(6)), READONLY_KEY)
                .await
                .status,
            403
        );
    }
    // Burst 3: three pass (the last two from the cache), the fourth is refused even on a warm entry.
    for i in 0..3 {
        let r = get_with(&app, &detail(&customer_id(6)), READONLY_KEY).await;
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
    }
    let r = get_with(&app, &detail(&customer_id(6)), READONLY_KEY).await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.error_code(), "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), "1");
    assert!(r.headers.get("cache-status").is_none());
    assert_eq!(app.state().request_count("customer_detail"), 1);
    // Buckets are per client: the unlimited client is unaffected.
    assert_eq!(app.get(&detail(&customer_id(6))).await.status, 200);
    let scrape = app.metrics().await;
    assert_eq!(rejections(&scrape, "readonly", "rate_limited"), Some(1.0));
    assert_eq!(rejections(&scrape, "readonly", "forbidden"), Some(2.0));
    // Never rate limited: no such series.
    assert_eq!(rejections(&scrape, "test", "rate_limited"), None);

    // Waiting as told (by the gateway's clock) refills one token (1/s): one request
    // passes, the next does not.
    app.clock.advance(Duration::from_millis(1100));
    assert_eq!(
        get_with(&app, &detail(&customer_id(6)), READONLY_KEY)
            .await
            .status,
        200
    );
    let r = get_with(&app, &detail(&customer_id(6)), READONLY_KEY).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(
        rejections(&app.metrics().await, "readonly", "rate_limited"),
        Some(2.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn key_rotation_two_keys_then_one_via_file_reload() {
    let app = start("").await;
    let path = "/api/v1/anything/rotate";
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, path, SECOND_KEY).await.error_code(),
        "UNKNOWN_CLIENT_KEY"
    );
    let ok_before = reloads(&app.metrics().await, "ok");

    std::fs::write(
        app.path("clients.toml"),
        clients_file(&[CLIENT_KEY, SECOND_KEY]),
    )
    .unwrap();
    let picked_up = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, SECOND_KEY).await.status == 200
    })
    .await;
    assert!(picked_up, "the second key works after the reload");
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.status,
        200,
        "the first key still works"
    );
    let r = app
        .send(
            Method::GET,
            path,
            &[("authorization", &format!("Bearer {SECOND_KEY}"))],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);

    std::fs::write(app.path("clients.toml"), clients_file(&[SECOND_KEY])).unwrap();
    let retired = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, CLIENT_KEY).await.status == 401
    })
    .await;
    assert!(retired, "the first key is refused once removed");
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.error_code(),
        "UNKNOWN_CLIENT_KEY"
    );
    assert_eq!(get_with(&app, path, SECOND_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, &detail(&customer_id(8)), READONLY_KEY)
            .await
            .status,
        200,
        "other clients unchanged"
    );

    let scrape = app.metrics().await;
    assert!(
        reloads(&scrape, "ok") >= ok_before + 2.0,
        "{}",
        reloads(&scrape, "ok")
    );
    assert_eq!(reloads(&scrape, "failed"), 0.0);
    app.stop().await;
}

#[tokio::test]
async fn a_broken_clients_file_keeps_the_previous_clients() {
    let _serial = RELOAD_COUNTING.lock().await;
    let app = start("").await;
    let path = "/api/v1/anything/broken";
    let failed = |n: f64| {
        let app = &app;
        move || async move { reloads(&app.metrics().await, "failed") == n }
    };

    // Serving, so the file watch is in place.
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    // Not TOML at all.
    std::fs::write(app.path("clients.toml"), "[[clients]\nname = ").unwrap();
    let ok = eventually(Duration::from_secs(5), failed(1.0)).await;
    assert!(
        ok,
        "syntax error counted as failed: {}",
        reloads(&app.metrics().await, "failed")
    );
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, &detail(&customer_id(9)), READONLY_KEY)
            .await
            .status,
        200
    );

    // Valid TOML, invalid clients: a raw key pasted where its hash belongs.
    let raw_key =
        clients_file(&[SECOND_KEY]).replace(&hash_key(SECOND_KEY), "pcgw_pasted_the_key_itself");
    std::fs::write(app.path("clients.toml"), raw_key).unwrap();
    assert!(
        eventually(Duration::from_secs(5), failed(2.0)).await,
        "invalid file counted as failed"
    );
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.status,
        200,
        "previous keys still in force"
    );
    assert_eq!(get_with(&app, path, SECOND_KEY).await.status, 401);

    // A good file afterwards is taken.
    std::fs::write(app.path("clients.toml"), clients_file(&[SECOND_KEY])).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            get_with(&app, path, SECOND_KEY).await.status == 200
        })
        .await
    );
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 401);
    assert_eq!(reloads(&app.metrics().await, "failed"), 2.0);
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_credentials() {
    let _serial = RELOAD_COUNTING.lock().await;
    // File watching off: only the signal can make the gateway see the new token.
    let app = spawn_app_overlay("[server]\nwatch_files = false").await;
    app.state().set_token("snd_after_hup");
    std::fs::write(app.path("token"), "snd_after_hup").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app.get("/api/v1/anything/hup").await;
    assert_eq!(
        r.status,
        502,
        "not reloaded without the signal: {}",
        r.text()
    );
    assert_eq!(r.error_code(), "UPSTREAM_CREDENTIALS_REJECTED");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.get("/api/v1/anything/hup").await.status == 200
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_the_clients_file() {
    let _serial = RELOAD_COUNTING.lock().await;
    // The configured path is a symlink into a directory the gateway does not watch, so only
    // SIGHUP can make it notice the change.
    let real = tempfile::tempdir().unwrap();
    let link_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        real.path().join("clients.toml"),
        clients_file(&[CLIENT_KEY]),
    )
    .unwrap();
    let link = link_dir.path().join("clients.toml");
    std::os::unix::fs::symlink(real.path().join("clients.toml"), &link).unwrap();
    let app = start(&format!(
        "[auth]\nclients_file = {:?}",
        link.display().to_string()
    ))
    .await;
    let path = "/api/v1/anything/hup";
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    let ok_before = reloads(&app.metrics().await, "ok");

    std::fs::write(
        real.path().join("clients.toml"),
        clients_file(&[SECOND_KEY]),
    )
    .unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let reloaded = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, SECOND_KEY).await.status == 200
    })
    .await;
    assert!(reloaded, "SIGHUP reloaded the clients file");
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 401);
    assert!(reloads(&app.metrics().await, "ok") > ok_before);
    app.stop().await;
}

#[tokio::test]
async fn client_keys_never_reach_the_upstream() {
    let app = start("").await;
    let json = [("content-type", "application/json")];
    let bearer = format!("Bearer {CLIENT_KEY}");
    let ro_bearer = format!("Bearer {READONLY_KEY}");
    let id = customer_id(10);
    let calls: Vec<(Method, String, Headers, Vec<u8>)> = vec![
        (
            Method::GET,
            detail(&customer_id(10)),
            vec![("x-token", CLIENT_KEY)],
            vec![],
        ),
        (
            Method::GET,
            wallet(&customer_id(10)),
            vec![("authorization", &bearer)],
            vec![],
        ),
        (
            Method::GET,
            detail(&customer_id(11)),
            vec![("x-token", READONLY_KEY)],
            vec![],
        ),
        (
            Method::GET,
            detail(&customer_id(12)),
            vec![("authorization", &ro_bearer)],
            vec![],
        ),
        (
            Method::GET,
            "/api/v1/anything/q?page=1".into(),
            vec![("x-token", CLIENT_KEY), ("authorization", &bearer)],
            vec![],
        ),
        (
            Method::PATCH,
            "/api/v1/customer/update".into(),
            [json[0], ("authorization", &bearer)].to_vec(),
            format!(r#"{{"customer_id":"{id}","description":"x"}}"#).into_bytes(),
        ),
        (
            Method::POST,
            "/api/v1/anything/post".into(),
            [json[0], ("x-token", CLIENT_KEY)].to_vec(),
            br#"{"a":1}"#.to_vec(),
        ),
        (
            Method::DELETE,
            detail(&customer_id(13)),
            vec![("x-token", CLIENT_KEY)],
            vec![],
        ),
    ];
    for (method, path, headers, body) in &calls {
        let r = app.send(method.clone(), path, headers, body).await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
    }
    let seen = app.state().requests();
    assert_eq!(seen.len(), calls.len());
    let secrets: Vec<String> = [CLIENT_KEY, READONLY_KEY]
        .iter()
        .flat_map(|k| [k.to_string(), hash_key(k)])
        .collect();
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    for req in &seen {
        assert_eq!(
            req.headers.get_all("x-token").iter().count(),
            1,
            "{}",
            req.path_and_query
        );
        assert_eq!(req.headers["x-token"], app.sandbox_cfg.token.as_str());
        assert!(
            req.headers.get("authorization").is_none(),
            "{}",
            req.path_and_query
        );
        for secret in &secrets {
            assert!(!contains(req.path_and_query.as_bytes(), secret));
            assert!(!contains(&req.body, secret), "{} body", req.path_and_query);
            for (name, value) in &req.headers {
                assert!(!contains(name.as_str().as_bytes(), secret));
                assert!(
                    !contains(value.as_bytes(), secret),
                    "{} header {name}",
                    req.path_and_query
                );
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn client_metric_labels_count_exactly() {
    let app = start("").await;
    let before = app.metrics().await;
    assert_eq!(
        get_with(&app, "/api/v1/anything/m", CLIENT_KEY)
            .await
            .status,
        200
    );
    assert_eq!(
        app.send(
            Method::GET,
            "/api/v1/anything/m",
            &[("authorization", &format!("Bearer {CLIENT_KEY}"))],
            b""
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get_with(&app, &detail(&customer_id(14)), READONLY_KEY)
            .await
            .status,
        200
    );
    assert_eq!(
        keyless(&app, Method::GET, &detail(&customer_id(14)))
            .await
            .status,
        401
    );
    assert_eq!(
        get_with(&app, &detail(&customer_id(14)), "some-unknown-key")
            .await
            .status,
        401
    );
    assert_eq!(
        get_with(&app, &detail(&customer_id(14)), "another-unknown-key")
            .await
            .status,
        401
    );
    assert_eq!(
        get_with(&app, &wallet(&customer_id(14)), READONLY_KEY)
            .await
            .status,
        403
    );
    let after = app.metrics().await;
    let delta = |f: &dyn Fn(&str) -> Option<f64>| moved(f(&before), f(&after));
    // Did not move: as it was, present or not.
    let unmoved = |f: &dyn Fn(&str) -> Option<f64>| f(&before) == f(&after);

    assert_eq!(delta(&|s| requests_total(s, "test")), Some(2.0));
    assert_eq!(
        delta(&|s| sample(
            s,
            "gateway_requests_total",
            &[("client", "test"), ("status_class", "2xx")]
        )),
        Some(2.0)
    );
    assert_eq!(
        delta(&|s| sample(
            s,
            "gateway_requests_total",
            &[("client", "readonly"), ("status_class", "2xx")]
        )),
        Some(1.0)
    );
    assert_eq!(
        delta(&|s| sample(
            s,
            "gateway_requests_total",
            &[
                ("client", "anonymous"),
                ("route", "customer_detail"),
                ("status_class", "4xx")
            ]
        )),
        Some(3.0)
    );
    assert_eq!(
        delta(&|s| rejections(s, "anonymous", "unauthenticated")),
        Some(3.0)
    );
    assert_eq!(
        delta(&|s| rejections(s, "readonly", "forbidden")),
        Some(1.0)
    );
    assert!(unmoved(&|s| rejections(s, "readonly", "unauthenticated")));
    assert!(unmoved(&|s| rejections(s, "test", "forbidden")));
    assert!(unmoved(&|s| rejections(s, "anonymous", "forbidden")));
    // Presented keys never become label values; only configured names and `anonymous` do.
    for line in after.lines().filter(|l| l.contains("client=\"")) {
        assert!(
            [
                "client=\"test\"",
                "client=\"readonly\"",
                "client=\"anonymous\""
            ]
            .iter()
            .any(|c| line.contains(c)),
            "{line}"
        );
    }
    for secret in [CLIENT_KEY, READONLY_KEY, "some-unknown-key"] {
        assert!(!after.contains(secret), "{secret} in the scrape");
    }
    app.stop().await;
}

#[tokio::test]
async fn refusals_of_a_known_client_carry_its_name() {
    let app = start("").await;
    let before = app.metrics().await;
    assert_eq!(
        get_with(&app, &wallet(&customer_id(15)), READONLY_KEY)
            .await
            .status,
        403
    );
    for _ in 0..3 {
        assert_eq!(
            get_with(&app, &detail(&customer_id(15)), READONLY_KEY)
                .await
                .status,
            200
        );
    }
    assert_eq!(
        get_with(&app, &detail(&customer_id(15)), READONLY_KEY)
            .await
            .status,
        429
    );
    let after = app.metrics().await;
    let readonly_4xx = |s: &str| {
        sample(
            s,
            "gateway_requests_total",
            &[("client", "readonly"), ("status_class", "4xx")],
        )
    };
    assert_eq!(
        moved(readonly_4xx(&before), readonly_4xx(&after)),
        Some(2.0)
    );
    assert_eq!(
        requests_total(&after, "anonymous"),
        requests_total(&before, "anonymous"),
        "anonymous did not move"
    );
    app.stop().await;
}

/// The log output of every gateway in this test process (JSON lines).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// A process-wide subscriber, installed once: a per-thread one can miss events when another
/// thread registers the same call site concurrently.
fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "access=info,paycombat_gateway=trace",
            ))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        logs
    })
}

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
async fn no_auth_mode_lets_keyless_requests_through_and_strips_client_tokens() {
    let app = start("[auth]\nmode = \"none\"").await;
    let r = keyless(&app, Method::GET, &detail(&customer_id(16))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = keyless(&app, Method::GET, &wallet(&customer_id(16))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Whatever a client sends as a token is not forwarded; the merchant token is.
    let r = app
        .send_raw(
            Method::GET,
            "/api/v1/anything/none",
            &[
                ("x-token", "client-sent-token"),
                ("authorization", "Bearer client-sent-bearer"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // No rate limit either: the readonly client's burst of 3 does not apply.
    for _ in 0..5 {
        assert_eq!(
            get_with(&app, &wallet(&customer_id(16)), READONLY_KEY)
                .await
                .status,
            200
        );
    }
    for req in app.state().requests() {
        assert_eq!(req.headers.get_all("x-token").iter().count(), 1);
        assert_eq!(req.headers["x-token"], app.sandbox_cfg.token.as_str());
        assert!(req.headers.get("authorization").is_none());
    }
    assert_eq!(app.state().request_count("echo"), 1);
    let scrape = app.metrics().await;
    assert_eq!(requests_total(&scrape, "anonymous"), Some(8.0));
    // With authentication off no request is the readonly client's: no such series.
    assert_eq!(requests_total(&scrape, "readonly"), None);
    // Nobody was refused: no rejection series at all.
    assert_eq!(
        sample(&scrape, "gateway_client_rejections_total", &[]),
        None
    );
    app.stop().await;
}

#[test]
fn client_keys_are_the_default_and_need_a_clients_file() {
    use paycombat_gateway::config::{load_with, AuthModeSetting};
    let nowhere = std::path::Path::new("/nonexistent");
    // Nothing said about auth: keys mode, and without a clients file the gateway does not start.
    let err = load_with(nowhere, None, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("auth.clients_file"), "{err}");
    let settings = load_with(nowhere, None, Some("[auth]\nmode = \"none\""))
        .expect("explicit none is accepted");
    assert_eq!(settings.auth.mode, AuthModeSetting::None);
}

fn hash_key_cmd(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .arg("hash-key")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hash_key_subcommand_prints_the_library_hash() {
    for input in [&b"pcgw_some-service-key"[..], b"pcgw_some-service-key\n"] {
        let out = hash_key_cmd(&[], input);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n", hash_key("pcgw_some-service-key"))
        );
    }
    let out = hash_key_cmd(&[], b"");
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
}

#[test]
fn hash_key_generate_prints_a_key_and_its_hash() {
    let out = hash_key_cmd(&["--generate"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    let (key, hash) = (field("key:"), field("sha256:"));
    assert!(key.starts_with("pcgw_") && key.len() == 48, "{key}");
    assert_eq!(hash, hash_key(&key));
    assert_eq!(hash.len(), 64);
    let again = String::from_utf8(hash_key_cmd(&["--generate"], b"").stdout).unwrap();
    assert!(!again.contains(&key), "every run generates a new key");
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
