//! WARN lines about Redis, at most one per operation every [`EVERY`]: an outage must be
//! in the log within seconds, and must not flood it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(super) struct Warnings(Mutex<HashMap<&'static str, (Instant, u64)>>);

impl Warnings {
    /// `Some(n)` when a line may be logged now for `operation` (`n`: how many were left
    /// out since the last one); `None` when it is too soon.
    pub(super) fn allow(&self, operation: &'static str) -> Option<u64> {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match last.get_mut(operation) {
            Some((at, suppressed)) if now.duration_since(*at) < EVERY => {
                *suppressed += 1;
                None
            }
            Some((at, suppressed)) => {
                *at = now;
                Some(std::mem::take(suppressed))
            }
            None => {
                last.insert(operation, (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_operation_then_silence() {
        let w = Warnings::default();
        assert_eq!(w.allow("publish"), Some(0));
        assert_eq!(w.allow("publish"), None);
        assert_eq!(w.allow("publish"), None);
        assert_eq!(w.allow("connect"), Some(0), "each operation has its own");
    }
}
