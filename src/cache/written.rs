//! What a write invalidates, decided by the cache, which owns what its entries are keyed
//! by (`cache.id_pattern`).
//!
//! Which customers a write names is not decided by parsing its body the way paycombat
//! might: the path, the query and the raw body are searched for anything shaped like a
//! customer id, in every form the bytes could be read as (see `scan`). A write names
//! exactly the customers found, however many (deduplicated); only a write to a customer
//! endpoint that names no id at all means every entry (its target cannot be told).
//! Writes to other families (wallets, payins, payouts, …) name the customers they hold
//! and nothing else, so no body, however large, turns one into a cluster-wide purge.

use std::collections::HashSet;

use http::Method;

use super::CustomerCache;
use crate::route::{Family, Route};

/// What a write invalidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Nothing,
    Customers(Vec<String>),
    /// A customer write whose target cannot be told.
    All,
}

impl CustomerCache {
    /// What a request with `method` on `route`, sent as `target` (path and query) with
    /// `body`, invalidates: nothing for reads.
    pub fn written_by(
        &self,
        route: &Route,
        method: &Method,
        target: &[u8],
        body: &[u8],
    ) -> Written {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Written::Nothing;
        }
        let settings = self.settings();
        let mut ids = settings.ids_in(target);
        let mut seen: HashSet<String> = ids.iter().cloned().collect();
        for id in settings.ids_in(body) {
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
        match (ids.is_empty(), is_customer_write(route)) {
            (false, _) => Written::Customers(ids),
            (true, true) => Written::All,
            (true, false) => Written::Nothing,
        }
    }
}

/// Every customer endpoint (known or not): a write there changes some customer.
fn is_customer_write(route: &Route) -> bool {
    !matches!(route, Route::Passthrough { family } if *family != Family::Customer)
}
