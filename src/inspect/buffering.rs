//! `[upstream.buffering]`: how a passthrough body (a memo PDF) is held
//! between paycombat and a client that reads it more slowly than paycombat
//! sends it — memory up to a bound per response, then a spool file with its
//! own bounds — so the upstream slot is free once paycombat has finished
//! sending, like nginx's proxy buffering.
//!
//! Spool files hold personal data, so they never have a name: each is
//! created already unlinked in `spool_dir` (`O_TMPFILE` on Linux, an unlink
//! right after creation elsewhere), and its blocks return to the filesystem
//! when the response ends or the process dies, crash included. Nothing is
//! ever left behind in the directory.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::problems::Problems;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuffering {
    pub memory_per_response: usize,
    pub spool_dir: String,
    pub spool_per_response: u64,
    pub spool_total: u64,
}

/// Validated `[upstream.buffering]`.
#[derive(Debug, Clone)]
pub struct BufferingSettings {
    /// Bytes of one passthrough body held in memory (also drawn from
    /// `upstream.max_buffered_bytes`) before the rest goes to a spool file.
    pub memory_per_response: usize,
    pub spool_dir: PathBuf,
    /// Bytes one response may have in its spool file at once.
    pub spool_per_response: u64,
    /// Bytes all spool files together may hold.
    pub spool_total: u64,
}

impl RawBuffering {
    /// Keys relative to `[upstream.buffering]`.
    pub fn check(self, p: &mut Problems) -> Option<BufferingSettings> {
        let before = p.len();
        if self.memory_per_response == 0 {
            p.add("memory_per_response", "must be greater than zero");
        }
        if self.spool_dir.trim().is_empty() {
            p.add("spool_dir", "must name a writable directory");
        } else if !Path::new(self.spool_dir.trim()).is_absolute() {
            p.add("spool_dir", "must be an absolute path");
        }
        if self.spool_per_response > self.spool_total {
            p.add(
                "spool_per_response",
                "must not exceed `upstream.buffering.spool_total`",
            );
        }
        if p.len() > before {
            return None;
        }
        Some(BufferingSettings {
            memory_per_response: self.memory_per_response,
            spool_dir: PathBuf::from(self.spool_dir.trim()),
            spool_per_response: self.spool_per_response,
            spool_total: self.spool_total,
        })
    }
}

impl BufferingSettings {
    /// Whether bodies may spill to disk at all (`spool_total = 0`: never).
    pub fn spools(&self) -> bool {
        self.spool_per_response > 0
    }

    /// A new spool file, already without a name.
    pub fn spool_file(&self) -> std::io::Result<File> {
        tempfile::tempfile_in(&self.spool_dir)
    }

    /// Checked at start and by `check-config` (under the key
    /// `upstream.buffering.spool_dir`): a spool directory that cannot hold a
    /// file fails the start, not the first large download.
    pub fn check_spool_dir(&self) -> Result<(), String> {
        if !self.spools() {
            return Ok(());
        }
        self.spool_file().map(drop).map_err(|e| {
            format!(
                "cannot create a spool file in {}: {e}",
                self.spool_dir.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(dir: &str, per: u64, total: u64) -> RawBuffering {
        RawBuffering {
            memory_per_response: 1024,
            spool_dir: dir.to_owned(),
            spool_per_response: per,
            spool_total: total,
        }
    }

    #[test]
    fn spool_files_have_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Problems::default();
        let s = raw(&dir.path().display().to_string(), 10, 100)
            .check(&mut p)
            .unwrap();
        s.check_spool_dir().unwrap();
        let f = s.spool_file().unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, b"%PDF-1.4 personal", 0).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut p = Problems::default();
        // As the config pass runs it: under the section's prefix.
        assert!(p
            .within("upstream.buffering", |p| raw("relative/dir", 200, 100)
                .check(p))
            .is_none());
        let text = format!("{p:?}");
        assert!(text.contains("upstream.buffering.spool_dir"), "{text}");
        assert!(
            text.contains("upstream.buffering.spool_per_response"),
            "{text}"
        );
        let missing = raw("/nonexistent/spool", 10, 100)
            .check(&mut Problems::default())
            .unwrap();
        assert!(missing
            .check_spool_dir()
            .unwrap_err()
            .contains("/nonexistent/spool"));
    }
}
