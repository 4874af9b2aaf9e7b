//! Cluster mode against replicas that race or lag: a fill on one replica overtaken by a
//! write on another, a replica that can publish but not subscribe, and a writer that
//! reconnects after a short stall.

use std::time::Duration;

use crate::cluster_faults::{leased, overlay, pair, update};
use crate::common::link::Link;
use crate::common::redis::RedisServer;
use crate::common::*;
use http::Method;

/// A fill on one replica that read the customer before a write on another replica, and
/// is still receiving it when that write is answered: the later read on the filling
/// replica does not join it, and what it read is never stored there.
#[tokio::test]
async fn a_fill_racing_a_write_on_another_replica_stores_nothing_stale() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = pair(&redis.url(), "").await;
    let (writer, filler) = (&apps[0], &apps[1]);
    let id = customer_id(0x3a);
    let ok = || async {
        sample(
            &filler.metrics().await,
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "ok")],
        )
    };
    let before = ok().await;
    let slow = {
        let (client, url) = (
            filler.client.clone(),
            format!("http://{}{}", filler.addr, detail(&id)),
        );
        tokio::spawn(async move {
            let fault = [
                ("x-token", CLIENT_KEY),
                ("x-sandbox-fault", "slow_body=1500ms"),
            ];
            request(&client, Method::GET, &url, &fault, b"").await
        })
    };
    // Its head has arrived: paycombat has decided the (pre-write) body.
    assert!(
        eventually(Duration::from_secs(5), || async {
            metrics::moved(before, ok().await) == Some(1.0)
        })
        .await
    );
    let w = update(writer, &id, "written during a remote fill").await;
    assert_eq!(w.status, 200, "{}", w.text());

    let after = filler.get(&detail(&id)).await;
    assert_eq!(
        after.json()["data"]["description"],
        "written during a remote fill",
        "{}",
        after.header("cache-status")
    );
    let first = slow.await.unwrap();
    assert_eq!(first.status, 200, "{}", first.text());
    assert_ne!(
        first.json()["data"]["description"],
        "written during a remote fill"
    );
    assert_eq!(
        first.header("cache-status"),
        "paycombat-gateway; fwd=miss; detail=invalidated"
    );
    let again = filler.get(&detail(&id)).await;
    assert_eq!(
        again.json()["data"]["description"],
        "written during a remote fill"
    );
    for app in apps {
        app.stop().await;
    }
}

/// A replica that can still publish but cannot subscribe (its SUBSCRIBE answer arrives
/// after `subscribe_timeout`, every time) holds no lease and confirms nothing: it stops
/// heartbeating, so writers elsewhere stop waiting a full lease for it.
#[tokio::test]
async fn a_replica_that_cannot_subscribe_does_not_hold_up_writes_elsewhere() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    let writer = spawn_app_overlay(&overlay(&redis.url(), "")).await;
    let other = spawn_app_with(Options {
        overlay: overlay(&link.url(), ""),
        upstream_override: Some(writer.sandbox.base_url()),
        ..Options::default()
    })
    .await;
    let peers = |n: f64| {
        let writer = &writer;
        async move {
            eventually(Duration::from_secs(8), || async {
                value(&writer.metrics().await, "gateway_cluster_peers", &[]) == n
            })
            .await
        }
    };
    assert!(leased(&writer, true).await && leased(&other, true).await);
    assert!(peers(1.0).await, "the writer hears the other replica");

    // The other replica's connections are cut (the writer's are not), and its
    // subscription cannot be made again.
    link.set_pubsub_delay(Duration::from_secs(5));
    link.cut();
    assert!(leased(&other, false).await);
    assert!(peers(0.0).await, "no longer heard: it stopped heartbeating");
    assert!(leased(&writer, true).await);

    let waits = |outcome: &'static str| {
        let writer = &writer;
        async move {
            value(
                &writer.metrics().await,
                "gateway_cluster_write_waits_total",
                &[("outcome", outcome)],
            )
        }
    };
    let lease_waits = waits("lease").await;
    let w = update(&writer, &customer_id(0x51), "not held up").await;
    assert_eq!(w.status, 200, "{}", w.text());
    assert_eq!(waits("lease").await, lease_waits, "no lease wait for it");
    for app in [writer, other] {
        app.stop().await;
    }
    drop(link);
}

/// A writer whose Redis connection broke, on a link that stalls for less than
/// `publish_deadline`: each reconnect is one attempt bounded by `connect_timeout`, so
/// the attempt made after the link is back carries the invalidation within the
/// deadline, and the other replica stops serving the pre-write entry. (A reconnect
/// that slept a second between attempts missed the deadline and answered the write
/// unconfirmed while the reader kept its lease and its stale entry.)
#[tokio::test]
async fn a_writer_reconnecting_after_a_short_stall_still_confirms_its_write() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    let id = customer_id(0x3b);
    // A deadline shorter than one attempt plus a second's sleep, longer than the stall
    // plus one attempt.
    let (writer, reader) = writer_behind_a_link(&redis, &link, "1200ms", &id).await;

    // Every connection of the writer breaks, and its link stalls for 700 ms.
    link.cut();
    link.pause(true);
    let resume = {
        let state = tokio::time::sleep(Duration::from_millis(700));
        let link = &link;
        async move {
            state.await;
            link.pause(false);
        }
    };
    let (written, ()) = tokio::join!(update(&writer, &id, "after"), resume);
    assert_eq!(written.status, 200, "{}", written.text());
    let unconfirmed = value(
        &writer.metrics().await,
        "gateway_cluster_write_waits_total",
        &[("outcome", "unconfirmed")],
    );
    assert_eq!(unconfirmed, 0.0, "the invalidation ran within the deadline");
    let (description, _) = description_of(&reader, &id).await;
    assert_eq!(description, "after", "no pre-write read after the write");
    writer.stop().await;
    reader.stop().await;
    drop(link);
}

/// A writer's Redis connections go silent without closing (a conntrack entry dropped, a
/// failover to a new address): no FIN, no RST, nothing moves on them, while a new
/// connection would work. The command connection is taken for dead once it has answered
/// nothing for `heartbeat_timeout` and a command timed out on it, and is made again: the
/// writer's invalidations are confirmed again within seconds, not when TCP gives up many
/// minutes later, and the other replica then reads the last write.
#[tokio::test]
async fn a_writer_whose_connections_went_silent_confirms_its_writes_again() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    let id = customer_id(0x3c);
    let (writer, reader) = writer_behind_a_link(&redis, &link, "800ms", &id).await;

    let opened = link.opened();
    let metric = |name: &'static str, label: &'static str, v: &'static str| {
        let writer = &writer;
        async move { value(&writer.metrics().await, name, &[(label, v)]) }
    };
    let waits = "gateway_cluster_write_waits_total";
    let heartbeat_errors = metric(
        "gateway_cluster_redis_errors_total",
        "operation",
        "heartbeat",
    );
    let errors_before = heartbeat_errors.await;
    link.silence_open();
    // Writes until one is confirmed by the other replica again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut confirmed = None;
    for n in 0.. {
        if tokio::time::Instant::now() > deadline {
            break;
        }
        let before = metric(waits, "outcome", "confirmed").await;
        let description = format!("after-{n}");
        let written = update(&writer, &id, &description).await;
        assert_eq!(written.status, 200, "{}", written.text());
        if metric(waits, "outcome", "confirmed").await > before {
            confirmed = Some(description);
            break;
        }
    }
    let Some(description) = confirmed else {
        panic!("no write was confirmed within 10 s of the connections going silent");
    };
    let errors_after = metric(
        "gateway_cluster_redis_errors_total",
        "operation",
        "heartbeat",
    )
    .await;
    assert!(errors_after > errors_before, "the silence was felt");
    assert_eq!(
        metric(waits, "outcome", "unconfirmed").await,
        0.0,
        "every invalidation reached Redis within publish_deadline"
    );
    assert!(link.opened() > opened, "a new connection was made");
    let read = eventually(Duration::from_secs(3), || async {
        description_of(&reader, &id).await.0 == description
    })
    .await;
    assert!(read, "the reader reads the confirmed write");
    writer.stop().await;
    reader.stop().await;
    drop(link);
}

/// A writer replica whose Redis is behind `link` and a reader replica on Redis directly (same
/// upstream), both leased, with cluster timings short enough for a test and
/// `publish_deadline`; the writer has written customer `id` once and the reader holds that
/// pre-write state as a cache hit.
async fn writer_behind_a_link(
    redis: &RedisServer,
    link: &Link,
    publish_deadline: &str,
    id: &str,
) -> (TestApp, TestApp) {
    let cluster = |url: &str| {
        format!(
            r#"
[cluster]
redis_url = "{url}"
connect_timeout = "300ms"
command_timeout = "100ms"
heartbeat_interval = "100ms"
heartbeat_timeout = "600ms"
lease = "500ms"
publish_deadline = "{publish_deadline}"
"#
        )
    };
    let writer = spawn_app_overlay(&cluster(&link.url())).await;
    let reader = spawn_app_with(Options {
        overlay: cluster(&redis.url()),
        upstream_override: Some(writer.sandbox.base_url()),
        ..Options::default()
    })
    .await;
    assert!(leased(&writer, true).await && leased(&reader, true).await);
    assert_eq!(update(&writer, id, "before").await.status, 200);
    let cached = eventually(Duration::from_secs(5), || async {
        description_of(&reader, id).await == ("before".to_owned(), true)
    })
    .await;
    assert!(cached, "the reader holds the pre-write entry");
    (writer, reader)
}

/// A customer's description as `app` answers it, and whether it was a hit.
async fn description_of(app: &TestApp, id: &str) -> (String, bool) {
    let r = app.get(&detail(id)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    (
        r.json()["data"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        r.header("cache-status").contains("; hit"),
    )
}
