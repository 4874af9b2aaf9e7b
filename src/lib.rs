//! paycombat-gateway: a caching, credential-holding, PII-masking reverse
//! proxy in front of paycombat's merchant API. See README.md.
#![forbid(unsafe_code)]

pub mod access;
pub mod app;
pub mod auth;
pub mod body;
pub mod build;
pub mod cache;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod error;
pub mod http;
pub mod inspect;
pub mod lifecycle;
pub mod logging;
pub mod mask;
pub mod mask_cli;
pub mod metrics;
pub mod path;
pub mod proxy;
pub mod reload;
pub mod route;
pub mod server;
pub mod upstream;

pub use app::App;
pub use config::Settings;
