//! Writing tokens into the walk's output: a string as it came, in one canonical spelling (for
//! digests of captured containers), as the gateway's own JSON text, or a strategy's rendering.

use super::lexer::Str;
use super::Walk;
use crate::mask::detect::each_reading;
use crate::mask::masker::Rendered;
use crate::mask::MIN_SECRET_LEN;

impl Walk<'_> {
    /// A string token exactly as it came. What a client reads in it goes to `escaped` for the
    /// secret guard: its JSON escapes undone, and every other reading the masker applies to
    /// personal data ([`each_reading`]: nested codings, compressed streams, wrapped base64,
    /// UTF-16 text, NFKC). One set of readings, two judges: the detectors judge them for
    /// personal data, the guard for a secret.
    pub(super) fn write_raw(&mut self, s: Str<'_>) {
        self.out.push(b'"');
        self.out.extend_from_slice(s.raw.as_bytes());
        self.out.push(b'"');
        let mut dec = std::mem::take(&mut self.dec);
        let text = s.value(&mut dec);
        if s.escaped {
            self.escaped.extend_from_slice(text.as_bytes());
            self.escaped.push(b'\n');
        }
        // A shorter string has no reading as long as the shortest secret looked for (readings
        // that decode shrink the text; `0x…` numbers gain no digit below that length).
        if text.len() >= MIN_SECRET_LEN {
            let escaped = &mut self.escaped;
            each_reading(text, |r| {
                if r != text {
                    escaped.extend_from_slice(r.as_bytes());
                    escaped.push(b'\n');
                }
            });
        }
        self.dec = dec;
    }

    /// A string token in one spelling whatever its escapes were, so a digest of a captured
    /// object does not depend on how upstream chose to escape it.
    pub(super) fn write_canonical(&mut self, s: Str<'_>) {
        if s.escaped {
            let mut dec = std::mem::take(&mut self.dec);
            self.write_str(s.value(&mut dec));
            self.dec = dec;
        } else {
            self.write_raw(s);
        }
    }

    pub(super) fn write_str(&mut self, s: &str) {
        // Writing JSON text to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }

    pub(super) fn write_scratch(&mut self, r: Rendered) {
        match r {
            Rendered::Null => self.out.extend_from_slice(b"null"),
            Rendered::Text => {
                let _ = serde_json::to_writer(&mut self.out, &self.scratch);
            }
        }
    }
}
