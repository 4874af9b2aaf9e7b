//! Files the gateway reads at run time (upstream credentials, the clients
//! file, the listener's TLS files) and what makes it read them again: a change to one of them, or
//! SIGHUP (which also re-reads the whole configuration: `Reloader::also`). One [`Reloader`] owns them all; whoever serves requests only holds
//! the [`ReloadableFile`]s it reads from.

mod file;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use prometheus::IntCounterVec;

pub use file::{Load, ReloadableFile};
pub use watch::Triggers;

/// How long a burst of file events must be quiet before the files are read.
const SETTLE: Duration = Duration::from_millis(100);

type ReloadFn = Box<dyn Fn() + Send + Sync>;

/// The reloadable files and their triggers. A trigger re-reads every file:
/// a Secret update may touch several at once, and SIGHUP means "all".
pub struct Reloader {
    triggers: Triggers,
    files: Vec<ReloadFn>,
}

impl Reloader {
    /// `watch_files`: react to file changes, not only to SIGHUP.
    pub fn new(watch_files: bool) -> Reloader {
        Reloader {
            triggers: Triggers::new(watch_files),
            files: Vec::new(),
        }
    }

    /// Watches `loader`'s files, then reads them for the first time: in this
    /// order, so a change made in between is not missed. From then on every
    /// trigger reads them again, counted in `reloads`.
    pub fn open<L: Load>(
        &mut self,
        loader: L,
        reloads: &crate::metrics::Family<IntCounterVec, 1>,
    ) -> Result<Arc<ReloadableFile<L>>, L::Error> {
        self.triggers.add(&loader.files());
        let file = Arc::new(ReloadableFile::open(loader, reloads)?);
        let handle = Arc::clone(&file);
        self.files.push(Box::new(move || {
            // A failure is counted and logged by the file; the old value stays.
            let _ = handle.reload();
        }));
        Ok(file)
    }

    /// Also watches `files`, and runs `on_trigger` on every trigger, after the files
    /// opened before it are read (the configuration reload, which reads them again).
    pub fn also(
        &mut self,
        files: &[std::path::PathBuf],
        on_trigger: impl Fn() + Send + Sync + 'static,
    ) {
        self.triggers.add(files);
        self.files.push(Box::new(on_trigger));
    }

    /// Reloads on every trigger until the task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let Reloader {
            mut triggers,
            files,
        } = self;
        tokio::spawn(async move {
            while triggers.next(SETTLE).await.is_some() {
                for reload in &files {
                    reload();
                }
            }
        })
    }
}
