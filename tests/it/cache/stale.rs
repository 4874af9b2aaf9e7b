//! Stale answers: stale-if-error over upstream errors, timeouts and refused connections, and
//! stale-while-revalidate.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::common::*;

use super::*;

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
