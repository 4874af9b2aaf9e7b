//! Writes drop the cached reads of every customer they name, before the writer gets its
//! answer, so a read through this gateway after a write is never the pre-write state.
//!
//! Which customers a write names is not decided by parsing its body the way paycombat
//! might: the path, the query and the raw body are searched for anything shaped like a
//! customer id (`cache.id_pattern`), in every form the bytes could be read as (see
//! `cache::scan`). A write to a customer endpoint that names no id at all (or more than
//! the scanner keeps) purges the whole cache: its target cannot be told, and serving a
//! pre-write read is worse than a cold cache. Writes to other families (wallets,
//! payins, …) drop the customers they name and nothing else. In cluster mode the same
//! invalidation is published to every other replica, still before the writer's answer.

use http::Method;

use super::Proxy;
use crate::cache::scan::Found;
use crate::cluster::Body;
use crate::route::{Family, Route};
use crate::upstream::Outgoing;

/// What a write invalidates.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    Nothing,
    Customers(Vec<String>),
    /// A customer write whose target cannot be told.
    All,
}

impl Proxy {
    pub(super) fn written_customers(&self, route: &Route, out: &Outgoing) -> Written {
        let Some(cache) = &self.cache else {
            return Written::Nothing;
        };
        if matches!(out.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Written::Nothing;
        }
        let settings = cache.settings();
        let target = out.uri.path_and_query().map_or("", |p| p.as_str());
        let mut ids = Vec::new();
        for part in [target.as_bytes(), &out.body[..]] {
            match settings.ids_in(part) {
                Found::Ids(found) => {
                    for id in found {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                Found::TooMany => return Written::All,
            }
        }
        if ids.len() > crate::cache::scan::MAX_IDS {
            return Written::All;
        }
        match (ids.is_empty(), is_customer_write(route)) {
            (false, _) => Written::Customers(ids),
            (true, true) => Written::All,
            (true, false) => Written::Nothing,
        }
    }

    pub(super) async fn invalidate_written(&self, written: &Written) {
        let Some(cache) = &self.cache else { return };
        match written {
            Written::Nothing => {}
            Written::Customers(ids) => {
                for id in ids {
                    cache.invalidate_customer(id).await;
                    self.metrics
                        .cache_invalidations
                        .with_label_values(&["write"])
                        .inc();
                }
                if let Some(cluster) = &self.cluster {
                    let ids = ids.clone();
                    Box::pin(cluster.publish(Body::Customers { ids })).await;
                }
            }
            Written::All => {
                cache.invalidate_all().await;
                self.metrics
                    .cache_invalidations
                    .with_label_values(&["write_all"])
                    .inc();
                if let Some(cluster) = &self.cluster {
                    Box::pin(cluster.publish(Body::All)).await;
                }
            }
        }
    }
}

/// Every customer endpoint (known or not): a write there changes some customer.
fn is_customer_write(route: &Route) -> bool {
    !matches!(route, Route::Passthrough { family } if *family != Family::Customer)
}
