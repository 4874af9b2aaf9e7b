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
use arc_swap::ArcSwap;
use prometheus::Registry;
use tokio::net::TcpListener;

use crate::access::AuthMode;
use crate::auth::ClientRegistry;
use crate::cache::CustomerCache;
use crate::config::{AuthModeSetting, Settings};
use crate::credentials::CredentialStore;
use crate::mask::Masker;
use crate::metrics::Metrics;
use crate::proxy::Proxy;
use crate::server::admin::{Admin, Health};

pub struct App {
    settings: Arc<Settings>,
    triggers: crate::reload::Triggers,
    api: TcpListener,
    admin_listener: TcpListener,
    proxy: Arc<Proxy>,
    admin: Arc<Admin>,
    health: Arc<Health>,
}

fn read_secret_file(key: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw =
        std::fs::read(path).with_context(|| format!("`{key}`: cannot read {}", path.display()))?;
    let trimmed = raw.trim_ascii();
    anyhow::ensure!(!trimmed.is_empty(), "`{key}`: {} is empty", path.display());
    Ok(trimmed.to_vec())
}

/// The masker the settings describe (None when masking is off), with its key.
/// The key comes back too, for the secret reflection guard.
fn build_masker(settings: &Settings) -> anyhow::Result<crate::proxy::Masking> {
    if !settings.mask.enabled {
        tracing::warn!(
            "MASKING IS DISABLED (mask.enabled = false): personal data reaches clients unmasked"
        );
        return Ok((None, None));
    }
    let key = match &settings.mask.hmac_key_file {
        Some(p) => Some(read_secret_file("mask.hmac_key_file", p)?),
        None => None,
    };
    let masker = Masker::new(&settings.mask, key.as_deref()).context("`mask`")?;
    Ok((Some(Arc::new(masker)), key.map(Vec::into_boxed_slice)))
}

/// The clients file, when client authentication is on.
fn load_clients(settings: &Settings) -> anyhow::Result<Option<(ClientRegistry, PathBuf)>> {
    if settings.auth.mode == AuthModeSetting::None {
        return Ok(None);
    }
    let file = settings.auth.clients_file.clone().context(
        "`auth.clients_file` is required when `auth.mode = \"keys\"` (or set auth.mode = \"none\" explicitly)",
    )?;
    let reg = ClientRegistry::load(&file)
        .with_context(|| format!("`auth.clients_file` {}", file.display()))?;
    Ok(Some((reg, file)))
}

/// Everything `App::build` checks before it binds: credentials readable,
/// TLS roots, masking rules and their key, the clients file, the admin token.
/// `check-config` runs this, so "valid" means `serve` will start. Every
/// problem is reported, not just the first.
pub fn preflight(settings: &Settings) -> anyhow::Result<()> {
    let creds = CredentialStore::new(
        settings.upstream.token.clone(),
        settings.upstream.signature_key.clone(),
    );
    let checks: [anyhow::Result<()>; 5] = [
        creds.reload().context("loading upstream credentials"),
        crate::upstream::client::build(&settings.upstream)
            .map(drop)
            .map_err(Into::into),
        build_masker(settings).map(drop),
        load_clients(settings).map(drop),
        match &settings.admin.token_file {
            Some(p) => read_secret_file("admin.token_file", p).map(drop),
            None => Ok(()),
        },
    ];
    let problems: Vec<String> = checks
        .into_iter()
        .filter_map(Result::err)
        .map(|e| format!("{e:#}"))
        .collect();
    anyhow::ensure!(problems.is_empty(), "\n  - {}", problems.join("\n  - "));
    Ok(())
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let settings = Arc::new(settings);
        let registry = Registry::new();
        let metrics = Metrics::register(&registry).context("registering metrics")?;

        let credentials = Arc::new(CredentialStore::new(
            settings.upstream.token.clone(),
            settings.upstream.signature_key.clone(),
        ));
        // Watch before the first load, so a change made in between is not missed.
        let mut watched = credentials.files();
        if settings.auth.mode == AuthModeSetting::Keys {
            watched.extend(settings.auth.clients_file.iter().cloned());
        }
        let triggers = crate::reload::watch(&watched, settings.server.watch_files);
        credentials
            .reload()
            .context("loading upstream credentials")?;
        metrics.credential_reloads.with_label_values(&["ok"]).inc();
        if !credentials.has_signature_key() {
            tracing::warn!(
                "no `upstream.signature_key_file` configured: paycombat will reject every write"
            );
        }

        let client = crate::upstream::client::build(&settings.upstream)?;

        let masking = build_masker(&settings)?;

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

        let auth = match load_clients(&settings)? {
            None => {
                tracing::warn!(
                    "CLIENT AUTHENTICATION IS OFF (auth.mode = \"none\"): anything that can reach {} acts as the merchant",
                    settings.server.listen
                );
                AuthMode::Disabled
            }
            Some((reg, file)) => {
                metrics.clients_reloads.with_label_values(&["ok"]).inc();
                tracing::info!(clients = reg.client_names().count(), "clients loaded");
                AuthMode::Keys {
                    registry: Arc::new(ArcSwap::from_pointee(reg)),
                    file: Some(file),
                }
            }
        };

        let admin_token = match &settings.admin.token_file {
            Some(p) => Some(
                String::from_utf8(read_secret_file("admin.token_file", p)?)
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

        let health = Arc::new(Health::default());
        health.set_loaded();
        let proxy = Arc::new(Proxy::new(
            settings.clone(),
            client,
            credentials.clone(),
            metrics.clone(),
            masking,
            cache.clone(),
            auth,
        ));
        let admin = Arc::new(Admin {
            registry,
            metrics,
            health: health.clone(),
            credentials,
            cache,
            token: admin_token,
        });
        Ok(App {
            settings,
            triggers,
            api,
            admin_listener,
            proxy,
            admin,
            health,
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Serves until `shutdown` resolves; then readiness turns 503, the API
    /// listener stops accepting and in-flight requests get
    /// `server.drain_timeout` to finish. The admin listener stays up during
    /// the drain so the 503 is visible.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let App {
            settings,
            triggers,
            api,
            admin_listener,
            proxy,
            admin,
            health,
        } = self;
        let reloader = tokio::spawn(reload_loop(proxy.clone(), triggers));

        let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_task = {
            let admin = admin.clone();
            let metrics = admin.metrics.clone();
            let builder = crate::server::builder(&settings.server);
            tokio::spawn(crate::server::serve(
                admin_listener,
                builder,
                move |req, _peer| admin.clone().handle(req),
                async move {
                    let _ = admin_stopped.await;
                },
                Duration::from_secs(1),
                crate::server::Listening {
                    name: "admin",
                    max_connections: crate::server::ADMIN_MAX_CONNECTIONS,
                    metrics,
                },
            ))
        };
        tracing::info!(
            api = %api.local_addr()?,
            admin = %settings.admin.listen,
            upstream = %settings.upstream.base_url,
            "paycombat-gateway listening"
        );

        let draining = health.clone();
        let listening = crate::server::Listening {
            name: "api",
            max_connections: settings.server.max_connections,
            metrics: proxy.metrics().clone(),
        };
        crate::server::serve(
            api,
            crate::server::builder(&settings.server),
            move |req, peer| proxy.clone().handle(req, peer),
            async move {
                shutdown.await;
                draining.set_draining();
                tracing::info!("shutdown requested: readiness is now 503, draining");
            },
            settings.server.drain_timeout,
            listening,
        )
        .await;
        reloader.abort();
        let _ = admin_stop.send(());
        let _ = admin_task.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Re-reads credentials and the clients file when they change or on SIGHUP.
async fn reload_loop(proxy: Arc<Proxy>, mut triggers: crate::reload::Triggers) {
    while triggers.next(Duration::from_millis(100)).await.is_some() {
        match proxy.credentials().reload() {
            Ok(()) => {
                proxy
                    .metrics()
                    .credential_reloads
                    .with_label_values(&["ok"])
                    .inc();
                tracing::info!("upstream credentials reloaded");
            }
            Err(e) => {
                proxy
                    .metrics()
                    .credential_reloads
                    .with_label_values(&["failed"])
                    .inc();
                tracing::error!(error = %e, "credential reload failed; keeping the previous credentials");
            }
        }
        proxy.auth().reload(proxy.metrics());
    }
}
