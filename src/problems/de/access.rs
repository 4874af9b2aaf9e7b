//! A table's entries and a list's elements, each read at its own key.

use config::{Map, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer};

use super::error::{unknown_key, Error, Kind, Sink};
use super::Reader;
use crate::problems::prefixed;

/// A table's entries, for a map or a struct. A struct's own keys come first
/// (in its order), so when it refuses a key, every key it reads has been read.
pub(super) struct Table<'a> {
    entries: std::vec::IntoIter<(String, Value)>,
    shipped: Option<Map<String, Value>>,
    fields: Option<&'static [&'static str]>,
    pending: Option<(String, Value)>,
    path: String,
    unshipped: Option<String>,
    sink: &'a Sink,
}

impl<'a> Table<'a> {
    pub(super) fn new(
        path: String,
        map: Map<String, Value>,
        shipped: Option<Map<String, Value>>,
        fields: Option<&'static [&'static str]>,
        unshipped: Option<String>,
        sink: &'a Sink,
    ) -> Table<'a> {
        let mut entries: Vec<(String, Value)> = map.into_iter().collect();
        let rank = |k: &str| fields.and_then(|f| f.iter().position(|f| *f == k));
        entries.sort_by(|(a, _), (b, _)| match (rank(a), rank(b)) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(b),
        });
        Table {
            entries: entries.into_iter(),
            shipped,
            fields,
            pending: None,
            path,
            unshipped,
            sink,
        }
    }
}

impl de::MapAccess<'static> for Table<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'static>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        match seed.deserialize(
            <String as IntoDeserializer<'static, Error>>::into_deserializer(key.clone()),
        ) {
            Ok(k) => {
                self.pending = Some((key, value));
                Ok(Some(k))
            }
            Err(e) => {
                let expected = match &e.0 {
                    Kind::Fresh { expected, .. } => *expected,
                    Kind::Noted => None,
                };
                let noted = self.sink.note(&self.path, e);
                match (self.fields, expected) {
                    // An unknown key of a struct: the rest are unknown too
                    // (its own keys came first). Each is named; the struct
                    // is read from the keys it knows.
                    (Some(fields), Some(expected)) => {
                        for (key, _) in self.entries.by_ref() {
                            if !fields.contains(&key.as_str()) {
                                self.sink
                                    .add(prefixed(&self.path, &key), unknown_key(expected));
                            }
                        }
                        Ok(None)
                    }
                    _ => Err(noted),
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'static>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| Error::fresh("a value was asked for before its key"))?;
        let shipped = self.shipped.as_ref().and_then(|s| s.get(&key)).cloned();
        let path = prefixed(&self.path, &key);
        let child = Reader {
            value,
            path: path.clone(),
            unshipped: self
                .unshipped
                .clone()
                .or_else(|| shipped.is_none().then(|| path.clone())),
            shipped,
            sink: self.sink,
        };
        seed.deserialize(child)
            .map_err(|e| self.sink.note(&path, e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A list's elements: none has a shipped default of its own (an operator's
/// list replaces the shipped one whole), but the shipped list's first table,
/// if any, stands in for an element that is not a table, so the elements
/// after it are still read.
pub(super) struct List<'a> {
    pub(super) items: std::iter::Enumerate<std::vec::IntoIter<Value>>,
    pub(super) stand_in: Option<Value>,
    pub(super) path: String,
    pub(super) unshipped: Option<String>,
    pub(super) sink: &'a Sink,
}

impl de::SeqAccess<'static> for List<'_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'static>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((i, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{i}]", self.path);
        let child = Reader {
            value,
            shipped: self.stand_in.clone(),
            unshipped: Some(self.unshipped.clone().unwrap_or_else(|| path.clone())),
            path: path.clone(),
            sink: self.sink,
        };
        seed.deserialize(child)
            .map(Some)
            .map_err(|e| self.sink.note(&path, e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}
