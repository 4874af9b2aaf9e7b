//! `[upstream.per_client]`, fair's one key of `[upstream]` (operators set
//! each client's share next to the pools it divides). The config pass reads
//! it out of `[upstream]` beside the upstream component's and inspection's
//! keys; problems are named relative to the section.

use serde::{Deserialize, Serialize};

use crate::problems::Problems;

/// Fair's key of `[upstream]` on a configuration reload: the shares divide pools built
/// once, so they take effect at the next start.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &["per_client"],
};

/// Fair's keys of `[upstream]`, as written. No `deny_unknown_fields` here:
/// the section's other keys are upstream's and inspection's, and the config
/// pass refuses a key that no owner of the section reads.
#[derive(Debug, Deserialize, Serialize)]
pub struct RawFair {
    pub per_client: RawPerClient,
}

impl RawFair {
    /// Keys relative to `[upstream]`.
    pub fn check(self, p: &mut Problems) -> Option<PerClientSettings> {
        p.within("per_client", |p| self.per_client.check(p))
    }
}

/// `[upstream.per_client]`: the most of each pool one caller may hold.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerClient {
    pub slot_share: f64,
    pub buffer_share: f64,
}

/// Validated `[upstream.per_client]`: fractions in (0, 1].
#[derive(Debug, Clone, Copy)]
pub struct PerClientSettings {
    /// Of `upstream.max_concurrent_requests`.
    pub slot_share: f64,
    /// Of `upstream.max_buffered_bytes` and of `upstream.buffering.spool_total`.
    pub buffer_share: f64,
}

impl RawPerClient {
    /// Keys relative to `[upstream.per_client]`.
    pub fn check(self, p: &mut Problems) -> Option<PerClientSettings> {
        let mut ok = true;
        for (key, v) in [
            ("slot_share", self.slot_share),
            ("buffer_share", self.buffer_share),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                p.add(key, "must be a fraction greater than 0 and at most 1");
                ok = false;
            }
        }
        ok.then_some(PerClientSettings {
            slot_share: self.slot_share,
            buffer_share: self.buffer_share,
        })
    }
}
