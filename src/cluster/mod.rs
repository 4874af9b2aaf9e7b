//! Cluster mode: what several replicas share through one Redis.
//!
//! - **Leases.** A replica answers from its cache only while its own heartbeats come
//!   back through its subscription (`lease`): each one lets it trust its cache for
//!   `cluster.lease` from when it was sent. Without a lease it serves from upstream.
//! - **Invalidations.** A write (or an admin purge) that drops customers here is published
//!   on `<prefix>:invalidate`; every other replica drops the same entries on receipt, in
//!   the order it reads them (`subscriber`). The writer's answer waits until every replica
//!   that may hold a lease confirmed, or until every lease that could still cover
//!   pre-write data has run out (`publish`). The README's "Running several replicas"
//!   states the argument and its assumptions.
//! - **Rate limits.** One GCRA bucket per client in Redis (`limiter`), one script call per
//!   request behind a breaker; `cluster.rate_limit_on_error` says what happens when Redis
//!   cannot answer.
//!
//! Redis being down never fails a read or readiness: the replica serves from upstream
//! and says so in its metrics and (rate-limited) WARN log lines.

mod acks;
mod breaker;
mod commands;
mod lease;
mod limiter;
mod message;
pub mod metrics;
mod publish;
mod settings;
mod subscriber;
mod warn;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::cache::CustomerCache;
pub use metrics::ClusterMetrics;
use metrics::RedisOp;

pub use self::message::{Body, Message};
pub use self::publish::Published;
pub use self::settings::KEYS as RELOAD_KEYS;
pub use self::settings::{ClusterSettings, OnError, OnUnconfirmed, RawCluster, RedisSettings};

/// One replica's side of cluster mode. Shared by the proxy (rate limits, leases, write
/// invalidations), the admin listener (purges) and its own background tasks.
pub struct Cluster {
    /// Itself, for work spawned from `&self` (the rate-limit breaker's probe).
    me: std::sync::Weak<Cluster>,
    settings: RedisSettings,
    /// Random per process: messages from this id are this replica's own.
    replica: String,
    channel: String,
    client: redis::Client,
    /// Commands (PUBLISH, the rate-limit script, the idempotency store's).
    commands: Arc<commands::Commands>,
    lease: lease::Lease,
    /// The current subscription: its epoch (one more on every subscribe) and since when
    /// it is live (mono ns), `None` while there is none.
    subscription: Mutex<(u64, Option<u64>)>,
    cache: Option<CustomerCache>,
    metrics: ClusterMetrics,
    decisions: limiter::DecisionCounters,
    breaker: breaker::Breaker,
    acks: acks::Acks,
    warn: warn::Warnings,
}

/// The Redis client `settings` describe, without connecting.
fn client(
    settings: &RedisSettings,
    password: Option<String>,
    ca_pem: Option<Vec<u8>>,
) -> anyhow::Result<redis::Client> {
    use secrecy::ExposeSecret;
    let mut info = redis::IntoConnectionInfo::into_connection_info(settings.url.expose_secret())
        .map_err(|_| anyhow::anyhow!("`cluster.redis_url` is not a Redis URL"))?;
    if password.is_some() {
        info.redis.password = password;
    }
    match ca_pem {
        None => redis::Client::open(info),
        Some(pem) => redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            },
        ),
    }
    .map_err(|e| anyhow::anyhow!("`cluster.redis_url` / `cluster.ca_file`: {}", e.category()))
}

/// For `check-config`: connects (within `connect_timeout`) and PINGs, so a wrong
/// password or an unreachable Redis is found before `serve` runs. The error names the
/// Redis (host, port, db) and the kind of failure, never the password.
pub async fn check_reachable(
    settings: &RedisSettings,
    password: Option<String>,
    ca_pem: Option<Vec<u8>>,
) -> Result<(), String> {
    let client = client(settings, password, ca_pem).map_err(|e| e.to_string())?;
    let within = settings.connect_timeout;
    let at = settings.describe();
    let attempt = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(within, attempt).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable_reason(&e, &at)),
        Err(_) => Err(format!(
            "Redis at {at} did not answer within connect_timeout ({within:?})"
        )),
    }
}

/// Why `check-config` could not use the Redis, in the operator's terms: which
/// setting to look at. redis-rs files a server's `NOAUTH` under "extension error"
/// and a refused connection under "I/O error", neither of which says what to fix.
/// Built from the error's kind and code only: never from text that could hold a
/// password.
fn unreachable_reason(e: &redis::RedisError, at: &str) -> String {
    if e.kind() == redis::ErrorKind::AuthenticationFailed || e.code() == Some("WRONGPASS") {
        format!("Redis at {at} refused the password (authentication failed): check `cluster.redis_password_file`")
    } else if e.code() == Some("NOAUTH") {
        format!("Redis at {at} requires a password and none was sent: set `cluster.redis_password_file`")
    } else if e.is_connection_refusal() {
        format!("Redis at {at} refused the connection: is it running, and is the host and port in `cluster.redis_url` right?")
    } else if e.is_timeout() {
        format!("Redis at {at} did not answer in time")
    } else {
        format!("cannot use Redis at {at}: {}", e.category())
    }
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

/// A Redis command gave no answer (counted and logged by the operation that failed).
#[derive(Debug)]
pub(crate) struct Unavailable;

impl Cluster {
    /// Builds the client without connecting: the gateway starts (and serves, from upstream)
    /// while Redis is unreachable. `password` comes from `cluster.redis_password_file`,
    /// `ca_pem` from `cluster.ca_file`.
    pub fn new(
        settings: RedisSettings,
        password: Option<String>,
        ca_pem: Option<Vec<u8>>,
        cache: Option<CustomerCache>,
        metrics: ClusterMetrics,
    ) -> anyhow::Result<Arc<Cluster>> {
        let client = client(&settings, password, ca_pem)?;
        metrics.enabled.set(1);
        let (connect_timeout, publish_deadline, heartbeat_timeout) = (
            settings.connect_timeout,
            settings.publish_deadline,
            settings.heartbeat_timeout,
        );
        Ok(Arc::new_cyclic(|me: &std::sync::Weak<Cluster>| Cluster {
            me: me.clone(),
            channel: settings.channel(),
            settings,
            replica: uuid::Uuid::new_v4().simple().to_string(),
            commands: {
                let me = me.clone();
                commands::Commands::new(
                    client.clone(),
                    connect_timeout,
                    // Each caller bounds its own commands (an invalidation waits for its
                    // reply up to publish_deadline); this only bounds the longest.
                    publish_deadline,
                    // Silence the subscriber would not take from its connection either.
                    heartbeat_timeout,
                    Box::new(move |why| {
                        if let Some(me) = me.upgrade() {
                            me.failed(RedisOp::Connect, why);
                        }
                    }),
                )
            },
            client,
            lease: lease::Lease::default(),
            subscription: Mutex::new((0, None)),
            cache,
            decisions: limiter::DecisionCounters::new(&metrics),
            breaker: breaker::Breaker::default(),
            acks: acks::Acks::default(),
            warn: warn::Warnings::default(),
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

    /// The Redis key of `id` in another component's namespace `space` (`idem`): every key
    /// the gateway writes lives under `cluster.prefix`, which the cluster owns.
    pub fn key(&self, space: &str, id: &str) -> String {
        format!("{}:{space}:{id}", self.settings.prefix)
    }

    /// Whether a write that invalidates something may be sent now. With
    /// `cluster.on_unconfirmed_write = "refuse"`, not while this replica holds no lease
    /// (it may be cut off from Redis while the others are not, and its invalidation may
    /// never reach them): refused before it is sent upstream, and counted here
    /// (`gateway_cluster_writes_refused_total`). Asked by the proxy, which holds no
    /// cluster settings.
    pub fn admit_write(&self) -> Result<(), crate::error::GatewayError> {
        if self.settings.on_unconfirmed_write == OnUnconfirmed::Refuse && !self.lease_held() {
            self.metrics.writes_refused.inc();
            return Err(crate::error::GatewayError::ClusterUnconfirmed);
        }
        Ok(())
    }

    /// Where this replica stands for a read on a cached route. Without a lease the
    /// cache sends the read straight upstream (`Bypass::NoLease`): counted here
    /// (`gateway_cluster_no_lease_reads_total`), by the component whose lease decides it.
    pub fn replica_for_read(&self) -> crate::cache::Replica {
        if self.lease_held() {
            crate::cache::Replica::Leased
        } else {
            self.metrics.no_lease_reads.inc();
            crate::cache::Replica::Unleased
        }
    }

    /// Whether this replica may answer from its cache now: one atomic load and one
    /// clock read.
    pub fn lease_held(&self) -> bool {
        self.lease.held()
    }

    /// What the start-up line says about cluster mode: where Redis is (never the
    /// password) and the lease.
    pub fn describe(&self) -> String {
        self.settings.describe()
    }

    pub fn metrics(&self) -> &ClusterMetrics {
        &self.metrics
    }

    /// One command for another component (the idempotency store) on this replica's
    /// connection, bounded by `cluster.command_timeout`; a failure is counted and logged
    /// under `operation` like the cluster's own.
    pub(crate) async fn command<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        operation: RedisOp,
    ) -> Result<T, Unavailable> {
        self.query(cmd, operation).await
    }

    /// One command on the shared connection, bounded by `cluster.command_timeout`.
    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        operation: RedisOp,
    ) -> Result<T, Unavailable> {
        self.query_within(cmd, operation, self.settings.command_timeout)
            .await
    }

    /// One command, bounded by `within` (making the connection first if there is none:
    /// see `commands`). A command that failed in a way that means its connection is
    /// gone forgets that connection; it is not sent again (it may have run).
    async fn query_within<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        operation: RedisOp,
        within: Duration,
    ) -> Result<T, Unavailable> {
        // The connection the command went out on, and when: a timeout asks whether that
        // connection is silent (see `commands`).
        let sent_on: std::sync::Mutex<Option<(u64, tokio::time::Instant)>> = Default::default();
        let sent = async {
            // A failed connect was counted once, by its attempt; here it is this
            // operation's failure, with the attempt's reason.
            let (generation, mut conn) = self.commands.get().await?;
            let at = tokio::time::Instant::now();
            *sent_on.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, at));
            match cmd.query_async(&mut conn).await {
                Ok(v) => {
                    self.commands.replied(generation);
                    Ok(v)
                }
                Err(e) => {
                    // A demoted primary answers READONLY on this connection for good.
                    if e.is_unrecoverable_error() || e.kind() == redis::ErrorKind::ReadOnly {
                        self.commands.lost(generation);
                    } else if e.is_timeout() {
                        self.commands.timed_out(generation, at);
                    } else if !e.is_io_error() {
                        // An error reply is an answer: the connection is alive.
                        self.commands.replied(generation);
                    }
                    Err(e.category().to_owned())
                }
            }
        };
        match tokio::time::timeout(within, sent).await {
            Ok(Ok(v)) => {
                self.metrics.redis_up.set(1);
                Ok(v)
            }
            Ok(Err(why)) => Err(self.failed(operation, &why)),
            Err(_) => {
                let sent = *sent_on.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((generation, at)) = sent {
                    self.commands.timed_out(generation, at);
                }
                Err(self.failed(operation, "timed out"))
            }
        }
    }

    /// Counts one failed operation and logs it at WARN, at most once per operation
    /// every few seconds (an outage would flood the log), with how many were left out.
    fn failed(&self, operation: RedisOp, why: &str) -> Unavailable {
        self.metrics.redis_up.set(0);
        self.metrics.redis_errors.with([&operation]).inc();
        if let Some(suppressed) = self.warn.allow(operation.as_str()) {
            tracing::warn!(
                operation = operation.as_str(),
                why,
                suppressed,
                redis = %self.settings.describe(),
                "cluster: Redis operation failed"
            );
        }
        Unavailable
    }

    /// Makes the first command connection at start, retrying with backoff until it
    /// exists (so a wrong password or an unreachable Redis is logged at once); later
    /// connections are made by the commands that need them (see `commands`).
    async fn connect_commands(self: Arc<Self>) {
        let mut backoff = Backoff::default();
        loop {
            // A failure was counted and logged by its attempt.
            if self.commands.get().await.is_ok() {
                self.metrics.redis_up.set(1);
                tracing::info!(redis = %self.settings.describe(), "cluster: connected to Redis");
                return;
            }
            tokio::time::sleep(backoff.next()).await;
        }
    }

    /// Publishes a heartbeat every `heartbeat_interval` while subscribed: its echo renews
    /// this replica's lease, and tells the others it is alive and hears invalidations (so
    /// writers wait for its confirmations).
    async fn heartbeats(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.watch_lease();
            // Only while subscribed: a replica without a subscription cannot confirm an
            // invalidation, and its heartbeats would make every writer wait a full lease
            // for it. (Sound: whatever heartbeat grants it a lease is published, and the
            // writers hear that one; see `acks`.)
            let subscribed = self
                .subscription
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .1
                .is_some();
            if !subscribed {
                continue;
            }
            self.heartbeat().await;
        }
    }

    /// Gauges, and a lost lease counted and logged.
    fn watch_lease(&self) {
        let window = lease::ns(self.settings.lease + self.settings.drift_margin());
        let peers = self.acks.peers_within(window).map_or(0, |p| p.len());
        self.metrics.peers.set(peers as i64);
        self.metrics.lease_held.set(i64::from(self.lease.held()));
        if self.lease.lost_since_last_check() {
            self.metrics.lease_losses.inc();
            if let Some(suppressed) = self.warn.allow("lease") {
                tracing::warn!(
                    suppressed,
                    lease = ?self.settings.lease,
                    "cluster: lease lost (own heartbeats are not coming back); cached reads go upstream until it is renewed"
                );
            }
        }
    }

    /// One heartbeat. Its send time is recorded first: the lease its echo grants runs
    /// from then. No reply in time means Redis (or the link) stalled: see `Lease::stalled`.
    async fn heartbeat(&self) {
        let msg = Message::new(&self.replica, Body::Heartbeat { subscribed: true });
        self.lease.sending(msg.id, self.settings.lease);
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(msg.encode());
        if self.query::<i64>(&cmd, RedisOp::Heartbeat).await.is_err() {
            self.lease.stalled();
        }
    }
}

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
