//! Start-up as a value: `App::build` validates everything that can be checked
//! before serving (credentials, TLS roots, masking rules, clients) and binds
//! both listeners (port 0 works, for tests); `run` serves until the shutdown
//! future resolves, then drains.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus::Registry;
use tokio::net::TcpListener;

use crate::access::{AuthMode, ClientsFile};
use crate::auth::ClientRegistry;
use crate::cache::CustomerCache;
use crate::config::problems::causes;
use crate::config::{
    AuthModeSetting, AuthSettings, Partial, Problem, SecretSource, Settings, UpstreamSettings,
};
use crate::credentials::CredentialFiles;
use crate::logging::access_log::AccessLog;
use crate::mask::{MaskSettings, Masker};
use crate::metrics::Metrics;
use crate::proxy::Proxy;
use crate::reload::{Load, Reloader};
use crate::server::admin::{Admin, Health};
use crate::server::{Tls, TlsFiles};
use crate::telemetry::Telemetry;

pub struct App {
    settings: Arc<Settings>,
    reloader: Reloader,
    api: TcpListener,
    admin_listener: TcpListener,
    proxy: Arc<Proxy>,
    admin: Arc<Admin>,
    health: Arc<Health>,
    tls: Option<Arc<Tls>>,
    telemetry: Option<Arc<Telemetry>>,
    /// Cluster mode's background tasks (subscription, heartbeats); stopped with the app.
    cluster: Option<crate::cluster::ClusterTasks>,
}

/// A secret file's trimmed bytes, or why it cannot be used (the caller names the key).
fn read_secret_file(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(trimmed.to_vec())
}

/// As [`read_secret_file`], the failure a [`Problem`] under `key`.
fn secret_file(key: &str, path: &Path) -> Result<Vec<u8>, Problem> {
    read_secret_file(path).map_err(|reason| Problem::new(key, reason))
}

/// The masker the settings describe (None when masking is off), with its key.
/// The key comes back too, for the secret reflection guard.
pub(crate) fn build_masker(mask: &MaskSettings) -> Result<crate::proxy::Masking, Problem> {
    if !mask.enabled {
        tracing::warn!(
            "MASKING IS DISABLED (mask.enabled = false): personal data reaches clients unmasked"
        );
        return Ok((None, None));
    }
    let key = match &mask.hmac_key_file {
        Some(p) => Some(secret_file("mask.hmac_key_file", p)?),
        None => None,
    };
    let masker =
        Masker::new(mask, key.as_deref()).map_err(|e| Problem::new(e.key(), e.reason()))?;
    Ok((Some(Arc::new(masker)), key.map(Vec::into_boxed_slice)))
}

/// The clients file's path, when client authentication is on.
fn clients_file(auth: &AuthSettings) -> Result<Option<PathBuf>, Problem> {
    if auth.mode == AuthModeSetting::None {
        return Ok(None);
    }
    auth.clients_file.clone().map(Some).ok_or_else(|| {
        Problem::new(
            "auth.clients_file",
            "required when `auth.mode = \"keys\"` (or set auth.mode = \"none\" explicitly)",
        )
    })
}

/// The clients file, read once, when client authentication is on.
/// `certificates_asked`: see [`ClientsFile`].
fn load_clients(
    auth: &AuthSettings,
    certificates_asked: bool,
) -> Result<Option<ClientRegistry>, Problem> {
    clients_file(auth)?
        .map(|path| {
            ClientsFile {
                path,
                certificates_asked,
            }
            .load()
            .map_err(|e| Problem::new("auth.clients_file", causes([&e as _])))
        })
        .transpose()
}

/// Whether the API listener asks clients for a certificate.
fn certificates_asked(server: &crate::config::ServerSettings) -> bool {
    server
        .tls
        .as_ref()
        .is_some_and(|t| t.client_auth != crate::config::ClientAuth::Off)
}

fn credential_files(settings: &Settings) -> CredentialFiles {
    CredentialFiles::new(
        settings.upstream.token.clone(),
        settings.upstream.signature_key.clone(),
    )
}

/// The key under which a secret comes from `src`.
fn secret_key(name: &str, src: &SecretSource) -> String {
    match src {
        SecretSource::File(_) => format!("{name}_file"),
        SecretSource::Value(_) => name.to_owned(),
    }
}

/// The upstream token and signature key, each checked on its own so a missing
/// token does not hide an unreadable key.
fn credential_problems(u: &UpstreamSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    match &u.token {
        None => problems.push(Problem::new(
            "upstream.token_file",
            "required (or give the token in GATEWAY__UPSTREAM__TOKEN)",
        )),
        Some(src) => {
            if let Err(e) = CredentialFiles::new(Some(src.clone()), None).load() {
                problems.push(Problem::new(secret_key("upstream.token", src), e));
            }
        }
    }
    if let Some(src) = &u.signature_key {
        // A stand-in token, so only the signature key is read here.
        let token = SecretSource::Value("preflight".to_owned().into());
        if let Err(e) = CredentialFiles::new(Some(token), Some(src.clone())).load() {
            problems.push(Problem::new(secret_key("upstream.signature_key", src), e));
        }
    }
    problems
}

/// A missing signature key where some caller may send a write: paycombat
/// refuses unsigned writes, so every one would fail with a 502 long after a
/// start that looked fine. `clients`: the registry, `None` when
/// authentication is off (any caller may then write).
fn unsigned_writes(u: &UpstreamSettings, clients: Option<&ClientRegistry>) -> Option<Problem> {
    if u.signature_key.is_some() {
        return None;
    }
    let who = match clients {
        None => "`auth.mode = \"none\"` lets any caller send writes",
        Some(c) if c.allows_writes() => {
            "a client in `auth.clients_file` is allowed a method other than GET/HEAD/OPTIONS"
        }
        Some(_) => return None,
    };
    Some(Problem::new(
        "upstream.signature_key_file",
        format!(
            "required: {who}, and paycombat refuses every unsigned write (set the file, \
             or GATEWAY__UPSTREAM__SIGNATURE_KEY, or allow clients only GET)"
        ),
    ))
}

/// Everything `App::build` checks before it binds — credentials readable, TLS
/// roots, masking rules and their key, the clients file, the admin token — for
/// every section that validated. `check-config` runs this after the config
/// pass, so "valid" means `serve` will start. Every problem is returned.
pub fn preflight(settings: &Partial) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(u) = &settings.upstream {
        problems.extend(credential_problems(u));
        if let Err(e) = u.buffering.check_spool_dir() {
            problems.push(Problem::new("upstream.buffering.spool_dir", e));
        }
        match crate::upstream::client::build(u) {
            Ok(_) => {}
            Err(crate::upstream::client::ClientBuildError::CaFile { path, problem }) => problems
                .push(Problem::new(
                    "upstream.ca_file",
                    format!("{path}: {problem}"),
                )),
            Err(e) => problems.push(Problem::new("upstream", causes([&e as _]))),
        }
    }
    if let Some(tls) = settings.server.as_ref().and_then(|s| s.tls.as_ref()) {
        problems.extend(TlsFiles::check(tls));
    }
    // An invalid server section is reported on its own; the clients file is
    // then checked without the certificate rule.
    let asked = settings.server.as_ref().is_none_or(certificates_asked);
    let clients = settings.auth.as_ref().map(|a| load_clients(a, asked));
    if let (Some(u), Some(Ok(registry))) = (&settings.upstream, &clients) {
        problems.extend(unsigned_writes(u, registry.as_ref()));
    }
    let clients = clients.map(|c| c.map(drop));
    let checks = [
        settings.mask.as_ref().map(|m| build_masker(m).map(drop)),
        clients,
        settings
            .admin
            .as_ref()
            .and_then(|a| a.token_file.as_ref())
            .map(|p| secret_file("admin.token_file", p).map(drop)),
        settings
            .cluster
            .as_ref()
            .and_then(|c| c.redis.as_ref()?.password_file.as_ref())
            .map(|p| secret_file("cluster.redis_password_file", p).map(drop)),
        settings
            .cluster
            .as_ref()
            .and_then(|c| c.redis.as_ref()?.ca_file.as_ref())
            .map(|p| {
                std::fs::read(p).map(drop).map_err(|e| {
                    Problem::new(
                        "cluster.ca_file",
                        format!("cannot read {}: {e}", p.display()),
                    )
                })
            }),
    ];
    problems.extend(checks.into_iter().flatten().filter_map(Result::err));
    problems
}

/// For `check-config` in cluster mode: whether Redis can be reached and accepts the
/// configured password (after [`preflight`], which checks the files themselves).
pub async fn cluster_reachable(settings: &Partial) -> Vec<Problem> {
    let Some(redis) = settings.cluster.as_ref().and_then(|c| c.redis.as_ref()) else {
        return Vec::new();
    };
    let password = match &redis.password_file {
        Some(p) => match secret_file("cluster.redis_password_file", p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Some(s),
                Err(_) => return Vec::new(),
            },
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    let ca = match &redis.ca_file {
        Some(p) => match std::fs::read(p) {
            Ok(pem) => Some(pem),
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    match crate::cluster::check_reachable(redis, password, ca).await {
        Ok(()) => Vec::new(),
        Err(reason) => vec![Problem::new("cluster.redis_url", reason)],
    }
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let settings = Arc::new(settings);
        let registry = Registry::new();
        let metrics = Metrics::register(&registry).context("registering metrics")?;

        let mut reloader = Reloader::new(settings.server.watch_files);
        let credentials = reloader
            .open(credential_files(&settings), &metrics.credential_reloads)
            .context("loading upstream credentials")?;

        let client = crate::upstream::client::build(&settings.upstream)?;
        settings
            .upstream
            .buffering
            .check_spool_dir()
            .map_err(|e| anyhow::anyhow!("upstream.buffering.spool_dir: {e}"))?;

        let masking = build_masker(&settings.mask).map_err(|p| anyhow::anyhow!("{p}"))?;
        // The masker and `GET /admin/mask/undeclared` share this registry (the settings'
        // policies are cloned into the masker by `Arc`).
        settings
            .mask
            .policies
            .undeclared()
            .attach(&metrics.mask_undeclared, &metrics.mask_policy_masked);

        let cache = settings.cache.enabled.then(|| {
            let m = metrics.clone();
            metrics.cache_max_bytes.set(settings.cache.max_bytes as i64);
            CustomerCache::new(
                &settings.cache,
                Arc::new(move |cause: crate::cache::EvictionCause| {
                    m.cache_evictions.with_label_values(&[cause.label()]).inc();
                }),
            )
        });

        let auth = match clients_file(&settings.auth).map_err(|p| anyhow::anyhow!("{p}"))? {
            None => {
                tracing::warn!(
                    "CLIENT AUTHENTICATION IS OFF (auth.mode = \"none\"): anything that can reach {} acts as the merchant",
                    settings.server.listen
                );
                AuthMode::Disabled
            }
            Some(file) => {
                let context = format!("`auth.clients_file` {}", file.display());
                let loader = ClientsFile {
                    path: file,
                    certificates_asked: certificates_asked(&settings.server),
                };
                AuthMode::Keys(
                    reloader
                        .open(loader, &metrics.clients_reloads)
                        .context(context)?,
                )
            }
        };

        let clients_now = match &auth {
            AuthMode::Disabled => None,
            AuthMode::Keys(clients) => Some(clients.get()),
        };
        if let Some(problem) = unsigned_writes(&settings.upstream, clients_now.as_deref()) {
            anyhow::bail!("{problem}");
        }

        let tls = match &settings.server.tls {
            None => None,
            Some(t) => {
                let expiry = metrics.tls_certificate_expiry.with_label_values(&["api"]);
                let files = reloader
                    .open(TlsFiles::new(t.clone(), Some(expiry)), &metrics.tls_reloads)
                    .map_err(|e| anyhow::anyhow!("TLS on `server.listen`: {e}"))?;
                Some(Arc::new(Tls::new(files, &metrics)))
            }
        };

        let admin_token = match &settings.admin.token_file {
            Some(p) => Some(
                String::from_utf8(
                    secret_file("admin.token_file", p).map_err(|p| anyhow::anyhow!("{p}"))?,
                )
                .context("`admin.token_file` must be UTF-8")?
                .into(),
            ),
            None => None,
        };

        let api = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("binding `server.listen` {}", settings.server.listen))?;
        let admin_listener = TcpListener::bind(settings.admin.listen)
            .await
            .with_context(|| format!("binding `admin.listen` {}", settings.admin.listen))?;

        let telemetry = Telemetry::start(&settings.telemetry, &metrics)
            .context("starting the trace exporter (`telemetry`)")?
            .map(Arc::new);
        let cluster = match &settings.cluster.redis {
            None => None,
            Some(redis) => {
                let password = match &redis.password_file {
                    Some(p) => Some(
                        String::from_utf8(
                            secret_file("cluster.redis_password_file", p)
                                .map_err(|p| anyhow::anyhow!("{p}"))?,
                        )
                        .context("`cluster.redis_password_file` must be UTF-8")?,
                    ),
                    None => None,
                };
                let ca_pem =
                    match &redis.ca_file {
                        Some(p) => Some(std::fs::read(p).with_context(|| {
                            format!("reading `cluster.ca_file` {}", p.display())
                        })?),
                        None => None,
                    };
                Some(crate::cluster::Cluster::new(
                    redis.clone(),
                    password,
                    ca_pem,
                    cache.clone(),
                    metrics.cluster.clone(),
                )?)
            }
        };
        let cluster_tasks = cluster.as_ref().map(|c| c.start());
        let idempotency = crate::idempotency::Idempotency::new(
            &settings.idempotency,
            settings.upstream.timeout,
            cluster.clone(),
            metrics.idempotency.clone(),
        );
        let access_log =
            AccessLog::open(&settings.log).with_context(|| match &settings.log.access.output {
                crate::config::AccessOutput::File(path) => {
                    format!("opening `log.access.file` {}", path.display())
                }
                _ => "starting the access-log writer".to_owned(),
            })?;

        let health = Arc::new(Health::default());
        health.set_loaded();
        let proxy = Arc::new(
            Proxy::new(
                settings.clone(),
                client,
                credentials.clone(),
                metrics.clone(),
                masking,
                cache.clone(),
                auth,
            )
            .traced(telemetry.clone())
            .with_cluster(cluster.clone())
            .with_idempotency(idempotency)
            .with_access_log(access_log),
        );
        let admin = Arc::new(Admin {
            registry,
            metrics,
            health: health.clone(),
            credentials,
            cache,
            cluster,
            token: admin_token,
            settings: settings.clone(),
        });
        Ok(App {
            settings,
            reloader,
            api,
            admin_listener,
            proxy,
            admin,
            health,
            tls,
            telemetry,
            cluster: cluster_tasks,
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The registry `/metrics` reads, for a look after the app has stopped.
    pub fn registry(&self) -> Registry {
        self.admin.registry.clone()
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The addresses the API and admin listeners are bound to (the real
    /// ports when the settings asked for port 0).
    pub fn local_addrs(&self) -> std::io::Result<(std::net::SocketAddr, std::net::SocketAddr)> {
        Ok((self.api.local_addr()?, self.admin_listener.local_addr()?))
    }

    /// Serves until `shutdown` resolves; then readiness turns 503, the API
    /// listener stops accepting and in-flight requests get
    /// `server.drain_timeout` to finish. The admin listener stays up during
    /// the drain so the 503 is visible. Spans still queued are exported last.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let App {
            settings,
            reloader,
            api,
            admin_listener,
            proxy,
            admin,
            health,
            tls,
            telemetry,
            cluster,
        } = self;
        let reloader = reloader.spawn();

        let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_task = {
            let admin = admin.clone();
            let metrics = admin.metrics.clone();
            let builder = crate::server::builder(&settings.server);
            tokio::spawn(crate::server::serve(
                admin_listener,
                builder,
                move |req, _peer, _end| admin.clone().handle(req),
                async move {
                    let _ = admin_stopped.await;
                },
                Duration::from_secs(1),
                crate::server::Listening {
                    name: "admin",
                    max_connections: crate::server::ADMIN_MAX_CONNECTIONS,
                    metrics,
                    tls: None,
                },
            ))
        };
        tracing::info!(
            api = %api.local_addr()?,
            tls = settings.server.tls.is_some(),
            client_auth = settings.server.tls.as_ref().map_or("off", |t| t.client_auth.name()),
            admin = %settings.admin.listen,
            upstream = %crate::config::url::shown(&settings.upstream.base_url),
            cluster = %settings.cluster.redis.as_ref().map_or_else(
                || "off".to_owned(),
                |r| format!("on (Redis {}, lease {:?})", r.describe(), r.lease)
            ),
            "paycombat-gateway listening"
        );
        // Both listeners are bound (connections queue in their backlogs) and
        // everything the gateway needs has loaded.
        crate::service_manager::ready();

        let draining = health.clone();
        let access = proxy.clone();
        let listening = crate::server::Listening {
            name: "api",
            max_connections: settings.server.max_connections,
            metrics: admin.metrics.clone(),
            tls: tls.clone(),
        };
        crate::server::serve(
            api,
            crate::server::builder(&settings.server),
            move |req, peer, end| proxy.clone().handle(req, peer, end),
            async move {
                shutdown.await;
                draining.set_draining();
                crate::service_manager::stopping();
                tracing::info!("shutdown requested: readiness is now 503, draining");
            },
            settings.server.drain_timeout,
            listening,
        )
        .await;
        // Requests the drain deadline cut off are dropped by their connections'
        // tasks just after: wait (briefly) until each one is recorded.
        access.settled(Duration::from_secs(2)).await;
        reloader.abort();
        if let Some(t) = &telemetry {
            t.shutdown().await;
        }
        drop(cluster);
        let _ = admin_stop.send(());
        let _ = admin_task.await;
        // Bounded: a log reader that is stuck must not hold up the exit.
        let _ = tokio::task::spawn_blocking(move || {
            access.close_access_log(Duration::from_secs(2));
        })
        .await;
        tracing::info!("stopped");
        Ok(())
    }
}
