//! What inspection reads from the configuration, and nothing more: the
//! [`Inspector`](super::Inspector) is handed this, never the whole `Settings`.

use std::time::Duration;

use super::{InspectLimits, Passthrough};

/// The inspector's own settings: its keys of `[upstream]` (see
/// [`InspectLimits`]), the validated `mask.passthrough` rules, and two values
/// the app hands it from other owners' keys, as plain values.
#[derive(Debug, Clone)]
pub struct InspectSettings {
    pub limits: InspectLimits,
    /// `upstream.timeout`: how long a relayed body may wait for a slow reader.
    pub park_limit: Duration,
    /// `upstream.per_client.buffer_share`: one caller's share of buffers and spool.
    pub buffer_share: f64,
    /// `mask.passthrough`: the routes whose answers are relayed, not masked
    /// (which one a request is, [`super::Inspector::passthrough_for`] says).
    pub passthrough: Passthrough,
}
