//! paycombat-gateway: a caching, credential-holding, PII-masking reverse
//! proxy in front of paycombat's merchant API. See README.md.
#![forbid(unsafe_code)]

pub(crate) mod access;
pub(crate) mod app;
pub mod auth;
pub(crate) mod body;
pub mod build;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub(crate) mod config_dir;
pub(crate) mod credentials;
pub mod defaults;
pub(crate) mod demo;
pub(crate) mod duration_text;
pub(crate) mod env_names;
pub(crate) mod error;
pub(crate) mod fair;
pub(crate) mod http;
pub mod idempotency;
pub(crate) mod inspect;
pub(crate) mod lifecycle;
pub(crate) mod logging;
pub mod mask;
pub(crate) mod mask_cli;
pub(crate) mod metrics;
pub(crate) mod outcome;
pub mod path;
pub mod problems;
pub(crate) mod proxy;
pub(crate) mod redact;
pub(crate) mod reload;
pub mod reloadable;
pub mod route;
pub(crate) mod server;
pub(crate) mod service_manager;
pub mod telemetry;
pub mod upstream;
pub mod urls;

pub use app::{App, ConfigReload, Reloaded};
pub use config::Settings;
/// The access-log formatter, for `benches/access_log.rs` only.
#[doc(hidden)]
pub use logging::access_log as access_log_bench;
