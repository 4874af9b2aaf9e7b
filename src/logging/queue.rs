//! A bounded line queue in front of a slow or stuck sink (a pipe nobody reads,
//! a log collector that stalls, a disk under writeback): request tasks append
//! whole lines to a byte buffer under a short lock and never wait; one writer
//! thread swaps the buffer out and writes it in one batch. A line that does not
//! fit is dropped and counted; the request goes on.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the writer waits after a batch before taking the next one: under
/// load a batch then holds many lines (one `write` each), and producers never
/// have to wake the writer, which sleeps on the condvar only when idle.
const LINGER: Duration = Duration::from_millis(1);

struct State {
    buf: Vec<u8>,
    /// The writer waits on `wake` and must be notified.
    sleeping: bool,
    /// The writer holds a batch it has not finished writing.
    writing: bool,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    drained: Condvar,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a buffer of whole lines: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A handle on one queue and its writer thread. Clones share both.
#[derive(Clone)]
pub struct LineQueue {
    shared: Arc<Shared>,
}

impl LineQueue {
    /// Starts the writer thread for `sink`. `capacity` bounds the bytes waiting.
    pub fn spawn(
        name: &str,
        sink: Box<dyn Write + Send>,
        capacity: usize,
    ) -> std::io::Result<LineQueue> {
        let capacity = capacity.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buf: Vec::with_capacity(capacity),
                sleeping: false,
                writing: false,
                closed: false,
            }),
            wake: Condvar::new(),
            drained: Condvar::new(),
            capacity,
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name(format!("log-{name}"))
            .spawn(move || write_loop(&writer, sink))?;
        Ok(LineQueue { shared })
    }

    /// Queues `line` (one or more whole lines) if it fits; otherwise counts it
    /// in `dropped`. Never blocks on the sink.
    pub fn push(&self, line: &[u8], dropped: &AtomicU64) -> bool {
        let mut state = self.shared.lock();
        if state.closed || state.buf.len() + line.len() > self.shared.capacity {
            drop(state);
            dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        state.buf.extend_from_slice(line);
        let wake = std::mem::replace(&mut state.sleeping, false);
        drop(state);
        if wake {
            self.shared.wake.notify_one();
        }
        true
    }

    /// Waits until everything queued so far is written, at most `timeout`
    /// (a stuck sink must not hold up shutdown). True when it was.
    pub fn flush(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !state.buf.is_empty() || state.writing {
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return false;
            };
            if std::mem::replace(&mut state.sleeping, false) {
                self.shared.wake.notify_one();
            }
            state = match self.shared.drained.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }

    /// Flushes (bounded by `timeout`), then ends the writer thread; later
    /// lines are dropped and counted.
    pub fn close(&self, timeout: Duration) {
        self.flush(timeout);
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

fn write_loop(shared: &Shared, mut sink: Box<dyn Write + Send>) {
    let mut batch = Vec::with_capacity(shared.capacity);
    loop {
        {
            let mut state = shared.lock();
            while state.buf.is_empty() {
                shared.drained.notify_all();
                if state.closed {
                    return;
                }
                state.sleeping = true;
                state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            std::mem::swap(&mut state.buf, &mut batch);
            state.writing = true;
        }
        // A write error (a closed pipe, a full disk) loses this batch; there is
        // nowhere better to report it than the sink that just failed.
        let _ = sink.write_all(&batch).and_then(|()| sink.flush());
        batch.clear();
        shared.lock().writing = false;
        std::thread::sleep(LINGER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A sink that blocks every write until the test lets it go.
    struct Gate(Arc<Mutex<Vec<u8>>>, mpsc::Receiver<()>);
    impl Write for Gate {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let _ = self.1.recv();
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_drops_and_counts_instead_of_blocking() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let (open, gate) = mpsc::channel();
        let q = LineQueue::spawn("test", Box::new(Gate(out.clone(), gate)), 64).unwrap();
        let dropped = AtomicU64::new(0);
        let started = Instant::now();
        // The first line is taken by the writer, which then blocks in the sink;
        // the queue behind it holds 64 bytes; the rest is dropped.
        let line = [b'x'; 15];
        let mut kept = 0;
        for _ in 0..1000 {
            kept += usize::from(q.push(&line, &dropped));
            std::thread::sleep(Duration::from_micros(5));
        }
        assert!(started.elapsed() < Duration::from_secs(5), "push waited");
        let dropped = dropped.load(Ordering::Relaxed) as usize;
        assert_eq!(kept + dropped, 1000);
        assert!((1..=8).contains(&kept), "kept {kept}");
        for _ in 0..kept * 2 {
            let _ = open.send(());
        }
        drop(open);
        assert!(q.flush(Duration::from_secs(5)));
        assert_eq!(out.lock().unwrap().len(), kept * line.len());
    }

    #[test]
    fn lines_arrive_whole_and_in_order() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let (open, gate) = mpsc::channel();
        drop(open); // never blocks
        let q = LineQueue::spawn("order", Box::new(Gate(out.clone(), gate)), 1 << 20).unwrap();
        let dropped = AtomicU64::new(0);
        for n in 0..5000 {
            assert!(q.push(format!("{n}\n").as_bytes(), &dropped));
        }
        assert!(q.flush(Duration::from_secs(5)));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let got: Vec<usize> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(got, (0..5000).collect::<Vec<_>>());
        q.close(Duration::from_secs(1));
        assert!(!q.push(b"late\n", &dropped));
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
    }
}
