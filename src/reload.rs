//! What triggers a reload of files the gateway reads at run time (upstream
//! credentials, the clients file): a change to the file, or SIGHUP.
//!
//! Directories are watched, not files: Kubernetes updates a mounted Secret by
//! swapping a `..data` symlink in the directory, which a watch on the old file
//! inode would never see. Events are coalesced: a burst of writes causes one
//! reload shortly after it settles.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Receives one message per (coalesced) trigger.
pub struct Triggers {
    rx: mpsc::Receiver<()>,
    // Kept alive for as long as triggers are wanted.
    _watcher: Option<RecommendedWatcher>,
}

impl Triggers {
    /// Waits for the next trigger, then for quiet (`settle`), so a file
    /// written in several steps is read once, complete.
    pub async fn next(&mut self, settle: Duration) -> Option<()> {
        self.rx.recv().await?;
        tokio::time::sleep(settle).await;
        while self.rx.try_recv().is_ok() {}
        Some(())
    }
}

/// Triggers on SIGHUP, and on changes to `files` when `watch_files` is set.
pub fn watch(files: &[PathBuf], watch_files: bool) -> Triggers {
    let (tx, rx) = mpsc::channel(1);
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .map(|d| {
            if d.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                d
            }
        })
        .collect();
    let watcher = if dirs.is_empty() || !watch_files {
        None
    } else {
        let fs_tx = tx.clone();
        let handler = move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res {
                if !ev.kind.is_access() {
                    // A full channel already holds a pending trigger: coalesce.
                    let _ = fs_tx.try_send(());
                }
            }
        };
        match notify::recommended_watcher(handler) {
            Ok(mut w) => {
                for d in &dirs {
                    if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
                        tracing::warn!(dir = %d.display(), error = %e, "cannot watch directory; reload on SIGHUP only");
                    }
                }
                Some(w)
            }
            Err(e) => {
                tracing::warn!(error = %e, "file watching unavailable; reload on SIGHUP only");
                None
            }
        }
    };
    spawn_sighup(tx);
    Triggers {
        rx,
        _watcher: watcher,
    }
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::Sender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading credentials and clients");
                    let _ = tx.try_send(());
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: mpsc::Sender<()>) {}
