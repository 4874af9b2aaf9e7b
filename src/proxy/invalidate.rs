//! Writes that name a customer drop that customer's cached reads, before the
//! writer gets its answer, so a read through this gateway after a write is
//! never the pre-write state.

use http::Method;

use super::forward::Outgoing;
use super::Proxy;
use crate::route::Route;

#[derive(serde::Deserialize)]
struct NamesCustomer {
    customer_id: Option<String>,
}

impl Proxy {
    /// The customers a write names: in its path (enable, disable, delete) or
    /// as `customer_id` in its JSON body (update, wallet creation, …). Any
    /// write endpoint counts, so a new endpoint that names a customer in its
    /// body invalidates too.
    pub(super) fn written_customers(&self, route: &Route, out: &Outgoing) -> Vec<String> {
        if self.cache.is_none()
            || matches!(out.method, Method::GET | Method::HEAD | Method::OPTIONS)
        {
            return Vec::new();
        }
        let mut ids: Vec<String> = route
            .written_customer()
            .map(str::to_owned)
            .into_iter()
            .collect();
        if let Ok(NamesCustomer {
            customer_id: Some(id),
        }) = serde_json::from_slice(&out.body)
        {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    pub(super) async fn invalidate_written(&self, ids: &[String]) {
        let Some(cache) = &self.cache else { return };
        for id in ids {
            cache.invalidate_customer(id).await;
            self.metrics
                .cache_invalidations
                .with_label_values(&["write"])
                .inc();
        }
    }
}
