//! Streaming transcoder: serde_json parses, our visitor writes compact JSON straight to the
//! output while the keys go past, so no tree is built and key order is kept by construction.
//!
//! Recursion is bounded by `max_depth` (<= 127), checked before each container is entered, so
//! hostile nesting ends in `TooDeep` long before the stack is at risk. A string holding a JSON
//! object or array is masked as a document of its own, one level deeper than the string, so
//! documents in strings in strings also end in `TooDeep`.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::config::Strategy;
use super::error::MaskError;
use super::masker::{Masker, Rendered};

mod keys;

use keys::{Key, KeySeed, NumberSeed};

/// Key under which serde_json (with `arbitrary_precision`) presents a number's source text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

pub(super) fn run(m: &Masker, text: &str) -> Result<(Vec<u8>, Box<[u32]>), MaskError> {
    let mut w = Walk {
        m,
        out: Vec::with_capacity(text.len() + 64),
        counts: vec![0; m.rules.len()].into_boxed_slice(),
        scratch: String::new(),
        num: String::new(),
        too_deep: false,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = ValueSeed {
        w: &mut w,
        depth: 0,
        node: m.paths.root(),
        mode: Mode::Copy,
    };
    let res = seed.deserialize(&mut de).and_then(|()| de.end());
    match res {
        Ok(()) => Ok((w.out, w.counts)),
        Err(_) if w.too_deep => Err(MaskError::TooDeep),
        Err(e) => Err(MaskError::Parse {
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// What happens to the value being read.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Not personal: written unchanged.
    Copy,
    /// Under a key matched by this rule: scalars are rewritten by its strategy, arrays are
    /// transparent, objects are replaced whole.
    Rule(usize),
    /// Inside an object under an `hmac` rule: copied verbatim from this output offset on, so
    /// the object's compact text can be digested (then dropped) when it closes.
    Capture(usize),
    /// Inside a container already replaced as a whole: parsed (to validate it) but not written.
    Skip,
}

struct Walk<'m> {
    m: &'m Masker,
    out: Vec<u8>,
    counts: Box<[u32]>,
    /// Reused buffers so masking a value does not allocate once they have grown.
    scratch: String,
    num: String,
    /// Set when we abort on depth, so the resulting serde error can be told apart.
    too_deep: bool,
}

impl Walk<'_> {
    fn too_deep<E: de::Error>(&mut self) -> E {
        self.too_deep = true;
        E::custom("nesting too deep")
    }

    fn write_str<E: de::Error>(&mut self, s: &str) -> Result<(), E> {
        serde_json::to_writer(&mut self.out, s).map_err(E::custom)
    }

    fn write_scratch<E: de::Error>(&mut self, r: Rendered) -> Result<(), E> {
        match r {
            Rendered::Null => {
                self.out.extend_from_slice(b"null");
                Ok(())
            }
            Rendered::Text => {
                serde_json::to_writer(&mut self.out, &self.scratch).map_err(E::custom)
            }
        }
    }

    fn count(&mut self, rule: usize) {
        if let Some(c) = self.counts.get_mut(rule) {
            *c = c.saturating_add(1);
        }
    }

    fn strategy(&self, rule: usize) -> Strategy {
        // Rule indexes come from the masker's own tables; Redact is the safe reading anyway.
        self.m
            .rules
            .get(rule)
            .map_or(Strategy::Redact, |r| r.strategy)
    }

    fn string<E: de::Error>(
        &mut self,
        mode: Mode,
        v: &str,
        depth: usize,
        node: Option<u32>,
    ) -> Result<(), E> {
        match mode {
            Mode::Copy => {
                if !self.embedded(v, depth, node)? {
                    self.write_str(v)?;
                }
                Ok(())
            }
            Mode::Capture(_) => self.write_str(v),
            Mode::Skip => Ok(()),
            Mode::Rule(r) => {
                self.count(r);
                let rendered = self.m.render(self.strategy(r), v, &mut self.scratch);
                self.write_scratch(rendered)
            }
        }
    }

    /// Masks a string that holds a JSON object or array as a document of its own and writes it
    /// back as a string of the masked compact JSON. Returns false (nothing written) when the
    /// string is not such a document, so the caller copies it.
    fn embedded<E: de::Error>(
        &mut self,
        v: &str,
        depth: usize,
        node: Option<u32>,
    ) -> Result<bool, E> {
        let opens = v
            .bytes()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if !matches!(opens, Some(b'{' | b'[')) {
            return Ok(false);
        }
        let outer = std::mem::replace(&mut self.out, Vec::with_capacity(v.len()));
        // Counts from a text that turns out not to be JSON must not stay.
        let counts = self.counts.clone();
        let mut de = serde_json::Deserializer::from_str(v);
        // The string stands for the value it encodes, so path rules go on from its key.
        let res = ValueSeed {
            w: &mut *self,
            depth: depth + 1,
            node,
            mode: Mode::Copy,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        let inner = std::mem::replace(&mut self.out, outer);
        match res {
            Ok(()) => {
                let text = std::str::from_utf8(&inner).map_err(E::custom)?;
                self.write_str(text)?;
                Ok(true)
            }
            // Too deep is never "not JSON": copying it would forward what we could not inspect.
            Err(_) if self.too_deep => Err(E::custom("nesting too deep")),
            Err(_) => {
                self.counts = counts;
                Ok(false)
            }
        }
    }

    /// A number under a personal key is masked through its text and comes out as a string
    /// (or null): phone numbers and account numbers sometimes arrive unquoted.
    fn number<E, T>(&mut self, mode: Mode, v: T) -> Result<(), E>
    where
        E: de::Error,
        T: serde::Serialize + fmt::Display,
    {
        match mode {
            Mode::Copy | Mode::Capture(_) => {
                serde_json::to_writer(&mut self.out, &v).map_err(E::custom)
            }
            Mode::Skip => Ok(()),
            Mode::Rule(r) => {
                use fmt::Write as _;
                self.num.clear();
                write!(self.num, "{v}").map_err(E::custom)?;
                self.count(r);
                let rendered = self
                    .m
                    .render(self.strategy(r), &self.num, &mut self.scratch);
                self.write_scratch(rendered)
            }
        }
    }

    /// A number whose source text serde_json kept (`arbitrary_precision`).
    fn number_text<E: de::Error>(&mut self, mode: Mode, text: &str) -> Result<(), E> {
        // The same map shape is produced by an input object with this one key: only a real
        // JSON number may be written out raw.
        if text.parse::<serde_json::Number>().is_err() {
            return Err(E::custom("invalid number"));
        }
        match mode {
            Mode::Copy | Mode::Capture(_) => {
                self.out.extend_from_slice(text.as_bytes());
                Ok(())
            }
            Mode::Skip => Ok(()),
            Mode::Rule(r) => {
                self.count(r);
                let rendered = self.m.render(self.strategy(r), text, &mut self.scratch);
                self.write_scratch(rendered)
            }
        }
    }

    fn boolean<E: de::Error>(&mut self, mode: Mode, v: bool) -> Result<(), E> {
        match mode {
            Mode::Copy | Mode::Capture(_) => {
                self.out
                    .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
                Ok(())
            }
            Mode::Skip => Ok(()),
            Mode::Rule(r) => {
                self.count(r);
                let rendered = self.m.render_bool(self.strategy(r), &mut self.scratch);
                self.write_scratch(rendered)
            }
        }
    }

    fn null(&mut self, mode: Mode) {
        // null carries nothing personal: kept as is, and not counted as masked.
        if !matches!(mode, Mode::Skip) {
            self.out.extend_from_slice(b"null");
        }
    }

    /// Mode for the inside of a container. Under a rule, `redact` and `null` replace any
    /// container whole, and every strategy replaces an object whole (its keys are data too):
    /// the replacement is written here and the contents are then only validated, or, for
    /// `hmac`, captured to be digested by `finish_capture`. Other strategies go on into arrays.
    fn enter<E: de::Error>(&mut self, mode: Mode, object: bool) -> Result<Mode, E> {
        let Mode::Rule(r) = mode else {
            return Ok(mode);
        };
        let strategy = self.strategy(r);
        if !object && !matches!(strategy, Strategy::Null | Strategy::Redact) {
            return Ok(mode);
        }
        self.count(r);
        if strategy == Strategy::Hmac {
            return Ok(Mode::Capture(self.out.len()));
        }
        let rendered = self.m.render_container(strategy, "", &mut self.scratch);
        self.write_scratch(rendered)?;
        Ok(Mode::Skip)
    }

    /// Replaces the object captured from `start` on with its digest.
    fn finish_capture<E: de::Error>(&mut self, rule: usize, start: usize) -> Result<(), E> {
        let strategy = self.strategy(rule);
        let captured = self.out.get(start..).unwrap_or_default();
        let json = std::str::from_utf8(captured).map_err(E::custom)?;
        let rendered = self.m.render_container(strategy, json, &mut self.scratch);
        self.out.truncate(start);
        self.write_scratch(rendered)
    }

    /// Writes a key (when not skipping) and works out what applies to its value.
    fn key<E: de::Error>(&mut self, k: &str, node: Option<u32>, mode: Mode) -> Result<Entry, E> {
        if matches!(mode, Mode::Skip) {
            return Ok(Entry {
                node: None,
                mode: Mode::Skip,
            });
        }
        self.write_str(k)?;
        self.out.push(b':');
        if matches!(mode, Mode::Capture(_)) {
            // Digested whole: rules inside do not apply.
            return Ok(Entry { node: None, mode });
        }
        let child = node.and_then(|n| self.m.paths.child(n, k));
        let rule = child
            .and_then(|c| self.m.paths.rule(c))
            .or_else(|| self.m.fields.get(k));
        let value_mode = rule.map_or(mode, Mode::Rule);
        Ok(Entry {
            node: child,
            mode: value_mode,
        })
    }
}

struct Entry {
    node: Option<u32>,
    mode: Mode,
}

struct ValueSeed<'w, 'm> {
    w: &'w mut Walk<'m>,
    /// Number of containers enclosing this value.
    depth: usize,
    /// Position in the path-rule trie; `None` once off every configured path.
    node: Option<u32>,
    mode: Mode,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.w.boolean(self.mode, v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.w.number(self.mode, v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.w.number(self.mode, v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.w.number(self.mode, v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.w.string(self.mode, v, self.depth, self.node)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.w.null(self.mode);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.w.null(self.mode);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let w = self.w;
        if self.depth >= w.m.max_depth {
            return Err(w.too_deep());
        }
        let mode = w.enter(self.mode, false)?;
        let write = !matches!(mode, Mode::Skip);
        if write {
            w.out.push(b'[');
        }
        let mut first = true;
        loop {
            if write && !first {
                w.out.push(b',');
            }
            let seed = ValueSeed {
                w: &mut *w,
                depth: self.depth + 1,
                node: self.node,
                mode,
            };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
            first = false;
        }
        if write {
            if !first {
                // A ',' was written speculatively before the probe that found the end.
                w.out.pop();
            }
            w.out.push(b']');
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let w = self.w;
        // The first key decides between a real object and a number in disguise, so the depth
        // check and the opening brace wait for it.
        let mut mode = self.mode;
        let mut first = true;
        loop {
            let seed = KeySeed {
                w: &mut *w,
                node: self.node,
                mode,
                first,
                depth: self.depth,
            };
            match map.next_key_seed(seed)? {
                None => break,
                Some(Key::Number) => {
                    map.next_value_seed(NumberSeed {
                        w: &mut *w,
                        mode: self.mode,
                    })?;
                    if map.next_key::<de::IgnoredAny>()?.is_some() {
                        return Err(de::Error::custom("invalid number"));
                    }
                    return Ok(());
                }
                Some(Key::Entry { entry, container }) => {
                    mode = container;
                    map.next_value_seed(ValueSeed {
                        w: &mut *w,
                        depth: self.depth + 1,
                        node: entry.node,
                        mode: entry.mode,
                    })?;
                }
            }
            first = false;
        }
        if first {
            if self.depth >= w.m.max_depth {
                return Err(w.too_deep());
            }
            mode = w.enter(mode, true)?;
            if !matches!(mode, Mode::Skip) {
                w.out.extend_from_slice(b"{}");
            }
        } else if !matches!(mode, Mode::Skip) {
            w.out.push(b'}');
        }
        if let (Mode::Rule(r), Mode::Capture(start)) = (self.mode, mode) {
            w.finish_capture(r, start)?;
        }
        Ok(())
    }
}
