//! The admin listener itself: health, readiness, unknown paths, and the ready/in-flight gauges
//! through a drain.

use std::time::Duration;

use http::Method;

use crate::common::metrics::exact;
use crate::common::*;

use super::*;

#[tokio::test]
async fn health_readiness_and_unknown_admin_paths() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/healthz", &[]).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, "ok\n"));
    let r = app.admin(Method::GET, "/readyz", &[]).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, "ready\n"));
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::GET, "/metrics/extra"),
        (Method::GET, "/api/v1/customer/customer"),
    ] {
        let r = app.admin(method.clone(), path, &[]).await;
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.error_code(), "NOT_FOUND", "{method} {path}");
    }
    // A known endpoint with the wrong method is 405, naming the right one.
    let r = app.admin(Method::DELETE, "/metrics", &[]).await;
    assert_eq!((r.status.as_u16(), r.header("allow")), (405, "GET, HEAD"));
    assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
    // The admin listener serves SREs only: nothing reached upstream, nothing counted as API traffic.
    assert_eq!(app.state().request_count("all"), 0);
    let s = scrape(&app).await;
    assert!(
        !s.lines().any(|l| l.starts_with("gateway_requests_total")),
        "{s}"
    );
    app.stop().await;
}

#[tokio::test]
async fn ready_and_inflight_gauges_follow_a_drain() {
    let mut app = spawn_app().await;
    let s = scrape(&app).await;
    assert_eq!(exact(&s, "gateway_ready", &[]), Some(1.0));
    assert_eq!(exact(&s, "gateway_inflight_requests", &[]), Some(0.0));
    let slow = {
        let client = app.client.clone();
        let url = format!("http://{}/api/v1/anything/slow", app.addr);
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=1500ms")],
                b"",
            )
            .await
        })
    };
    assert!(
        eventually(Duration::from_secs(3), || async {
            app.state().request_count("all") == 1
        })
        .await
    );
    assert_eq!(
        exact(&scrape(&app).await, "gateway_inflight_requests", &[]),
        Some(1.0)
    );

    let stopping = app.begin_stop();
    let not_ready = eventually(Duration::from_secs(3), || async {
        app.admin(Method::GET, "/readyz", &[]).await.status == 503
    })
    .await;
    assert!(not_ready, "/readyz turns 503 while draining");
    let s = scrape(&app).await;
    assert_eq!(
        exact(&s, "gateway_ready", &[]),
        Some(0.0),
        "the gauge agrees with /readyz"
    );
    assert_eq!(
        exact(&s, "gateway_inflight_requests", &[]),
        Some(1.0),
        "still serving the slow request"
    );
    assert_eq!(
        app.admin(Method::GET, "/healthz", &[]).await.status,
        200,
        "alive while draining"
    );
    assert_eq!(slow.await.unwrap().status, 200);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
