//! A per-thread memo of [`KeyWords::is_personal_key`](super::words::KeyWords::is_personal_key)
//! answers for labels met in text.
//!
//! Labels in free text (`created_by: "api_access_key:…"`, `Customer name: …`, `a=1&email=…`)
//! go through the whole key check each time a string holding one is read, and the check
//! walks the vocabulary's derived forms: tens of thousands of instructions per label, for
//! labels that repeat from body to body. The answer is a pure function of the label and the
//! vocabulary, so it is computed once per thread and vocabulary.
//!
//! Bounds: keyed by the vocabulary's generation (a vocabulary built after a reload starts
//! empty); labels of at most [`MAX_LABEL_BYTES`] bytes; at most [`MAX_LABELS`] per thread,
//! after which the memo starts over (never more work than without it, plus one clear).

use std::cell::RefCell;

use crate::mask::memo::{self, Bounds, Memo};

/// Longest label kept.
const MAX_LABEL_BYTES: usize = 64;
/// Most labels kept per thread.
const MAX_LABELS: usize = 1024;

/// A vocabulary's identity in the memo: a fresh number for every vocabulary built (clones
/// share it, as they share the words). Not part of what a vocabulary is: left out of its
/// equality and its `Debug`, so two loads of the same configuration compare and print alike.
/// The default (0) is no vocabulary's: a memo only ever holds answers of a built one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Generation(u64);

impl PartialEq for Generation {
    fn eq(&self, _: &Generation) -> bool {
        true
    }
}

impl Eq for Generation {}

impl Generation {
    pub(crate) fn fresh() -> Generation {
        Generation(memo::next_generation())
    }
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Generation")
    }
}

thread_local! {
    static MEMO: RefCell<Memo<bool>> = RefCell::new(Memo::default());
}

const BOUNDS: Bounds = Bounds {
    max_text: MAX_LABEL_BYTES,
    max_entries: MAX_LABELS,
};

/// `check(label)` for the vocabulary of `generation`, remembered.
pub(super) fn remembered(
    generation: Generation,
    label: &str,
    check: impl FnOnce() -> bool,
) -> bool {
    memo::remembered(&MEMO, &BOUNDS, generation.0, label, check, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_per_vocabulary_and_bounded() {
        let (a, b) = (Generation(u64::MAX - 1), Generation(u64::MAX - 2));
        assert!(remembered(a, "email", || true));
        // Remembered: the check is not run again for the same vocabulary.
        assert!(remembered(a, "email", || unreachable!("remembered")));
        // Another vocabulary asks afresh.
        assert!(!remembered(b, "email", || false));
        assert!(!remembered(b, "email", || unreachable!("remembered")));
        // A long label is never kept.
        let long = "x".repeat(MAX_LABEL_BYTES + 1);
        assert!(remembered(b, &long, || true));
        assert!(!remembered(b, &long, || false));
        // A full memo starts over instead of growing.
        for i in 0..MAX_LABELS * 2 {
            remembered(b, &format!("label{i}"), || false);
        }
        MEMO.with(|m| assert!(m.borrow().len() <= MAX_LABELS));
    }
}
