//! Logs: `RUST_LOG` when set, else `log.level`; JSON or human lines.
//!
//! Two streams, neither of which can ever hold up a request: the access log
//! (`access_log`, one line per request, written by the gateway's own
//! formatter) and everything else (`tracing`). Both go through a bounded
//! [`LineQueue`] drained by a writer thread; when the sink does not keep up the
//! lines that do not fit are dropped and counted in
//! `gateway_log_lines_dropped_total{stream}`. The two share one queue when they
//! share a stream (stdout by default), so their lines never interleave.
//!
//! What is logged: ids, route templates, statuses, sizes, durations, client
//! names. Never bodies, credentials, personal data or customer ids.

pub mod access_log;
pub mod config;
mod escape;
mod flags;
mod queue;
pub mod trace_id;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use self::config::{LogFormat, LogSettings};
pub use queue::LineQueue;

// The counts of lines dropped because their queue was full are the metric's
// (`gateway_log_lines_dropped_total`, read at scrape time).
pub use crate::metrics::{ACCESS_DROPPED, LOG_DROPPED};

/// `log.queue_bytes`, taken by the first `init`; the shared queues are sized
/// when first used.
static QUEUE_BYTES: AtomicUsize = AtomicUsize::new(1 << 20);

pub fn queue_bytes() -> usize {
    QUEUE_BYTES.load(Ordering::Relaxed)
}

static STDOUT: OnceLock<LineQueue> = OnceLock::new();
static STDERR: OnceLock<LineQueue> = OnceLock::new();

/// The process's stdout (or stderr) behind one queue, started on first use.
pub fn stdout_queue() -> &'static LineQueue {
    STDOUT.get_or_init(|| {
        LineQueue::spawn("stdout", Box::new(std::io::stdout()), queue_bytes())
            .expect("a log writer thread can start")
    })
}

pub fn stderr_queue() -> &'static LineQueue {
    STDERR.get_or_init(|| {
        LineQueue::spawn("stderr", Box::new(std::io::stderr()), queue_bytes())
            .expect("a log writer thread can start")
    })
}

/// `tracing`'s writer: each event arrives as one `write` of a whole line.
struct QueueWriter;

impl std::io::Write for QueueWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        stdout_queue().push(buf, &LOG_DROPPED);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init(settings: &LogSettings) {
    init_with(settings.format, &settings.level, settings.queue_bytes);
}

pub fn init_with(format: LogFormat, level: &str, queue_bytes: usize) {
    QUEUE_BYTES.store(queue_bytes, Ordering::Relaxed);
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(|| QueueWriter);
    // try_init: a second call (tests, demo after sandbox) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        // Colour codes only for a person at a terminal, never into a file or collector.
        LogFormat::Human => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
}

/// Everything queued on stdout and stderr so far, written (bounded: a stuck
/// sink must not hold up an exit).
pub fn flush() {
    let timeout = std::time::Duration::from_secs(2);
    for q in [STDOUT.get(), STDERR.get()].into_iter().flatten() {
        q.flush(timeout);
    }
}
