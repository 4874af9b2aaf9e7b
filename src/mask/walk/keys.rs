//! Object keys and serde_json's number stand-in: each key is matched against the rules as
//! it is read, and decides the mode of its value and of the enclosing object.

use std::fmt;

use serde::de::{self, DeserializeSeed, Visitor};

use super::{Entry, Mode, Walk, NUMBER_TOKEN};

pub(super) enum Key {
    /// serde_json's stand-in map for a number with kept source text.
    Number,
    /// A real key; `container` is the mode of the enclosing object from now on.
    Entry { entry: Entry, container: Mode },
}

pub(super) struct KeySeed<'w, 'm> {
    pub(super) w: &'w mut Walk<'m>,
    pub(super) node: Option<u32>,
    /// Mode of the enclosing object (before `enter` when `first`).
    pub(super) mode: Mode,
    pub(super) first: bool,
    pub(super) depth: usize,
}

impl KeySeed<'_, '_> {
    fn handle<E: de::Error>(self, k: &str) -> Result<Key, E> {
        let w = self.w;
        let mut container = self.mode;
        if self.first {
            if w.m.exact_numbers && k == NUMBER_TOKEN {
                return Ok(Key::Number);
            }
            if self.depth >= w.m.max_depth {
                return Err(w.too_deep());
            }
            container = w.enter(container, true)?;
            if !matches!(container, Mode::Skip) {
                w.out.push(b'{');
            }
        } else if !matches!(container, Mode::Skip) {
            w.out.push(b',');
        }
        let entry = w.key(k, self.node, container)?;
        Ok(Key::Entry { entry, container })
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
        self.handle(k)
    }
}

pub(super) struct NumberSeed<'w, 'm> {
    pub(super) w: &'w mut Walk<'m>,
    pub(super) mode: Mode,
}

impl<'de> DeserializeSeed<'de> for NumberSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the text of a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.w.number_text(self.mode, v)
    }
}
