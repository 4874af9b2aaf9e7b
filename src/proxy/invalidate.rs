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

use crate::cache::CustomerCache;
use crate::cluster::{Body, Cluster};
use crate::error::GatewayError;
use crate::route::Route;
use crate::upstream::Outgoing;

pub(super) use crate::cache::Written;

/// What a write invalidates and what carries it out: the cache (which decides what a
/// write names, `CustomerCache::written_by`), cluster mode's publishing, and the cache's
/// invalidation family.
pub(super) struct Invalidation {
    pub cache: Option<CustomerCache>,
    pub cluster: Option<Arc<Cluster>>,
    pub counter: metrics::Family<IntCounterVec, 1>,
}

impl Invalidation {
    /// What `out` (a request on `route`) invalidates, armed before it is sent (see
    /// [`PendingInvalidation`]); `deadline` is the write's upstream deadline.
    ///
    /// In cluster mode a write that invalidates something may be refused here, before it
    /// is sent upstream (`Cluster::admit_write`: `cluster.on_unconfirmed_write =
    /// "refuse"` without a lease) — never after: a write that reached paycombat is
    /// answered.
    pub(super) fn arm(
        &self,
        route: &Route,
        out: &Outgoing,
        deadline: Instant,
    ) -> Result<PendingInvalidation, GatewayError> {
        let written = match &self.cache {
            None => Written::Nothing,
            Some(cache) => {
                let target = out.uri.path_and_query().map_or("", |p| p.as_str());
                cache.written_by(route, &out.method, target.as_bytes(), &out.body[..])
            }
        };
        if let Some(cluster) = &self.cluster {
            if written != Written::Nothing {
                cluster.admit_write()?;
            }
        }
        Ok(PendingInvalidation {
            cache: self.cache.clone(),
            cluster: self.cluster.clone(),
            counter: self.counter.clone(),
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
