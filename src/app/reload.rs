//! Live reload of the whole configuration (SIGHUP, or a change to the config file).
//!
//! The layers are read and validated by the same pass as start-up
//! (`config::check`). Refused: every problem logged in one line (the list
//! `check-config` prints), counted `invalid`, the running generation untouched.
//! Valid: the layers are read once more with the running values of the
//! restart-only keys laid over them (`config::keys::pins`), so the new settings
//! are the running ones wherever a restart would be needed; a new generation of
//! the pipeline is built from them and swapped in atomically. A request loads
//! the generation once, when it is admitted, and uses it to the end, so it never
//! sees half of two configurations. Everything that holds state is carried into
//! the new generation, never rebuilt (`Proxy::next`).
//!
//! When a key that can shape a cached answer changed (every live key but those
//! `LEAVE_CACHED_ANSWERS` names, the request side and the gateway's own output:
//! `mask.*`, `cache.*` and `upstream.response_headers` do), the new generation's
//! cache is a new
//! view of the same store (`CustomerCache::with_rules`) and every entry is
//! dropped: answers masked under the old rules are never served again, and the
//! entries refill under the new ones.

use std::sync::Arc;

use arc_swap::ArcSwap;
use prometheus::IntCounterVec;

use super::metrics::{unix_now, ConfigReloadResult, ReloadMetrics};
use crate::cache::InvalidationReason;
use crate::config::{self, keys, ConfigError, Layers, Problem, Section, Settings};
use crate::logging::LevelApplied;
use crate::mask::MaskPolicyMetrics;
use crate::metrics::Family;
use crate::proxy::Proxy;
use crate::server::admin::{Admin, Shown};
use crate::telemetry::Telemetry;

use super::generation::{inspect_settings, masker};

/// What a reload did.
#[derive(Debug)]
pub enum Reloaded {
    /// Valid, and live keys changed: a new generation serves.
    Applied {
        /// The live keys that changed (dotted, names only).
        changed: Vec<String>,
        /// Restart-only keys the layers changed, kept at their running values.
        needs_restart: Vec<String>,
        /// `log.level` changed, but `RUST_LOG` is set and still decides the level.
        level_shadowed: bool,
    },
    /// Valid, and no live key changed.
    Unchanged { needs_restart: Vec<String> },
    /// Refused: the running settings stay.
    Invalid { problems: Vec<Problem> },
}

impl Reloaded {
    fn result(&self) -> ConfigReloadResult {
        match self {
            Reloaded::Applied { .. } => ConfigReloadResult::Applied,
            Reloaded::Unchanged { .. } => ConfigReloadResult::Unchanged,
            Reloaded::Invalid { .. } => ConfigReloadResult::Invalid,
        }
    }
}

/// The running configuration and how to replace it.
pub struct ConfigReload {
    /// The layers the command line selected.
    layers: Layers,
    /// The restart-only keys' values at start.
    pins: Vec<(String, ::config::Value)>,
    /// The generation requests are admitted to.
    live: Arc<ArcSwap<Proxy>>,
    admin: Arc<Admin>,
    telemetry: Option<Arc<Telemetry>>,
    /// `mask.hmac_key_file` as read at start (restart-only).
    mask_key: Option<Vec<u8>>,
    metrics: Counts,
    /// The settings of the generation serving now; held while a reload runs, so
    /// reloads never interleave.
    running: tokio::sync::Mutex<Arc<Settings>>,
}

pub(super) struct Parts {
    pub layers: Layers,
    pub live: Arc<ArcSwap<Proxy>>,
    pub admin: Arc<Admin>,
    pub telemetry: Option<Arc<Telemetry>>,
    pub mask_key: Option<Vec<u8>>,
    pub metrics: Counts,
    pub running: Arc<Settings>,
}

/// What a reload counts in: its own family, and handles to the families of what it
/// rebuilds (the new policies' counters; the cache's invalidations, for the purge when
/// its rules changed).
#[derive(Clone)]
pub(super) struct Counts {
    pub reload: ReloadMetrics,
    pub mask: MaskPolicyMetrics,
    pub cache_invalidations: Family<IntCounterVec, 1>,
}

impl ConfigReload {
    pub(super) fn new(p: Parts) -> Result<ConfigReload, Problem> {
        let pins = keys::pins(&p.layers)?;
        // The pins are read from the layers once more, after start-up read them: a file
        // changed in between would pin values that are not the running ones.
        let pinned = Layers {
            pinned: pins.clone(),
            ..p.layers.clone()
        };
        let (partial, _) = config::sections(&pinned, &Section::ALL);
        if let Some(now) = partial.complete() {
            let moved = restart_only(&keys::changed(&p.running.view, &now.view));
            if !moved.is_empty() {
                return Err(Problem::new(
                    "configuration",
                    format!(
                        "changed while the gateway started ({}): start it again",
                        moved.join(", ")
                    ),
                ));
            }
        }
        Ok(ConfigReload {
            pins,
            layers: p.layers,
            live: p.live,
            admin: p.admin,
            telemetry: p.telemetry,
            mask_key: p.mask_key,
            metrics: p.metrics,
            running: tokio::sync::Mutex::new(p.running),
        })
    }

    /// The file whose change triggers a reload (None: only the defaults, the
    /// environment and flags are read; SIGHUP still re-reads them).
    pub(super) fn file(&self) -> Option<std::path::PathBuf> {
        let l = &self.layers;
        l.file.clone().or_else(|| {
            l.env
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(|env| l.config_dir.join(format!("{env}.toml")))
        })
    }

    /// Reads the layers again and applies them (see the module doc); logs and counts
    /// what it did.
    pub async fn reload(&self) -> Reloaded {
        let mut running = self.running.lock().await;
        let outcome = match self.read() {
            Err(problems) => Reloaded::Invalid { problems },
            Ok((new, as_given)) => self.apply(&mut running, new, &as_given).await,
        };
        self.record(&outcome);
        outcome
    }

    /// [`Self::read_once`], until both of its reads saw the same file: the file is read
    /// twice, and a write landing between them would apply settings that were never
    /// validated together (and name the wrong keys). The settings applied differ from
    /// the ones validated only in restart-only keys; a file still changing after a few
    /// tries is refused, and the watcher's next trigger reads it when it has settled.
    fn read(&self) -> Result<(Settings, Settings), Vec<Problem>> {
        const TRIES: usize = 3;
        let mut moved = Vec::new();
        for _ in 0..TRIES {
            let (new, as_given) = self.read_once()?;
            moved = keys::changed(&new.view, &as_given.view)
                .into_iter()
                .filter(|k| keys::class(k) == Some(crate::reloadable::KeyClass::Live))
                .collect();
            if moved.is_empty() {
                return Ok((new, as_given));
            }
        }
        Err(vec![Problem::new(
            "configuration",
            format!(
                "changed while it was being read ({}): the next change or SIGHUP reloads it",
                moved.join(", ")
            ),
        )])
    }

    /// The layers as given, validated (the start-up pass); then as they would run,
    /// with the restart-only keys pinned.
    fn read_once(&self) -> Result<(Settings, Settings), Vec<Problem>> {
        let (partial, problems) = config::check(&self.layers);
        let as_given = problems
            .finish(partial.complete())
            .map_err(|e| e.problems().to_vec())?;
        let pinned = Layers {
            pinned: self.pins.clone(),
            ..self.layers.clone()
        };
        let (partial, problems) = config::sections(&pinned, &Section::ALL);
        let new = problems
            .finish(partial.complete())
            .map_err(|e| e.problems().to_vec())?;
        Ok((new, as_given))
    }

    async fn apply(
        &self,
        running: &mut Arc<Settings>,
        new: Settings,
        as_given: &Settings,
    ) -> Reloaded {
        let changed = keys::changed(&running.view, &new.view);
        let needs_restart = keys::changed(&new.view, &as_given.view);
        if changed.is_empty() {
            return Reloaded::Unchanged { needs_restart };
        }
        // Pinned keys cannot change; if one did, the pins missed it (a defect): never
        // apply a restart-only change half-way.
        let unpinned = restart_only(&changed);
        if !unpinned.is_empty() {
            return Reloaded::Invalid {
                problems: vec![Problem::new(
                    "configuration",
                    format!(
                        "keys that need a restart changed in the reloaded settings ({}): \
                         a defect in the gateway; restart it to apply them",
                        unpinned.join(", ")
                    ),
                )],
            };
        }
        let touched = |prefix: &str| changed.iter().any(|k| k.starts_with(prefix));
        let old = self.live.load_full();
        let masking = if touched("mask.") {
            match masker(&new.mask, self.mask_key.as_deref()) {
                Ok(m) => {
                    let counts = &self.metrics.mask;
                    let undeclared = new.mask.policies.undeclared();
                    undeclared.attach(&counts.undeclared, &counts.masked);
                    m
                }
                Err(p) => return Reloaded::Invalid { problems: vec![p] },
            }
        } else {
            old.inspector().masking()
        };
        let policies = if touched("mask.") {
            new.mask.policies.clone()
        } else {
            self.admin.shown.load().policies.clone()
        };
        let rules_changed = changed.iter().any(|k| shapes_cached_answers(k));
        let cache = old.cache().map(|c| {
            if rules_changed {
                c.with_rules(&new.cache)
            } else {
                c.clone()
            }
        });
        let inspector = old.inspector().next(inspect_settings(&new), masking);
        let next = old.next(new.pipeline.clone(), inspector, cache.clone());
        // From here every request admitted runs under the new generation; those
        // already admitted finish under the old one.
        self.live.store(Arc::new(next));
        self.admin.shown.store(Arc::new(Shown {
            view: new.view.clone(),
            policies,
        }));
        if let (true, Some(cache)) = (rules_changed, &cache) {
            cache.invalidate_all().await;
            self.metrics
                .cache_invalidations
                .with([&InvalidationReason::ConfigReload])
                .inc();
        }
        if touched("log.") {
            // The access log is carried over, not rebuilt: it is told, like the other lines.
            next_log_format(&self.live, &new);
        }
        let level_shadowed = touched("log.")
            && crate::logging::apply(&new.log) == LevelApplied::ShadowedByRustLog
            && changed.iter().any(|k| k == "log.level");
        if let (true, Some(t)) = (touched("telemetry."), &self.telemetry) {
            t.set_sampling_ratio(&new.telemetry);
        }
        *running = Arc::new(new);
        Reloaded::Applied {
            changed,
            needs_restart,
            level_shadowed,
        }
    }

    fn record(&self, outcome: &Reloaded) {
        let m = &self.metrics.reload;
        m.reloads.with([&outcome.result()]).inc();
        let ok = !matches!(outcome, Reloaded::Invalid { .. });
        m.last_successful.set(i64::from(ok));
        if ok {
            m.last_success_timestamp.set(unix_now());
        }
        match outcome {
            Reloaded::Applied {
                changed,
                needs_restart,
                level_shadowed,
            } => tracing::info!(
                changed = %changed.join(" "),
                needs_restart = %needs_restart.join(" "),
                "configuration reloaded: {} key(s) changed{}{}",
                changed.len(),
                left_as_is(needs_restart),
                if *level_shadowed {
                    "; log.level is shadowed: RUST_LOG is set and still decides the level"
                } else {
                    ""
                },
            ),
            Reloaded::Unchanged { needs_restart } => tracing::info!(
                needs_restart = %needs_restart.join(" "),
                "configuration re-read: no key that reloads changed{}",
                left_as_is(needs_restart),
            ),
            Reloaded::Invalid { problems } => tracing::error!(
                "configuration reload refused, the running configuration stays: {}",
                ConfigError::new(problems.clone())
            ),
        }
    }
}

/// The live keys that never shape what a cached answer holds (its body, headers, status,
/// or whether and how long it is kept): the request side and the gateway's own output.
/// Every other key does, a key added later included: a change to it drops every cached
/// answer and stops fills started under the old value from storing or being joined.
const LEAVE_CACHED_ANSWERS: &[&str] = &[
    "log",
    "telemetry",
    "server.max_request_body_bytes",
    "server.request_body_timeout",
];

/// Whether a change to the dotted `key` can make an answer cached before it differ from
/// one built after (refusing default: yes, unless [`LEAVE_CACHED_ANSWERS`] names it).
fn shapes_cached_answers(key: &str) -> bool {
    !LEAVE_CACHED_ANSWERS
        .iter()
        .any(|p| crate::reloadable::covers(p, key))
}

/// `log.format` to the access log the generations share.
fn next_log_format(live: &ArcSwap<Proxy>, new: &Settings) {
    live.load().access_log().set_format(new.log.format);
}

/// The keys of `keys` whose class is not live (restart-only, or undecided).
fn restart_only(keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| keys::class(k) != Some(crate::reloadable::KeyClass::Live))
        .cloned()
        .collect()
}

/// The clause naming the restart-only keys left as they are, if any.
fn left_as_is(keys: &[String]) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!(
            "; need a restart, kept at their running values: {}",
            keys.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Section;

    #[test]
    fn every_live_key_but_the_listed_ones_drops_cached_answers() {
        for key in [
            "mask.rules",
            "cache.routes.customer.ttl",
            "upstream.response_headers",
            "upstream.vary_request_headers",
            "upstream.max_response_body_bytes",
        ] {
            assert!(shapes_cached_answers(key), "{key}");
        }
        for key in [
            "log.level",
            "telemetry.sampling_ratio",
            "server.request_body_timeout",
        ] {
            assert!(!shapes_cached_answers(key), "{key}");
        }
        // The list names live keys only: a stale or restart-only name would hide nothing
        // and mislead the reader.
        for pattern in LEAVE_CACHED_ANSWERS {
            let (section, rest) = pattern.split_once('.').unwrap_or((pattern, ""));
            let section = Section::of(section).expect(pattern);
            let live = keys::of(section).iter().any(|k| k.live.contains(&rest));
            assert!(rest.is_empty() || live, "{pattern} is not a live key");
        }
    }
}
