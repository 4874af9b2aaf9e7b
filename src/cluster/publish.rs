//! Publishing an invalidation, and how long the writer's answer waits for it.
//!
//! Let ta be when Redis's reply to the PUBLISH arrived. Any replica still answering from
//! its cache after ta + lease (+ drift margin) holds a lease from a heartbeat it sent
//! after ta, which Redis ran after the invalidation, so the replica read (and applied)
//! the invalidation first — or it subscribed after the invalidation ran, and dropped its
//! whole cache then. The answer may go earlier once every replica that can hold a lease
//! confirmed (see [`Cluster::may_complete`]). A PUBLISH without a reply proves nothing
//! (it may still run): it is retried until a reply arrives or `publish_deadline` passed.

use super::metrics::{InvalidationKind, RedisOp};
use std::sync::Arc;
use std::time::Duration;

use super::acks::Pending;
use super::lease::{mono_ns, ns};
use super::message::{Body, Message, MAX_MESSAGE_BYTES};
use super::Cluster;

/// How a write's invalidation ended, for the writer's metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Every replica that can hold a lease confirmed it.
    Confirmed,
    /// Redis ran it; the answer waited for every other lease to run out.
    LeaseWait,
    /// No reply from Redis within `publish_deadline`: another replica may serve
    /// pre-write data (unless Redis itself stalled, see the README).
    Unconfirmed,
}

impl crate::metrics::Label for Published {
    fn as_str(&self) -> &str {
        self.label()
    }
}

impl Published {
    pub const ALL: [Published; 3] = [Self::Confirmed, Self::LeaseWait, Self::Unconfirmed];

    pub fn label(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::LeaseWait => "lease",
            Self::Unconfirmed => "unconfirmed",
        }
    }
}

/// Ids per message at most: a write names as many as its body holds, sent in messages of
/// this many or fewer (see [`messages_for`]).
pub(super) const IDS_PER_MESSAGE: usize = 256;

/// `body` as the messages that carry it, each one every replica reads: at most
/// [`IDS_PER_MESSAGE`] ids and at most `message::MAX_MESSAGE_BYTES` encoded (a replica
/// ignores a larger message unread, and a message it ignores is an invalidation it never
/// applies while its lease goes on being renewed). A custom `cache.id_pattern` may match
/// long ids, so the bound is on the encoded size, not only the count. An id no message can
/// carry turns the write into `All`: correctness first, and it takes an id of 64 KiB.
pub(super) fn messages_for(body: Body) -> Vec<Body> {
    let Body::Customers { ids } = body else {
        return vec![body];
    };
    // Room for everything around the ids: sender (32), id and clock (20 each), keys.
    const ENVELOPE: usize = 256;
    let budget = MAX_MESSAGE_BYTES - ENVELOPE;
    let mut messages = Vec::new();
    let (mut batch, mut size) = (Vec::new(), 0);
    for id in ids {
        // As JSON: quoted and escaped, plus a comma.
        let cost = serde_json::to_string(&id).map_or(usize::MAX, |s| s.len().saturating_add(1));
        if cost > budget {
            return vec![Body::All];
        }
        if size + cost > budget || batch.len() == IDS_PER_MESSAGE {
            messages.push(Body::Customers {
                ids: std::mem::take(&mut batch),
            });
            size = 0;
        }
        size += cost;
        batch.push(id);
    }
    if !batch.is_empty() || messages.is_empty() {
        messages.push(Body::Customers { ids: batch });
    }
    messages
}

impl Cluster {
    /// Tells every other replica to drop what this one just dropped, and returns when
    /// the writer may be answered (see the module comment). Never the writer's error
    /// (its write reached paycombat): a failure is counted, logged and alerted on.
    ///
    /// Runs on a task of its own: a caller that goes away meanwhile (its request dropped
    /// with a closed connection) must not take the other replicas' invalidation with it.
    pub async fn publish(self: &Arc<Self>, body: Body) -> Published {
        let me = Arc::clone(self);
        let bodies = messages_for(body);
        tokio::spawn(async move {
            let waits = bodies.into_iter().map(|b| me.publish_one(b));
            let outcomes = futures_util::future::join_all(waits).await;
            outcomes
                .into_iter()
                .max_by_key(|o| *o as u8)
                .unwrap_or(Published::Confirmed)
        })
        .await
        .unwrap_or(Published::Unconfirmed)
    }

    async fn publish_one(&self, body: Body) -> Published {
        let kind = match &body {
            Body::Customers { .. } => InvalidationKind::Customer,
            _ => InvalidationKind::All,
        };
        let started = tokio::time::Instant::now();
        let msg = Message::new(&self.replica, body);
        let id = msg.id;
        let mut confirmed = self.acks.register(id, mono_ns());
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(msg.encode());
        let deadline = started + self.settings.publish_deadline;
        let mut pause = Duration::from_millis(5);
        let outcome = loop {
            // Each attempt waits for its reply up to the deadline (a slow link answers
            // late, not never); another attempt only after an error.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let within = left.max(self.settings.command_timeout);
            if self
                .query_within::<i64>(&cmd, RedisOp::Publish, within)
                .await
                .is_ok()
            {
                break None;
            }
            // An attempt without a reply may have run: its echo and every confirmation
            // arriving settles it as well as a reply would.
            if confirmed.try_recv().is_ok() {
                break Some(Published::Confirmed);
            }
            if tokio::time::Instant::now() + pause >= deadline {
                break Some(Published::Unconfirmed);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        let outcome = match outcome {
            Some(o) => o,
            None => {
                self.metrics.published.with([&kind]).inc();
                self.complete_if_ready(id);
                let wait = self.settings.lease + self.settings.drift_margin();
                match tokio::time::timeout(wait, confirmed).await {
                    Ok(Ok(())) => Published::Confirmed,
                    _ => Published::LeaseWait,
                }
            }
        };
        self.acks.forget(id);
        self.metrics.write_waits.with([&outcome]).inc();
        self.metrics
            .write_wait
            .observe(started.elapsed().as_secs_f64());
        if outcome == Published::Unconfirmed {
            tracing::warn!(
                kind = kind.as_str(),
                publish_deadline = ?self.settings.publish_deadline,
                "cluster: invalidation not acknowledged by Redis within publish_deadline; the write is answered unconfirmed (another replica cut off from this one may serve pre-write reads until their TTL)"
            );
        }
        outcome
    }

    /// Completes message `id` early when that is sound (see [`Self::may_complete`]).
    pub(super) fn complete_if_ready(&self, id: u64) {
        self.acks.complete_if(id, |p| self.may_complete(p));
    }

    /// Whether the writer may answer before its lease wait is over:
    /// - its invalidation came back through its own subscription, and that subscription
    ///   was live since a lease (+ margin) before the first attempt: so it delivered every
    ///   heartbeat that Redis ran before the invalidation and that could grant a lease
    ///   still running after the answer;
    /// - it holds its own lease;
    /// - every replica heard from within a lease (+ margin) confirmed.
    pub(super) fn may_complete(&self, p: &Pending) -> bool {
        let window = ns(self.settings.lease + self.settings.drift_margin());
        let (epoch, since) = *self.subscription.lock().unwrap_or_else(|e| e.into_inner());
        let old_enough = since.is_some_and(|since| since + window <= p.first_attempt);
        if p.echo_epoch != Some(epoch) || !old_enough || !self.lease.held() {
            return false;
        }
        match self.acks.peers_within(window) {
            Some(peers) => peers.iter().all(|peer| p.acked.contains(peer)),
            None => false,
        }
    }

    /// Confirms message `ack` to its sender `to` (on its own task: the subscription
    /// keeps reading meanwhile).
    pub(super) fn confirm(self: &Arc<Self>, to: String, ack: u64) {
        let me = self.clone();
        tokio::spawn(async move {
            let msg = Message::new(&me.replica, Body::Ack { to, ack });
            let mut cmd = redis::cmd("PUBLISH");
            cmd.arg(&me.channel).arg(msg.encode());
            let _ = me.query::<i64>(&cmd, RedisOp::Ack).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::lease::mono_ns;

    fn cluster(lease_ms: u64) -> Arc<Cluster> {
        let mut raw: super::super::RawCluster = crate::defaults::default_section("cluster");
        raw.redis_url = "redis://127.0.0.1:1".to_owned();
        raw.heartbeat_interval = Duration::from_millis(lease_ms / 5);
        raw.command_timeout = Duration::from_millis(lease_ms / 5);
        raw.lease = Duration::from_millis(lease_ms);
        raw.publish_deadline = Duration::from_millis(lease_ms * 2);
        let mut p = crate::problems::Problems::default();
        let settings = raw.check(&mut p).and_then(|c| c.redis).expect("valid");
        let metrics = super::super::ClusterMetrics::register(&prometheus::Registry::new()).unwrap();
        Cluster::new(settings, None, None, None, metrics).unwrap()
    }

    /// The first attempt of the message under test: far enough from the process's
    /// monotonic zero for a subscription to be older than a lease.
    fn attempt() -> u64 {
        mono_ns() + ns(Duration::from_secs(10))
    }

    /// Subscribed since `since` (mono ns), holding a lease.
    fn live(c: &Cluster, since: u64) {
        *c.subscription.lock().unwrap() = (1, Some(since));
        c.lease.sending(1, c.settings.lease);
        c.lease.echoed(1, c.settings.lease);
    }

    #[test]
    fn an_early_answer_needs_the_echo_an_old_subscription_the_lease_and_every_peer() {
        let c = cluster(500);
        let first = attempt();
        live(&c, 1);
        c.acks.heard("b");
        let _rx = c.acks.register(9, first);
        let pending = |f: &dyn Fn(&Pending) -> bool| {
            let mut out = false;
            c.acks.complete_if(9, |p| {
                out = f(p);
                false
            });
            out
        };
        assert!(!pending(&|p| c.may_complete(p)), "no echo, no confirmation");
        c.acks.echoed(9, 1);
        assert!(
            !pending(&|p| c.may_complete(p)),
            "b, heard within a lease, has not confirmed"
        );
        c.acks.acked(9, "b");
        assert!(pending(&|p| c.may_complete(p)), "all conditions hold");

        c.lease.drop_now();
        assert!(
            !pending(&|p| c.may_complete(p)),
            "the writer holds no lease"
        );
        live(&c, first - ns(Duration::from_millis(100)));
        assert!(
            !pending(&|p| c.may_complete(p)),
            "a subscription younger than a lease may have missed a peer's heartbeat"
        );
        *c.subscription.lock().unwrap() = (2, Some(0));
        assert!(
            !pending(&|p| c.may_complete(p)),
            "the echo came back on an earlier subscription"
        );
    }

    /// Every message a write's ids are sent in is one every replica reads: ids as long as
    /// a custom `cache.id_pattern` allows must not make a message too large to decode
    /// (a replica ignores it, renews its lease on the next heartbeat and serves the
    /// pre-write data).
    #[test]
    fn every_message_of_a_write_is_small_enough_to_be_read() {
        let replica = uuid::Uuid::new_v4().simple().to_string();
        for (count, len) in [(1, 10), (256, 300), (257, 300), (1000, 40), (3, 30_000)] {
            let ids: Vec<String> = (0..count)
                .map(|n| format!("customer_{n:0>width$}", width = len))
                .collect();
            let messages = messages_for(Body::Customers { ids: ids.clone() });
            let mut carried = Vec::new();
            for body in messages {
                let m = Message::new(&replica, body);
                let encoded = m.encode();
                assert!(encoded.len() <= MAX_MESSAGE_BYTES, "{count} ids of {len}");
                match Message::decode(&encoded).expect("readable").body {
                    Body::Customers { ids } => carried.extend(ids),
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(carried, ids, "{count} ids of {len}: each sent once");
        }
        let huge = "c".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(
            messages_for(Body::Customers { ids: vec![huge] }),
            vec![Body::All],
            "an id no message can carry: every replica drops everything"
        );
        assert_eq!(messages_for(Body::All), vec![Body::All]);
    }

    #[test]
    fn a_silent_peer_is_not_waited_for_past_a_lease() {
        let c = cluster(100);
        c.acks.heard("gone");
        std::thread::sleep(Duration::from_millis(150));
        live(&c, 1);
        let _rx = c.acks.register(3, attempt());
        c.acks.echoed(3, 1);
        let mut ok = false;
        c.acks.complete_if(3, |p| {
            ok = c.may_complete(p);
            ok
        });
        assert!(ok, "its heartbeat is older than a lease: it holds none");
    }
}
