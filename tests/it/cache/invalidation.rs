//! Invalidation: writes through the gateway (including quirky, duplicate-key and abandoned ones)
//! and admin purges drop exactly the customers they touch.

use std::time::Duration;

use http::Method;

use crate::common::*;

use super::*;

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
