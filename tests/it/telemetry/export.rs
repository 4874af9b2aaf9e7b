//! Exporting: queued spans flushed on drain, export outcomes counted, telemetry off, and an app
//! dropped without a drain.

use std::time::Duration;

use http::Method;

use crate::common::otlp::Receiver;
use crate::common::*;

use super::*;

#[tokio::test]
async fn queued_spans_are_flushed_when_the_gateway_drains() {
    let rx = Receiver::start().await;
    // No scheduled export would come within the test.
    let app = spawn_app_overlay(&rx.overlay("export_interval = \"1h\"")).await;
    let tp = client_traceparent("01");
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(7005)),
            &[("traceparent", tp.as_str())],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.spans().is_empty(), "nothing exported before the drain");
    app.stop().await;
    let spans = rx.trace_with(CLIENT_TRACE, "GET customer_detail", 1).await;
    assert_eq!(
        one(&spans, "GET customer_detail").parent_span_id,
        CLIENT_SPAN
    );
    assert!(rx.posts().iter().all(|p| p == "POST /v1/traces"));
}

#[tokio::test]
async fn export_outcomes_are_counted() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_trace_export_spans_total",
            &[("result", "failed")]
        ),
        Some(0.0)
    );
    app.get(&detail(&customer_id(7006))).await;
    let counted = eventually(Duration::from_secs(5), || async {
        let scrape = app.metrics().await;
        value(
            &scrape,
            "gateway_trace_export_spans_total",
            &[("result", "exported")],
        ) >= 6.0
    })
    .await;
    assert!(counted, "{}", app.metrics().await);
    drop(rx);
    // The collector is gone: the next batch fails and is counted as such.
    app.get(&detail(&customer_id(7007))).await;
    let failed = eventually(Duration::from_secs(8), || async {
        let scrape = app.metrics().await;
        value(
            &scrape,
            "gateway_trace_export_spans_total",
            &[("result", "failed")],
        ) > 0.0
    })
    .await;
    assert!(failed, "{}", app.metrics().await);
    app.stop().await;
}

#[tokio::test]
async fn with_telemetry_off_a_client_traceparent_reaches_paycombat_as_sent() {
    let app = spawn_app().await;
    let tp = client_traceparent("01");
    let r = app
        .send(
            Method::GET,
            "/api/v1/customer/customer?page=3",
            &[
                ("traceparent", tp.as_str()),
                ("tracestate", "vendor=opaque"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    let sent = upstream_trace_headers(&app, "/api/v1/customer/customer?");
    assert_eq!(sent, vec![(tp, Some("vendor=opaque".to_owned()))]);
    app.stop().await;
}

#[test]
fn an_app_dropped_without_a_drain_does_not_hang_on_its_exporter() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let rx = Receiver::start().await;
            let dir = tempfile::tempdir().unwrap();
            let settings = test_settings(dir.path(), "http://127.0.0.1:9", &rx.overlay(""));
            let app = paycombat_gateway::App::build(settings).await.unwrap();
            drop(app);
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .expect("dropping an app with tracing on returns");
}
