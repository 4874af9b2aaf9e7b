//! Client access control as the proxy sees it: who is calling, may they call
//! this route, are they within their rate. The registry itself (keys, routes,
//! limits) lives in `auth`; this holds the current one and maps its answers
//! to gateway errors and metrics.

use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::auth::{AuthConfigError, AuthError, Client, ClientRegistry};
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::path::ValidPath;
use crate::reload::{Load, ReloadableFile};

/// The clients file, as a reloadable source of the client registry.
pub struct ClientsFile(pub PathBuf);

impl Load for ClientsFile {
    type Value = ClientRegistry;
    type Error = AuthConfigError;
    const WHAT: &'static str = "clients file";

    fn files(&self) -> Vec<PathBuf> {
        vec![self.0.clone()]
    }

    fn load(&self) -> Result<ClientRegistry, AuthConfigError> {
        ClientRegistry::load(&self.0)
    }

    /// A reload (a key rotation, say) neither resets nor refills the rate
    /// limits of clients that stay the same.
    fn carry_over(&self, next: &mut ClientRegistry, previous: &ClientRegistry) {
        next.inherit_limiters(previous);
    }

    fn count(registry: &ClientRegistry) -> usize {
        registry.client_names().count()
    }
}

#[derive(Clone)]
pub enum AuthMode {
    /// Anyone who can reach the listener acts as the merchant. Only when the
    /// config says `auth.mode = "none"`, with a warning at start.
    Disabled,
    Keys(Arc<ReloadableFile<ClientsFile>>),
}

impl AuthMode {
    /// Authenticates, authorizes and rate-limits one request. `caller` is set
    /// as soon as the caller is identified — also when it is then refused —
    /// so logs and metrics name who was turned away.
    pub fn check(
        &self,
        headers: &HeaderMap,
        method: &Method,
        path: ValidPath<'_>,
        metrics: &Metrics,
        caller: &mut Option<Arc<Client>>,
    ) -> Result<(), GatewayError> {
        let AuthMode::Keys(registry) = self else {
            return Ok(());
        };
        let reject = |client: &str, reason: &str| {
            metrics
                .client_rejections
                .with_label_values(&[client, reason])
                .inc();
        };
        let registry = registry.guard();
        let client = registry.authenticate(headers).map_err(|e| {
            reject("anonymous", e.reason());
            match e {
                AuthError::Missing => GatewayError::Unauthenticated,
                _ => GatewayError::UnknownClient,
            }
        })?;
        let client = caller.insert(client);
        if client.authorize_checked(method, path).is_err() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(keys: &[&str]) -> String {
        let hashes: Vec<String> = keys
            .iter()
            .map(|k| format!("{:?}", crate::auth::hash_key(k)))
            .collect();
        format!(
            "[[clients]]\nname = \"svc\"\nkeys_sha256 = [{}]\nrate_limit = {{ per_second = 1, burst = 2 }}\nallow = [{{ methods = [\"GET\"], path = \"/api/**\" }}]\n",
            hashes.join(", ")
        )
    }

    fn check(auth: &AuthMode, metrics: &Metrics, key: &str) -> Result<(), GatewayError> {
        let mut headers = HeaderMap::new();
        headers.insert(crate::auth::X_TOKEN, key.parse().unwrap());
        let path = ValidPath::check("/api/v1/x").unwrap();
        auth.check(&headers, &Method::GET, path, metrics, &mut None)
    }

    #[test]
    fn a_clients_file_reload_rotates_keys_and_keeps_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        std::fs::write(&path, client(&["old"])).unwrap();
        let metrics = Metrics::register(&prometheus::Registry::new()).unwrap();
        let file = Arc::new(
            ReloadableFile::open(ClientsFile(path.clone()), &metrics.clients_reloads).unwrap(),
        );
        assert_eq!(file.loader().files(), vec![path.clone()]);
        let auth = AuthMode::Keys(file.clone());
        for _ in 0..2 {
            check(&auth, &metrics, "old").unwrap();
        }
        assert!(matches!(
            check(&auth, &metrics, "old"),
            Err(GatewayError::RateLimited { .. })
        ));

        std::fs::write(&path, "not toml [").unwrap();
        assert!(file.reload().is_err());
        assert!(matches!(
            check(&auth, &metrics, "old"),
            Err(GatewayError::RateLimited { .. })
        ));

        std::fs::write(&path, client(&["old", "new"])).unwrap();
        file.reload().unwrap();
        assert!(
            matches!(
                check(&auth, &metrics, "new"),
                Err(GatewayError::RateLimited { .. })
            ),
            "the new key is known and the bucket is still empty"
        );
        let reloads = |r: &str| metrics.clients_reloads.with_label_values(&[r]).get();
        assert_eq!((reloads("ok"), reloads("failed")), (2, 1));
    }
}
