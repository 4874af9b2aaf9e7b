//! Client access control as the proxy sees it: who is calling, may they call
//! this route, are they within their rate. The registry itself (keys, routes,
//! limits) lives in `auth`; this holds the current one and maps its answers
//! to gateway errors and metrics.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use http::{HeaderMap, Method};

use crate::auth::{AuthError, ClientRegistry};
use crate::error::GatewayError;
use crate::metrics::Metrics;

#[derive(Clone)]
pub enum AuthMode {
    /// Anyone who can reach the listener acts as the merchant. Only when the
    /// config says `auth.mode = "none"`, with a warning at start.
    Disabled,
    Keys {
        registry: Arc<ArcSwap<ClientRegistry>>,
        file: Option<PathBuf>,
    },
}

impl AuthMode {
    /// Authenticates, authorizes and rate-limits one request. `client` is set
    /// as soon as the caller is identified — also when it is then refused —
    /// so logs and metrics name who was turned away.
    pub fn check(
        &self,
        headers: &HeaderMap,
        method: &Method,
        path: &str,
        metrics: &Metrics,
        client_name: &mut Option<Arc<str>>,
    ) -> Result<(), GatewayError> {
        let AuthMode::Keys { registry, .. } = self else {
            return Ok(());
        };
        let reject = |client: &str, reason: &str| {
            metrics
                .client_rejections
                .with_label_values(&[client, reason])
                .inc();
        };
        let registry = registry.load();
        let client = registry.authenticate(headers).map_err(|e| {
            reject("anonymous", e.reason());
            match e {
                AuthError::Missing => GatewayError::Unauthenticated,
                _ => GatewayError::UnknownClient,
            }
        })?;
        *client_name = Some(client.name.clone());
        if client.authorize(method, path).is_err() {
            reject(&client.name, "forbidden");
            return Err(GatewayError::Forbidden);
        }
        if let Err(limited) = client.check_rate() {
            reject(&client.name, "rate_limited");
            return Err(GatewayError::RateLimited {
                retry_after: limited.retry_after,
            });
        }
        Ok(())
    }

    /// Reads the clients file again, keeping rate-limit buckets of unchanged
    /// clients. A bad file leaves the previous registry in force.
    pub fn reload(&self, metrics: &Metrics) {
        let AuthMode::Keys {
            registry,
            file: Some(file),
        } = self
        else {
            return;
        };
        match ClientRegistry::load(file) {
            Ok(mut next) => {
                next.inherit_limiters(&registry.load());
                let n = next.client_names().count();
                registry.store(Arc::new(next));
                metrics.clients_reloads.with_label_values(&["ok"]).inc();
                tracing::info!(clients = n, "clients file loaded");
            }
            Err(e) => {
                metrics.clients_reloads.with_label_values(&["failed"]).inc();
                tracing::error!(error = %e, "clients file reload failed; keeping the previous clients");
            }
        }
    }
}
