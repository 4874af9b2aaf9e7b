//! Read-after-write across replicas, checked on a recorded history while faults are
//! injected into a real `redis-server` and into each replica's link to it.
//!
//! Three gateways share one sandbox and one Redis, each through its own loopback relay
//! (`common::link`: delay, pause, cut). Writers own their customers and write strictly
//! increasing versions (`description = "v<n>"`) through random replicas; readers read
//! random customers through random replicas. The checker: a read that *started* after a
//! write to its customer *completed* must return that write's version or a later one.
//! Every fault runs while the load does; the assertion is zero stale reads.
//!
//! `CLUSTER_HISTORY_SCALE` (default 1) multiplies every phase and fault duration and
//! `CLUSTER_HISTORY_ROUNDS` (default 1) repeats the fault schedule;
//! `scripts/cluster-history.sh` runs the long version.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use tokio::time::Instant;

use crate::common::link::Link;
use crate::common::redis::RedisServer;
use crate::common::*;

const LEASE_MS: u64 = 500;
const PUBLISH_DEADLINE_MS: u64 = 1500;
/// A replica's pause: past its lease, well within a writer's publish_deadline
/// (a write caught by the pause must still get Redis's reply in time on a
/// loaded machine; a longer cut is the uncovered case the README states).
const PAUSE_MS: u64 = LEASE_MS + 300;
const WRITERS: usize = 2;
const CUSTOMERS_PER_WRITER: u64 = 3;
const READERS: usize = 4;

fn overlay(url: &str) -> String {
    format!(
        r#"
[cluster]
redis_url = "{url}"
connect_timeout = "500ms"
subscribe_timeout = "3s"
command_timeout = "100ms"
heartbeat_interval = "100ms"
heartbeat_timeout = "600ms"
lease = "{LEASE_MS}ms"
publish_deadline = "{PUBLISH_DEADLINE_MS}ms"
"#
    )
}

fn scale() -> f64 {
    std::env::var("CLUSTER_HISTORY_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(1.0)
}

fn rounds() -> usize {
    std::env::var("CLUSTER_HISTORY_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(1)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis((n as f64 * scale()) as u64)
}

#[derive(Clone, Copy)]
struct Write {
    customer: u64,
    version: u64,
    end: Instant,
}

#[derive(Clone, Copy)]
struct Read {
    customer: u64,
    version: u64,
    start: Instant,
    end: Instant,
    replica: usize,
    hit: bool,
    phase: usize,
}

#[derive(Default)]
struct History {
    writes: Mutex<Vec<Write>>,
    reads: Mutex<Vec<Read>>,
    failed: AtomicU64,
    phase: AtomicU64,
}

fn version_of(r: &Resp) -> Option<u64> {
    r.json()["data"]["description"]
        .as_str()?
        .strip_prefix('v')?
        .parse()
        .ok()
        .or(Some(0))
}

async fn write(app: &TestApp, id: &str, version: u64) -> bool {
    let body = format!(r#"{{"customer_id":"{id}","description":"v{version}"}}"#);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    r.status == 200
}

/// A stale read: what it returned, what it should at least have, and how long after
/// that version's write completed it started.
struct Stale {
    read: Read,
    expected: u64,
    late: Duration,
}

/// For each read, the newest version whose write completed before the read started.
fn check(history: &History) -> Vec<Stale> {
    let mut writes: HashMap<u64, Vec<Write>> = HashMap::new();
    for w in history.writes.lock().unwrap().iter() {
        writes.entry(w.customer).or_default().push(*w);
    }
    let mut stale = Vec::new();
    for r in history.reads.lock().unwrap().iter() {
        let newest = writes
            .get(&r.customer)
            .into_iter()
            .flatten()
            .filter(|w| w.end < r.start)
            .max_by_key(|w| w.version);
        if let Some(w) = newest {
            if r.version < w.version {
                stale.push(Stale {
                    read: *r,
                    expected: w.version,
                    late: r.start - w.end,
                });
            }
        }
    }
    stale
}

async fn leased(app: &TestApp) -> bool {
    eventually(Duration::from_secs(10), || async {
        sample(&app.metrics().await, "gateway_cluster_lease_held", &[]) == Some(1.0)
    })
    .await
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    RedisStopped,
    PauseWrite,
    PauseAll,
    PubsubKilled,
    RedisRestarted,
    ReplicaPaused,
    SlowLink,
    ReplicaCut,
    /// `DEBUG SLEEP`: Redis busy inside one command, longer than publish_deadline.
    DebugSleep,
    /// `CLIENT KILL TYPE normal`, repeatedly: every command connection (heartbeats,
    /// publishes in flight) dies while the subscriptions live on.
    CommandsKilled,
    /// Short write pauses, each under a lease, back to back.
    PauseWriteFlapping,
    /// Short SIGSTOPs, each under a lease, back to back.
    RedisStopFlapping,
    /// One replica's subscription lags (what Redis sends it arrives late) while its
    /// commands are answered at once.
    LaggingSubscription,
    /// One replica's connections (commands and subscription) go silent for good with
    /// their sockets left open (no FIN, no RST), as after a conntrack drop: the replica
    /// must notice from silence alone and make new connections.
    ReplicaSilenced,
}

async fn client_pause(url: &str, ms: u64, mode: &str) {
    redis_cmd(url, &["CLIENT", "PAUSE", &ms.to_string(), mode]).await;
}

async fn redis_cmd(url: &str, args: &[&str]) {
    let client = ::redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = ::redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let _: ::redis::Value = cmd.query_async(&mut conn).await.unwrap();
}

async fn inject(fault: Fault, redis: &mut RedisServer, links: &[Link]) {
    let url = redis.url();
    match fault {
        Fault::None => tokio::time::sleep(ms(1500)).await,
        Fault::RedisStopped => {
            redis.pause(true);
            tokio::time::sleep(ms(3 * LEASE_MS)).await;
            redis.pause(false);
        }
        Fault::PauseWrite => {
            let d = ms(3 * LEASE_MS);
            client_pause(&url, d.as_millis() as u64, "WRITE").await;
            tokio::time::sleep(d).await;
        }
        Fault::PauseAll => {
            let d = ms(2 * LEASE_MS);
            client_pause(&url, d.as_millis() as u64, "ALL").await;
            tokio::time::sleep(d).await;
        }
        Fault::PubsubKilled => {
            for _ in 0..3 {
                redis_cmd(&url, &["CLIENT", "KILL", "TYPE", "pubsub"]).await;
                tokio::time::sleep(ms(300)).await;
            }
        }
        Fault::RedisRestarted => {
            redis.kill();
            tokio::time::sleep(ms(2 * LEASE_MS)).await;
            redis.restart();
        }
        Fault::ReplicaPaused => {
            // Longer than the lease (the paused replica loses it, and the others stop
            // waiting for it), shorter than publish_deadline: a write it took meanwhile
            // gets Redis's reply after the resume. Longer is the writer-cut-off case the
            // README states as uncovered (answered unconfirmed, counted, alerted).
            // Each pause is followed by a live stretch longer than
            // publish_deadline: two pauses 200 ms apart cut a write caught by
            // the first one off for longer than its deadline in total, which
            // is the uncovered case, not this one.
            for _ in 0..(2.0 * scale()).ceil() as usize {
                links[1].pause(true);
                tokio::time::sleep(Duration::from_millis(PAUSE_MS)).await;
                links[1].pause(false);
                tokio::time::sleep(Duration::from_millis(PUBLISH_DEADLINE_MS + 300)).await;
            }
        }
        Fault::SlowLink => {
            links[2].set_delay(Duration::from_millis(150));
            tokio::time::sleep(ms(2000)).await;
            links[2].set_delay(Duration::ZERO);
        }
        Fault::ReplicaCut => {
            links[0].cut();
            tokio::time::sleep(ms(200)).await;
            links[0].cut();
        }
        Fault::DebugSleep => {
            let secs = format!("{:.3}", ms(3 * LEASE_MS).as_secs_f64());
            redis_cmd(&url, &["DEBUG", "SLEEP", &secs]).await;
        }
        Fault::CommandsKilled => {
            for _ in 0..5 {
                redis_cmd(&url, &["CLIENT", "KILL", "TYPE", "normal"]).await;
                tokio::time::sleep(ms(150)).await;
            }
        }
        Fault::PauseWriteFlapping => {
            for _ in 0..8 {
                client_pause(&url, LEASE_MS * 2 / 5, "WRITE").await;
                tokio::time::sleep(Duration::from_millis(LEASE_MS * 3 / 5)).await;
            }
        }
        Fault::LaggingSubscription => {
            links[2].set_pubsub_delay(Duration::from_millis(LEASE_MS * 3 / 5));
            tokio::time::sleep(ms(2000)).await;
            links[2].set_pubsub_delay(Duration::ZERO);
        }
        Fault::ReplicaSilenced => {
            links[1].silence_open();
            tokio::time::sleep(ms(2000)).await;
        }
        Fault::RedisStopFlapping => {
            for _ in 0..8 {
                redis.pause(true);
                tokio::time::sleep(Duration::from_millis(LEASE_MS * 2 / 5)).await;
                redis.pause(false);
                tokio::time::sleep(Duration::from_millis(LEASE_MS / 5)).await;
            }
        }
    }
    // Recovery under load is part of the history too.
    tokio::time::sleep(ms(800)).await;
}

async fn run(faults: &[Fault]) {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let mut redis = RedisServer::start_debuggable();
    let mut links = Vec::new();
    for _ in 0..3 {
        links.push(Link::start(redis.addr()).await);
    }
    let first = spawn_app_with(Options {
        overlay: overlay(&links[0].url()),
        ..Options::default()
    })
    .await;
    let upstream = first.sandbox.base_url();
    let mut apps = vec![first];
    for link in &links[1..] {
        apps.push(
            spawn_app_with(Options {
                overlay: overlay(&link.url()),
                upstream_override: Some(upstream.clone()),
                ..Options::default()
            })
            .await,
        );
    }
    for app in &apps {
        assert!(leased(app).await, "every replica gets a lease");
    }
    let apps = Arc::new(apps);
    let history = Arc::new(History::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for w in 0..WRITERS as u64 {
        let (apps, history, stop) = (apps.clone(), history.clone(), stop.clone());
        load.spawn(async move {
            let mut next = HashMap::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Acquire) {
                n += 1;
                let customer = 9000 + w * CUSTOMERS_PER_WRITER + n % CUSTOMERS_PER_WRITER;
                let version = next.entry(customer).or_insert(0u64);
                *version += 1;
                let app = &apps[(rand::random::<u64>() % apps.len() as u64) as usize];
                if write(app, &customer_id(customer), *version).await {
                    history.writes.lock().unwrap().push(Write {
                        customer,
                        version: *version,
                        end: Instant::now(),
                    });
                } else {
                    history.failed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    for _ in 0..READERS {
        let (apps, history, stop) = (apps.clone(), history.clone(), stop.clone());
        load.spawn(async move {
            while !stop.load(Ordering::Acquire) {
                let customer =
                    9000 + rand::random::<u64>() % (WRITERS as u64 * CUSTOMERS_PER_WRITER);
                let replica = (rand::random::<u64>() % apps.len() as u64) as usize;
                let start = Instant::now();
                let r = apps[replica]
                    .get(&format!(
                        "/api/v1/customer/customer/{}",
                        customer_id(customer)
                    ))
                    .await;
                let end = Instant::now();
                if r.status != 200 {
                    history.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if let Some(version) = version_of(&r) {
                    let hit = r.header("cache-status").contains("; hit");
                    history.reads.lock().unwrap().push(Read {
                        customer,
                        version,
                        start,
                        end,
                        replica,
                        hit,
                        phase: history.phase.load(Ordering::Relaxed) as usize,
                    });
                }
            }
        });
    }
    let mut phases = Vec::new();
    let schedule: Vec<Fault> = (0..rounds()).flat_map(|_| faults.iter().copied()).collect();
    for (n, fault) in schedule.iter().enumerate() {
        history.phase.store(n as u64, Ordering::Relaxed);
        let started = Instant::now();
        inject(*fault, &mut redis, &links).await;
        phases.push((*fault, started.elapsed()));
    }
    stop.store(true, Ordering::Release);
    while load.join_next().await.is_some() {}

    let stale = check(&history);
    let reads = history.reads.lock().unwrap().clone();
    let writes = history.writes.lock().unwrap().len();
    println!(
        "cluster history: {} reads, {writes} writes, {} failed requests",
        reads.len(),
        history.failed.load(Ordering::Relaxed)
    );
    println!("| fault | time | reads | hits | stale |");
    println!("|---|---:|---:|---:|---:|");
    for (n, (fault, took)) in phases.iter().enumerate() {
        let of_phase = reads.iter().filter(|r| r.phase == n);
        let (count, hits) = of_phase.fold((0, 0), |(c, h), r| (c + 1, h + usize::from(r.hit)));
        let bad = stale.iter().filter(|s| s.read.phase == n).count();
        println!(
            "| {fault:?} | {:.1} s | {count} | {hits} | {bad} |",
            took.as_secs_f64()
        );
    }
    let scrape_sum = |name: &str, labels: &[(&str, &str)]| {
        let apps = apps.clone();
        let name = name.to_owned();
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        async move {
            let mut total = 0.0;
            for app in apps.iter() {
                let l: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                total += value(&app.metrics().await, &name, &l);
            }
            total
        }
    };
    for outcome in ["confirmed", "lease", "unconfirmed"] {
        let n = scrape_sum("gateway_cluster_write_waits_total", &[("outcome", outcome)]).await;
        println!("write waits {outcome}: {n}");
    }
    for s in stale.iter().take(10) {
        println!(
            "STALE: customer {} on replica {} returned v{} but v{} was written {:?} before the read started (hit: {}, took {:?})",
            s.read.customer,
            s.read.replica,
            s.read.version,
            s.expected,
            s.late,
            s.read.hit,
            s.read.end - s.read.start
        );
    }
    let hits = reads.iter().filter(|r| r.hit).count();
    assert!(
        writes > 20 && reads.len() > 200,
        "too little load to tell anything"
    );
    assert!(
        hits > 0,
        "the cache served nothing: the check proves nothing"
    );
    assert_eq!(stale.len(), 0, "stale reads (see above)");

    let apps = Arc::try_unwrap(apps).unwrap_or_else(|_| panic!("load tasks ended"));
    for app in apps {
        app.stop().await;
    }
    drop(links);
}

/// The reduced history for CI: every fault once, briefly.
#[tokio::test]
async fn no_stale_read_under_redis_and_replica_faults() {
    run(&[
        Fault::None,
        Fault::RedisStopped,
        Fault::PauseWrite,
        Fault::PauseAll,
        Fault::PubsubKilled,
        Fault::RedisRestarted,
        Fault::ReplicaPaused,
        Fault::SlowLink,
        Fault::ReplicaCut,
    ])
    .await;
}

/// Fault schedules the first one does not have: Redis busy in a command, command
/// connections killed under the subscriptions, pauses too short to cost a lease, a
/// replica whose subscription lags behind its commands, and a replica whose connections
/// go silent without closing.
#[tokio::test]
async fn no_stale_read_under_busy_redis_killed_commands_and_flapping_pauses() {
    run(&[
        Fault::DebugSleep,
        Fault::CommandsKilled,
        Fault::PauseWriteFlapping,
        Fault::RedisStopFlapping,
        Fault::LaggingSubscription,
        Fault::ReplicaSilenced,
    ])
    .await;
}

#[test]
fn the_checker_finds_a_read_older_than_a_completed_write() {
    let h = History::default();
    let t0 = Instant::now();
    let t = |ms: u64| t0 + Duration::from_millis(ms);
    h.writes.lock().unwrap().push(Write {
        customer: 1,
        version: 2,
        end: t(10),
    });
    let read = |version, start| Read {
        customer: 1,
        version,
        start: t(start),
        end: t(start + 1),
        replica: 0,
        hit: true,
        phase: 0,
    };
    h.reads.lock().unwrap().extend([
        read(1, 5),  // concurrent with the write: either answer is fine
        read(2, 11), // fresh
        read(3, 12), // newer still (a write in flight): fine
        read(1, 20), // stale
    ]);
    let stale = check(&h);
    assert_eq!(stale.len(), 1);
    assert_eq!((stale[0].read.version, stale[0].expected), (1, 2));
}
