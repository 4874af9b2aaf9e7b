//! Logs: `RUST_LOG` when set, else `log.level`; JSON or human lines. Level and
//! format change on a configuration reload ([`apply`]).
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
pub mod metrics;
mod queue;
pub mod trace_id;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tracing_subscriber::layer::{Layer, Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

use self::config::{LogFormat, LogSettings};
pub use queue::LineQueue;

// The counts of lines dropped because their queue was full, read by
// `gateway_log_lines_dropped_total` at scrape time.
pub use metrics::{ACCESS_DROPPED, LOG_DROPPED};

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

type Filter = reload::Layer<EnvFilter, Registry>;
type Lines = Box<dyn Layer<Layered<Filter, Registry>> + Send + Sync>;

/// What a configuration reload changes of the subscriber `init` installed.
struct Handles {
    filter: reload::Handle<EnvFilter, Registry>,
    lines: reload::Handle<Lines, Layered<Filter, Registry>>,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

/// The filter `level` names, unless `RUST_LOG` is set (and valid), which wins.
fn filter(level: &str) -> (EnvFilter, bool) {
    match EnvFilter::try_from_default_env() {
        Ok(f) => (f, true),
        Err(_) => (
            EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info")),
            false,
        ),
    }
}

/// The line formatter of `format`, writing to the stdout queue.
fn lines(format: LogFormat) -> Lines {
    let base = tracing_subscriber::fmt::layer()
        .with_target(true)
        .with_writer(|| QueueWriter);
    match format {
        LogFormat::Json => base.json().flatten_event(true).boxed(),
        // Colour codes only for a person at a terminal, never into a file or collector.
        LogFormat::Human => base.with_ansi(std::io::stdout().is_terminal()).boxed(),
    }
}

pub fn init_with(format: LogFormat, level: &str, queue_bytes: usize) {
    QUEUE_BYTES.store(queue_bytes, Ordering::Relaxed);
    // Both behind `reload` layers, so a configuration reload can change them.
    let (filter, handle) = reload::Layer::new(filter(level).0);
    let (lines, lines_handle) = reload::Layer::new(lines(format));
    // try_init: a second call (tests, demo after sandbox) keeps the first subscriber.
    if tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .try_init()
        .is_ok()
    {
        let _ = HANDLES.set(Handles {
            filter: handle,
            lines: lines_handle,
        });
    }
}

/// How a configuration reload's `log.level` took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelApplied {
    /// The new level filters from now on.
    Applied,
    /// `RUST_LOG` is set and still wins over `log.level`.
    ShadowedByRustLog,
    /// No subscriber of this process's `init` to change (a test, a second app).
    NotInstalled,
}

/// Applies `log.level` and `log.format` to the running subscriber (a configuration
/// reload); `RUST_LOG`, when set, still wins over the level.
pub fn apply(settings: &LogSettings) -> LevelApplied {
    let Some(h) = HANDLES.get() else {
        return LevelApplied::NotInstalled;
    };
    let _ = h.lines.reload(lines(settings.format));
    let (filter, from_env) = filter(&settings.level);
    if from_env {
        return LevelApplied::ShadowedByRustLog;
    }
    match h.filter.reload(filter) {
        Ok(()) => LevelApplied::Applied,
        Err(_) => LevelApplied::NotInstalled,
    }
}

/// Everything queued on stdout and stderr so far, written (bounded: a stuck
/// sink must not hold up an exit).
pub fn flush() {
    let timeout = std::time::Duration::from_secs(2);
    for q in [STDOUT.get(), STDERR.get()].into_iter().flatten() {
        q.flush(timeout);
    }
}
