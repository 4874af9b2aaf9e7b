//! Rate limits and the per-client request and rejection metrics.

use std::time::Duration;

use http::Method;

use crate::common::metrics::moved;
use crate::common::*;

use super::*;

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
