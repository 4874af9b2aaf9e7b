//! The invalidation subscription, on a connection of its own (a subscribed connection can
//! run no other command). Lost, it is made again; a silently dead one (a half-open TCP
//! connection, a Redis that stopped delivering) is noticed by the heartbeats not arriving.

use super::metrics::{CacheDrop, InvalidationKind, RedisOp};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::lease::{mono_ns, Renewal};
use super::message::{is_replica_id, now_us, Body, Message};
use super::{Backoff, Cluster};

impl Cluster {
    pub(super) async fn subscribe_forever(self: Arc<Self>) {
        let mut backoff = Backoff::default();
        let mut first = true;
        loop {
            match self.subscribe().await {
                Ok(pubsub) => {
                    backoff.reset();
                    // Whatever was published while no subscription was live is lost
                    // (pub/sub delivers at most once): start from an empty cache, before
                    // anything read on this subscription can renew the lease.
                    if let Some(cache) = &self.cache {
                        cache.invalidate_all().await;
                    }
                    self.metrics.cache_drops.with([&CacheDrop::Subscribe]).inc();
                    if !first {
                        self.metrics.subscription_resets.inc();
                    }
                    first = false;
                    {
                        let mut sub = self.subscription.lock().unwrap_or_else(|e| e.into_inner());
                        *sub = (sub.0 + 1, Some(mono_ns()));
                    }
                    self.metrics.subscribed.set(1);
                    // The lease comes with the first heartbeat back: send it now, not at
                    // the next tick.
                    tokio::spawn({
                        let me = Arc::clone(&self);
                        async move { me.heartbeat().await }
                    });
                    tracing::info!(channel = %self.channel, "cluster: subscribed");
                    self.receive(pubsub).await;
                    self.subscription
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .1 = None;
                    self.lease.drop_now();
                    self.metrics.subscribed.set(0);
                    if let Some(suppressed) = self.warn.allow("subscription") {
                        tracing::warn!(
                            channel = %self.channel,
                            suppressed,
                            "cluster: subscription lost; cached reads go upstream until it is back and a heartbeat returns"
                        );
                    }
                }
                Err((operation, why)) => {
                    self.failed(operation, &why);
                }
            }
            tokio::time::sleep(backoff.next()).await;
        }
    }

    /// Connects within `connect_timeout`, then subscribes within `subscribe_timeout` (a
    /// slow link may connect in time yet need longer for the SUBSCRIBE round trip).
    async fn subscribe(&self) -> Result<redis::aio::PubSub, (RedisOp, String)> {
        let connected = tokio::time::timeout(
            self.settings.connect_timeout,
            self.client.get_async_pubsub(),
        )
        .await;
        let mut pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => return Err((RedisOp::Connect, e.category().to_owned())),
            Err(_) => return Err((RedisOp::Connect, "timed out".to_owned())),
        };
        let subscribed = tokio::time::timeout(
            self.settings.subscribe_timeout,
            pubsub.subscribe(&self.channel),
        )
        .await;
        match subscribed {
            Ok(Ok(())) => Ok(pubsub),
            Ok(Err(e)) => Err((RedisOp::Subscribe, e.category().to_owned())),
            Err(_) => Err((RedisOp::Subscribe, "timed out".to_owned())),
        }
    }

    /// Applies messages until the connection ends, or until `heartbeat_timeout` passes
    /// without a message and the connection does not answer a PING either. (Heartbeats can
    /// also stop because no replica can publish — a `CLIENT PAUSE WRITE` — then nothing is
    /// being missed, the leases run out anyway, and the PING tells that case from a dead
    /// connection.)
    async fn receive(self: &Arc<Self>, pubsub: redis::aio::PubSub) {
        let (mut sink, mut messages) = pubsub.split();
        loop {
            let next = tokio::time::timeout(self.settings.heartbeat_timeout, messages.next());
            match next.await {
                // Strictly one at a time, in the order read: an invalidation read before
                // a heartbeat is applied before that heartbeat renews the lease.
                Ok(Some(msg)) => self.apply(msg.get_payload_bytes()).await,
                Ok(None) => {
                    self.failed(RedisOp::Subscribe, "connection closed");
                    return;
                }
                Err(_) => {
                    let ping = sink.ping::<redis::Value>();
                    if !matches!(
                        tokio::time::timeout(self.settings.command_timeout, ping).await,
                        Ok(Ok(_))
                    ) {
                        self.failed(RedisOp::Subscribe, "no heartbeat and no answer to PING");
                        return;
                    }
                }
            }
        }
    }

    async fn apply(self: &Arc<Self>, payload: &[u8]) {
        let Some(msg) = Message::decode(payload) else {
            return;
        };
        if msg.from == self.replica {
            self.apply_own(msg).await;
            return;
        }
        // Senders that are no replica (another program, a hostile publisher naming
        // itself with megabytes) are ignored.
        if !is_replica_id(&msg.from) {
            return;
        }
        let kind = match msg.body {
            Body::Heartbeat { .. } => {
                self.acks.heard(&msg.from);
                return;
            }
            Body::Ack { to, ack } => {
                if to == self.replica && self.acks.acked(ack, &msg.from) {
                    self.complete_if_ready(ack);
                }
                return;
            }
            Body::Customers { ids } => {
                if let Some(cache) = &self.cache {
                    for id in &ids {
                        cache.invalidate_customer(id).await;
                    }
                }
                InvalidationKind::Customer
            }
            Body::All => {
                if let Some(cache) = &self.cache {
                    cache.invalidate_all().await;
                }
                InvalidationKind::All
            }
        };
        self.confirm(msg.from, msg.id);
        self.metrics.received.with([&kind]).inc();
        let lag = now_us().saturating_sub(msg.sent_us);
        self.metrics
            .invalidation_lag
            .observe(Duration::from_micros(lag).as_secs_f64());
    }

    /// This replica's own message, back through its subscription.
    async fn apply_own(&self, msg: Message) {
        match msg.body {
            Body::Heartbeat { .. } => {
                if self.lease.take_stalled() {
                    // One of its heartbeats got no reply: Redis stalled, and another
                    // replica's invalidation sent during the stall may run after this
                    // heartbeat. The write behind it reached paycombat before that, so
                    // an empty cache refilled from now on is fresh.
                    if let Some(cache) = &self.cache {
                        cache.invalidate_all().await;
                    }
                    self.metrics.cache_drops.with([&CacheDrop::Stall]).inc();
                }
                match self.lease.echoed(msg.id, self.settings.lease) {
                    Renewal::Unknown => {}
                    Renewal::Renewed => self.metrics.lease_renewals.inc(),
                    Renewal::Acquired => {
                        self.metrics.lease_renewals.inc();
                        self.metrics.lease_held.set(i64::from(self.lease.held()));
                        tracing::info!(lease = ?self.settings.lease, "cluster: lease acquired; answering from the cache");
                    }
                }
            }
            Body::Customers { .. } | Body::All => {
                let epoch = self
                    .subscription
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                if self.acks.echoed(msg.id, epoch) {
                    self.complete_if_ready(msg.id);
                }
            }
            Body::Ack { .. } => {}
        }
    }
}
