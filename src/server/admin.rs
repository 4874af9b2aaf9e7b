//! The admin listener, for SREs: `/metrics`, `/healthz`, `/readyz`, and the
//! authenticated `/admin/cache/purge`, `/admin/config` and `/admin/mask/undeclared`.

use crate::cache::InvalidationReason;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use prometheus::{Encoder, Registry, TextEncoder};
use subtle::ConstantTimeEq;

use crate::body::GatewayBody;
use crate::cache::CustomerCache;
use crate::cluster::Body;
use crate::credentials::CredentialStore;
use crate::error::GatewayError;

/// Readiness: not ready until credentials are loaded, and not ready again
/// once draining starts, so load balancers stop sending new work first.
/// Redis (cluster mode) plays no part: without it a replica serves, from upstream (no lease).
#[derive(Default)]
pub struct Health {
    loaded: AtomicBool,
    draining: AtomicBool,
}

impl Health {
    pub fn set_loaded(&self) {
        self.loaded.store(true, Ordering::SeqCst);
    }
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
    pub fn is_ready(&self) -> bool {
        self.loaded.load(Ordering::SeqCst) && !self.draining.load(Ordering::SeqCst)
    }
}

pub struct Admin {
    pub registry: Registry,
    /// The cache's families: its size is set at scrape time, a purge counted.
    pub cache_metrics: crate::cache::CacheMetrics,
    /// The listeners' families (`gateway_ready` is set at scrape time).
    pub server_metrics: super::ServerMetrics,
    /// The credentials' load time and age, set at scrape time.
    pub credential_metrics: crate::credentials::CredentialMetrics,
    pub health: Arc<Health>,
    pub credentials: Arc<CredentialStore>,
    pub cache: Option<CustomerCache>,
    /// Cluster mode: purges reach every replica.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Bearer token for /admin/*; None disables those endpoints.
    pub token: Option<secrecy::SecretString>,
    /// The configuration running now: replaced whole by a configuration reload.
    pub shown: arc_swap::ArcSwap<Shown>,
}

/// What the admin API shows of the configuration running now.
pub struct Shown {
    /// What `GET /admin/config` shows (secrets redacted; restart-only keys as running).
    pub view: crate::redact::ConfigView,
    /// The field policies in force, for `GET /admin/mask/undeclared`.
    pub policies: crate::mask::policy::Policies,
}

/// One admin endpoint: its path and the one method it answers.
pub(crate) struct Endpoint {
    pub path: &'static str,
    pub method: Method,
}

/// Every admin endpoint. `route` dispatches on this table alone.
pub(crate) const ENDPOINTS: [Endpoint; 6] = [
    Endpoint {
        path: "/healthz",
        method: Method::GET,
    },
    Endpoint {
        path: "/readyz",
        method: Method::GET,
    },
    Endpoint {
        path: "/metrics",
        method: Method::GET,
    },
    Endpoint {
        path: "/admin/cache/purge",
        method: Method::POST,
    },
    Endpoint {
        path: "/admin/config",
        method: Method::GET,
    },
    Endpoint {
        path: "/admin/mask/undeclared",
        method: Method::GET,
    },
];

fn text(status: StatusCode, body: &'static str) -> Response<GatewayBody> {
    let mut r = Response::new(GatewayBody::full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A success in paycombat's envelope, its keys in paycombat's order (`status`,
/// `message`, `data`), as the error envelope and `/admin/config` write them:
/// `serde_json::json!` would sort them alphabetically.
fn ok(message: &str, data: serde_json::Value) -> Response<GatewayBody> {
    let body = format!(
        r#"{{"status":true,"message":{},"data":{data}}}"#,
        serde_json::Value::from(message)
    );
    let mut r = Response::new(GatewayBody::full(Bytes::from(body)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl Admin {
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<GatewayBody> {
        let request_id = crate::http::headers::request_id(req.headers());
        let result = self.route(req).await;
        let mut resp = result.unwrap_or_else(|e| e.to_response(request_id.to_str().unwrap_or("")));
        resp.headers_mut()
            .insert(crate::http::headers::X_REQUEST_ID, request_id);
        resp
    }

    async fn route(&self, req: Request<Incoming>) -> Result<Response<GatewayBody>, GatewayError> {
        // A path that is not an endpoint is 404; an endpoint asked with a
        // method it does not take is 405 naming the one it does, for every
        // endpoint alike, because the table below is the only routing there is.
        let endpoint = ENDPOINTS
            .iter()
            .find(|e| e.path == req.uri().path())
            .ok_or(GatewayError::AdminNotFound)?;
        // HEAD is GET without the body (hyper leaves the body out), as on the API.
        let head_of_get = req.method() == Method::HEAD && endpoint.method == Method::GET;
        if req.method() != endpoint.method && !head_of_get {
            return Err(GatewayError::AdminMethodNotAllowed {
                allow: if endpoint.method == Method::GET {
                    "GET, HEAD"
                } else {
                    endpoint.method.as_str()
                },
            });
        }
        Ok(match endpoint.path {
            "/healthz" => text(StatusCode::OK, "ok\n"),
            "/readyz" => {
                if self.health.is_ready() {
                    text(StatusCode::OK, "ready\n")
                } else {
                    text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                }
            }
            "/metrics" => self.scrape().await?,
            "/admin/cache/purge" => self.purge(req).await?,
            "/admin/config" => {
                self.check_admin(&req)?;
                super::admin_config::response(&self.shown.load().view)
            }
            "/admin/mask/undeclared" => {
                self.check_admin(&req)?;
                self.undeclared()
            }
            _ => return Err(GatewayError::Internal),
        })
    }

    /// `GET /admin/mask/undeclared`: per route family, the JSON paths its answers held that
    /// its field policy does not declare, with how often each was seen (paths only, never a
    /// value), for an operator declaring a family's safe fields before switching it to
    /// `enforce`. The document is the gateway's own text: keys that are not plain field
    /// names are placeholders.
    fn undeclared(&self) -> Response<GatewayBody> {
        let shown = self.shown.load();
        let policies = &shown.policies;
        let listing = policies.undeclared().listing();
        let modes: serde_json::Map<String, serde_json::Value> =
            crate::mask::policy::PolicyFamily::ALL
                .iter()
                .map(|&f| {
                    (
                        f.label().to_owned(),
                        policies.for_family(f).mode.label().into(),
                    )
                })
                .collect();
        let mut r = ok(
            "OK",
            serde_json::json!({"modes": modes, "undeclared": listing}),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }

    async fn scrape(&self) -> Result<Response<GatewayBody>, GatewayError> {
        // Gauges that are cheaper to read at scrape time than to maintain per request.
        let loaded = self.credentials.loaded_at_unix();
        if loaded > 0 {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            self.credential_metrics.last_load.set(loaded as f64);
            self.credential_metrics
                .age
                .set((now - loaded as f64).max(0.0));
        }
        self.server_metrics
            .ready
            .set(i64::from(self.health.is_ready()));
        if let Some(cache) = &self.cache {
            self.cache_metrics.observe(cache).await;
        }
        let mut buf = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
            return Err(GatewayError::Internal);
        }
        let mut r = Response::new(GatewayBody::full(Bytes::from(buf)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        Ok(r)
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        use secrecy::ExposeSecret;
        let Some(token) = &self.token else {
            return false;
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .unwrap_or("");
        bool::from(presented.as_bytes().ct_eq(token.expose_secret().as_bytes()))
    }

    /// Whether a request to `/admin/*` may proceed: 404 while no admin token
    /// is configured, 401 without the right one.
    fn check_admin(&self, req: &Request<Incoming>) -> Result<(), GatewayError> {
        if self.token.is_none() {
            return Err(GatewayError::AdminDisabled);
        }
        if !self.authorized(req) {
            return Err(GatewayError::AdminUnauthorized);
        }
        Ok(())
    }

    /// `POST /admin/cache/purge?customer_id=…` purges one customer;
    /// `POST /admin/cache/purge?all=true` purges everything. In cluster mode the purge is
    /// published to every replica before the answer.
    async fn purge(&self, req: Request<Incoming>) -> Result<Response<GatewayBody>, GatewayError> {
        self.check_admin(&req)?;
        let Some(cache) = &self.cache else {
            return Err(GatewayError::CacheDisabled);
        };
        let query = req.uri().query().unwrap_or("");
        let mut customer = None;
        let mut all = false;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("customer_id", v)) if !v.is_empty() => customer = Some(v.to_owned()),
                Some(("all", "true")) => all = true,
                _ => {}
            }
        }
        Ok(match (customer, all) {
            (Some(id), false) => {
                cache.invalidate_customer(&id).await;
                if let Some(cluster) = &self.cluster {
                    let ids = vec![id.clone()];
                    cluster.publish(Body::Customers { ids }).await;
                }
                self.cache_metrics
                    .invalidations
                    .with([&InvalidationReason::Admin])
                    .inc();
                ok("purged", serde_json::json!({"customer_id": id}))
            }
            (None, true) => {
                cache.invalidate_all().await;
                if let Some(cluster) = &self.cluster {
                    cluster.publish(Body::All).await;
                }
                self.cache_metrics
                    .invalidations
                    .with([&InvalidationReason::Admin])
                    .inc();
                ok("purged", serde_json::json!({"all": true}))
            }
            _ => return Err(GatewayError::AdminBadRequest),
        })
    }
}
