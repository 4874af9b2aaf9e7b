//! Cluster mode: what several replicas share through one Redis.
//!
//! - **Invalidations.** A write (or an admin purge) that drops customers here is published
//!   on `<prefix>:invalidate` before the writer gets its answer; every other replica drops
//!   the same entries on receipt (`subscriber`). Pub/sub is at-most-once, so a replica
//!   without a live subscription does not trust its cache: entries older than
//!   `cluster.degraded_ttl` are fetched again, and a new subscription drops everything.
//! - **Rate limits.** One GCRA bucket per client in Redis (`limiter`), one script call per
//!   request; `cluster.rate_limit_on_error` says what happens when Redis cannot answer.
//!
//! Redis being down never fails a request or readiness: the replica degrades and says so
//! in its metrics.

mod acks;
mod limiter;
mod message;
mod settings;
mod subscriber;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::cache::CustomerCache;
use crate::metrics::ClusterMetrics;

pub use self::message::{Body, Message};
pub use self::settings::{ClusterSettings, OnError, RawCluster, RedisSettings};

/// One replica's side of cluster mode. Shared by the proxy (rate limits, write
/// invalidations), the admin listener (purges) and its own background tasks.
pub struct Cluster {
    settings: RedisSettings,
    /// Random per process: messages from this id are this replica's own.
    replica: String,
    channel: String,
    client: redis::Client,
    /// Commands (PUBLISH, the rate-limit script); set once the first connection is made,
    /// after which the manager reconnects by itself.
    commands: OnceCell<ConnectionManager>,
    /// A subscription is live: made, and heartbeats arriving within `heartbeat_timeout`.
    live: AtomicBool,
    /// When `announce` last sent a heartbeat out of turn (ms since the epoch).
    announced_ms: AtomicU64,
    /// An out-of-turn heartbeat is scheduled.
    announce_pending: AtomicBool,
    /// Subscribed, and waiting for its own heartbeat to come back before going live.
    own_heartbeat_awaited: AtomicBool,
    cache: Option<CustomerCache>,
    metrics: ClusterMetrics,
    decisions: limiter::DecisionCounters,
    acks: acks::Acks,
}

/// The cluster's background tasks; aborted when dropped (the gateway stopped).
pub struct ClusterTasks(Vec<JoinHandle<()>>);

impl Drop for ClusterTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Why a Redis command gave no answer (the operation is the metric label).
#[derive(Debug)]
pub(crate) struct Unavailable;

impl Cluster {
    /// Builds the client without connecting: the gateway starts (and serves, degraded)
    /// while Redis is unreachable. `password` comes from `cluster.redis_password_file`,
    /// `ca_pem` from `cluster.ca_file`.
    pub fn new(
        settings: RedisSettings,
        password: Option<String>,
        ca_pem: Option<Vec<u8>>,
        cache: Option<CustomerCache>,
        metrics: ClusterMetrics,
    ) -> anyhow::Result<Arc<Cluster>> {
        use secrecy::ExposeSecret;
        let mut info =
            redis::IntoConnectionInfo::into_connection_info(settings.url.expose_secret())
                .map_err(|_| anyhow::anyhow!("`cluster.redis_url` is not a Redis URL"))?;
        if password.is_some() {
            info.redis.password = password;
        }
        let client = match ca_pem {
            None => redis::Client::open(info),
            Some(pem) => redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            ),
        }
        .map_err(|e| {
            anyhow::anyhow!("`cluster.redis_url` / `cluster.ca_file`: {}", e.category())
        })?;
        metrics.enabled.set(1);
        Ok(Arc::new(Cluster {
            channel: settings.channel(),
            settings,
            replica: uuid::Uuid::new_v4().simple().to_string(),
            client,
            commands: OnceCell::new(),
            live: AtomicBool::new(false),
            announced_ms: AtomicU64::new(0),
            announce_pending: AtomicBool::new(false),
            own_heartbeat_awaited: AtomicBool::new(false),
            cache,
            decisions: limiter::DecisionCounters::new(&metrics),
            acks: acks::Acks::default(),
            metrics,
        }))
    }

    /// Starts connecting, subscribing and sending heartbeats.
    pub fn start(self: &Arc<Self>) -> ClusterTasks {
        ClusterTasks(vec![
            tokio::spawn(self.clone().connect_commands()),
            tokio::spawn(self.clone().subscribe_forever()),
            tokio::spawn(self.clone().heartbeats()),
        ])
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    /// While degraded (no live subscription): how old a cached entry may be and still be
    /// served. `None` while invalidations are arriving.
    pub fn degraded_ttl(&self) -> Option<Duration> {
        (!self.live.load(Ordering::Acquire)).then_some(self.settings.degraded_ttl)
    }

    pub fn metrics(&self) -> &ClusterMetrics {
        &self.metrics
    }

    /// Tells every other replica to drop what this one just dropped, and waits (at most
    /// `cluster.ack_timeout`) until each live one confirms it did. Awaited by the writer's
    /// request; a failure is counted and logged, never the writer's error (its write
    /// reached paycombat).
    ///
    /// Runs on a task of its own: a caller that goes away meanwhile (its request dropped
    /// with a closed connection) must not take the other replicas' invalidation with it.
    pub async fn publish(self: &Arc<Self>, body: Body) {
        let me = Arc::clone(self);
        let _ = tokio::spawn(async move { me.publish_now(body).await }).await;
    }

    async fn publish_now(&self, body: Body) {
        let kind = match &body {
            Body::Customers { .. } => "customer",
            _ => "all",
        };
        let msg = Message::new(&self.replica, body);
        // A replica whose own subscription is down cannot hear confirmations.
        let confirmed = if self.settings.ack_timeout.is_zero() || self.degraded_ttl().is_some() {
            None
        } else {
            let peers = self.acks.live_peers(self.settings.heartbeat_timeout);
            self.acks.expect(msg.id, peers)
        };
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(msg.encode());
        // The command connection may still be reconnecting while other replicas'
        // subscriptions are already live again (a Redis restart): they would trust
        // their caches and miss this invalidation. So a failed publish is retried,
        // with a short backoff, for as long as the writer would wait for confirmations.
        let deadline = tokio::time::Instant::now()
            + self.settings.ack_timeout.max(self.settings.command_timeout);
        let mut pause = Duration::from_millis(5);
        while self.query::<i64>(&cmd, "publish").await.is_err() {
            if tokio::time::Instant::now() + pause >= deadline {
                self.acks.forget(msg.id);
                tracing::warn!(
                    kind,
                    "cluster: invalidation not published; other replicas may serve pre-write reads until their TTL or degraded_ttl"
                );
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        self.metrics.published.with_label_values(&[kind]).inc();
        if let Some(confirmed) = confirmed {
            if tokio::time::timeout(self.settings.ack_timeout, confirmed)
                .await
                .is_err()
            {
                let missing = self.acks.forget(msg.id);
                self.metrics.ack_timeouts.inc();
                tracing::warn!(
                    kind,
                    missing,
                    "cluster: not every replica confirmed the invalidation within ack_timeout"
                );
            }
        }
    }

    /// Confirms message `ack` to its sender `to` (on its own task: the subscription
    /// keeps reading meanwhile).
    fn confirm(self: &Arc<Self>, to: String, ack: u64) {
        let me = self.clone();
        tokio::spawn(async move {
            let msg = Message::new(&me.replica, Body::Ack { to, ack });
            let mut cmd = redis::cmd("PUBLISH");
            cmd.arg(&me.channel).arg(msg.encode());
            let _ = me.query::<i64>(&cmd, "publish").await;
        });
    }

    /// One command on the shared connection, bounded by `cluster.command_timeout`.
    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        operation: &'static str,
    ) -> Result<T, Unavailable> {
        let Some(conn) = self.commands.get() else {
            return Err(self.failed(operation, "not connected"));
        };
        let mut conn = conn.clone();
        match tokio::time::timeout(self.settings.command_timeout, cmd.query_async(&mut conn)).await
        {
            Ok(Ok(v)) => {
                self.metrics.redis_up.set(1);
                Ok(v)
            }
            Ok(Err(e)) => Err(self.failed(operation, e.category())),
            Err(_) => Err(self.failed(operation, "timed out")),
        }
    }

    /// Counts (and logs at debug: an outage would flood the log) one failed operation.
    fn failed(&self, operation: &'static str, why: &str) -> Unavailable {
        self.metrics.redis_up.set(0);
        self.metrics
            .redis_errors
            .with_label_values(&[operation])
            .inc();
        tracing::debug!(operation, why, "cluster: Redis operation failed");
        Unavailable
    }

    /// Makes the command connection, retrying with backoff until it exists.
    async fn connect_commands(self: Arc<Self>) {
        let mut backoff = Backoff::default();
        loop {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(self.settings.connect_timeout)
                .set_response_timeout(self.settings.command_timeout)
                .set_number_of_retries(1)
                .set_max_delay(1000);
            let made = tokio::time::timeout(
                self.settings.connect_timeout * 2,
                ConnectionManager::new_with_config(self.client.clone(), config),
            )
            .await;
            match made {
                Ok(Ok(conn)) => {
                    let _ = self.commands.set(conn);
                    self.metrics.redis_up.set(1);
                    tracing::info!("cluster: connected to Redis");
                    return;
                }
                Ok(Err(e)) => {
                    self.failed("connect", e.category());
                }
                Err(_) => {
                    self.failed("connect", "timed out");
                }
            }
            tokio::time::sleep(backoff.next()).await;
        }
    }

    /// Publishes a heartbeat every `heartbeat_interval`: every subscriber, this replica's
    /// own included, learns from their arrival that its subscription still delivers.
    async fn heartbeats(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let peers = self.acks.live_peers(self.settings.heartbeat_timeout);
            self.metrics.peers.set(peers.len() as i64);
            if self.commands.get().is_none() {
                continue;
            }
            self.heartbeat().await;
        }
    }

    /// A heartbeat out of turn, on its own task. Several requests within
    /// `ANNOUNCE_GAP_MS` share one heartbeat sent at the end of the gap (which every
    /// replica subscribed by then hears), so a publisher inventing new replica ids
    /// cannot make this one echo at its own rate.
    fn announce(self: &Arc<Self>) {
        if self.announce_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let since =
                (message::now_us() / 1000).saturating_sub(me.announced_ms.load(Ordering::Relaxed));
            if since < ANNOUNCE_GAP_MS {
                tokio::time::sleep(Duration::from_millis(ANNOUNCE_GAP_MS - since)).await;
            }
            me.announce_pending.store(false, Ordering::Release);
            me.announced_ms
                .store(message::now_us() / 1000, Ordering::Relaxed);
            me.heartbeat().await;
        });
    }

    /// One heartbeat: alive, and whether subscribed.
    async fn heartbeat(&self) {
        self.heartbeat_saying(self.degraded_ttl().is_none()).await;
    }

    async fn heartbeat_saying(&self, subscribed: bool) {
        let payload = Message::new(&self.replica, Body::Heartbeat { subscribed }).encode();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(payload);
        let _ = self.query::<i64>(&cmd, "heartbeat").await;
    }
}

/// Out-of-turn heartbeats (answers to a newly subscribed replica) at most this often.
const ANNOUNCE_GAP_MS: u64 = 50;

/// Reconnection delays: 100 ms doubling to 2 s, each with up to 50 % jitter so replicas
/// that lost Redis together do not reconnect together.
#[derive(Default)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let base = Duration::from_millis(100) * 2u32.pow(self.attempt.min(5));
        self.attempt += 1;
        let base = base.min(Duration::from_secs(2));
        base.mul_f64(1.0 + rand::random::<f64>() * 0.5)
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}
