//! What inspection reads from the configuration, and nothing more: the
//! [`Inspector`](super::Inspector) is handed this, never the whole `Settings`.

use std::time::Duration;

use super::{BufferingSettings, HeaderAllowlist};

/// The inspector's own settings (all from `[upstream]`, where operators set
/// them next to the limits of the call whose answer they bound).
#[derive(Debug, Clone)]
pub struct InspectSettings {
    /// `upstream.max_response_body_bytes`: the most of one body read whole.
    pub max_response_body_bytes: usize,
    /// `upstream.response_headers`: the headers passed on, and their vocabulary.
    pub response_headers: HeaderAllowlist,
    /// `upstream.timeout`: how long a relayed body may wait for a slow reader.
    pub park_limit: Duration,
    /// `upstream.max_buffered_bytes` and `upstream.buffer_wait`: the shared buffer budget.
    pub max_buffered_bytes: usize,
    pub buffer_wait: Duration,
    /// `upstream.per_client.buffer_share`: one caller's share of buffers and spool.
    pub buffer_share: f64,
    /// `[upstream.buffering]`.
    pub buffering: BufferingSettings,
}
