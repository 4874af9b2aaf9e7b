//! Containers whose members name a personal field (`{"field": "first_name", "value": …}`):
//! read once; when a direct member is a string that names one
//! ([`Walk::names_personal_field`]), the container's output is dropped and it is read again
//! as if under a personal key. Only on `report` families, where such leaves are otherwise
//! copied.

use super::lexer::{Fail, Lexer};
use super::{At, Mode, Walk};
use crate::mask::policy::Naming;

/// How many times the body's length the walk may re-read for containers whose members name a
/// personal field. Each such container is re-read once; only containers of that kind nested
/// in one another add up, and a body that needs more (hostile nesting) is refused as too deep
/// rather than walked quadratically.
pub(super) const REWALK_FACTOR: usize = 4;

impl Walk<'_> {
    /// A container whose direct members may name a personal field
    /// ([`Walk::names_personal_field`]): read once; if a member does, the container's output
    /// is dropped and it is read again as if under a personal key, so every undeclared leaf in
    /// it (before or after the naming member, nested or not) is masked. Only in `report` mode
    /// and outside personal keys: everywhere else such leaves are masked already.
    pub(super) fn container(
        &mut self,
        lx: &mut Lexer<'_>,
        at: At,
        mode: Mode,
        object: bool,
    ) -> Result<(), Fail> {
        // `enforce` families too for an array declared `key[]`: its elements are read joined.
        let watch = matches!(mode, Mode::Copy | Mode::Rule(_))
            && self.pol.as_ref().is_some_and(|p| {
                p.policy.mode == crate::mask::policy::Mode::Report
                    || (!object
                        && !at.item
                        && at.decl.is_some_and(|d| {
                            p.policy.declared.kind(d).is_some() && p.policy.declared.takes_array(d)
                        }))
            });
        if !watch {
            return if object {
                self.object(lx, at, mode)
            } else {
                self.array(lx, at, mode)
            };
        }
        let outer = std::mem::replace(&mut self.names_field, Naming::None);
        let outer_below = std::mem::replace(&mut self.label_below, false);
        let (start, out_len, escaped_len, by_policy) =
            (lx.pos, self.out.len(), self.escaped.len(), self.by_policy);
        let counts_at = self.counts_stack.len();
        self.counts_stack.extend_from_slice(&self.counts);
        let res = if object {
            self.object(lx, at, mode)
        } else {
            self.array(lx, at, mode)
        };
        let direct = std::mem::replace(&mut self.names_field, outer);
        let below = std::mem::replace(&mut self.label_below, outer_below);
        let mut named = direct != Naming::None || below;
        // An array of byte or character codes spells a text (`Buffer.toJSON()`'s `data`,
        // `[65,108,105,…]`): personal when that text is.
        if res.is_ok() && !named && !at.personal {
            let src = lx.source(start, lx.pos);
            // An array or object of scalars is also one value: its pieces' texts joined
            // (which of them a declaration exempts is `joined_personal`'s rule).
            named = (!object && self.codes_personal(src))
                || self.joined_personal(src, &self.out[out_len..], at, object);
        }
        // A label (`first_name`, `Full Name`) names the values of the container around this
        // one too: `columns` beside `rows`, a field descriptor beside its answer, pydantic's
        // `loc` beside `input`, JSON:API's `source` beside `meta`. Not from inside a personal
        // key, whose labels name what it holds (`address: {"label": "Home address", …}`).
        if res.is_ok() && direct == Naming::Label && !at.personal {
            self.label_below = true;
        }
        if res.is_err() || !named || at.personal {
            self.counts_stack.truncate(counts_at);
            // Under a personal key every undeclared leaf is masked already.
            return res;
        }
        // The first reading's rule counts go: the second reading counts every value again.
        if let Some(saved) = self.counts_stack.get(counts_at..) {
            self.counts.copy_from_slice(saved);
        }
        self.counts_stack.truncate(counts_at);
        let len = lx.pos - start;
        if len > self.rewalk_left {
            return Err(Fail::TooDeep);
        }
        self.rewalk_left -= len;
        self.out.truncate(out_len);
        self.escaped.truncate(escaped_len);
        self.by_policy = by_policy;
        lx.pos = start;
        let personal = At {
            personal: true,
            ..at
        };
        // The second reading's members name fields again: that must not reach the flags of
        // the container around this one.
        let outer = std::mem::replace(&mut self.names_field, Naming::None);
        let outer_below = std::mem::replace(&mut self.label_below, false);
        // Paths and policy counts were recorded by the first reading.
        let quiet = self
            .pol
            .as_mut()
            .map(|p| std::mem::replace(&mut p.quiet, true));
        let res = if object {
            self.object(lx, personal, mode)
        } else {
            self.array(lx, personal, mode)
        };
        if let (Some(p), Some(q)) = (self.pol.as_mut(), quiet) {
            p.quiet = q;
        }
        self.names_field = outer;
        self.label_below = outer_below;
        res
    }

    /// Values masked so far in this body, by rules and by the field policy.
    pub(super) fn masked_so_far(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum::<u64>() + u64::from(self.by_policy)
    }

    /// Rewrites the key written at `key_at` (`"…":`) as `"<key>#N"`: it is no field name and
    /// the container under it held personal data, so it is a map's key that names whom the
    /// data is about (`index: {"Alice Victimson": {"first_name": …, "email": …}}`).
    pub(super) fn data_key_above(&mut self, key_at: usize, member: usize) {
        let Some(end) = self.out.get(key_at..).and_then(find_key_end) else {
            return;
        };
        let placeholder = format!("\"<key>#{member}\"");
        self.out
            .splice(key_at..key_at + end, placeholder.into_bytes());
        self.by_policy = self.by_policy.saturating_add(1);
    }

    /// Whether the array source text `src` is a list of at least [`MIN_CODES`] integer codes
    /// whose text (as UTF-8 bytes when all are below 256, and as character codes) a detector
    /// or the label check finds personal.
    fn codes_personal(&self, src: &str) -> bool {
        let Some(p) = self.pol.as_ref() else {
            return false;
        };
        let inner = src.trim().trim_start_matches('[').trim_end_matches(']');
        // Most arrays hold no codes: the first element tells.
        if !inner.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            return false;
        }
        let codes: Option<Vec<u32>> = inner
            .split(',')
            .map(|t| {
                let t = t.trim();
                (t.len() <= 7 && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| t.parse().ok())
                    .flatten()
            })
            .collect();
        let Some(codes) = codes.filter(|c| c.len() >= MIN_CODES) else {
            return false;
        };
        let bytes: Option<Vec<u8>> = codes.iter().map(|&c| u8::try_from(c).ok()).collect();
        let as_bytes = bytes.and_then(|b| String::from_utf8(b).ok());
        let as_chars: Option<String> = codes.iter().map(|&c| char::from_u32(c)).collect();
        [as_bytes, as_chars].into_iter().flatten().any(|text| {
            p.policies.detectors().scan(&text).is_some()
                || p.policies.key_words().labels_personal(&text)
        })
    }
}

/// Fewest codes read as a text: fewer hold too few characters for any shape.
const MIN_CODES: usize = 8;

/// Where the JSON string token at the start of `b` ends (the index after its closing quote).
fn find_key_end(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether a key's raw token is a plain field name (ASCII letters, digits, `_`, `-`, at most
/// 64 bytes; an escape makes it not plain): such a key is a schema's, never data.
pub(super) fn plain_key(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
