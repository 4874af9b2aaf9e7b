//! Start-up as a value: `App::build` validates everything that can be checked
//! before serving (credentials, TLS roots, masking rules, clients) and binds
//! both listeners (port 0 works, for tests); `run` serves until the shutdown
//! future resolves, then drains.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus::Registry;
use tokio::net::TcpListener;

use crate::access::{AuthMode, ClientsFile};
use crate::cache::CustomerCache;
use crate::clock::Clock;
use crate::config::files::{certificates_asked, clients_file, unsigned_writes};
use crate::config::{Layers, Settings};
use crate::credentials::{secret_file, CredentialFiles};
use crate::logging::access_log::AccessLog;
use crate::proxy::Proxy;
use crate::reload::Reloader;
use crate::server::admin::{Admin, Health};
use crate::server::{Tls, TlsFiles};
use crate::telemetry::Telemetry;
use arc_swap::ArcSwap;

mod generation;
pub mod metrics;
pub mod reload;

pub(crate) use generation::build_masker;
use generation::inspect_settings;
pub use reload::{ConfigReload, Reloaded};

pub struct App {
    settings: Arc<Settings>,
    reloader: Reloader,
    api: TcpListener,
    admin_listener: TcpListener,
    /// The generation requests are admitted to; a configuration reload replaces it.
    live: Arc<ArcSwap<Proxy>>,
    admin: Arc<Admin>,
    health: Arc<Health>,
    tls: Option<Arc<Tls>>,
    telemetry: Option<Arc<Telemetry>>,
    /// Cluster mode's background tasks (subscription, heartbeats); stopped with the app.
    cluster: Option<crate::cluster::ClusterTasks>,
    /// `mask.hmac_key_file` as read at start, for the generations a reload builds.
    mask_key: Option<Vec<u8>>,
    /// What a configuration reload counts in.
    reload_metrics: reload::Counts,
    /// Set by [`App::reloading`]: how the configuration is read again.
    config_reload: Option<Arc<ConfigReload>>,
}

fn credential_files(settings: &Settings) -> CredentialFiles {
    CredentialFiles::new(
        settings.upstream.token.clone(),
        settings.upstream.signature_key.clone(),
    )
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        Self::build_on(settings, Clock::system()).await
    }

    /// As [`App::build`], with the cache's freshness and the clients' rate limits reading
    /// `clock` (tests advance an adjustable one instead of sleeping).
    pub async fn build_on(settings: Settings, clock: Clock) -> anyhow::Result<App> {
        let settings = Arc::new(settings);
        let registry = Registry::new();
        metrics::register_process(&registry).context("registering the build's metrics")?;
        crate::logging::metrics::register(&registry).context("registering the log metrics")?;
        let reload_metrics = metrics::ReloadMetrics::register(&registry)
            .context("registering the configuration reload metrics")?;
        let pipeline_metrics = crate::proxy::PipelineMetrics {
            requests: crate::proxy::RequestMetrics::register(&registry)
                .context("registering the request metrics")?,
            cache: crate::cache::CacheMetrics::register(&registry)
                .context("registering the cache metrics")?,
            clients: crate::auth::ClientMetrics::register(&registry)
                .context("registering the clients' metrics")?,
        };
        let mask_metrics = crate::mask::MaskPolicyMetrics::register(&registry)
            .context("registering the mask policy metrics")?;
        let fair_metrics = crate::fair::FairMetrics::register(&registry)
            .context("registering the per-client capacity metrics")?;
        // Registered always, so dashboards and alerts see zeros in single-process mode.
        let cluster_metrics = crate::cluster::ClusterMetrics::register(&registry)
            .context("registering cluster metrics")?;
        let server_metrics = crate::server::ServerMetrics::register(&registry)
            .context("registering the listeners' metrics")?;
        let credential_metrics = crate::credentials::CredentialMetrics::register(&registry)
            .context("registering the credentials' metrics")?;
        let telemetry_metrics = crate::telemetry::TelemetryMetrics::register(&registry)
            .context("registering the tracing metrics")?;
        let upstream_metrics = crate::upstream::UpstreamMetrics::register(&registry, &fair_metrics)
            .context("registering the upstream metrics")?;
        let inspect_metrics = crate::inspect::InspectMetrics::register(&registry, &fair_metrics)
            .context("registering the inspection metrics")?;

        let mut reloader = Reloader::new(settings.server.watch_files);
        let credentials = reloader
            .open(credential_files(&settings), &credential_metrics.reloads)
            .context("loading upstream credentials")?;

        let client = crate::upstream::client::build(&settings.upstream)?;
        settings
            .inspect
            .buffering
            .check_spool_dir()
            .map_err(|e| anyhow::anyhow!("upstream.buffering.spool_dir: {e}"))?;

        // Read once (a restart-only key): every generation masks with this key. With
        // masking off it is read if it can be, for a reload that turns masking on.
        let mask_key = match generation::mask_key(&settings.mask) {
            Ok(key) => key,
            Err(p) if settings.mask.enabled => anyhow::bail!("{p}"),
            Err(_) => None,
        };
        let masking = generation::masker(&settings.mask, mask_key.as_deref())
            .map_err(|p| anyhow::anyhow!("{p}"))?;
        // The masker and `GET /admin/mask/undeclared` share this registry (the settings'
        // policies are cloned into the masker by `Arc`).
        settings
            .mask
            .policies
            .undeclared()
            .attach(&mask_metrics.undeclared, &mask_metrics.masked);

        let cache = settings.cache.enabled.then(|| {
            CustomerCache::counted(&settings.cache, &pipeline_metrics.cache, clock.clone())
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
                    clock: clock.clone(),
                };
                AuthMode::Keys(
                    reloader
                        .open(loader, &pipeline_metrics.clients.reloads)
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
                let expiry = server_metrics
                    .tls_certificate_expiry
                    .with([&crate::server::Listener::Api]);
                let files = reloader
                    .open(
                        TlsFiles::new(t.clone(), Some(expiry)),
                        &server_metrics.tls_reloads,
                    )
                    .map_err(|e| anyhow::anyhow!("TLS on `server.listen`: {e}"))?;
                Some(Arc::new(Tls::new(files, &server_metrics)))
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

        let api = bind("server.listen", settings.server.listen).await?;
        let admin_listener = bind("admin.listen", settings.admin.listen).await?;

        let telemetry = Telemetry::start(&settings.telemetry, &telemetry_metrics)
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
                    cluster_metrics,
                )?)
            }
        };
        let cluster_tasks = cluster.as_ref().map(|c| c.start());
        let idempotency = crate::idempotency::Idempotency::new(
            &settings.idempotency,
            settings.upstream.timeout,
            cluster.clone(),
            crate::idempotency::IdempotencyMetrics::register(&registry)
                .context("registering the idempotency metrics")?,
        );
        let access_log =
            AccessLog::open(&settings.log).with_context(|| match &settings.log.access.output {
                crate::logging::config::AccessOutput::File(path) => {
                    format!("opening `log.access.file` {}", path.display())
                }
                _ => "starting the access-log writer".to_owned(),
            })?;

        let health = Arc::new(Health::default());
        health.set_loaded();
        // Each component is handed its own settings, split off here once.
        let upstream = crate::upstream::Upstream::new(
            settings.upstream.clone(),
            settings.pipeline.trusted_proxies.clone(),
            settings.per_client.slot_share,
            client,
            credentials.clone(),
            upstream_metrics,
            clock.clone(),
        );
        let inspector = crate::inspect::Inspector::new(
            inspect_settings(&settings),
            credentials.clone(),
            inspect_metrics,
            masking,
        );
        let pipeline = settings.pipeline.clone();
        let proxy = Arc::new(ArcSwap::from_pointee(
            Proxy::new(
                pipeline,
                upstream,
                inspector,
                pipeline_metrics.clone(),
                cache.clone(),
                auth,
                access_log,
            )
            .traced(telemetry.clone())
            .with_cluster(cluster.clone())
            .with_idempotency(idempotency),
        ));
        let admin = Arc::new(Admin {
            registry,
            cache_metrics: pipeline_metrics.cache.clone(),
            server_metrics,
            credential_metrics,
            health: health.clone(),
            credentials,
            cache,
            cluster,
            token: admin_token,
            shown: ArcSwap::from_pointee(crate::server::admin::Shown {
                view: settings.view.clone(),
                policies: settings.mask.policies.clone(),
            }),
        });
        Ok(App {
            settings,
            reloader,
            api,
            admin_listener,
            live: proxy,
            admin,
            health,
            tls,
            telemetry,
            cluster: cluster_tasks,
            mask_key,
            reload_metrics: reload::Counts {
                reload: reload_metrics,
                mask: mask_metrics,
                cache_invalidations: pipeline_metrics.cache.invalidations.clone(),
            },
            config_reload: None,
        })
    }

    /// Reloads the whole configuration from `layers` (the ones it was read from) on
    /// SIGHUP and when the config file changes (with `server.watch_files`), after the
    /// credential, clients and TLS files (see [`reload`]).
    pub fn reloading(mut self, layers: Layers) -> anyhow::Result<App> {
        let reload = Arc::new(
            ConfigReload::new(reload::Parts {
                layers,
                live: self.live.clone(),
                admin: self.admin.clone(),
                telemetry: self.telemetry.clone(),
                mask_key: self.mask_key.clone(),
                metrics: self.reload_metrics.clone(),
                running: self.settings.clone(),
            })
            .map_err(|p| anyhow::anyhow!("{p}"))?,
        );
        let files: Vec<_> = reload.file().into_iter().collect();
        let on_trigger = reload.clone();
        self.reloader.also(&files, move || {
            let reload = on_trigger.clone();
            tokio::spawn(async move { reload.reload().await });
        });
        self.config_reload = Some(reload);
        Ok(self)
    }

    /// The configuration reload [`App::reloading`] set up (tests call it directly).
    pub fn config_reload(&self) -> Option<Arc<ConfigReload>> {
        self.config_reload.clone()
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
            live,
            admin,
            health,
            tls,
            telemetry,
            cluster,
            ..
        } = self;
        let reloader = reloader.spawn();

        let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_task = {
            let admin = admin.clone();
            let metrics = admin.server_metrics.clone();
            let builder =
                crate::server::builder(&settings.server, settings.pipeline.admit.max_header_bytes);
            tokio::spawn(crate::server::serve(
                admin_listener,
                builder,
                move |req, _peer, _end| admin.clone().handle(req),
                async move {
                    let _ = admin_stopped.await;
                },
                Duration::from_secs(1),
                crate::server::Listening {
                    listener: crate::server::Listener::Admin,
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
            upstream = %crate::urls::shown(&settings.upstream.base_url),
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
        let generations = live.clone();
        let listening = crate::server::Listening {
            listener: crate::server::Listener::Api,
            max_connections: settings.server.max_connections,
            metrics: admin.server_metrics.clone(),
            tls: tls.clone(),
        };
        crate::server::serve(
            api,
            crate::server::builder(&settings.server, settings.pipeline.admit.max_header_bytes),
            // One load per request, at admission: the request runs under that
            // generation to its end, whatever a reload swaps in meanwhile.
            move |req, peer, end| live.load_full().handle(req, peer, end),
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
        // Every generation shares one finish phase: this waits for all of them.
        let access = generations.load_full();
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

/// A listener that could not be bound. The address may be free again in a
/// moment (the previous instance still draining, another process restarting),
/// so this start-up failure is not a configuration problem: the process exits
/// [`crate::lifecycle::EXIT_TEMPFAIL`] and a supervisor tries again.
#[derive(Debug)]
pub struct BindFailed {
    key: &'static str,
    addr: SocketAddr,
    source: std::io::Error,
}

impl std::fmt::Display for BindFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "binding `{}` {}", self.key, self.addr)
    }
}

impl std::error::Error for BindFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

async fn bind(key: &'static str, addr: SocketAddr) -> Result<TcpListener, BindFailed> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindFailed { key, addr, source })
}
