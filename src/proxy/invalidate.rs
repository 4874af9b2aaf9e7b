//! Writes drop the cached reads of every customer they name, before the writer gets its
//! answer, so a read through this gateway after a write is never the pre-write state.
//! Which customers a write names is the cache's decision (`cache::Written`); here it is
//! armed before the write is sent and carried out after. In cluster mode the same
//! invalidation is published to every other replica, and the writer's answer waits for
//! it (see `cluster::publish`).

use std::sync::Arc;

use prometheus::IntCounterVec;

use crate::cache::InvalidationReason;
use crate::metrics;
use tokio::time::Instant;

use super::Proxy;
use crate::cache::CustomerCache;
use crate::cluster::{Body, Cluster};
use crate::error::GatewayError;
use crate::route::Route;
use crate::upstream::Outgoing;

pub(super) use crate::cache::Written;

impl Proxy {
    pub(super) fn written_customers(&self, route: &Route, out: &Outgoing) -> Written {
        let Some(cache) = &self.cache else {
            return Written::Nothing;
        };
        let target = out.uri.path_and_query().map_or("", |p| p.as_str());
        cache.written_by(route, &out.method, target.as_bytes(), &out.body[..])
    }

    /// What `written` invalidates, armed before the write is sent (see
    /// [`PendingInvalidation`]); `deadline` is the write's upstream deadline.
    ///
    /// With `cluster.on_unconfirmed_write = "refuse"`, a write that invalidates something
    /// while this replica holds no lease (it may be cut off from Redis while the others
    /// are not, and its invalidation may never reach them) is refused here, before it is
    /// sent upstream — never after: a write that reached paycombat is answered.
    pub(super) fn pending_invalidation(
        &self,
        written: Written,
        deadline: Instant,
    ) -> Result<PendingInvalidation, GatewayError> {
        if let Some(cluster) = &self.cluster {
            let refuse = cluster.refuses_unconfirmed_writes();
            if refuse && written != Written::Nothing && !cluster.lease_held() {
                cluster.metrics().writes_refused.inc();
                return Err(GatewayError::ClusterUnconfirmed);
            }
        }
        Ok(PendingInvalidation {
            cache: self.cache.clone(),
            cluster: self.cluster.clone(),
            counter: self.metrics.cache.invalidations.clone(),
            written: Some(written),
            deadline,
        })
    }
}

/// The invalidation a write sent upstream owes. It runs on a task of its own, so it is
/// done whatever happens to the writer's request: when the writer goes away (a closed
/// connection, a reset stream, the drain's deadline) its request future is dropped —
/// before paycombat answered, or while the invalidation is being published — yet
/// paycombat may have applied the write. Dropped unrun, it runs from `Drop`: at once,
/// and again at the write's upstream deadline, since paycombat may apply a write it is
/// still processing after a read that followed the first pass was stored.
pub(super) struct PendingInvalidation {
    cache: Option<CustomerCache>,
    cluster: Option<Arc<Cluster>>,
    counter: metrics::Family<IntCounterVec, 1>,
    written: Option<Written>,
    deadline: Instant,
}

impl PendingInvalidation {
    /// Runs it now (paycombat answered); returns once it is done, and a caller dropped
    /// meanwhile does not stop it.
    pub(super) async fn run(mut self) {
        if let Some(task) = self.spawn(false) {
            let _ = task.await;
        }
    }

    /// The write was refused (a 4xx): nothing changed, nothing to drop.
    pub(super) fn disarm(mut self) {
        self.written = None;
    }

    fn spawn(&mut self, unanswered: bool) -> Option<tokio::task::JoinHandle<()>> {
        let written = self.written.take()?;
        let cache = self.cache.clone()?;
        if written == Written::Nothing {
            return None;
        }
        let (cluster, counter) = (self.cluster.clone(), self.counter.clone());
        let deadline = self.deadline;
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        Some(runtime.spawn(async move {
            invalidate(&cache, cluster.as_ref(), &counter, written.clone()).await;
            if unanswered {
                tokio::time::sleep_until(deadline).await;
                invalidate(&cache, cluster.as_ref(), &counter, written).await;
            }
        }))
    }
}

impl Drop for PendingInvalidation {
    fn drop(&mut self) {
        self.spawn(true);
    }
}

async fn invalidate(
    cache: &CustomerCache,
    cluster: Option<&Arc<Cluster>>,
    counter: &metrics::Family<IntCounterVec, 1>,
    written: Written,
) {
    match written {
        Written::Nothing => {}
        Written::Customers(ids) => {
            for id in &ids {
                cache.invalidate_customer(id).await;
                counter.with([&InvalidationReason::Write]).inc();
            }
            if let Some(cluster) = cluster {
                Box::pin(cluster.publish(Body::Customers { ids })).await;
            }
        }
        Written::All => {
            cache.invalidate_all().await;
            counter.with([&InvalidationReason::WriteAll]).inc();
            if let Some(cluster) = cluster {
                Box::pin(cluster.publish(Body::All)).await;
            }
        }
    }
}
