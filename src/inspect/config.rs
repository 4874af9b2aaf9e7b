//! The keys of `[upstream]` that are inspection's: how much of an answer is
//! read whole, which of its headers pass, and the memory and spool that hold
//! answers (operators set them next to the limits of the call whose answer
//! they bound, so they stay in that section). The config pass reads them out
//! of `[upstream]` beside the upstream component's own keys and fair's
//! `per_client`; problems are named relative to the section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BufferingSettings, HeaderAllowlist, RawBuffering};
use crate::problems::Problems;

/// Inspection's keys of `[upstream]` on a configuration reload: what it makes of an
/// answer (header allowlist, body bound) is live; the buffer pools are built once and
/// keep their state.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[
        "max_response_body_bytes",
        "response_headers",
        "vary_request_headers",
    ],
    restart: &["max_buffered_bytes", "buffer_wait", "buffering"],
};

/// Inspection's keys of `[upstream]`, as written. No `deny_unknown_fields`
/// here: the section's other keys are upstream's and fair's, and the config
/// pass refuses a key that no owner of the section reads.
#[derive(Debug, Deserialize, Serialize)]
pub struct RawInspect {
    pub max_response_body_bytes: usize,
    pub response_headers: Vec<String>,
    pub vary_request_headers: Vec<String>,
    pub max_buffered_bytes: usize,
    #[serde(with = "crate::duration_text")]
    pub buffer_wait: Duration,
    pub buffering: RawBuffering,
}

/// Validated [`RawInspect`].
#[derive(Debug, Clone)]
pub struct InspectLimits {
    /// `upstream.max_response_body_bytes`: the most of one body read whole.
    pub max_response_body_bytes: usize,
    /// `upstream.response_headers`: the headers passed on, and their vocabulary.
    pub response_headers: HeaderAllowlist,
    /// `upstream.max_buffered_bytes` and `upstream.buffer_wait`: the shared buffer budget.
    pub max_buffered_bytes: usize,
    pub buffer_wait: Duration,
    /// `[upstream.buffering]`.
    pub buffering: BufferingSettings,
}

impl RawInspect {
    /// Keys relative to `[upstream]`.
    pub fn check(self, p: &mut Problems) -> Option<InspectLimits> {
        let before = p.len();
        let max_response_body_bytes =
            p.positive("max_response_body_bytes", self.max_response_body_bytes);
        let response_headers = p.check(
            "response_headers",
            HeaderAllowlist::parse(&self.response_headers, &self.vary_request_headers),
        );
        let max_buffered_bytes = p.positive("max_buffered_bytes", self.max_buffered_bytes);
        let buffering = p.within("buffering", |p| self.buffering.check(p));
        // One body at the limit is held up to three times at once (as read,
        // decoded, masked): the budget must fit at least that.
        if let (Some(buffered), Some(body)) = (max_buffered_bytes, max_response_body_bytes) {
            if buffered < body.saturating_mul(3) {
                p.add(
                    "max_buffered_bytes",
                    "must be at least 3 × `upstream.max_response_body_bytes`",
                );
            }
        }
        if p.len() > before {
            return None;
        }
        Some(InspectLimits {
            max_response_body_bytes: max_response_body_bytes?,
            response_headers: response_headers?,
            max_buffered_bytes: max_buffered_bytes?,
            buffer_wait: self.buffer_wait,
            buffering: buffering?,
        })
    }
}

impl InspectLimits {
    /// Whether a caller holding `buffer_share` of the buffer budget
    /// (`upstream.per_client.buffer_share`, fair's key) can still read one
    /// body at the limit, held three times: else such a client could never
    /// be answered. The config pass asks, as it is the one place that holds
    /// both sections' values.
    pub fn fits_share(&self, buffer_share: f64) -> bool {
        self.max_buffered_bytes as f64 * buffer_share
            >= self.max_response_body_bytes.saturating_mul(3) as f64
    }
}
