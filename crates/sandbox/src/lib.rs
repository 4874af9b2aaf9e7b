//! A fake paycombat upstream for the demo, the integration tests, the benchmarks and soak runs.
//!
//! It speaks the API surface the gateway fronts (see `docs/upstream-api.md`): paycombat's envelope,
//! `X-token` authentication, HMAC body signatures ([`signature`]), customer reads that reflect
//! earlier writes, passthrough families carrying personal data, and streamed PDF memos. It serves
//! HTTP/1.1 and HTTP/2 (h2c prior knowledge, or ALPN over TLS) on one port.
//!
//! Customers are virtual: every well-formed id (`customer_` + 32 lowercase hex) has a
//! deterministic customer derived from a hash of the id, and only written customers are stored,
//! so reading 100,000 distinct ids costs no memory. [`FIXTURE_CUSTOMER_ID`] is served byte for
//! byte from the documented example until something writes to it. Wallet-ready means active
//! with no required field missing; `missing_field` lists dotted paths such as
//! `individual.identification_value` or `company.authorized_user.dob`.
//!
//! Faults come from the `x-sandbox-fault` request header (an empty header means "none", and any
//! header wins over the global fault) or from [`SandboxState::set_fault`] /
//! `POST /__sandbox/fault` (body = spec, empty clears; also `GET`/`DELETE`). Specs, combinable
//! with commas: `delay=<dur>`, `status=<code>`, `reset`, `reset_mid_body`, `silence`,
//! `malformed_json`, `truncated_json`, `gzip`, `deflate`, `br`, `bogus_encoding`,
//! `wrong_content_type`, `oversized=<bytes>`, `deep=<n>`, `non_utf8`, `no_store`, `private`,
//! `slow_body=<dur>` (durations: `500us`, `200ms`, `2s`, `1m`; at most 10 minutes).
//! `status`, `reset` and `silence` stand for an upstream that never processed the request, so a
//! write under them changes nothing; the other faults reshape the answer of a processed request.
//! `/__sandbox/…` needs no token and is never faulted; `GET /__sandbox/counts` returns the
//! per-route counters.

#![forbid(unsafe_code)]

mod admin;
mod api;
mod auth;
mod body;
mod clock;
mod config;
mod customer_api;
mod customer_gen;
mod customer_patch;
mod customer_store;
mod encode;
mod envelope;
mod families;
mod fault;
mod faulty_bodies;
mod handler;
mod pdf;
mod people;
mod plan;
mod readiness;
mod rng;
mod route;
mod server;
mod shape;
mod state;

#[cfg(test)]
mod tests;

pub use auth::signature;
pub use config::SandboxConfig;
pub use customer_gen::FIXTURE_CUSTOMER_ID;
pub use fault::{Fault, FaultParseError};
pub use server::Sandbox;
pub use state::{RecordedRequest, SandboxState};
