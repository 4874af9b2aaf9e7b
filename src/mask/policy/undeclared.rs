//! The undeclared-paths registry: every field path a family's answers held that its policy
//! does not declare, counted — the path only, never a value — so an operator can declare the
//! safe fields from real traffic and switch the family to `enforce`.
//!
//! Bounded: at most `max_paths` distinct paths per family are listed (later new paths are
//! only counted as overflow), and a path longer than [`MAX_PATH_LEN`] bytes is counted as
//! overflow too. Keys in which a detector fires, and keys that do not look like field names
//! (not ASCII letters, digits, `_` and `-`, or longer than 64 bytes: [`crate::mask::keynorm::is_listed_key`]), are listed as a
//! placeholder so that no value used as a key (an email, a phone number, a name with spaces)
//! reaches the listing.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prometheus::{IntCounter, IntCounterVec};

use crate::metrics::Family;
use serde::Serialize;

use super::{MaskReason, PolicyFamily};
use crate::mask::detect::{Detector, Detectors};

/// Longest path listed, in bytes.
pub const MAX_PATH_LEN: usize = 256;
/// Default of the per-family bound on listed paths.
pub const DEFAULT_MAX_PATHS: usize = 256;

/// Appends `raw_key` to `path` as a listed segment (dot-separated; the placeholder of the
/// detector that fires on the key, or `<key>` for a key that does not look like a field name)
/// and returns the length to truncate back to when the walk leaves the key.
pub fn push_segment(path: &mut String, detectors: &Detectors, raw_key: &str) -> usize {
    push_scanned_segment(path, detectors.scan(raw_key), raw_key)
}

/// [`push_segment`] for a key already scanned: `detected` is `detectors.scan(raw_key)`.
pub fn push_scanned_segment(path: &mut String, detected: Option<Detector>, raw_key: &str) -> usize {
    let back = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    if let Some(d) = detected {
        path.push_str(d.placeholder());
    } else if !crate::mask::keynorm::is_listed_key(raw_key) {
        path.push_str("<key>");
    } else {
        path.push_str(raw_key);
    }
    back
}

#[derive(Debug, Default)]
struct FamilyPaths {
    paths: HashMap<Box<str>, u64>,
    overflow: u64,
}

/// The registry, one per gateway (shared by every masker generation, so a reload keeps it).
#[derive(Debug)]
pub struct Undeclared {
    max_paths: usize,
    families: Vec<Mutex<FamilyPaths>>,
    /// Per family (index of [`PolicyFamily::ALL`]); set once by [`Undeclared::attach`].
    counters: OnceLock<Counters>,
}

#[derive(Debug)]
struct Counters {
    undeclared: Vec<IntCounter>,
    /// Per family, per [`MaskReason::ALL`] index.
    masked: Vec<Vec<IntCounter>>,
}

impl Default for Undeclared {
    fn default() -> Self {
        Undeclared::new(DEFAULT_MAX_PATHS)
    }
}

/// One family's listing.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UndeclaredFamily {
    pub family: &'static str,
    /// Distinct paths and how often each was seen, most seen first.
    pub paths: Vec<(String, u64)>,
    /// Sightings of paths not listed (past the bound, or too long).
    pub overflow: u64,
}

/// The whole listing, as `GET /admin/mask/undeclared` shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UndeclaredListing {
    pub max_paths_per_family: usize,
    pub families: Vec<UndeclaredFamily>,
}

impl Undeclared {
    /// A registry listing at most `max_paths` paths per family, not exported as a metric.
    pub fn new(max_paths: usize) -> Self {
        Undeclared {
            max_paths,
            families: PolicyFamily::ALL.iter().map(|_| Mutex::default()).collect(),
            counters: OnceLock::new(),
        }
    }

    /// Exports the counts as metrics from now on: every undeclared sighting on `undeclared`
    /// (label `family`), every value the policy masked on `masked` (labels `family`,
    /// `reason`). Every series is created here (at 0), handles resolved once. A second call
    /// is ignored.
    pub fn attach(&self, undeclared: &Family<IntCounterVec, 1>, masked: &Family<IntCounterVec, 2>) {
        let _ = self.counters.set(Counters {
            undeclared: PolicyFamily::ALL
                .iter()
                .map(|f| undeclared.with([f]))
                .collect(),
            masked: PolicyFamily::ALL
                .iter()
                .map(|f| {
                    MaskReason::ALL
                        .iter()
                        .map(|r| masked.with([f, r]))
                        .collect()
                })
                .collect(),
        });
    }

    /// Counts one value of `family` masked by the policy for `reason` (not by a named rule:
    /// those are counted by rule).
    pub fn masked(&self, family: PolicyFamily, reason: MaskReason) {
        if let Some(c) = self.counters.get() {
            if let Some(c) = c
                .masked
                .get(family.index())
                .and_then(|f| f.get(reason.index()))
            {
                c.inc();
            }
        }
    }

    pub fn max_paths(&self) -> usize {
        self.max_paths
    }

    /// Records one undeclared leaf of `family` at `path` (built with [`push_segment`]).
    pub fn record(&self, family: PolicyFamily, path: &str) {
        if let Some(c) = self
            .counters
            .get()
            .and_then(|c| c.undeclared.get(family.index()))
        {
            c.inc();
        }
        let Some(slot) = self.families.get(family.index()) else {
            return;
        };
        // A poisoned lock only means another thread panicked mid-insert; the map is still
        // a valid map.
        let mut f = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = f.paths.get_mut(path) {
            *n += 1;
            return;
        }
        if path.len() > MAX_PATH_LEN || f.paths.len() >= self.max_paths {
            f.overflow += 1;
            return;
        }
        f.paths.insert(path.into(), 1);
    }

    /// A copy of the listing.
    pub fn listing(&self) -> UndeclaredListing {
        let families = PolicyFamily::ALL
            .iter()
            .zip(&self.families)
            .map(|(fam, slot)| {
                let f = slot.lock().unwrap_or_else(|p| p.into_inner());
                let mut paths: Vec<(String, u64)> =
                    f.paths.iter().map(|(p, &n)| (p.to_string(), n)).collect();
                paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                UndeclaredFamily {
                    family: fam.label(),
                    paths,
                    overflow: f.overflow,
                }
            })
            .collect();
        UndeclaredListing {
            max_paths_per_family: self.max_paths,
            families,
        }
    }
}

// The metric labels of the families this registry counts on.
crate::label_by!(PolicyFamily, MaskReason);
