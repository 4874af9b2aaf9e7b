//! What triggers a reload: a change to a watched file, or SIGHUP.
//!
//! Directories are watched, not files: Kubernetes updates a mounted Secret by
//! swapping a `..data` symlink in the directory, which a watch on the old file
//! inode would never see. Only events that name a watched file, or `..data`,
//! trigger: anything else in the directory (a log file, an editor's swap file)
//! is ignored, or it could keep the gateway reloading forever. Events are
//! coalesced: a burst of writes causes one reload shortly after it settles.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// The symlink through which Kubernetes points every file of a mounted Secret
/// or ConfigMap at the current `..<timestamp>` directory; replacing it is the
/// one event of an atomic update that names no watched file.
const KUBERNETES_DATA: &str = "..data";

/// Receives one message per (coalesced) trigger.
pub struct Triggers {
    rx: mpsc::Receiver<()>,
    tx: mpsc::Sender<()>,
    watch_files: bool,
    /// The file names events must mention; shared with the watcher's thread.
    names: Arc<RwLock<BTreeSet<OsString>>>,
    dirs: BTreeSet<PathBuf>,
    // Kept alive for as long as triggers are wanted.
    watcher: Option<RecommendedWatcher>,
    /// Set once creating the watcher failed, so the warning is given once.
    unavailable: bool,
}

impl Triggers {
    /// Triggers on SIGHUP, and (when `watch_files` is set) on changes to the
    /// files later passed to [`Triggers::add`].
    pub fn new(watch_files: bool) -> Triggers {
        let (tx, rx) = mpsc::channel(1);
        spawn_sighup(tx.clone());
        Triggers {
            rx,
            tx,
            watch_files,
            names: Arc::default(),
            dirs: BTreeSet::new(),
            watcher: None,
            unavailable: false,
        }
    }

    /// Starts watching `files`. Call it before reading them, so a change made
    /// in between is not missed.
    pub fn add(&mut self, files: &[PathBuf]) {
        if !self.watch_files || files.is_empty() {
            return;
        }
        {
            let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
            names.extend(
                files
                    .iter()
                    .filter_map(|f| f.file_name().map(OsString::from)),
            );
        }
        let fresh: Vec<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent())
            .map(dir_of)
            .filter(|d| self.dirs.insert(d.clone()))
            .collect();
        let Some(watcher) = self.watcher() else {
            return;
        };
        for d in fresh {
            if let Err(e) = watcher.watch(&d, RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %d.display(), error = %e, "cannot watch directory; reload on SIGHUP only");
            }
        }
    }

    fn watcher(&mut self) -> Option<&mut RecommendedWatcher> {
        if self.watcher.is_none() && !self.unavailable {
            let fs_tx = self.tx.clone();
            let names = Arc::clone(&self.names);
            let handler = move |res: notify::Result<notify::Event>| {
                let names = names.read().unwrap_or_else(|e| e.into_inner());
                if res.is_ok_and(|ev| relevant(&ev, &names)) {
                    // A full channel already holds a pending trigger: coalesce.
                    let _ = fs_tx.try_send(());
                }
            };
            match notify::recommended_watcher(handler) {
                Ok(w) => self.watcher = Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "file watching unavailable; reload on SIGHUP only");
                    self.unavailable = true;
                }
            }
        }
        self.watcher.as_mut()
    }

    /// Waits for the next trigger, then for quiet (`settle`), so a file
    /// written in several steps is read once, complete.
    pub async fn next(&mut self, settle: Duration) -> Option<()> {
        self.rx.recv().await?;
        tokio::time::sleep(settle).await;
        while self.rx.try_recv().is_ok() {}
        Some(())
    }
}

/// A file's directory, `.` for a bare file name.
fn dir_of(parent: &Path) -> PathBuf {
    if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    }
}

/// Does `ev` (from a watched directory) concern one of the watched file
/// `names` or the Kubernetes `..data` link? Names are compared without their
/// directory: the watch is not recursive, so every event comes from a watched
/// directory, and a same-named file in another watched directory costs at most
/// one extra reload.
fn relevant(ev: &notify::Event, names: &BTreeSet<OsString>) -> bool {
    if ev.kind.is_access() {
        return false;
    }
    // The kernel dropped events: whatever happened, it may have been a change.
    if ev.need_rescan() {
        return true;
    }
    ev.paths.iter().any(|p| {
        p.file_name()
            .is_some_and(|n| n == KUBERNETES_DATA || names.contains(n))
    })
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::Sender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: re-reading what reloads (credentials, clients, TLS files; under `serve`, the configuration)");
                    let _ = tx.try_send(());
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: mpsc::Sender<()>) {}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, EventKind, Flag, ModifyKind, RenameMode};
    use notify::Event;

    fn names() -> BTreeSet<OsString> {
        ["token", "clients.toml"].map(OsString::from).into()
    }

    fn ev(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |e, p| e.add_path(PathBuf::from(p)))
    }

    const WRITE: EventKind = EventKind::Modify(ModifyKind::Data(DataChange::Any));

    #[test]
    fn a_watched_file_triggers() {
        assert!(relevant(&ev(WRITE, &["/s/token"]), &names()));
        assert!(relevant(
            &ev(EventKind::Create(CreateKind::File), &["/c/clients.toml"]),
            &names()
        ));
        assert!(relevant(
            &ev(
                EventKind::Remove(notify::event::RemoveKind::Any),
                &["./token"]
            ),
            &names()
        ));
    }

    #[test]
    fn the_kubernetes_data_swap_triggers() {
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(relevant(
            &ev(rename, &["/s/..data_tmp", "/s/..data"]),
            &names()
        ));
        let to = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(relevant(&ev(to, &["/s/..data"]), &names()));
    }

    #[test]
    fn other_files_and_reads_do_not() {
        for p in [
            "/s/app.log",
            "/s/token.swp",
            "/s/.token.tmp",
            "/s/..2026_01_01_00_00_00.1",
            "/s/..data_tmp",
            "/s",
        ] {
            assert!(!relevant(&ev(WRITE, &[p]), &names()), "{p}");
        }
        let read = EventKind::Access(notify::event::AccessKind::Read);
        assert!(!relevant(&ev(read, &["/s/token"]), &names()));
    }

    #[test]
    fn lost_events_trigger() {
        let e = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert!(relevant(&e, &names()));
    }
}
