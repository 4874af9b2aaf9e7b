//! The detectors and the label check in one enumeration of a string's readings.
//!
//! The field policy asks two questions of every key and string leaf: does a detector fire
//! in some reading ([`Detectors::scan`]), and, if none does, does some reading label the
//! text with a personal key ([`super::any_text_reading`] with a label check)? Asked one after the
//! other, every reading was produced twice (percent, escape, base64 and hex decodings each
//! allocate). This asks both on each reading as it is produced: the same readings, in the
//! same order, with the same checks, so the answers are the ones the two passes gave (see
//! the property test in `joint_tests.rs`).

use super::{any_reading_from, any_text_reading, Detector, Detectors, Origin};

impl Detectors {
    /// `(detected, labelled)`, where `detected` is [`Detectors::scan`]`(s)` and `labelled`
    /// is `detected.is_none() && any_text_reading(s, label)`: the label check reads no text
    /// carved out of binary (see [`Origin`]).
    /// [`Self::scan_labelled`], and whether a reading stopped at a bound with text left
    /// unread (as [`Detectors::scan_bounded`] tells it).
    pub(crate) fn scan_labelled_bounded(
        &self,
        s: &str,
        label: impl FnMut(&str) -> bool,
    ) -> (Option<Detector>, bool, bool) {
        let (found, labelled) = self.scan_labelled(s, label);
        let bounded = found.is_none()
            && Detector::ALL.iter().any(|&d| self.is_enabled(d))
            && super::readings::last_reading_bounded();
        (found, labelled, bounded)
    }

    pub(crate) fn scan_labelled(
        &self,
        s: &str,
        mut label: impl FnMut(&str) -> bool,
    ) -> (Option<Detector>, bool) {
        let among = &Detector::ALL;
        if !among.iter().any(|&d| self.is_enabled(d)) {
            // `scan` reads nothing when no detector is on.
            return (None, any_text_reading(s, label));
        }
        let mut found = None;
        let mut labelled = false;
        // Stops at the first reading a detector fires on, as `scan` does; until then every
        // reading is also checked for a label (once one is found, no more need be).
        any_reading_from(s, |t, origin| {
            found = self.scan_plain(t, among);
            if found.is_some() {
                return true;
            }
            if !labelled && origin == Origin::Text {
                labelled = label(t);
            }
            false
        });
        (found, found.is_none() && labelled)
    }
}

#[cfg(test)]
#[path = "joint_tests.rs"]
mod tests;
