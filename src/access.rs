//! Client access control as the proxy sees it: who is calling, may they call
//! this route, are they within their rate. The registry itself (keys, routes,
//! limits) lives in `auth`; this holds the current one and maps its answers
//! to gateway errors and metrics.

use crate::metrics::Configured;
use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::auth::{
    AuthConfigError, AuthError, Client, ClientCertificate, ClientMetrics, ClientRegistry,
    RateDecision, RateLimited, RateState, RejectReason,
};
use crate::cluster::Cluster;
use crate::error::GatewayError;
use crate::path::ValidPath;
use crate::reload::{Load, ReloadableFile};

/// The clients file, as a reloadable source of the client registry.
pub struct ClientsFile {
    pub path: PathBuf,
    /// Whether the listener asks for client certificates. When it does not,
    /// a file naming a client by certificate alone is refused (at start and
    /// on reload alike): that client could never authenticate.
    pub certificates_asked: bool,
    /// What the clients' token buckets read.
    pub clock: crate::clock::Clock,
}

impl Load for ClientsFile {
    type Value = ClientRegistry;
    type Error = AuthConfigError;
    const WHAT: &'static str = "clients file";

    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    fn load(&self) -> Result<ClientRegistry, AuthConfigError> {
        let registry = ClientRegistry::load_on(&self.path, &self.clock)?;
        let names: Vec<String> = registry
            .certificate_only_clients()
            .map(str::to_owned)
            .collect();
        if !self.certificates_asked && !names.is_empty() {
            return Err(AuthConfigError::CertificateOnly { names });
        }
        Ok(registry)
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

/// What one request presents to access control.
pub struct Presented<'a> {
    pub headers: &'a HeaderMap,
    /// The connection's verified client certificate, when it sent one.
    pub certificate: Option<&'a ClientCertificate>,
    pub method: &'a Method,
    pub path: ValidPath<'a>,
}

impl AuthMode {
    /// Authenticates, authorizes and rate-limits one request. `caller` is set
    /// as soon as the caller is identified — also when it is then refused —
    /// so logs and metrics name who was turned away; `rate` is set once a
    /// limited client's bucket was asked (allowed or refused), for its
    /// `RateLimit` fields on whatever answer the request gets.
    pub fn check(
        &self,
        req: &Presented<'_>,
        metrics: &ClientMetrics,
        caller: &mut Option<Arc<Client>>,
        rate: &mut Option<RateState>,
    ) -> Result<(), GatewayError> {
        match self.admit(req, metrics, caller, Client::check_rate)? {
            Some(Some(decision)) => settle(metrics, caller, rate, decision),
            _ => Ok(()),
        }
    }

    /// As [`Self::check`], with the client's bucket shared by every replica
    /// ([`Cluster::take`]); the local bucket is what `rate_limit_on_error = "local"` uses.
    pub async fn check_shared(
        &self,
        cluster: &Cluster,
        req: &Presented<'_>,
        metrics: &ClientMetrics,
        caller: &mut Option<Arc<Client>>,
        rate: &mut Option<RateState>,
    ) -> Result<(), GatewayError> {
        let bucket = self.admit(req, metrics, caller, |client| {
            client
                .rate_limit()
                .map(|limit| (limit, client.local_bucket()))
        })?;
        let (Some(Some((limit, local))), Some(client)) = (bucket, caller.as_ref()) else {
            return Ok(());
        };
        let decision = cluster
            .take(&client.name, limit, || {
                local
                    .take()
                    .unwrap_or_else(|| RateDecision::unread(limit, Ok(())))
            })
            .await;
        settle(metrics, caller, rate, decision)
    }

    /// Authenticates and authorizes; then `rate` is given the client (under the
    /// registry's guard, which must not be held across an await).
    fn admit<R>(
        &self,
        req: &Presented<'_>,
        metrics: &ClientMetrics,
        caller: &mut Option<Arc<Client>>,
        rate: impl FnOnce(&Client) -> R,
    ) -> Result<Option<R>, GatewayError> {
        let AuthMode::Keys(registry) = self else {
            return Ok(None);
        };
        let reject = |client: &Configured, reason: RejectReason| {
            metrics.rejections.with([client, &reason]).inc();
        };
        let registry = registry.guard();
        let client = registry
            .identify(req.headers, req.certificate)
            .map_err(|e| {
                reject(&Configured::anonymous(), e.rejection());
                match e {
                    AuthError::Missing => GatewayError::Unauthenticated,
                    AuthError::UnknownCertificate | AuthError::AmbiguousCertificate => {
                        GatewayError::UnknownClientCertificate
                    }
                    AuthError::Conflict => GatewayError::ConflictingClientIdentity,
                    _ => GatewayError::UnknownClient,
                }
            })?;
        let client = caller.insert(client);
        if client.authorize_checked(req.method, req.path).is_err() {
            reject(&client.name, RejectReason::Forbidden);
            return Err(GatewayError::Forbidden);
        }
        Ok(Some(rate(client)))
    }
}

/// Records where the bucket stands and turns a refusal into the 429.
fn settle(
    metrics: &ClientMetrics,
    caller: &Option<Arc<Client>>,
    rate: &mut Option<RateState>,
    decision: RateDecision,
) -> Result<(), GatewayError> {
    *rate = Some(decision.state);
    decision
        .verdict
        .map_err(|limited| rate_limited(metrics, caller, limited))
}

fn rate_limited(
    metrics: &ClientMetrics,
    caller: &Option<Arc<Client>>,
    limited: RateLimited,
) -> GatewayError {
    let name = caller
        .as_deref()
        .map_or_else(Configured::anonymous, |c| c.name.clone());
    metrics.rejections.with([&name, &limited.rejection()]).inc();
    GatewayError::RateLimited {
        retry_after: limited.retry_after,
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

    fn check(auth: &AuthMode, metrics: &ClientMetrics, key: &str) -> Result<(), GatewayError> {
        let mut headers = HeaderMap::new();
        headers.insert(crate::auth::X_TOKEN, key.parse().unwrap());
        let path = ValidPath::check("/api/v1/x").unwrap();
        let req = Presented {
            headers: &headers,
            certificate: None,
            method: &Method::GET,
            path,
        };
        auth.check(&req, metrics, &mut None, &mut None)
    }

    #[test]
    fn a_clients_file_reload_rotates_keys_and_keeps_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        std::fs::write(&path, client(&["old"])).unwrap();
        let metrics = ClientMetrics::register(&prometheus::Registry::new()).unwrap();
        let file = Arc::new(
            ReloadableFile::open(
                ClientsFile {
                    path: path.clone(),
                    certificates_asked: false,
                    clock: crate::clock::Clock::system(),
                },
                &metrics.reloads,
            )
            .unwrap(),
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
        use crate::metrics::labels::ReloadResult;
        let reloads = |r: ReloadResult| metrics.reloads.with([&r]).get();
        assert_eq!(
            (reloads(ReloadResult::Ok), reloads(ReloadResult::Failed)),
            (2, 1)
        );
    }

    #[test]
    fn a_certificate_only_client_is_refused_unless_certificates_are_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        std::fs::write(
            &path,
            format!(
                "{}[[clients]]\nname = \"billing\"\nsubjects = [\"dns:billing.internal\"]\nallow = [{{ methods = [\"GET\"], path = \"/api/**\" }}]\n",
                client(&["k"])
            ),
        )
        .unwrap();
        let load = |certificates_asked| {
            ClientsFile {
                path: path.clone(),
                certificates_asked,
                clock: crate::clock::Clock::system(),
            }
            .load()
        };
        let e = load(false).unwrap_err();
        assert!(
            matches!(&e, AuthConfigError::CertificateOnly { names } if names == &["billing"]),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("billing has only certificate subjects"),
            "{e}"
        );
        assert_eq!(load(true).unwrap().client_names().count(), 2);
    }
}
