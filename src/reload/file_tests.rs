use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use prometheus::{IntCounterVec, Opts};

use crate::metrics::labels::ReloadResult;
use crate::metrics::Family;

use super::{Load, ReloadableFile};

/// Answers with whatever the test put in `next`; a value is a list of names.
struct Fake {
    next: Mutex<Result<Vec<&'static str>, &'static str>>,
}

impl Fake {
    fn new(first: Vec<&'static str>) -> Fake {
        Fake {
            next: Mutex::new(Ok(first)),
        }
    }

    fn set(&self, next: Result<Vec<&'static str>, &'static str>) {
        *self.next.lock().unwrap() = next;
    }
}

impl Load for Fake {
    type Value = Vec<&'static str>;
    type Error = &'static str;
    const WHAT: &'static str = "fake file";

    fn files(&self) -> Vec<PathBuf> {
        vec![PathBuf::from("/fake/file")]
    }

    fn load(&self) -> Result<Self::Value, Self::Error> {
        self.next.lock().unwrap().clone()
    }

    /// Marks what the previous value handed over, so tests can see it happen.
    fn carry_over(&self, next: &mut Self::Value, previous: &Self::Value) {
        if previous.contains(&"carried") || previous.contains(&"a") {
            next.push("carried");
        }
    }

    fn count(value: &Self::Value) -> usize {
        value.len()
    }
}

fn reloads() -> Family<IntCounterVec, 1> {
    Family::new(IntCounterVec::new(Opts::new("fake_reloads_total", "test"), &["result"]).unwrap())
}

fn count(reloads: &Family<IntCounterVec, 1>, result: &str) -> u64 {
    let result = ReloadResult::ALL
        .into_iter()
        .find(|r| r.as_str() == result)
        .expect("a reload result");
    reloads.with([&result]).get()
}

/// Everything logged while `f` runs.
fn logged(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn assert_logged_one_load(log: &str, entries: usize) {
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("INFO"), "{log}");
    assert!(log.contains("fake file loaded"), "{log}");
    assert!(log.contains(&format!("count={entries}")), "{log}");
}

#[test]
fn the_first_read_is_counted_and_logged_as_a_load() {
    let r = reloads();
    let log = logged(|| {
        let file = ReloadableFile::open(Fake::new(vec!["a", "b"]), &r).unwrap();
        assert_eq!(*file.get(), vec!["a", "b"]);
        assert!(file.loaded_at_unix() > 0);
    });
    assert_eq!((count(&r, "ok"), count(&r, "failed")), (1, 0));
    assert_logged_one_load(&log, 2);
}

#[test]
fn a_first_read_that_fails_is_returned_not_counted() {
    let r = reloads();
    let fake = Fake::new(vec![]);
    fake.set(Err("unreadable"));
    assert_eq!(ReloadableFile::open(fake, &r).err(), Some("unreadable"));
    assert_eq!((count(&r, "ok"), count(&r, "failed")), (0, 0));
}

#[test]
fn a_good_reload_swaps_counts_ok_and_carries_over() {
    let r = reloads();
    let file = ReloadableFile::open(Fake::new(vec!["a"]), &r).unwrap();
    let before = file.get();
    file.loader().set(Ok(vec!["x", "y", "z"]));
    let log = logged(|| file.reload().unwrap());
    assert_eq!(*file.get(), vec!["x", "y", "z", "carried"]);
    assert_eq!(*file.guard().as_ref(), *file.get());
    assert_eq!(
        *before,
        vec!["a"],
        "a snapshot taken before stays as it was"
    );
    assert_eq!((count(&r, "ok"), count(&r, "failed")), (2, 0));
    assert_logged_one_load(&log, 4);
}

#[test]
fn a_failed_reload_keeps_the_previous_value_counts_failed_and_logs_once() {
    let r = reloads();
    let file = ReloadableFile::open(Fake::new(vec!["a"]), &r).unwrap();
    file.loader().set(Err("half-written"));
    let log = logged(|| assert_eq!(file.reload(), Err("half-written")));
    assert_eq!(*file.get(), vec!["a"]);
    assert_eq!((count(&r, "ok"), count(&r, "failed")), (1, 1));
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("ERROR"), "{log}");
    assert!(
        log.contains("fake file reload failed; keeping the previous fake file"),
        "{log}"
    );
    assert!(log.contains("half-written"), "{log}");

    // Fixed again: the next trigger loads it.
    file.loader().set(Ok(vec!["b"]));
    file.reload().unwrap();
    assert_eq!(*file.get(), vec!["b", "carried"]);
    assert_eq!((count(&r, "ok"), count(&r, "failed")), (2, 1));
}
