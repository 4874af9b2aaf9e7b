//! Cluster mode's edges: what one write may invalidate, a slow Redis and the rate-limit
//! breaker, refusing writes without a lease, what the log and `check-config` say when
//! Redis refuses the password, and what the lease costs a write.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;

use crate::common::link::Link;
use crate::common::redis::RedisServer;
use crate::common::*;

pub(crate) fn overlay(url: &str, extra: &str) -> String {
    format!(
        r#"
[cluster]
redis_url = "{url}"
connect_timeout = "500ms"
command_timeout = "250ms"
heartbeat_interval = "100ms"
heartbeat_timeout = "1s"
lease = "1s"
publish_deadline = "2s"
{extra}
"#
    )
}

fn is_hit(r: &Resp) -> bool {
    r.header("cache-status")
        .starts_with("paycombat-gateway; hit;")
}

pub(crate) async fn leased(app: &TestApp, held: bool) -> bool {
    let want = if held { 1.0 } else { 0.0 };
    eventually(Duration::from_secs(8), || async {
        value(&app.metrics().await, "gateway_cluster_lease_held", &[]) == want
    })
    .await
}

pub(crate) async fn pair(redis_url: &str, extra: &str) -> Vec<TestApp> {
    let first = spawn_app_overlay(&overlay(redis_url, extra)).await;
    let upstream = first.sandbox.base_url();
    let second = spawn_app_with(Options {
        overlay: overlay(redis_url, extra),
        upstream_override: Some(upstream),
        ..Options::default()
    })
    .await;
    let apps = vec![first, second];
    for app in &apps {
        assert!(leased(app, true).await, "a lease");
    }
    apps
}

async fn warm(app: &TestApp, id: &str) {
    for _ in 0..3 {
        if is_hit(&app.get(&detail(id)).await) {
            return;
        }
    }
    panic!("{id} not cached");
}

pub(crate) async fn update(app: &TestApp, id: &str, description: &str) -> Resp {
    let body = format!(r#"{{"customer_id":"{id}","description":"{description}"}}"#);
    app.send(
        Method::PATCH,
        "/api/v1/customer/update",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
}

/// A payout naming 300 customers drops exactly those, on every replica: no cap that
/// turns "many" into a cluster-wide purge.
#[tokio::test]
async fn a_payout_naming_300_customers_drops_those_and_nothing_else() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = pair(&redis.url(), "").await;
    let named: Vec<String> = (0..300).map(|n| customer_id(1700 + n)).collect();
    let (first, last, bystander) = (&named[0], &named[299], customer_id(1650));
    for app in &apps {
        for id in [first, last, &bystander] {
            warm(app, id).await;
        }
    }
    let body = serde_json::json!({
        "amount": 100,
        "beneficiaries": named.iter().map(|id| serde_json::json!({"customer_id": id})).collect::<Vec<_>>(),
    });
    let r = apps[0]
        .send(
            Method::POST,
            "/api/v1/payout/create-payout",
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for app in &apps {
        for id in [first, last] {
            assert!(!is_hit(&app.get(&detail(id)).await), "{id} was named");
        }
    }
    // No purge-all, here or published: the customers it does not name stay cached
    // (unless a lease lapse on a loaded machine dropped the cache, which says nothing).
    let here = value(
        &apps[0].metrics().await,
        "gateway_cache_invalidations_total",
        &[("reason", "write_all")],
    );
    assert_eq!(here, 0.0, "the writer did not purge everything");
    let all = value(
        &apps[1].metrics().await,
        "gateway_cluster_invalidations_received_total",
        &[("kind", "all")],
    );
    assert_eq!(all, 0.0, "no purge-all was published");
    let customers = value(
        &apps[1].metrics().await,
        "gateway_cluster_invalidations_received_total",
        &[("kind", "customer")],
    );
    assert_eq!(customers, 2.0, "300 ids, in messages of 256");
    let drops = value(
        &apps[1].metrics().await,
        "gateway_cluster_cache_drops_total",
        &[("reason", "stall")],
    );
    if drops == 0.0 {
        assert!(
            is_hit(&apps[1].get(&detail(&bystander)).await),
            "{bystander} stays cached"
        );
    }
    for app in apps {
        app.stop().await;
    }
}

/// Redis answering slower than `command_timeout`: after a few timeouts the breaker
/// opens and a limited client's requests stop waiting for Redis; the local bucket
/// decides, so no more are accepted than it allows.
#[tokio::test]
async fn a_slow_redis_opens_the_rate_limit_breaker() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    let app = spawn_app_overlay(&overlay(
        &link.url(),
        "rate_limit_breaker_failures = 3\nrate_limit_breaker_cooldown = \"5s\"",
    ))
    .await;
    assert!(leased(&app, true).await);
    link.set_delay(Duration::from_millis(200));
    let started = Instant::now();
    let (mut slow, mut accepted) = (0, 0);
    const N: usize = 40;
    for _ in 0..N {
        let t = Instant::now();
        let r = app
            .send(
                Method::GET,
                &detail(FIXTURE_ID),
                &[("x-token", READONLY_KEY)],
                b"",
            )
            .await;
        if t.elapsed() >= Duration::from_millis(250) {
            slow += 1;
        }
        if r.status == 200 {
            accepted += 1;
        }
    }
    let elapsed = started.elapsed();
    println!("slow Redis (400 ms round trip, command_timeout 250 ms): {N} limited requests in {elapsed:?}, {slow} took 250 ms or more, {accepted} accepted");
    let scrape = app.metrics().await;
    let trips = value(
        &scrape,
        "gateway_cluster_rate_limit_breaker_trips_total",
        &[],
    );
    assert_eq!(trips, 1.0);
    // Only the calls that opened the breaker asked Redis (and timed out); the cooldown
    // outlasts the test, so no probe ran. Every request was decided by the local bucket.
    let asked = value(
        &scrape,
        "gateway_cluster_redis_errors_total",
        &[("operation", "rate_limit")],
    );
    assert_eq!(asked, 3.0, "requests that waited on Redis");
    let local: f64 = ["allowed", "limited"]
        .iter()
        .map(|d| {
            value(
                &scrape,
                "gateway_cluster_rate_limit_decisions_total",
                &[("source", "local"), ("decision", d)],
            )
        })
        .sum();
    assert_eq!(local, N as f64, "every request decided by the local bucket");
    // The local bucket: burst 3, 1 a second.
    let bound = 3 + elapsed.as_secs() as usize + 1;
    assert!(
        accepted <= bound,
        "{accepted} accepted, local bucket allows {bound}"
    );
    app.stop().await;
    drop(link);
}

/// `on_unconfirmed_write = "refuse"`: without a lease, a customer write is refused with
/// 503 before paycombat sees it; reads are still served.
#[tokio::test]
async fn without_a_lease_refuse_holds_customer_writes_before_sending_them() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    let app = spawn_app_overlay(&overlay(&link.url(), "on_unconfirmed_write = \"refuse\"")).await;
    assert!(leased(&app, true).await);
    let id = customer_id(1660);
    assert_eq!(update(&app, &id, "with a lease").await.status, 200);
    link.pause(true);
    assert!(leased(&app, false).await, "heartbeats stop coming back");
    let before = app.sandbox.state().request_count("all");
    let r = update(&app, &id, "cut off").await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "CLUSTER_UNCONFIRMED");
    assert_eq!(
        app.sandbox.state().request_count("all"),
        before,
        "the refused write never reached paycombat"
    );
    let read = app.get(&detail(&id)).await;
    assert_eq!(read.status, 200);
    assert!(read.header("cache-status").contains("detail=no-lease"));
    link.pause(false);
    assert!(leased(&app, true).await);
    assert_eq!(update(&app, &id, "back").await.status, 200);
    let refused = value(
        &app.metrics().await,
        "gateway_cluster_writes_refused_total",
        &[],
    );
    assert_eq!(refused, 1.0);
    app.stop().await;
    drop(link);
}

/// The lease's price for a write: with every replica confirming (no fault) and with
/// Redis stopped (the write waits `publish_deadline`, then is answered unconfirmed).
#[tokio::test]
async fn what_the_lease_costs_a_write() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = pair(&redis.url(), "").await;
    // Writers answer early only from a subscription older than a lease.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let id = customer_id(1670);
    let alone = spawn_app().await;
    let p50 = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let mut took = Vec::new();
    let mut single = Vec::new();
    for i in 0..30 {
        let t = Instant::now();
        assert_eq!(update(&alone, &id, &format!("s{i}")).await.status, 200);
        single.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        assert_eq!(
            update(&apps[i % 2], &id, &format!("w{i}")).await.status,
            200
        );
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    alone.stop().await;
    let (s50, smax) = p50(single);
    let (c50, cmax) = p50(took);
    let mut outcomes = Vec::new();
    for outcome in ["confirmed", "lease", "unconfirmed"] {
        let mut n = 0.0;
        for app in &apps {
            n += value(
                &app.metrics().await,
                "gateway_cluster_write_waits_total",
                &[("outcome", outcome)],
            );
        }
        outcomes.push(format!("{outcome} {n}"));
    }
    println!(
        "write latency, no fault: single process p50 {s50:.1} ms (max {smax:.1}); cluster of 2 p50 {c50:.1} ms (max {cmax:.1}); waits: {}",
        outcomes.join(", ")
    );
    redis.pause(true);
    let t = Instant::now();
    assert_eq!(update(&apps[0], &id, "stalled").await.status, 200);
    let stalled = t.elapsed();
    redis.pause(false);
    println!("write latency, Redis stopped: {stalled:?} (publish_deadline 2s)");
    assert!(stalled >= Duration::from_secs(2), "{stalled:?}");
    for app in apps {
        app.stop().await;
    }
}

fn config_dir(redis_url: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(dir.path().join("token"), "snd_token").unwrap();
    std::fs::write(dir.path().join("hmac"), "mask-key").unwrap();
    std::fs::write(dir.path().join("sig"), "signature-key").unwrap();
    std::fs::write(dir.path().join("redis_pw"), password).unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        format!(
            "[upstream]\ntoken_file = {token:?}\nsignature_key_file = {sig:?}\n[mask]\nhmac_key_file = {hmac:?}\n[auth]\nmode = \"none\"\n[log]\nformat = \"json\"\n[cluster]\nredis_url = {redis_url:?}\nredis_password_file = {pw:?}\n",
            token = p("token"),
            sig = p("sig"),
            hmac = p("hmac"),
            pw = p("redis_pw"),
        ),
    )
    .unwrap();
    dir
}

/// A wrong Redis password: `check-config` says so (exit 64), and `serve` logs a WARN
/// naming the operation within seconds, after a start-up line saying cluster mode is on
/// and which Redis — never the password.
#[tokio::test]
async fn a_wrong_redis_password_is_reported_by_check_config_and_logged_at_warn() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start_with_password("right-password");
    let bin = env!("CARGO_BIN_EXE_paycombat-gateway");
    let dir = config_dir(&redis.url(), "wrong-password");
    let out = Command::new(bin)
        .env_clear()
        .args(["check-config", "--config-dir"])
        .arg(dir.path())
        .args(["--env", "c"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(
        text.contains("`cluster.redis_url`") && text.contains("authentication failed"),
        "{text}"
    );
    assert!(!text.contains("wrong-password"), "{text}");

    let ok = config_dir(&redis.url(), "right-password");
    let out = Command::new(bin)
        .env_clear()
        .args(["check-config", "--config-dir"])
        .arg(ok.path())
        .args(["--env", "c"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = tokio::process::Command::new(bin)
        .env_clear()
        .args(["serve", "--config-dir"])
        .arg(dir.path())
        .args([
            "--env",
            "c",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let stderr = tokio::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for mut lines in [
        Box::new(stdout.lines()) as Box<dyn LineSource>,
        Box::new(stderr.lines()),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(line) = lines.next().await {
                let _ = tx.send(line);
            }
        });
    }
    let (mut started, mut warned) = (None, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while started.is_none() || warned.is_none() {
        let Ok(Some(line)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            break;
        };
        assert!(!line.contains("wrong-password"), "{line}");
        if line.contains("paycombat-gateway listening") {
            started = Some(line);
        } else if line.contains("WARN") && line.contains("cluster: Redis operation failed") {
            warned = Some(line);
        }
    }
    let _ = child.kill().await;
    let started = started.expect("a start-up line");
    let warned = warned.expect("a WARN line within 8 s");
    println!("{started}\n{warned}");
    assert!(
        started.contains(&format!("on (Redis 127.0.0.1:{} db 0", redis.port)),
        "{started}"
    );
    assert!(warned.contains("\"operation\":\"connect\""), "{warned}");
    assert!(warned.contains("authentication failed"), "{warned}");
}

/// Lines from a child's stdout or stderr.
trait LineSource: Send {
    fn next(&mut self) -> futures_util::future::BoxFuture<'_, Option<String>>;
}

impl<R: tokio::io::AsyncBufRead + Unpin + Send> LineSource for tokio::io::Lines<R> {
    fn next(&mut self) -> futures_util::future::BoxFuture<'_, Option<String>> {
        Box::pin(async move { self.next_line().await.ok().flatten() })
    }
}

/// A replica 400 ms (each way) from Redis: connecting fits `connect_timeout`, the
/// SUBSCRIBE round trip its own `subscribe_timeout`, so it subscribes and takes leases
/// (each heartbeat back after 800 ms leaves it 200 ms of its 1 s lease).
#[tokio::test]
async fn a_replica_on_a_slow_link_subscribes() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let link = Link::start(redis.addr()).await;
    link.set_delay(Duration::from_millis(400));
    let app = spawn_app_overlay(&format!(
        r#"
[cluster]
redis_url = "{}"
connect_timeout = "1s"
subscribe_timeout = "2s"
command_timeout = "100ms"
heartbeat_interval = "250ms"
lease = "1s"
publish_deadline = "2s"
"#,
        link.url()
    ))
    .await;
    let subscribed = eventually(Duration::from_secs(15), || async {
        let scrape = app.metrics().await;
        sample(&scrape, "gateway_cluster_subscribed", &[]) == Some(1.0)
            && value(&scrape, "gateway_cluster_lease_renewals_total", &[]) >= 1.0
    })
    .await;
    assert!(
        subscribed,
        "subscribed over a 400 ms link, and its heartbeats come back"
    );
    app.stop().await;
    drop(link);
}
