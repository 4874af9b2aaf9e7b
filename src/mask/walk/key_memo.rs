//! A per-thread memo of what the field policy's key checks found for each distinct key.
//!
//! Every object key of every body goes through the detectors, the key-word vocabulary and
//! the label check, each over every reading of the key (percent, escape, base64, hex): a
//! few thousand instructions per key, for keys that repeat from body to body (an API has a
//! schema). The answers are a pure function of the key's text and the masker's policies, so
//! each distinct key is checked once per thread and masker, and later sightings reuse the
//! answers: the same checks decide, they run once per key instead of once per occurrence.
//!
//! Bounds and scope:
//! - Keyed by the masker's generation (a new masker, after a reload, starts empty), per
//!   thread (no lock, no shared cache line on the hot path).
//! - Only keys of at most [`MAX_KEY_BYTES`] bytes in which no detector fired, no reading was
//!   cut at a bound and that carry no label are kept: a key that is personal data itself (an email, a labelled text) is
//!   checked afresh each time and never held here.
//! - At most [`MAX_KEYS`] keys per thread; when full the memo starts over, so a body full of
//!   random keys costs what it cost before the memo, never more than that plus one clear.

use std::cell::RefCell;

use crate::mask::detect::Detector;
pub(in crate::mask) use crate::mask::memo::next_generation;
use crate::mask::memo::{self, Bounds, Memo};

/// Longest key kept.
const MAX_KEY_BYTES: usize = 64;
/// Most keys kept per thread.
const MAX_KEYS: usize = 1024;

/// What the key checks found for one key (see `Pol::key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct KeyFacts {
    /// The first detector that fires in a reading of the key.
    pub(super) detected: Option<Detector>,
    /// No detector fired and a reading of the key labels a personal field.
    pub(super) labelled: bool,
    /// No detector fired and a reading of the key stopped at a bound with text unread.
    pub(super) bounded: bool,
    /// A detector fired, a reading was cut, a key word names personal data, or the key is
    /// labelled.
    pub(super) personal: bool,
    /// One of the key's words is a role word (`payer_info`, `recipient_display`, `payer`).
    pub(super) role_word: bool,
}

thread_local! {
    static MEMO: RefCell<Memo<KeyFacts>> = RefCell::new(Memo::default());
}

const BOUNDS: Bounds = Bounds {
    max_text: MAX_KEY_BYTES,
    max_entries: MAX_KEYS,
};

/// The facts of `key` under the masker of `generation`: remembered, or `check(key)`. Facts
/// that say the key is data (a detector fired, a label, a cut reading) are never kept.
pub(super) fn key_facts(
    generation: u64,
    key: &str,
    check: impl FnOnce(&str) -> KeyFacts,
) -> KeyFacts {
    memo::remembered(
        &MEMO,
        &BOUNDS,
        generation,
        key,
        || check(key),
        |facts| facts.detected.is_none() && !facts.labelled && !facts.bounded,
    )
}

#[cfg(test)]
mod tests {
    use super::{key_facts, next_generation, KeyFacts, MAX_KEYS};
    use crate::mask::detect::Detector;

    const PLAIN: KeyFacts = KeyFacts {
        detected: None,
        labelled: false,
        bounded: false,
        personal: false,
        role_word: false,
    };

    #[test]
    fn a_key_is_checked_once_per_generation() {
        let g = next_generation();
        let mut checks = 0;
        for _ in 0..3 {
            key_facts(g, "amount", |_| {
                checks += 1;
                PLAIN
            });
        }
        assert_eq!(checks, 1);
        // A new masker checks again, and its answer is the one used.
        let g2 = next_generation();
        let personal = KeyFacts {
            personal: true,
            ..PLAIN
        };
        assert_eq!(key_facts(g2, "amount", |_| personal), personal);
        assert_eq!(key_facts(g2, "amount", |_| PLAIN), personal);
        assert_eq!(key_facts(g, "amount", |_| PLAIN), PLAIN);
    }

    #[test]
    fn keys_that_are_data_are_never_remembered() {
        let g = next_generation();
        let detected = KeyFacts {
            detected: Some(Detector::Email),
            personal: true,
            ..PLAIN
        };
        let labelled = KeyFacts {
            labelled: true,
            personal: true,
            ..PLAIN
        };
        let cut = KeyFacts {
            bounded: true,
            personal: true,
            ..PLAIN
        };
        let mut checks = 0;
        for _ in 0..2 {
            key_facts(g, "alice@example.com", |_| {
                checks += 1;
                detected
            });
            key_facts(g, "name=Alice", |_| {
                checks += 1;
                labelled
            });
            key_facts(g, &"k".repeat(65), |_| {
                checks += 1;
                PLAIN
            });
            key_facts(g, "JTI1MjU", |_| {
                checks += 1;
                cut
            });
        }
        assert_eq!(checks, 8);
    }

    #[test]
    fn a_full_memo_starts_over() {
        let g = next_generation();
        for i in 0..=MAX_KEYS {
            key_facts(g, &format!("k{i}"), |_| PLAIN);
        }
        // `k0` went with the clear; the last key is kept.
        let mut checks = 0;
        key_facts(g, "k0", |_| {
            checks += 1;
            PLAIN
        });
        key_facts(g, &format!("k{MAX_KEYS}"), |_| {
            checks += 1;
            PLAIN
        });
        assert_eq!(checks, 1);
    }
}
