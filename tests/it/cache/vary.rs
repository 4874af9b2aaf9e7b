//! Answers that vary on a request header are only served to the client they were made for.

use std::time::Duration;

use crate::common::*;

use super::*;

const VARIES: &str = "paycombat-gateway; fwd=miss; detail=vary";

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
