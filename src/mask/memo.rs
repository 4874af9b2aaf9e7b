//! One per-thread memo of answers that are a pure function of a short text and of the
//! masker (or vocabulary) that computed them: the key facts of object keys
//! (`walk/key_memo.rs`) and the key-word answers for labels met in text
//! (`policy/key_word_memo.rs`).
//!
//! Bounds and scope, the same for every memo:
//! - keyed by a generation (every masker and vocabulary built takes a fresh one from
//!   [`next_generation`]), so answers of an older one are never used: a memo meeting a new
//!   generation starts empty;
//! - per thread (no lock, no shared cache line on the hot path);
//! - texts of at most `max_text` bytes, at most `max_entries` of them; when full the memo
//!   starts over, so a body full of distinct texts costs what it cost without the memo, plus
//!   one clear.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;

/// A generation no masker or vocabulary has: each takes a fresh one.
pub(crate) fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The answers of one generation.
pub(crate) struct Memo<V> {
    generation: u64,
    /// foldhash (seeded per process): short texts, and the memo is bounded.
    answers: foldhash::HashMap<Box<str>, V>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            generation: 0,
            answers: foldhash::HashMap::default(),
        }
    }
}

impl<V> Memo<V> {
    /// How many answers are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.answers.len()
    }
}

/// The bounds of one memo.
pub(crate) struct Bounds {
    /// Longest text kept.
    pub max_text: usize,
    /// Most texts kept per thread.
    pub max_entries: usize,
}

/// The answer for `text` under `generation`: remembered in `memo`, or `check()`, kept when
/// `keep` accepts it. Generation 0 (no masker's or vocabulary's) is never remembered.
pub(crate) fn remembered<V: Copy + 'static>(
    memo: &'static LocalKey<RefCell<Memo<V>>>,
    bounds: &Bounds,
    generation: u64,
    text: &str,
    check: impl FnOnce() -> V,
    keep: impl FnOnce(&V) -> bool,
) -> V {
    if generation == 0 || text.len() > bounds.max_text {
        return check();
    }
    let known = memo.with(|m| {
        let m = m.try_borrow().ok()?;
        (m.generation == generation)
            .then(|| m.answers.get(text).copied())
            .flatten()
    });
    if let Some(answer) = known {
        return answer;
    }
    let answer = check();
    if keep(&answer) {
        memo.with(|m| {
            let Ok(mut m) = m.try_borrow_mut() else {
                return;
            };
            if m.generation != generation || m.answers.len() >= bounds.max_entries {
                m.answers.clear();
                m.generation = generation;
            }
            m.answers.insert(text.into(), answer);
        });
    }
    answer
}
