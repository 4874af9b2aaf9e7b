//! Inspection's key of `[mask]`: `passthrough`, the routes whose answers are relayed
//! uninspected. Operators keep the entries next to the masking rules they are the
//! exception to; what they mean (which answers pass) is inspection's
//! (`PassthroughRule`), so inspection reads and checks them. The config pass reads
//! the key out of `[mask]` beside the masker's keys; problems are named relative to
//! the section.

use serde::{Deserialize, Serialize};

use super::passthrough::{Passthrough, PassthroughRule};
use crate::problems::Problems;

/// Inspection's key of `[mask]` on a configuration reload: the rules are read per
/// request from the current generation (answers cached under the old rules are
/// dropped, as for every `[mask]` key).
pub const MASK_KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &["passthrough"],
    restart: &[],
};

/// Inspection's key of `[mask]`, as written. No `deny_unknown_fields` here: the
/// section's other keys are the masker's, and the config pass refuses a key that no
/// owner of the section reads.
#[derive(Debug, Deserialize, Serialize)]
pub struct RawRelay {
    pub passthrough: Vec<RawPassthrough>,
}

/// The raw `[[mask.passthrough]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPassthrough {
    #[serde(default = "get_only")]
    pub methods: Vec<String>,
    pub path: String,
    pub content_types: Vec<String>,
    #[serde(default)]
    pub magic: String,
    /// Forward `Range`/`If-Range` and pass `206` answers. A part of a body
    /// does not start with `magic`, so partial answers pass unverified: off
    /// unless said.
    #[serde(default)]
    pub ranges: bool,
}

fn get_only() -> Vec<String> {
    vec!["GET".to_owned()]
}

impl RawRelay {
    /// Keys relative to `[mask]`: each entry's problem under `passthrough[i]`.
    pub fn check(self, p: &mut Problems) -> Option<Passthrough> {
        let before = p.len();
        let rules: Vec<_> = self
            .passthrough
            .iter()
            .enumerate()
            .filter_map(|(i, c)| p.check(&format!("passthrough[{i}]"), c.rule()))
            .collect();
        (p.len() == before).then(|| Passthrough::new(rules))
    }
}

impl RawPassthrough {
    /// The entry as the rule it states.
    pub fn rule(&self) -> Result<PassthroughRule, String> {
        PassthroughRule::parse(
            &self.methods,
            &self.path,
            &self.content_types,
            &self.magic,
            self.ranges,
        )
    }
}
