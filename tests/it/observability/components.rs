//! Component metrics: credentials age and reloads, cache results, gauges, evictions and
//! invalidations, upstream retries and the circuit breaker.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;

use crate::common::metrics::{exact, exact_value};
use crate::common::*;

use super::*;

async fn reloads(app: &TestApp, result: &str) -> f64 {
    exact_value(
        &scrape(app).await,
        "gateway_credential_reloads_total",
        &[("result", result)],
    )
}

#[tokio::test]
async fn credentials_age_and_a_failed_reload_that_keeps_the_previous_token() {
    let app = spawn_app().await;
    let s = scrape(&app).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(
        exact(&s, "gateway_credential_reloads_total", &[("result", "ok")]),
        Some(1.0),
        "the load at start"
    );
    assert_eq!(
        exact(
            &s,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(0.0)
    );
    let age = exact_value(&s, "gateway_credentials_age_seconds", &[]);
    assert!((0.0..30.0).contains(&age), "age {age}");
    let loaded = exact_value(&s, "gateway_credentials_last_load_timestamp_seconds", &[]);
    assert!((now - loaded).abs() < 30.0, "loaded at {loaded}, now {now}");

    // Rewrite the same token until a reload is seen: the file watcher is then running.
    let token = app.sandbox_cfg.token.clone();
    let mut watched = false;
    for _ in 0..20 {
        let before = reloads(&app, "ok").await;
        std::fs::write(app.path("token"), format!("{token}\n")).unwrap();
        if eventually(Duration::from_millis(750), || async {
            reloads(&app, "ok").await > before
        })
        .await
        {
            watched = true;
            break;
        }
    }
    assert!(watched, "a token file change causes a reload");
    let ok_before = reloads(&app, "ok").await;
    let loaded_before = exact_value(
        &scrape(&app).await,
        "gateway_credentials_last_load_timestamp_seconds",
        &[],
    );

    std::fs::write(app.path("token"), "").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(&app, "failed").await >= 1.0
        })
        .await,
        "an empty token file is a failed reload"
    );
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact_value(&s, "gateway_credential_reloads_total", &[("result", "ok")]),
        ok_before
    );
    assert_eq!(
        exact_value(&s, "gateway_credentials_last_load_timestamp_seconds", &[]),
        loaded_before,
        "a failed reload is not a load"
    );

    // Requests still go out, with the previous token.
    let r = app.get("/api/v1/anything/after-failed-reload").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let last = app.state().requests().pop().unwrap();
    assert_eq!(last.headers["x-token"], token.as_str());

    // Fixing the file is an ok reload again.
    std::fs::write(app.path("token"), &token).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(&app, "ok").await > ok_before
        })
        .await
    );
    assert!(exact_value(&scrape(&app).await, "gateway_credentials_age_seconds", &[]) < 30.0);
    app.stop().await;
}

#[tokio::test]
async fn cache_results_gauges_evictions_and_invalidations() {
    let app =
        spawn_app_overlay("[cache.routes.customer_detail]\nttl = \"1s\"\nstale_if_error = \"60s\"")
            .await;
    let detail = format!("/api/v1/customer/customer/{FIXTURE_ID}");
    let s0 = scrape(&app).await;
    let r = app.get(&detail).await;
    assert_eq!(r.status, 200);
    let s = scrape(&app).await;
    assert_eq!(exact(&s, "gateway_cache_entries", &[]), Some(1.0));
    let weighted = exact_value(&s, "gateway_cache_weighted_bytes", &[]);
    assert!(
        weighted >= r.body.len() as f64 && weighted < 64.0 * 1024.0,
        "weighted {weighted}"
    );

    assert_eq!(app.get(&detail).await.status, 200);
    let r = app
        .send(Method::GET, &detail, &[("cache-control", "no-store")], b"")
        .await;
    assert_eq!(r.status, 200);

    // Two readers of one missing customer share one upstream call.
    let id = customer_id(5);
    let path = format!("/api/v1/customer/customer/{id}");
    let first = {
        let client = app.client.clone();
        let url = format!("http://{}{path}", app.addr);
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=400ms")],
                b"",
            )
            .await
        })
    };
    let detail_calls = app.state().request_count("customer_detail");
    assert!(
        eventually(Duration::from_secs(3), || async {
            app.state().request_count("customer_detail") > detail_calls
        })
        .await
    );
    let second = app.get(&path).await;
    assert_eq!(second.status, 200);
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(
        app.state().request_count("customer_detail"),
        detail_calls + 1
    );

    // Past the TTL (by the gateway's clock), an upstream 5xx is answered from the stale entry.
    app.clock.advance(Duration::from_millis(1100));
    let r = app
        .send(
            Method::GET,
            &detail,
            &[("x-sandbox-fault", "status=503")],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let s1 = scrape(&app).await;
    let lk = |s: &str, result: &str| {
        exact_value(
            s,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", result)],
        ) - exact_value(
            &s0,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", result)],
        )
    };
    assert_eq!(
        ["miss", "hit", "bypass", "collapsed", "stale"].map(|r| lk(&s1, r)),
        [2.0, 1.0, 1.0, 1.0, 1.0],
        "miss, hit, bypass, collapsed, stale"
    );
    for (cache, n) in [
        ("miss", 2.0),
        ("hit", 1.0),
        ("bypass", 1.0),
        ("collapsed", 1.0),
        ("stale", 1.0),
    ] {
        let l = [
            ("route", "customer_detail"),
            ("method", "GET"),
            ("status_class", "2xx"),
            ("cache", cache),
            ("client", "test"),
        ];
        assert_eq!(exact_value(&s1, "gateway_requests_total", &l), n, "{cache}");
    }

    // A write purges its customer: one invalidation, one explicit eviction.
    let entries = exact_value(&s1, "gateway_cache_entries", &[]);
    assert_eq!(
        entries, 2.0,
        "the fixture (stale, kept) and the collapsed fill"
    );
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/customer/disable/{id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    let s2 = scrape(&app).await;
    assert_eq!(
        exact(
            &s2,
            "gateway_cache_invalidations_total",
            &[("reason", "write")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s2,
            "gateway_cache_evictions_total",
            &[("cause", "explicit")]
        ),
        Some(1.0)
    );
    assert_eq!(exact(&s2, "gateway_cache_entries", &[]), Some(1.0));

    // An admin purge is counted under `admin` and empties the cache.
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let r = app
        .admin(
            Method::POST,
            "/admin/cache/purge?all=true",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s3 = scrape(&app).await;
    assert_eq!(
        exact(
            &s3,
            "gateway_cache_invalidations_total",
            &[("reason", "admin")]
        ),
        Some(1.0)
    );
    assert_eq!(exact(&s3, "gateway_cache_entries", &[]), Some(0.0));
    assert_eq!(exact(&s3, "gateway_cache_weighted_bytes", &[]), Some(0.0));
    app.stop().await;
}

#[tokio::test]
async fn get_retries_count_every_attempt() {
    let app = spawn_app_overlay("[upstream.retry]\nmax_retries = 2\nbackoff = \"10ms\"").await;
    let s0 = scrape(&app).await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/flaky",
            &[("x-sandbox-fault", "status=503")],
            b"",
        )
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(app.state().request_count("all"), 3);
    let s1 = scrape(&app).await;
    assert_step(
        "retried GET",
        &s0,
        &s1,
        &[
            req("other", "GET", "5xx", "none", "test"),
            req_hist("other"),
            d(
                "gateway_upstream_requests_total",
                &[("route", "other"), ("outcome", "http_5xx")],
                3.0,
            ),
            d(
                "gateway_upstream_duration_seconds_count",
                &[("route", "other")],
                3.0,
            ),
            d("gateway_upstream_retries_total", &[("route", "other")], 2.0),
        ],
    );
    app.stop().await;
}

#[tokio::test]
async fn breaker_gauge_and_circuit_open_outcome() {
    let app = spawn_app_overlay(
        "[upstream.circuit_breaker]\nfailure_threshold = 2\ncool_down = \"500ms\"",
    )
    .await;
    for _ in 0..2 {
        let r = app
            .send(
                Method::POST,
                "/api/v1/payin/create",
                &[("x-sandbox-fault", "status=503")],
                b"{}",
            )
            .await;
        assert_eq!(r.status, 503);
    }
    let s = scrape(&app).await;
    assert_eq!(
        exact(&s, "gateway_circuit_breaker_state", &[]),
        Some(1.0),
        "open"
    );
    let r = app
        .send(Method::POST, "/api/v1/payin/create", &[], b"{}")
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(
        app.state().request_count("all"),
        2,
        "refused without calling upstream"
    );
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_requests_total",
            &[("route", "payin"), ("outcome", "circuit_open")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_requests_total",
            &[("route", "payin"), ("outcome", "http_5xx")]
        ),
        Some(2.0)
    );
    // After the cool-down a successful probe closes it again.
    app.clock.advance(Duration::from_millis(500));
    let closed = eventually(Duration::from_secs(3), || async {
        app.get("/api/v1/anything/probe").await.status == 200
            && exact(&scrape(&app).await, "gateway_circuit_breaker_state", &[]) == Some(0.0)
    })
    .await;
    assert!(closed, "the breaker closes after a successful probe");
    app.stop().await;
}
