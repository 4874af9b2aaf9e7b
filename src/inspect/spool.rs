//! Spool files: the part of a passthrough body that a slow client has not
//! read yet and that did not fit in memory, on disk, bounded per response
//! (`upstream.buffering.spool_per_response`), in all
//! (`upstream.buffering.spool_total`) and per client (its
//! `upstream.per_client.buffer_share` of the total).
//!
//! A spool file is written at its end and read from its start; once the
//! client has read everything in it, it is truncated to nothing, so a
//! response's disk use is what its client has yet to read.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use prometheus::{IntCounter, IntGauge};

use super::buffering::BufferingSettings;
use super::InspectMetrics;
use crate::fair::{share_of, Caller, Held, Shares};

/// Largest piece read back from a spool file at once: one client frame.
const READ_CHUNK: u64 = super::relay::PIECE as u64;

/// All spool files of the process: their bounds and gauges.
pub struct SpoolPool {
    settings: BufferingSettings,
    shares: Arc<Shares>,
    bytes: IntGauge,
    spooled: IntCounter,
    files: IntGauge,
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl SpoolPool {
    pub fn new(
        settings: BufferingSettings,
        buffer_share: f64,
        metrics: &InspectMetrics,
    ) -> Arc<Self> {
        let total = to_usize(settings.spool_total);
        metrics
            .spool_max_bytes
            .set(i64::try_from(settings.spool_total).unwrap_or(i64::MAX));
        Arc::new(SpoolPool {
            shares: Shares::new(total, share_of(total, buffer_share)),
            settings,
            bytes: metrics.spool_bytes.clone(),
            spooled: metrics.spooled_bytes.clone(),
            files: metrics.spool_files.clone(),
        })
    }

    pub fn settings(&self) -> &BufferingSettings {
        &self.settings
    }

    /// A spool for one response of `caller`; its file is made on first use.
    pub fn spool(self: &Arc<Self>, caller: &Caller) -> Spool {
        Spool {
            file: None,
            held: self.shares.hold(&caller.key),
            read: 0,
            written: 0,
            pool: self.clone(),
        }
    }
}

/// One response's spool file.
pub struct Spool {
    file: Option<Arc<File>>,
    /// Bytes of the pool's bounds this file holds: its size.
    held: Held,
    read: u64,
    written: u64,
    pool: Arc<SpoolPool>,
}

/// Why a piece could not be spooled.
#[derive(Debug)]
pub enum Full {
    /// No room within the bounds now; the client reading makes some.
    NoRoom,
    /// The disk refused it.
    Io(std::io::Error),
}

impl Spool {
    /// Bytes written and not yet read back.
    pub fn unread(&self) -> u64 {
        self.written - self.read
    }

    /// Appends `data`, within the bounds.
    pub async fn write(&mut self, data: Bytes) -> Result<(), Full> {
        let len = data.len() as u64;
        let s = &self.pool.settings;
        if !s.spools() || self.written + len > s.spool_per_response {
            return Err(Full::NoRoom);
        }
        if self.held.grow(to_usize(len)).is_err() {
            return Err(Full::NoRoom);
        }
        let file = match &self.file {
            Some(f) => f.clone(),
            None => {
                let s = s.clone();
                let made = tokio::task::spawn_blocking(move || s.spool_file()).await;
                let file = match made {
                    Ok(Ok(f)) => Arc::new(f),
                    Ok(Err(e)) => return Err(self.refund(len, e)),
                    Err(e) => return Err(self.refund(len, std::io::Error::other(e))),
                };
                self.pool.files.inc();
                self.file = Some(file.clone());
                file
            }
        };
        let at = self.written;
        let wrote = tokio::task::spawn_blocking(move || file.write_all_at(&data, at)).await;
        match wrote {
            Ok(Ok(())) => {
                self.written += len;
                self.pool.bytes.add(len as i64);
                self.pool.spooled.inc_by(len);
                Ok(())
            }
            Ok(Err(e)) => Err(self.refund(len, e)),
            Err(e) => Err(self.refund(len, std::io::Error::other(e))),
        }
    }

    fn refund(&mut self, len: u64, e: std::io::Error) -> Full {
        let keep = self.held.units().saturating_sub(to_usize(len));
        self.held.shrink_to(keep);
        Full::Io(e)
    }

    /// Reads the next unread piece back (None when everything was read).
    /// Reading the last byte empties the file and gives its bytes back.
    pub async fn read(&mut self) -> Option<std::io::Result<Bytes>> {
        let file = self.file.clone()?;
        let n = self.unread().min(READ_CHUNK);
        if n == 0 {
            return None;
        }
        let (at, drained) = (self.read, self.read + n == self.written);
        let size = self.written;
        // Allocated here, not on a blocking-pool thread: each of those would
        // grow its own allocator arena.
        let mut buf = vec![0; to_usize(n)];
        let got = tokio::task::spawn_blocking(move || {
            file.read_exact_at(&mut buf, at)?;
            if drained {
                // Blocks back to the filesystem as soon as the client has them.
                file.set_len(0)?;
            }
            Ok::<_, std::io::Error>(Bytes::from(buf))
        })
        .await;
        let got = match got {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        };
        if got.is_ok() {
            self.read += n;
            if drained {
                self.pool.bytes.sub(size as i64);
                self.read = 0;
                self.written = 0;
                self.held.shrink_to(0);
            }
        }
        Some(got)
    }

    /// Closes the file (it has no name: closing its last descriptor frees
    /// its blocks) and gives its bytes back.
    pub fn discard(&mut self) {
        if self.file.take().is_some() {
            self.pool.files.dec();
        }
        self.pool.bytes.sub(self.written as i64);
        self.held.shrink_to(0);
        self.read = 0;
        self.written = 0;
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.discard();
    }
}
