//! The invalidation subscription, on a connection of its own (a subscribed connection can
//! run no other command). Lost, it is made again; a silently dead one (a half-open TCP
//! connection, a Redis that stopped delivering) is noticed by the heartbeats not arriving.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

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
                    // Whatever was published while no subscription was live is lost: start
                    // from an empty cache. Before going live, so no entry that may have
                    // missed an invalidation is ever served as if it had not.
                    if let Some(cache) = &self.cache {
                        cache.invalidate_all().await;
                    }
                    if !first {
                        self.metrics.subscription_resets.inc();
                    }
                    first = false;
                    // Live only once this replica's own heartbeats come back through the
                    // subscription (see `apply`): then its command connection publishes
                    // too, so its writes reach the others. Until then it stays degraded.
                    // The first heartbeat goes at once, not at the next tick.
                    self.own_heartbeat_awaited.store(true, Ordering::Release);
                    tokio::spawn({
                        let me = Arc::clone(&self);
                        async move { me.heartbeat().await }
                    });
                    tracing::info!(channel = %self.channel, "cluster: subscribed");
                    self.receive(pubsub).await;
                    self.set_live(false);
                    tracing::warn!(
                        channel = %self.channel,
                        degraded_ttl = ?self.settings.degraded_ttl,
                        "cluster: subscription lost; cached entries older than degraded_ttl are fetched again until it is back"
                    );
                }
                Err(why) => {
                    self.failed("subscribe", &why);
                }
            }
            tokio::time::sleep(backoff.next()).await;
        }
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
        self.metrics.subscribed.set(i64::from(live));
    }

    async fn subscribe(&self) -> Result<redis::aio::PubSub, String> {
        let within = self.settings.connect_timeout;
        let made = tokio::time::timeout(within, async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match made {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(e)) => Err(e.category().to_owned()),
            Err(_) => Err("timed out".to_owned()),
        }
    }

    /// Applies messages until the connection ends, or until `heartbeat_timeout` passes
    /// without a message and the connection does not answer a PING either. (Heartbeats can
    /// also stop because no replica can publish; then nothing is being missed, and the
    /// PING tells that case from a dead connection.)
    async fn receive(self: &Arc<Self>, pubsub: redis::aio::PubSub) {
        let (mut sink, mut messages) = pubsub.split();
        loop {
            let next = tokio::time::timeout(self.settings.heartbeat_timeout, messages.next());
            match next.await {
                Ok(Some(msg)) => self.apply(msg.get_payload_bytes()).await,
                Ok(None) => {
                    self.failed("subscribe", "connection closed");
                    return;
                }
                Err(_) => {
                    let ping = sink.ping::<redis::Value>();
                    if !matches!(
                        tokio::time::timeout(self.settings.command_timeout, ping).await,
                        Ok(Ok(_))
                    ) {
                        self.failed("heartbeat", "no heartbeat and no answer to PING");
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
        // Its own messages, and those of senders that are no replica (another
        // program, a hostile publisher naming itself with megabytes).
        if msg.from == self.replica {
            // Going live takes two of its own heartbeats back through the channel: the
            // first (saying "not subscribed") proves its publishes reach Redis; the
            // second says "subscribed", and by the time it is back here every other
            // replica has been sent it, so writers wait for this one's confirmations
            // before it serves a read.
            if let Body::Heartbeat { subscribed } = msg.body {
                if self.own_heartbeat_awaited.load(Ordering::Acquire) {
                    if !subscribed {
                        let me = Arc::clone(self);
                        tokio::spawn(async move { me.heartbeat_saying(true).await });
                    } else if self.own_heartbeat_awaited.swap(false, Ordering::AcqRel) {
                        self.set_live(true);
                    }
                }
            }
            return;
        }
        if !is_replica_id(&msg.from) {
            return;
        }
        let kind = match msg.body {
            // A degraded replica cannot confirm (it hears nothing) and serves nothing older
            // than degraded_ttl: writers do not wait for it.
            Body::Heartbeat { subscribed } => {
                // A replica that just subscribed announced itself, but it may have done
                // so before this one's own subscription was live: answer with a
                // heartbeat at once, so it knows to wait for this replica's
                // confirmations from its first write on, not from its next tick.
                if self.acks.heard(&msg.from, subscribed) {
                    self.announce();
                }
                return;
            }
            Body::Ack { to, ack } => {
                if to == self.replica {
                    self.acks.acked(ack, &msg.from);
                }
                return;
            }
            Body::Customers { ids } => {
                if let Some(cache) = &self.cache {
                    for id in &ids {
                        cache.invalidate_customer(id).await;
                    }
                }
                "customer"
            }
            Body::All => {
                if let Some(cache) = &self.cache {
                    cache.invalidate_all().await;
                }
                "all"
            }
        };
        self.confirm(msg.from, msg.id);
        self.metrics.received.with_label_values(&[kind]).inc();
        let lag = now_us().saturating_sub(msg.sent_us);
        self.metrics
            .invalidation_lag
            .observe(Duration::from_micros(lag).as_secs_f64());
    }
}
