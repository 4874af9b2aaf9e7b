//! `gateway_log_lines_dropped_total{stream}`: lines dropped because their
//! queue was full. The queues, like stdout, belong to the process rather than
//! to one gateway, so the counts are process-wide statics bumped by the
//! queues' callers and read into each registry's family at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::{IntCounterVec, Opts, Registry};

use crate::metrics::Family;

crate::label_enum! {
    /// `stream` of `gateway_log_lines_dropped_total`.
    pub enum LogStream {
        Access => "access",
        Log => "log",
    }
}

/// Lines dropped because their queue was full, per stream, for the whole
/// process (every gateway in it shares stdout).
pub static ACCESS_DROPPED: AtomicU64 = AtomicU64::new(0);
pub static LOG_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Registers the family on `r` (each gateway's registry reads the same counts).
pub fn register(r: &Registry) -> prometheus::Result<()> {
    r.register(Box::new(LogDrops::new()?))
}

/// Read at scrape time from [`ACCESS_DROPPED`] and [`LOG_DROPPED`].
struct LogDrops {
    lines: Family<IntCounterVec, 1>,
    /// Two scrapes at once must not both add the same difference.
    sync: std::sync::Mutex<()>,
}

impl LogDrops {
    fn new() -> prometheus::Result<LogDrops> {
        let lines = Family::new(IntCounterVec::new(
            Opts::new(
                "gateway_log_lines_dropped_total",
                "Log lines dropped because their output did not keep up (the queue in front of it was full), by stream (access, log).",
            ),
            &["stream"],
        )?);
        for stream in LogStream::ALL {
            lines.with([&stream]);
        }
        Ok(LogDrops {
            lines,
            sync: std::sync::Mutex::new(()),
        })
    }
}

impl prometheus::core::Collector for LogDrops {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.lines.desc()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        let _one = self.sync.lock().unwrap_or_else(|e| e.into_inner());
        for (stream, total) in [
            (LogStream::Access, &ACCESS_DROPPED),
            (LogStream::Log, &LOG_DROPPED),
        ] {
            let counter = self.lines.with([&stream]);
            let now = total.load(Ordering::Relaxed);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        self.lines.collect()
    }
}
