//! The customer read cache: hits, TTLs, single flight, invalidation, stale-if-error, limits, Cache-Status.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use http::Method;
use paycombat_gateway::upstream::sign::sign;
use tokio::task::JoinHandle;

use crate::common::*;

const MISS: &str = "paycombat-gateway; fwd=miss; stored";
const COLLAPSED: &str = "paycombat-gateway; fwd=miss; collapsed; stored";
const UNCACHEABLE: &str = "paycombat-gateway; fwd=miss; detail=uncacheable";
const COLLAPSED_UNCACHEABLE: &str = "paycombat-gateway; fwd=miss; collapsed; detail=uncacheable";
const REFRESHED: &str = "paycombat-gateway; fwd=request; stored";
const NO_STORE: &str = "paycombat-gateway; fwd=request; detail=no-store";

fn hit(ttl: u64) -> String {
    format!("paycombat-gateway; hit; ttl={ttl}")
}

fn cache_status(r: &Resp) -> &str {
    r.header("cache-status")
}

fn age(r: &Resp) -> u64 {
    r.header("age")
        .parse()
        .unwrap_or_else(|_| panic!("Age header: {:?}", r.header("age")))
}

fn detail_count(app: &TestApp) -> u64 {
    app.state().request_count("customer_detail")
}

fn wallet_count(app: &TestApp) -> u64 {
    app.state().request_count("customer_wallet_ready")
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    app.send(Method::GET, path, headers, b"").await
}

/// A write through the gateway, which must succeed.
async fn write(app: &TestApp, method: Method, path: &str, body: &str) -> Resp {
    let r = app
        .send(
            method,
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r
}

/// Changes a customer upstream without passing through this gateway (as a write through
/// another replica would).
async fn update_behind_the_gateway(app: &TestApp, id: &str, description: &str) {
    let body = format!(r#"{{"customer_id":"{id}","description":"{description}"}}"#);
    let signature = sign(&app.sandbox_cfg.signature_key, body.as_bytes());
    let r = request(
        &app.client,
        Method::PATCH,
        &format!("{}/api/v1/customer/update", app.sandbox.base_url()),
        &[
            ("x-token", &app.sandbox_cfg.token),
            ("signature", &signature),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Cache-Status values of many responses, counted.
fn tally<'a>(
    responses: impl IntoIterator<Item = &'a Resp>,
) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for r in responses {
        *out.entry(cache_status(r).to_owned()).or_insert(0) += 1;
    }
    out
}

/// `n` concurrent GETs of `path` carrying `headers`, released together.
async fn concurrent_gets(
    app: &TestApp,
    n: usize,
    path: &str,
    headers: &[(&str, &str)],
) -> Vec<Resp> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let url = format!("http://{}{}", app.addr, path);
    let mut all: Vec<(String, String)> = vec![("x-token".into(), CLIENT_KEY.into())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let tasks: Vec<JoinHandle<Resp>> = (0..n)
        .map(|_| {
            let (client, url, barrier, all) = (
                app.client.clone(),
                url.clone(),
                barrier.clone(),
                all.clone(),
            );
            tokio::spawn(async move {
                let headers: Vec<(&str, &str)> =
                    all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                barrier.wait().await;
                request(&client, Method::GET, &url, &headers, b"").await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

/// A TCP relay between the gateway and the sandbox that can be cut, so that the gateway's
/// connections are refused.
struct Relay {
    addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (target, tasks) = (target.clone(), tasks.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let Some(to) = *target.lock().unwrap() else {
                        continue;
                    };
                    let conn = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    tasks.lock().unwrap().push(conn);
                }
            })
        };
        Relay {
            addr,
            target,
            tasks,
            accept,
        }
    }

    fn point_at(&self, to: SocketAddr) {
        *self.target.lock().unwrap() = Some(to);
    }

    /// Closes the listening socket and every relayed connection.
    async fn cut(&self) {
        self.accept.abort();
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        let addr = self.addr;
        let refused = eventually(Duration::from_secs(2), || async move {
            tokio::net::TcpStream::connect(addr).await.is_err()
        })
        .await;
        assert!(refused, "relay port still accepts connections");
    }
}

#[tokio::test]
async fn a_hit_never_reaches_upstream() {
    let app = spawn_app().await;
    // The documented example customer: its personal data is known.
    let id = FIXTURE_ID.to_owned();

    let first = get_with(&app, &detail(&id), &[("x-request-id", "first-read")]).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(cache_status(&first), MISS);
    assert_eq!(age(&first), 0);
    assert_eq!(detail_count(&app), 1);

    let second = get_with(&app, &detail(&id), &[("x-request-id", "second-read")]).await;
    assert_eq!(second.status, 200);
    assert_eq!(cache_status(&second), hit(30), "default detail TTL is 30 s");
    assert_eq!(age(&second), 0);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("content-type"), first.header("content-type"));
    assert_eq!(
        second.header("x-request-id"),
        "second-read",
        "a hit carries its own request id"
    );

    // The stored bytes are the masked ones.
    assert_eq!(second.json()["data"]["customer_id"], id.as_str());
    let text = second.text();
    assert!(text.contains("[REDACTED]"), "{text}");
    for personal in [
        "fatur4@paycombat.com",
        "33777777",
        "GRAND RUDENSIA",
        "jennie",
        "85156781124",
    ] {
        assert!(!text.contains(personal), "{personal} in a cached body");
    }

    // A fault that upstream would apply changes nothing: upstream is not asked.
    let faulted = get_with(&app, &detail(&id), &[("x-sandbox-fault", "status=500")]).await;
    assert_eq!(faulted.status, 200);
    assert_eq!(cache_status(&faulted), hit(30));
    assert_eq!(faulted.body, first.body);

    // A change upstream stays invisible while the entry is fresh.
    update_behind_the_gateway(&app, &id, "changed elsewhere").await;
    let still = app.get(&detail(&id)).await;
    assert_eq!(still.body, first.body);
    assert_eq!(detail_count(&app), 1);

    // The wallet-ready route is cached too, with its own default TTL and its own key.
    let w1 = app.get(&wallet(&id)).await;
    assert_eq!(w1.status, 200, "{}", w1.text());
    assert_eq!(cache_status(&w1), MISS);
    let w2 = app.get(&wallet(&id)).await;
    assert_eq!(
        cache_status(&w2),
        hit(10),
        "default wallet-ready TTL is 10 s"
    );
    assert_eq!(w2.body, w1.body);
    assert_eq!(wallet_count(&app), 1);
    assert_eq!(detail_count(&app), 1);

    let scrape = app.metrics().await;
    let lookups = |route, result| {
        value(
            &scrape,
            "gateway_cache_lookups_total",
            &[("route", route), ("result", result)],
        )
    };
    assert_eq!(lookups("customer_detail", "hit"), 3.0);
    assert_eq!(lookups("customer_detail", "miss"), 1.0);
    assert_eq!(lookups("customer_wallet_ready", "hit"), 1.0);
    assert_eq!(lookups("customer_wallet_ready", "miss"), 1.0);
    assert_eq!(
        sample(
            &scrape,
            "gateway_requests_total",
            &[("route", "customer_detail"), ("cache", "hit")]
        ),
        Some(3.0)
    );
    assert_eq!(sample(&scrape, "gateway_cache_entries", &[]), Some(2.0));
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_hit_still_requires_a_permitted_client() {
    let app = spawn_app().await;
    let id = customer_id(34);
    warm(&app, &id).await;
    let r = app.send_raw(Method::GET, &detail(&id), &[], b"").await;
    assert_eq!(r.status, 401, "no key, no cached answer");
    let readonly = [("x-token", READONLY_KEY)];
    let r = get_with(&app, &wallet(&id), &readonly).await;
    assert_eq!(r.status, 403, "outside the client's allowlist");
    // The read-only client's rate (1/s, burst 3) applies to hits too.
    let mut served = 0;
    let limited = loop {
        let r = get_with(&app, &detail(&id), &readonly).await;
        if r.status != 200 {
            break r;
        }
        assert_eq!(cache_status(&r), hit(30));
        served += 1;
        assert!(served <= 6, "hits are not rate limited");
    };
    assert!(served >= 1, "the client's burst allows hits");
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.header("cache-status"),
        "",
        "refused before the cache"
    );
    assert_eq!((detail_count(&app), wallet_count(&app)), (1, 1));
    app.stop().await;
}

#[tokio::test]
async fn entries_expire_at_their_route_ttl_and_age_counts_up() {
    let app = spawn_app_overlay(
        r#"
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "0s"
"#,
    )
    .await;
    let id = customer_id(2);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    assert_eq!(cache_status(&app.get(&wallet(&id)).await), MISS);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(1));
    update_behind_the_gateway(&app, &id, "after expiry").await;

    // Past the 1 s TTL by the gateway's clock; no waiting.
    app.clock.advance(Duration::from_millis(1_150));

    // Past its 1 s TTL: upstream again, and the change made there is now visible.
    let expired = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&expired), MISS);
    assert_eq!(expired.json()["data"]["description"], "after expiry");
    assert_eq!(detail_count(&app), 2);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(1));
    assert_eq!(detail_count(&app), 2);

    // The wallet-ready route kept its own 10 s TTL: ttl + Age is the lifetime.
    let w = app.get(&wallet(&id)).await;
    let ttl: u64 = cache_status(&w)
        .strip_prefix("paycombat-gateway; hit; ttl=")
        .and_then(|ttl| ttl.parse().ok())
        .unwrap_or_else(|| panic!("a hit: {}", cache_status(&w)));
    assert!(age(&w) >= 1, "Age counts whole seconds");
    assert_eq!(ttl + age(&w), 10, "ttl + Age is the lifetime");
    assert_eq!(wallet_count(&app), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_cold_reads_make_one_upstream_request() {
    let app = spawn_app().await;
    // Open the client's 200 connections first, so that the burst below overlaps the fill.
    let warmup = concurrent_gets(&app, 200, &detail(&customer_id(300)), &[]).await;
    assert!(warmup.iter().all(|r| r.status == 200));
    let id = customer_id(3);
    let base = detail_count(&app);
    let collapsed_metric = |scrape: &str| {
        (
            sample(
                scrape,
                "gateway_cache_lookups_total",
                &[("route", "customer_detail"), ("result", "collapsed")],
            ),
            sample(
                scrape,
                "gateway_requests_total",
                &[("route", "customer_detail"), ("cache", "collapsed")],
            ),
        )
    };
    let before = collapsed_metric(&app.metrics().await);
    let responses = concurrent_gets(
        &app,
        200,
        &detail(&id),
        &[("x-sandbox-fault", "delay=300ms")],
    )
    .await;
    assert_eq!(
        detail_count(&app) - base,
        1,
        "one upstream request for 200 readers"
    );
    for r in &responses {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, responses[0].body);
        assert_eq!(age(r), 0);
    }
    // One request led the fill and the others waited on it; on a loaded machine a few may
    // only arrive after it stored its answer, and are hits.
    let counts = tally(&responses);
    let (collapsed, hits) = (
        counts.get(COLLAPSED).copied().unwrap_or(0),
        counts.get(&hit(30)).copied().unwrap_or(0),
    );
    assert_eq!(counts.get(MISS), Some(&1), "{counts:?}");
    assert_eq!(collapsed + hits, 199, "{counts:?}");
    assert!(collapsed >= 100, "{counts:?}");

    let after = collapsed_metric(&app.metrics().await);
    assert_eq!(
        (
            metrics::moved(before.0, after.0),
            metrics::moved(before.1, after.1)
        ),
        (Some(collapsed as f64), Some(collapsed as f64))
    );

    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(30));
    assert_eq!(detail_count(&app) - base, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_client_leaving_mid_fill_does_not_stop_the_fill() {
    let app = spawn_app().await;
    let id = customer_id(4);
    let leaver = {
        let (client, url) = (
            app.client.clone(),
            format!("http://{}{}", app.addr, detail(&id)),
        );
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
    assert!(eventually(Duration::from_secs(5), || async { detail_count(&app) == 1 }).await);
    // The client disconnects while upstream is still answering.
    leaver.abort();
    assert!(matches!(leaver.await, Err(e) if e.is_cancelled()));

    let stored = eventually(Duration::from_secs(5), || async {
        sample(&app.metrics().await, "gateway_cache_entries", &[]) == Some(1.0)
    })
    .await;
    assert!(stored, "the abandoned fill still stored its answer");
    let later = app.get(&detail(&id)).await;
    assert_eq!(later.status, 200);
    assert_eq!(cache_status(&later), hit(30));
    assert_eq!(detail_count(&app), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_error_reaches_every_waiter_and_is_not_cached() {
    let app = spawn_app().await;
    let id = customer_id(5);
    let responses = concurrent_gets(
        &app,
        20,
        &detail(&id),
        &[("x-sandbox-fault", "delay=300ms,status=503")],
    )
    .await;
    // One fill: its first attempt plus the gateway's own retries of a 503.
    let retries = value(
        &app.metrics().await,
        "gateway_upstream_retries_total",
        &[("route", "customer_detail")],
    );
    assert_eq!(detail_count(&app), 1 + retries as u64);
    for r in &responses {
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.json()["status"], false);
    }
    let counts = tally(&responses);
    assert_eq!(counts.get(UNCACHEABLE), Some(&1), "{counts:?}");
    assert_eq!(counts.get(COLLAPSED_UNCACHEABLE), Some(&19), "{counts:?}");

    // Nothing was remembered: the next reader goes upstream and gets the real answer.
    let next = app.get(&detail(&id)).await;
    assert_eq!(next.status, 200);
    assert_eq!(cache_status(&next), MISS);
    assert_eq!(detail_count(&app), 2 + retries as u64);
    app.stop().await;
}

#[tokio::test]
async fn error_answers_are_never_cached() {
    // A looser id pattern lets an id through that upstream refuses with 400.
    // Retries off: each read below is exactly one upstream request.
    let app = spawn_app_overlay(
        "[cache]\nid_pattern = \"customer_[0-9a-z]+\"\n[upstream.retry]\nmax_retries = 0",
    )
    .await;
    let bad = "customer_zz";
    for n in 1..=2u64 {
        let r = app.get(&detail(bad)).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(cache_status(&r), UNCACHEABLE);
        assert_eq!(age(&r), 0);
        assert_eq!(detail_count(&app), n);
    }

    let id = customer_id(6);
    let mut expected = 2;
    for status in ["500", "502", "503", "504"] {
        for _ in 0..2 {
            let fault = format!("status={status}");
            let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", &fault)]).await;
            assert_eq!(r.status.as_str(), status, "{}", r.text());
            assert_eq!(cache_status(&r), UNCACHEABLE);
            expected += 1;
            assert_eq!(detail_count(&app), expected);
        }
    }
    let ok = app.get(&detail(&id)).await;
    assert_eq!((ok.status.as_u16(), cache_status(&ok)), (200, MISS));

    // The gateway's own errors (broken connection, uninspectable body) are not cached either.
    let id = customer_id(7);
    for (fault, status) in [("reset", 502), ("malformed_json", 502)] {
        let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", fault)]).await;
        assert_eq!(r.status, status, "{fault}: {}", r.text());
        assert_eq!(cache_status(&r), UNCACHEABLE, "{fault}");
    }
    let ok = app.get(&detail(&id)).await;
    assert_eq!((ok.status.as_u16(), cache_status(&ok)), (200, MISS));
    app.stop().await;
}

/// Reads both cached routes of `id` until each is a hit.
async fn warm(app: &TestApp, id: &str) {
    for path in [detail(id), wallet(id)] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let r = app.get(&path).await;
        assert!(
            cache_status(&r).starts_with("paycombat-gateway; hit; ttl="),
            "{path}: {}",
            cache_status(&r)
        );
    }
}

#[tokio::test]
async fn update_disable_and_enable_through_the_gateway_invalidate_both_routes() {
    let app = spawn_app().await;
    let id = customer_id(8);
    warm(&app, &id).await;
    assert_eq!((detail_count(&app), wallet_count(&app)), (1, 1));

    let body = format!(r#"{{"customer_id":"{id}","description":"updated through the gateway"}}"#);
    write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;
    let r = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&r), MISS);
    assert_eq!(
        r.json()["data"]["description"],
        "updated through the gateway"
    );
    assert_eq!(cache_status(&app.get(&wallet(&id)).await), MISS);
    assert_eq!((detail_count(&app), wallet_count(&app)), (2, 2));

    for (action, active) in [("disable", false), ("enable", true)] {
        warm(&app, &id).await;
        let before = (detail_count(&app), wallet_count(&app));
        write(
            &app,
            Method::PATCH,
            &format!("/api/v1/customer/{action}/{id}"),
            "",
        )
        .await;
        let r = app.get(&detail(&id)).await;
        assert_eq!(cache_status(&r), MISS, "{action}");
        assert_eq!(r.json()["data"]["is_active"], active, "{action}");
        let w = app.get(&wallet(&id)).await;
        assert_eq!(cache_status(&w), MISS, "{action}");
        if !active {
            assert_eq!(w.json()["data"]["is_wallet_ready"], false);
        }
        assert_eq!(
            (detail_count(&app), wallet_count(&app)),
            (before.0 + 1, before.1 + 1),
            "{action}"
        );
        assert_eq!(
            cache_status(&app.get(&detail(&id)).await),
            hit(30),
            "{action}: stored again"
        );
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_invalidations_total",
            &[("reason", "write")]
        ),
        Some(3.0)
    );
    assert!(
        value(
            &scrape,
            "gateway_cache_evictions_total",
            &[("cause", "explicit")]
        ) >= 6.0
    );
    app.stop().await;
}

#[tokio::test]
async fn wallet_creation_invalidates_the_customer() {
    let app = spawn_app().await;
    // A customer upstream considers wallet-ready (asked directly, not through the gateway).
    let mut ready = None;
    for n in 100..300 {
        let id = customer_id(n);
        let r = request(
            &app.client,
            Method::GET,
            &format!("{}{}", app.sandbox.base_url(), wallet(&id)),
            &[("x-token", &app.sandbox_cfg.token)],
            b"",
        )
        .await;
        if r.json()["data"]["is_wallet_ready"] == true {
            ready = Some(id);
            break;
        }
    }
    let id = ready.expect("a wallet-ready customer among 200");
    warm(&app, &id).await;
    let (d, w) = (detail_count(&app), wallet_count(&app));

    let body = format!(r#"{{"customer_id":"{id}","currency":"USD"}}"#);
    let created = write(&app, Method::POST, "/api/v1/wallet/create", &body).await;
    assert_eq!(created.json()["data"]["customer_id"], id.as_str());
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    assert_eq!(cache_status(&app.get(&wallet(&id)).await), MISS);
    assert_eq!((detail_count(&app), wallet_count(&app)), (d + 1, w + 1));
    app.stop().await;
}

#[tokio::test]
async fn delete_invalidates_and_not_found_is_not_cached() {
    let app = spawn_app().await;
    let id = customer_id(18);
    warm(&app, &id).await;
    write(&app, Method::DELETE, &detail(&id), "").await;
    for n in 2..=3u64 {
        let r = app.get(&detail(&id)).await;
        assert_eq!(r.status, 404, "{}", r.text());
        assert_eq!(cache_status(&r), UNCACHEABLE);
        assert_eq!(detail_count(&app), n, "a 404 is asked upstream every time");
    }
    let w = app.get(&wallet(&id)).await;
    assert_eq!((w.status.as_u16(), cache_status(&w)), (404, UNCACHEABLE));
    app.stop().await;
}

#[tokio::test]
async fn a_write_racing_a_fill_leaves_no_pre_write_data_cached() {
    let app = spawn_app().await;
    // `delay`: upstream reads the customer after the write; `slow_body`: upstream read it
    // before the write and is still sending it when the write lands.
    for (n, fault) in [(19, "delay=800ms"), (20, "slow_body=600ms")] {
        let id = customer_id(n);
        let original = request(
            &app.client,
            Method::GET,
            &format!("{}{}", app.sandbox.base_url(), detail(&id)),
            &[("x-token", &app.sandbox_cfg.token)],
            b"",
        )
        .await
        .json()["data"]["description"]
            .clone();
        let base = detail_count(&app);
        let ok_before = sample(
            &app.metrics().await,
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "ok")],
        );
        let filler = {
            let (client, url) = (
                app.client.clone(),
                format!("http://{}{}", app.addr, detail(&id)),
            );
            tokio::spawn(async move {
                request(
                    &client,
                    Method::GET,
                    &url,
                    &[("x-token", CLIENT_KEY), ("x-sandbox-fault", fault)],
                    b"",
                )
                .await
            })
        };
        assert!(
            eventually(Duration::from_secs(5), || async {
                detail_count(&app) == base + 1
            })
            .await
        );
        if fault.starts_with("slow_body") {
            // The response head has reached the gateway: the body is already decided.
            let head = eventually(Duration::from_secs(5), || async {
                let now = sample(
                    &app.metrics().await,
                    "gateway_upstream_requests_total",
                    &[("route", "customer_detail"), ("outcome", "ok")],
                );
                metrics::moved(ok_before, now) == Some(1.0)
            })
            .await;
            assert!(head);
        }
        let body =
            format!(r#"{{"customer_id":"{id}","description":"written during the fill {n}"}}"#);
        write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;

        // A read after the write does not join the older fill, and sees the write.
        let after = app.get(&detail(&id)).await;
        assert_eq!(cache_status(&after), MISS, "{fault}");
        assert_eq!(
            after.json()["data"]["description"],
            format!("written during the fill {n}")
        );
        assert_eq!(detail_count(&app), base + 2);

        // The older fill answered its own client but stored nothing.
        let first = filler.await.unwrap();
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(
            cache_status(&first),
            "paycombat-gateway; fwd=miss; detail=invalidated",
            "{fault}"
        );
        if fault.starts_with("slow_body") {
            assert_eq!(
                first.json()["data"]["description"],
                original,
                "pre-write answer"
            );
        }
        let again = app.get(&detail(&id)).await;
        assert_eq!(cache_status(&again), hit(30), "{fault}");
        assert_eq!(
            again.json()["data"]["description"],
            format!("written during the fill {n}")
        );
        assert_eq!(detail_count(&app), base + 2);
    }
    app.stop().await;
}

/// Asserts a stale-if-error answer: `fwd-status`, a `ttl` at or below zero and an `Age`
/// that add up to the 1 s TTL.
fn assert_stale_if_error(r: &Resp, fwd_status: u16) {
    assert_eq!(r.status, 200, "{}", r.text());
    let value = cache_status(r);
    let prefix = format!("paycombat-gateway; fwd=stale; fwd-status={fwd_status}; ttl=");
    let ttl: i64 = value
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("; detail=stale-if-error"))
        .and_then(|ttl| ttl.parse().ok())
        .unwrap_or_else(|| panic!("unexpected Cache-Status {value:?}"));
    assert!(ttl <= 0, "{value}");
    assert_eq!(
        age(r) as i64 + ttl,
        1,
        "ttl + Age = lifetime: {value}, Age {}",
        age(r)
    );
}

#[tokio::test]
async fn stale_if_error_serves_within_the_window_and_fails_after() {
    let app = spawn_app_overlay(
        r#"
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "2s"
"#,
    )
    .await;
    let id = customer_id(21);
    let first = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&first), MISS);

    // Past the 1 s TTL by the gateway's clock; no waiting.
    app.clock.advance(Duration::from_millis(1_150));
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "status=503")]).await;
    assert_stale_if_error(&r, 503);
    assert_eq!(r.body, first.body);
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "status=500")]).await;
    assert_stale_if_error(&r, 500);
    // Connection dropped without an answer.
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "reset")]).await;
    assert_stale_if_error(&r, 502);
    assert_eq!(r.body, first.body);
    let retries = value(
        &app.metrics().await,
        "gateway_upstream_retries_total",
        &[("route", "customer_detail")],
    );
    assert_eq!(
        detail_count(&app),
        4 + retries as u64,
        "each stale answer tried upstream first"
    );

    // Past ttl + stale_if_error the error reaches the client.
    // 3.2 s after storing, at least, by the gateway's clock (it also kept real time).
    app.clock.advance(Duration::from_millis(3_200 - 1_150));
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "status=503")]).await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(cache_status(&r), UNCACHEABLE);
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "reset")]).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.error_code(), "UPSTREAM_ERROR");
    assert_eq!(cache_status(&r), UNCACHEABLE);

    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", "stale")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_requests_total",
            &[
                ("route", "customer_detail"),
                ("cache", "stale"),
                ("status_class", "2xx")
            ]
        ),
        Some(3.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn stale_if_error_covers_timeouts_and_refused_connections() {
    let relay = Relay::start().await;
    let app = spawn_app_with(Options {
        overlay: r#"
[upstream]
timeout = "400ms"
connect_timeout = "200ms"
pool_max_idle_per_host = 0
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "2s"
"#
        .to_owned(),
        upstream_override: Some(format!("http://{}", relay.addr)),
        ..Options::default()
    })
    .await;
    relay.point_at(app.sandbox.local_addr());
    let id = customer_id(22);
    let first = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&first), MISS, "{}", first.text());

    // Past the 1 s TTL by the gateway's clock; no waiting.
    app.clock.advance(Duration::from_millis(1_150));
    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "delay=2s")]).await;
    assert_stale_if_error(&r, 504);
    assert_eq!(r.body, first.body);

    relay.cut().await;
    let r = app.get(&detail(&id)).await;
    assert_stale_if_error(&r, 502);
    assert_eq!(r.body, first.body);

    let scrape = app.metrics().await;
    let outcome = |o| {
        value(
            &scrape,
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", o)],
        )
    };
    assert_eq!((outcome("ok"), outcome("timeout")), (1.0, 1.0));
    assert!(outcome("connect_error") >= 1.0, "refused, then retried");

    // 3.2 s after storing, at least, by the gateway's clock (it also kept real time).
    app.clock.advance(Duration::from_millis(3_200 - 1_150));
    let r = app.get(&detail(&id)).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.error_code(), "UPSTREAM_UNREACHABLE");
    assert_eq!(cache_status(&r), UNCACHEABLE);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_no_cache_refreshes_and_no_store_bypasses_when_allowed() {
    let app = spawn_app().await;
    let id = customer_id(23);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    update_behind_the_gateway(&app, &id, "refreshed by a client").await;
    let stale = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&stale), hit(30));
    assert_ne!(stale.json()["data"]["description"], "refreshed by a client");

    let fresh = get_with(&app, &detail(&id), &[("cache-control", "no-cache")]).await;
    assert_eq!(cache_status(&fresh), REFRESHED);
    assert_eq!(age(&fresh), 0);
    assert_eq!(fresh.json()["data"]["description"], "refreshed by a client");
    assert_eq!(detail_count(&app), 2);
    let r = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&r), hit(30));
    assert_eq!(r.body, fresh.body, "the refresh was stored");

    let r = get_with(&app, &detail(&id), &[("cache-control", "max-age=0")]).await;
    assert_eq!(cache_status(&r), REFRESHED);
    assert_eq!(detail_count(&app), 3);

    let r = get_with(&app, &detail(&id), &[("cache-control", "no-store")]).await;
    assert_eq!((r.status.as_u16(), cache_status(&r)), (200, NO_STORE));
    assert_eq!(age(&r), 0);
    assert_eq!(detail_count(&app), 4);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(30));
    assert_eq!(detail_count(&app), 4);

    // no-store writes nothing either.
    let cold = customer_id(24);
    let r = get_with(&app, &detail(&cold), &[("cache-control", "no-store")]).await;
    assert_eq!(cache_status(&r), NO_STORE);
    assert_eq!(cache_status(&app.get(&detail(&cold)).await), MISS);

    // Forced refreshes are still single-flight.
    let before = detail_count(&app);
    let responses = concurrent_gets(
        &app,
        20,
        &detail(&id),
        &[
            ("cache-control", "no-cache"),
            ("x-sandbox-fault", "delay=300ms"),
        ],
    )
    .await;
    assert_eq!(detail_count(&app), before + 1);
    let counts = tally(&responses);
    assert_eq!(counts.get(REFRESHED), Some(&1), "{counts:?}");
    assert_eq!(
        counts.get("paycombat-gateway; fwd=request; collapsed; stored"),
        Some(&19),
        "{counts:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn client_directives_are_ignored_when_not_allowed() {
    let app =
        spawn_app_overlay("[cache]\nallow_client_no_cache = false\nallow_client_no_store = false")
            .await;
    let id = customer_id(25);
    let first = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&first), MISS);
    update_behind_the_gateway(&app, &id, "not seen yet").await;
    for directive in ["no-cache", "max-age=0", "no-store", "no-cache, no-store"] {
        let r = get_with(&app, &detail(&id), &[("cache-control", directive)]).await;
        assert_eq!(cache_status(&r), hit(30), "{directive}");
        assert_eq!(r.body, first.body, "{directive}");
    }
    assert_eq!(detail_count(&app), 1);
    // A no-store request is cached like any other.
    let cold = customer_id(26);
    let r = get_with(&app, &detail(&cold), &[("cache-control", "no-store")]).await;
    assert_eq!(cache_status(&r), MISS);
    assert_eq!(cache_status(&app.get(&detail(&cold)).await), hit(30));
    app.stop().await;
}

#[tokio::test]
async fn upstream_no_store_and_private_answers_are_not_stored() {
    let app = spawn_app().await;
    for (n, fault, header) in [(27, "no_store", "no-store"), (28, "private", "private")] {
        let id = customer_id(n);
        let base = detail_count(&app);
        for _ in 0..2 {
            let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", fault)]).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(cache_status(&r), UNCACHEABLE, "{fault}");
            assert_eq!(r.header("cache-control"), header);
        }
        assert_eq!(detail_count(&app), base + 2, "{fault}");
        assert_eq!(
            cache_status(&app.get(&detail(&id)).await),
            MISS,
            "{fault}: nothing was stored"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn id_pattern_and_query_bypass_and_allowlisted_parameters_are_cached_apart() {
    let app =
        spawn_app_overlay("[cache.routes.customer_detail]\nquery_allowlist = [\"lang\"]").await;
    const BYPASS_ID: &str = "paycombat-gateway; fwd=bypass; detail=id-pattern";
    const BYPASS_QUERY: &str = "paycombat-gateway; fwd=bypass; detail=query";

    let upper = format!("customer_{}", "A".repeat(32));
    let mut upstream = 0;
    for bad in [
        "customer_123",
        upper.as_str(),
        "customer_67d84b19d50b490a8fa75ab20bbf275a0",
    ] {
        for _ in 0..2 {
            let r = app.get(&detail(bad)).await;
            assert_eq!(cache_status(&r), BYPASS_ID, "{bad}");
            assert_eq!(age(&r), 0);
            upstream += 1;
            assert_eq!(detail_count(&app), upstream, "{bad}: forwarded every time");
        }
    }

    let id = customer_id(29);
    for query in ["page=2", "lang=en&page=2", "LANG=en"] {
        for _ in 0..2 {
            let r = app.get(&format!("{}?{query}", detail(&id))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(cache_status(&r), BYPASS_QUERY, "{query}");
            assert_eq!(age(&r), 0);
            upstream += 1;
            assert_eq!(detail_count(&app), upstream, "{query}");
        }
    }
    let r = app.get(&format!("{}?lang=en", wallet(&id))).await;
    assert_eq!(
        cache_status(&r),
        BYPASS_QUERY,
        "no allowlist on the wallet-ready route"
    );

    // Each allowlisted variant is its own entry; the plain path is another.
    let steps = [
        ("?lang=en", MISS.to_owned()),
        ("?lang=en", hit(30)),
        ("?lang=id", MISS.to_owned()),
        ("", MISS.to_owned()),
        ("", hit(30)),
        ("?lang=en", hit(30)),
        ("?lang=id", hit(30)),
    ];
    for (query, expected) in &steps {
        let r = app.get(&format!("{}{query}", detail(&id))).await;
        assert_eq!(&cache_status(&r), expected, "{query:?}");
        if expected.as_str() == MISS {
            upstream += 1;
        }
        assert_eq!(detail_count(&app), upstream, "{query:?}");
    }
    let seen = app.state().requests();
    assert!(
        seen.iter()
            .any(|r| r.path_and_query == format!("{}?lang=id", detail(&id))),
        "query forwarded"
    );

    // A write drops every variant.
    let body = format!(r#"{{"customer_id":"{id}","description":"all variants"}}"#);
    write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;
    for query in ["?lang=en", "?lang=id", ""] {
        let r = app.get(&format!("{}{query}", detail(&id))).await;
        assert_eq!(cache_status(&r), MISS, "{query:?}");
        assert_eq!(r.json()["data"]["description"], "all variants");
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", "bypass")]
        ),
        Some(12.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn oversized_entries_and_disabled_routes_are_not_stored() {
    let app = spawn_app_overlay(
        r#"
[cache]
max_entry_bytes = 600
[cache.routes.customer_wallet_ready]
enabled = false
"#,
    )
    .await;
    let id = customer_id(30);
    for n in 1..=2u64 {
        let r = app.get(&detail(&id)).await;
        assert_eq!(r.status, 200);
        assert!(r.body.len() > 600, "a detail body outweighs the limit");
        assert_eq!(
            cache_status(&r),
            "paycombat-gateway; fwd=miss; detail=too-large"
        );
        assert_eq!(detail_count(&app), n);
        let w = app.get(&wallet(&id)).await;
        assert_eq!(w.status, 200);
        assert_eq!(
            cache_status(&w),
            "paycombat-gateway; fwd=bypass; detail=disabled"
        );
        assert_eq!(age(&w), 0);
        assert_eq!(wallet_count(&app), n);
    }
    app.stop().await;
}

#[tokio::test]
async fn stale_while_revalidate_answers_at_once_and_refreshes_once() {
    let app = spawn_app_overlay(
        r#"
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "0s"
stale_while_revalidate = "5s"
"#,
    )
    .await;
    let id = customer_id(31);
    let first = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&first), MISS);
    update_behind_the_gateway(&app, &id, "revalidated").await;
    // Past the 1 s TTL by the gateway's clock; no waiting.
    app.clock.advance(Duration::from_millis(1_150));

    let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", "delay=300ms")]).await;
    assert_eq!(r.body, first.body, "the stale entry is served at once");
    let value = cache_status(&r).to_owned();
    let ttl: i64 = value
        .strip_prefix("paycombat-gateway; hit; ttl=")
        .and_then(|rest| rest.strip_suffix("; detail=stale-while-revalidate"))
        .and_then(|ttl| ttl.parse().ok())
        .unwrap_or_else(|| panic!("unexpected Cache-Status {value:?}"));
    assert!(ttl <= 0);
    assert_eq!(age(&r) as i64 + ttl, 1);

    let refreshed = eventually(Duration::from_secs(5), || async {
        let r = app.get(&detail(&id)).await;
        r.json()["data"]["description"] == "revalidated" && cache_status(&r) == hit(1)
    })
    .await;
    assert!(refreshed, "the background refresh stored the new answer");
    assert_eq!(detail_count(&app), 2, "one background refresh");
    app.stop().await;
}

#[tokio::test]
async fn admin_purge_needs_the_token_and_purges_one_customer_or_all() {
    let app = spawn_app().await;
    let (a, b) = (customer_id(32), customer_id(33));
    warm(&app, &a).await;
    warm(&app, &b).await;
    let purge_a = format!("/admin/cache/purge?customer_id={a}");

    let r = app.admin(Method::POST, &purge_a, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    let r = app
        .admin(
            Method::POST,
            &purge_a,
            &[("authorization", "Bearer not-the-token")],
        )
        .await;
    assert_eq!(r.status, 401);
    // Not on the API listener, whatever the credentials.
    let r = app
        .send(
            Method::POST,
            &purge_a,
            &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
            b"",
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        cache_status(&app.get(&detail(&a)).await),
        hit(30),
        "nothing purged yet"
    );

    let auth = format!("Bearer {ADMIN_TOKEN}");
    let r = app
        .admin(Method::POST, &purge_a, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["customer_id"], a.as_str());
    assert_eq!(cache_status(&app.get(&detail(&a)).await), MISS);
    assert_eq!(cache_status(&app.get(&wallet(&a)).await), MISS);
    assert_eq!(
        cache_status(&app.get(&detail(&b)).await),
        hit(30),
        "other customers stay"
    );

    let r = app
        .admin(
            Method::POST,
            "/admin/cache/purge",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 400, "neither customer_id nor all");

    let r = app
        .admin(
            Method::POST,
            "/admin/cache/purge?all=true",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for path in [detail(&a), wallet(&a), detail(&b), wallet(&b)] {
        assert_eq!(cache_status(&app.get(&path).await), MISS, "{path}");
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_invalidations_total",
            &[("reason", "admin")]
        ),
        Some(2.0)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_bound_holds_over_twenty_thousand_customers() {
    const MAX_BYTES: u64 = 2 * 1024 * 1024;
    const READS: u64 = 20_000;
    let app = spawn_app_overlay(&format!("[cache]\nmax_bytes = {MAX_BYTES}")).await;
    let results: Vec<(u16, bool)> = stream::iter(0..READS)
        .map(|n| {
            let (client, url) = (
                app.client.clone(),
                format!("http://{}{}", app.addr, detail(&customer_id(1_000_000 + n))),
            );
            async move {
                let r = request(&client, Method::GET, &url, &[("x-token", CLIENT_KEY)], b"").await;
                (r.status.as_u16(), cache_status(&r) == MISS)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(results.len() as u64, READS);
    assert!(
        results.iter().all(|&(status, miss)| status == 200 && miss),
        "every read a stored miss"
    );
    assert_eq!(detail_count(&app), READS);

    let scrape = app.metrics().await;
    let weighted = value(&scrape, "gateway_cache_weighted_bytes", &[]);
    let entries = value(&scrape, "gateway_cache_entries", &[]);
    assert_eq!(
        value(&scrape, "gateway_cache_max_bytes", &[]),
        MAX_BYTES as f64
    );
    assert!(
        weighted <= MAX_BYTES as f64,
        "{weighted} bytes held, bound {MAX_BYTES}"
    );
    assert!(
        weighted > (MAX_BYTES / 2) as f64,
        "the cache is in use: {weighted}"
    );
    assert!(
        entries > 0.0 && entries < READS as f64 / 4.0,
        "{entries} entries"
    );
    assert!(
        value(
            &scrape,
            "gateway_cache_evictions_total",
            &[("cause", "size")]
        ) > 0.0
    );
    app.stop().await;
}

#[tokio::test]
async fn not_found_is_cached_only_when_negative_ttl_is_set() {
    let app = spawn_app_overlay("[cache.routes.customer_detail]\nnegative_ttl = \"5s\"").await;
    let id = customer_id(35);
    warm(&app, &id).await;
    write(&app, Method::DELETE, &detail(&id), "").await;
    let r = app.get(&detail(&id)).await;
    assert_eq!((r.status.as_u16(), cache_status(&r)), (404, MISS));
    let r = app.get(&detail(&id)).await;
    assert_eq!(
        (r.status.as_u16(), cache_status(&r)),
        (404, hit(5).as_str())
    );
    assert_eq!(r.json()["status"], false);
    assert_eq!(detail_count(&app), 2);
    // The wallet-ready route keeps its own negative_ttl (0): never stored there.
    for n in 2..=3 {
        let w = app.get(&wallet(&id)).await;
        assert_eq!((w.status.as_u16(), cache_status(&w)), (404, UNCACHEABLE));
        assert_eq!(wallet_count(&app), n);
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// A paycombat stand-in on a real socket, for what the sandbox does not do: answers that
// vary on a request header, and writes read the lenient way (a leading byte-order mark
// skipped, JSON escapes decoded, the last duplicate key applied).

const VARIES: &str = "paycombat-gateway; fwd=miss; detail=vary";

struct FakeUpstream {
    url: String,
    details: Arc<std::sync::atomic::AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // The accept loop owns every connection task: aborting it ends them all.
        self.task.abort();
    }
}

impl FakeUpstream {
    /// `vary`: the `Vary` value on detail answers; `delay`: before each detail answer.
    async fn start(vary: Option<&'static str>, delay: Duration) -> FakeUpstream {
        Self::start_with(vary, delay, Duration::ZERO).await
    }

    /// As `start`; an update is applied `write_delay` after it arrives, whether or not
    /// the gateway still waits for its answer (as paycombat would).
    async fn start_with(
        vary: Option<&'static str>,
        delay: Duration,
        write_delay: Duration,
    ) -> FakeUpstream {
        use http_body_util::{BodyExt, Full};
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;
        use std::sync::atomic::Ordering;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let details = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let descriptions = Arc::new(Mutex::new(
            std::collections::HashMap::<String, String>::new(),
        ));
        let counter = details.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (details, descriptions) = (counter.clone(), descriptions.clone());
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (details, descriptions) = (details.clone(), descriptions.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts.uri.path().to_owned();
                        let mut resp =
                            http::Response::builder().header("content-type", "application/json");
                        let out = if let Some(id) = path.strip_prefix("/api/v1/customer/customer/")
                        {
                            details.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            if let Some(v) = vary {
                                resp = resp.header("vary", v);
                            }
                            let tenant = parts
                                .headers
                                .get("x-tenant")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned();
                            let description = descriptions
                                .lock()
                                .unwrap()
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| "initial".to_owned());
                            serde_json::json!({"status": true, "message": "OK", "data": {
                                "customer_id": id, "description": description, "tenant": tenant,
                            }})
                        } else if path == "/api/v1/customer/update" {
                            let text = String::from_utf8_lossy(&body);
                            let v: serde_json::Value =
                                serde_json::from_str(text.trim_start_matches('\u{feff}'))
                                    .unwrap_or_default();
                            let (Some(id), Some(d)) =
                                (v["customer_id"].as_str(), v["description"].as_str())
                            else {
                                resp = resp.status(400);
                                return Ok::<_, std::convert::Infallible>(
                                    resp.body(Full::new(bytes::Bytes::from_static(
                                        br#"{"status":false,"message":"bad body","data":null}"#,
                                    )))
                                    .unwrap(),
                                );
                            };
                            let (id, d) = (id.to_owned(), d.to_owned());
                            let applied = tokio::spawn(async move {
                                tokio::time::sleep(write_delay).await;
                                descriptions.lock().unwrap().insert(id.clone(), d);
                                id
                            });
                            let id = applied.await.unwrap();
                            serde_json::json!({"status": true, "message": "OK", "data": {"customer_id": id}})
                        } else {
                            serde_json::json!({"status": true, "message": "OK", "data": {}})
                        };
                        Ok(resp
                            .body(Full::new(bytes::Bytes::from(out.to_string())))
                            .unwrap())
                    }
                });
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeUpstream { url, details, task }
    }

    fn details(&self) -> u64 {
        self.details.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn gateway(&self) -> TestApp {
        spawn_app_with(Options {
            upstream_override: Some(self.url.clone()),
            ..Options::default()
        })
        .await
    }
}

/// A writer that goes away while its write is at paycombat (its closed connection drops
/// the request) still leaves no pre-write read cached: paycombat may apply the write.
#[tokio::test]
async fn a_write_whose_writer_went_away_still_invalidates() {
    use tokio::io::AsyncWriteExt;
    let up = FakeUpstream::start_with(None, Duration::ZERO, Duration::from_millis(600)).await;
    let app = up.gateway().await;
    let id = customer_id(92);
    let path = detail(&id);
    assert_eq!(cache_status(&app.get(&path).await), MISS);
    let r = app.get(&path).await;
    assert!(
        cache_status(&r).starts_with("paycombat-gateway; hit"),
        "{}",
        cache_status(&r)
    );
    assert_eq!(r.json()["data"]["description"], "initial");

    let body = format!(r#"{{"customer_id":"{id}","description":"written"}}"#);
    let head = format!(
        "PATCH /api/v1/customer/update HTTP/1.1\r\nhost: gateway\r\nx-token: {CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut writer = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    writer.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(writer);
    // paycombat applies the write 600 ms after it arrived.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let r = app.get(&path).await;
    assert_eq!(
        r.json()["data"]["description"],
        "written",
        "a pre-write read was served ({})",
        cache_status(&r)
    );
    app.stop().await;
}

#[tokio::test]
async fn an_answer_varying_on_a_request_header_is_only_ever_served_to_its_client() {
    let up = FakeUpstream::start(Some("X-Tenant"), Duration::ZERO).await;
    let app = up.gateway().await;
    let id = customer_id(90);
    for (n, tenant) in ["alpha", "beta", "alpha"].into_iter().enumerate() {
        let r = get_with(&app, &detail(&id), &[("x-tenant", tenant)]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["data"]["tenant"], tenant, "request {n}");
        assert_eq!(cache_status(&r), VARIES, "request {n}");
        // X-Tenant is not in upstream.vary_request_headers: the client is told
        // the strictest `*`, never a name of upstream's choosing.
        assert_eq!(r.header("vary"), "*", "the client learns it varies");
        assert_eq!(up.details(), n as u64 + 1, "nothing stored: request {n}");
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_uncacheable_total",
            &[("route", "customer_detail"), ("reason", "vary")]
        ),
        Some(3.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_readers_of_a_varying_answer_each_get_their_own() {
    // Slow enough that every reader arrives while the first fill is out.
    let up = FakeUpstream::start(
        Some("accept-encoding,\tx-tenant"),
        Duration::from_millis(300),
    )
    .await;
    let app = up.gateway().await;
    let id = customer_id(91);
    let tenants: Vec<String> = (0..6).map(|n| format!("tenant-{n}")).collect();
    let path = detail(&id);
    let answers = futures_util::future::join_all(tenants.iter().map(|t| {
        let path = &path;
        let app = &app;
        async move { get_with(app, path, &[("x-tenant", t.as_str())]).await }
    }))
    .await;
    for (tenant, r) in tenants.iter().zip(&answers) {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            &r.json()["data"]["tenant"],
            tenant.as_str(),
            "{}",
            cache_status(r)
        );
        assert_eq!(cache_status(r), VARIES);
    }
    assert_eq!(up.details(), 6, "one upstream request per reader");
    app.stop().await;
}

#[tokio::test]
async fn vary_on_accept_encoding_alone_is_still_stored() {
    let up = FakeUpstream::start(Some("Accept-Encoding"), Duration::ZERO).await;
    let app = up.gateway().await;
    let id = customer_id(92);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    let r = get_with(&app, &detail(&id), &[("x-tenant", "other")]).await;
    assert_eq!(cache_status(&r), hit(30));
    assert_eq!(up.details(), 1);
    app.stop().await;
}

/// Reads `id` through the gateway until it is a hit.
async fn primed(app: &TestApp, id: &str) {
    assert_eq!(app.get(&detail(id)).await.status, 200);
    assert!(cache_status(&app.get(&detail(id)).await).starts_with("paycombat-gateway; hit;"));
}

#[tokio::test]
async fn quirky_writes_invalidate_the_customer_upstream_applies_them_to() {
    let up = FakeUpstream::start(None, Duration::ZERO).await;
    let app = up.gateway().await;
    let (a, b) = (customer_id(93), customer_id(94));
    let escaped = format!("customer\\u005f{}", &b["customer_".len()..]);
    let bodies = [
        (
            "duplicate key",
            format!(r#"{{"customer_id":"{a}","customer_id":"{b}","description":"dup"}}"#),
        ),
        (
            "byte-order mark",
            format!("\u{feff}{{\"customer_id\":\"{b}\",\"description\":\"bom\"}}"),
        ),
        (
            "escaped id",
            format!(r#"{{"customer_id":"{escaped}","description":"escaped"}}"#),
        ),
    ];
    for (quirk, body) in bodies {
        primed(&app, &a).await;
        primed(&app, &b).await;
        let before = up.details();
        write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;
        let r = app.get(&detail(&b)).await;
        assert_eq!(cache_status(&r), MISS, "{quirk}");
        let want = body
            .split("\"description\":\"")
            .nth(1)
            .unwrap()
            .trim_end_matches("\"}");
        assert_eq!(
            r.json()["data"]["description"],
            want,
            "{quirk}: post-write data"
        );
        assert_eq!(up.details(), before + 1, "{quirk}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_duplicate_key_write_through_the_sandbox_invalidates_the_id_applied() {
    let app = spawn_app().await;
    let (a, b) = (customer_id(95), customer_id(96));
    warm(&app, &a).await;
    warm(&app, &b).await;
    let before = detail_count(&app);
    let body =
        format!(r#"{{"customer_id":"{a}","customer_id":"{b}","description":"last key wins"}}"#);
    write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;
    let r = app.get(&detail(&b)).await;
    assert_eq!(cache_status(&r), MISS);
    assert_eq!(r.json()["data"]["description"], "last key wins");
    assert_eq!(cache_status(&app.get(&wallet(&b)).await), MISS);
    assert_eq!(detail_count(&app), before + 1);
    app.stop().await;
}

#[tokio::test]
async fn a_customer_write_naming_no_customer_purges_all_and_other_writes_do_not() {
    let app = spawn_app().await;
    let (a, b) = (customer_id(97), customer_id(98));
    warm(&app, &a).await;
    warm(&app, &b).await;
    write(
        &app,
        Method::POST,
        "/api/v1/customer/create",
        r#"{"type":"individual","description":"names nobody"}"#,
    )
    .await;
    for id in [&a, &b] {
        assert_eq!(cache_status(&app.get(&detail(id)).await), MISS);
        assert_eq!(cache_status(&app.get(&wallet(id)).await), MISS);
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_invalidations_total",
            &[("reason", "write_all")]
        ),
        Some(1.0)
    );

    // Outside the customer family, a write naming nobody leaves the cache alone.
    let r = app
        .send(
            Method::POST,
            "/api/v1/anything/else",
            &[],
            br#"{"amount":1}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(cache_status(&app.get(&detail(&a)).await).starts_with("paycombat-gateway; hit;"));
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_invalidations_total",
            &[("reason", "write_all")]
        ),
        Some(1.0)
    );
    app.stop().await;
}
