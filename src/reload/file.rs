//! A value read from files at run time and replaced when they change: the
//! upstream credentials, the clients file.
//!
//! What differs between them (which files, how they are read and validated,
//! what a reload carries over) is a [`Load`]; what they share (the atomic
//! swap, keeping the previous value when a read fails, the reload counter and
//! the log line) is [`ReloadableFile`], written once.

use crate::metrics::labels::ReloadResult;
use crate::metrics::Family;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, Guard};
use prometheus::{IntCounter, IntCounterVec};

/// How one kind of file is read.
pub trait Load: Send + Sync + 'static {
    type Value: Send + Sync + 'static;
    type Error: std::fmt::Display;

    /// What the log lines call it ("upstream credentials").
    const WHAT: &'static str;

    /// The files a change to which means "read again".
    fn files(&self) -> Vec<PathBuf>;

    /// Reads and validates the files. Must not touch the value in force.
    fn load(&self) -> Result<Self::Value, Self::Error>;

    /// Hands state the running value has accumulated (rate-limit buckets)
    /// over to a freshly read one, just before it replaces the old.
    fn carry_over(&self, _next: &mut Self::Value, _previous: &Self::Value) {}

    /// How many entries `value` holds, for the log line.
    fn count(value: &Self::Value) -> usize;

    /// Called once `value` is the one in force (after the first read and
    /// after each successful reload): for what reports on it, a gauge say.
    fn in_force(&self, _value: &Self::Value) {}
}

/// The value `L` last read successfully. A request takes one snapshot and
/// uses it throughout, so a reload never mixes old and new parts and never
/// blocks or drops a request.
pub struct ReloadableFile<L: Load> {
    loader: L,
    current: ArcSwap<L::Value>,
    loaded_at_unix: AtomicU64,
    ok: IntCounter,
    failed: IntCounter,
}

impl<L: Load> ReloadableFile<L> {
    /// The first read. A failure here is a start-up failure, returned to the
    /// caller rather than counted: there is no previous value to keep.
    /// `reloads` is the counter with the one label `result` (ok, failed).
    pub fn open(loader: L, reloads: &Family<IntCounterVec, 1>) -> Result<Self, L::Error> {
        let value = loader.load()?;
        let this = ReloadableFile {
            loader,
            current: ArcSwap::from_pointee(value),
            loaded_at_unix: AtomicU64::new(0),
            ok: reloads.with([&ReloadResult::Ok]),
            failed: reloads.with([&ReloadResult::Failed]),
        };
        this.loaded(&this.current.load());
        this.loader.in_force(&this.current.load());
        Ok(this)
    }

    /// Reads the files again. On failure the previous value stays in force:
    /// a half-written or briefly missing file must not take the gateway down.
    pub fn reload(&self) -> Result<(), L::Error> {
        match self.loader.load() {
            Ok(mut next) => {
                self.loader.carry_over(&mut next, &self.current.load());
                self.loaded(&next);
                let next = Arc::new(next);
                self.current.store(Arc::clone(&next));
                self.loader.in_force(&next);
                Ok(())
            }
            Err(e) => {
                self.failed.inc();
                tracing::error!(error = %e, "{what} reload failed; keeping the previous {what}", what = L::WHAT);
                Err(e)
            }
        }
    }

    fn loaded(&self, value: &L::Value) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.loaded_at_unix.store(now, Ordering::Relaxed);
        self.ok.inc();
        tracing::info!(count = L::count(value), "{} loaded", L::WHAT);
    }

    /// The value in force, for a caller that keeps it.
    pub fn get(&self) -> Arc<L::Value> {
        self.current.load_full()
    }

    /// The value in force, for a caller that only looks (no reference count).
    pub fn guard(&self) -> Guard<Arc<L::Value>> {
        self.current.load()
    }

    /// Unix time of the last successful read.
    pub fn loaded_at_unix(&self) -> u64 {
        self.loaded_at_unix.load(Ordering::Relaxed)
    }

    pub fn loader(&self) -> &L {
        &self.loader
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
