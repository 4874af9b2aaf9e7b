//! Reading a configuration value (`config::Value`) into a component's raw
//! settings in one pass, every problem found on the way.
//!
//! The rule: the reader's error *is* a [`Problem`]. It decides what a value
//! must be from what the component's type asks for (the `deserialize_*` call:
//! `deserialize_u64` is "a whole number, 0 or more", `deserialize_bool` is
//! "true or false", a sequence is "a list", a struct is "a table", an enum is
//! one of its names), names the key by the path it walked (`rules[0].strategy`),
//! and builds the problem there, never from an error's text. Where a value is
//! wrong, the problem is noted and the type is handed a stand-in (the shipped
//! default at that key, else a neutral value of the asked type), so the read
//! goes on: a section with five wrong values yields five problems in one read.
//! A value read with any problem is only checked, never used.
//!
//! Unknown keys are noted and skipped. An element of a list of tables that is
//! not a table is read as the shipped list's first table, so the elements
//! after it are read too. A problem a type raises itself after the reader
//! handed it a value (a required key missing, a custom refusal) is noted
//! where it surfaced; what encloses it is then abandoned (a visitor cannot be
//! handed a second value).
//!
//! The conversions the layers rely on are kept: the environment's values are
//! all strings, so a number, a duration or a list of strings is read from a
//! string; a number or a boolean read where a string is asked becomes its
//! text (a TOML file's types are checked against the defaults elsewhere, and
//! that check never quotes a value that may be a secret). Booleans are
//! strict: `true` or `false` only.

use std::fmt;

use config::{Map, Value, ValueKind};
use serde::de::{self, IntoDeserializer, Visitor};

use super::{not_one_of, prefixed, Problem};
use access::{List, Table};
pub use error::Error;
use error::{Kind, Sink};
use values::{boolean, duration, number, shown, single_char, text, whole, whole_words};

mod access;
mod error;
mod values;

/// The newtype name a duration is read under (`crate::duration_text` asks
/// under the same name; a leaf, it does not import this one): the reader
/// checks the text is a duration before the type sees it, so a wrong one has
/// a stand-in like any other value. The tests read a `duration_text` field.
const DURATION: &str = "$gateway::duration";

/// What a duration must be, in the words of the configuration's problems.
const A_DURATION: &str = "a duration like \"250ms\", \"10s\" or \"5m\"";

/// The longest duration a configuration may give (a year, `8760h`): no wait,
/// timeout or lifetime the gateway keeps is longer, and every one of them is
/// added to an `Instant` or handed to a cache's expiry (moka refuses, with a
/// panic at start, a lifetime over a thousand years). `crate::duration_text`
/// holds the same bound for any other reader (the two are leaves: neither
/// imports the other; a test checks they agree).
pub const LONGEST_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// [`LONGEST_DURATION`] as `config/default.toml` would write it.
const LONGEST_DURATION_TEXT: &str = "8760h";

/// What [`read`] found.
#[derive(Debug)]
pub struct Read<T> {
    /// The value read. With any problem it holds stand-ins: check it, never use
    /// it. `None` when a problem left nothing to stand in.
    pub value: Option<T>,
    /// Every problem, each under its dotted key (prefixed with `at`).
    pub problems: Vec<Problem>,
    /// Keys (relative to the value read) whose value a stand-in replaced: the
    /// shallowest key with no shipped default above a stand-in, so everything
    /// below it is the reader's, not the operator's.
    pub replaced: Vec<String>,
}

/// `value` read as a `T`, with `shipped` (the defaults at the same place) for
/// stand-ins; problems are named under `at`.
pub fn read<T: de::DeserializeOwned>(value: &Value, shipped: Option<&Value>, at: &str) -> Read<T> {
    let sink = Sink::default();
    let reader = Reader {
        value: value.clone(),
        shipped: shipped.cloned(),
        path: String::new(),
        unshipped: shipped.is_none().then(String::new),
        sink: &sink,
    };
    let value = T::deserialize(reader).map_err(|e| sink.note("", e)).ok();
    let problems = sink
        .problems
        .into_inner()
        .into_iter()
        .map(|p| Problem::new(prefixed(at, &p.key), p.reason))
        .collect();
    let mut replaced = sink.replaced.into_inner();
    replaced.dedup();
    Read {
        value,
        problems,
        replaced,
    }
}

/// One value being read, at `path`, with the shipped default at that path.
struct Reader<'a> {
    value: Value,
    shipped: Option<Value>,
    path: String,
    /// The shallowest key at or above `path` with no shipped default.
    unshipped: Option<String>,
    sink: &'a Sink,
}

impl<'a> Reader<'a> {
    /// `what` is wrong here: noted, and the stand-in `convert` makes of the
    /// shipped default (else `neutral`) handed on.
    fn wrong<T>(
        &self,
        reason: impl fmt::Display,
        convert: impl Fn(&ValueKind) -> Option<T>,
        neutral: T,
    ) -> T {
        self.sink.add(self.path.clone(), reason);
        self.replaced();
        self.shipped
            .as_ref()
            .and_then(|s| convert(&s.kind))
            .unwrap_or(neutral)
    }

    fn replaced(&self) {
        let key = self.unshipped.clone().unwrap_or_else(|| self.path.clone());
        self.sink.replaced.borrow_mut().push(key);
    }

    /// This value, or a stand-in, as the type `convert` reads; `expected` says
    /// what it must be.
    fn scalar<T>(
        &self,
        convert: impl Fn(&ValueKind) -> Option<T>,
        expected: &str,
        neutral: T,
    ) -> T {
        match convert(&self.value.kind) {
            Some(v) => v,
            None => self.wrong(
                format_args!("{} is not {expected}", shown(&self.value.kind)),
                convert,
                neutral,
            ),
        }
    }

    /// The shipped default read in this value's place (it reads clean).
    fn shipped_reader(&self) -> Option<Reader<'a>> {
        let shipped = self.shipped.clone()?;
        Some(Reader {
            value: shipped.clone(),
            shipped: Some(shipped),
            path: self.path.clone(),
            unshipped: self.unshipped.clone(),
            sink: self.sink,
        })
    }

    fn table<V: Visitor<'static>>(
        self,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let ValueKind::Table(map) = self.value.kind else {
            self.sink.add(
                self.path.clone(),
                format_args!("{} is not a table", shown(&self.value.kind)),
            );
            self.replaced();
            return match self.shipped_reader() {
                Some(r) if matches!(r.value.kind, ValueKind::Table(_)) => r.table(fields, visitor),
                // A struct has no neutral value: what encloses it is abandoned.
                _ if fields.is_some() => Err(Error(Kind::Noted)),
                _ => visitor.visit_map(Table::new(
                    self.path,
                    Map::new(),
                    None,
                    None,
                    self.unshipped,
                    self.sink,
                )),
            };
        };
        let shipped = match self.shipped.map(|s| s.kind) {
            Some(ValueKind::Table(t)) => Some(t),
            _ => None,
        };
        visitor.visit_map(Table::new(
            self.path,
            map,
            shipped,
            fields,
            self.unshipped,
            self.sink,
        ))
    }

    fn list<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        let items = match self.value.kind {
            ValueKind::Array(items) => items,
            ref other => {
                let reason = format!("{} is not a list", shown(other));
                self.wrong(
                    reason,
                    |s| match s {
                        ValueKind::Array(items) => Some(items.clone()),
                        _ => None,
                    },
                    Vec::new(),
                )
            }
        };
        let stand_in = match self.shipped.map(|s| s.kind) {
            Some(ValueKind::Array(shipped)) => shipped
                .into_iter()
                .find(|v| matches!(v.kind, ValueKind::Table(_))),
            _ => None,
        };
        visitor.visit_seq(List {
            items: items.into_iter().enumerate(),
            stand_in,
            path: self.path,
            unshipped: self.unshipped,
            sink: self.sink,
        })
    }
}

macro_rules! whole_number {
    ($($method:ident $visit:ident $t:ty;)*) => {$(
        fn $method<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
            let words = whole_words(<$t>::MIN as i128, <$t>::MAX as i128);
            let n = self.scalar(|v| whole(v).and_then(|n| <$t>::try_from(n).ok()), &words, 0);
            visitor.$visit(n)
        }
    )*};
}

impl de::Deserializer<'static> for Reader<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.kind {
            ValueKind::Nil => visitor.visit_unit(),
            ValueKind::Boolean(b) => visitor.visit_bool(b),
            ValueKind::I64(n) => visitor.visit_i64(n),
            ValueKind::U64(n) => visitor.visit_u64(n),
            ValueKind::I128(n) => visitor.visit_i128(n),
            ValueKind::U128(n) => visitor.visit_u128(n),
            ValueKind::Float(f) => visitor.visit_f64(f),
            ValueKind::String(s) => visitor.visit_string(s),
            ValueKind::Array(_) => self.list(visitor),
            ValueKind::Table(_) => self.table(None, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(self.scalar(boolean, "true or false", false))
    }

    whole_number! {
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
    }

    fn deserialize_f32<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f32(self.scalar(number, "a number", 0.0) as f32)
    }

    fn deserialize_f64<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(self.scalar(number, "a number", 0.0))
    }

    fn deserialize_char<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_char(self.scalar(single_char, "a single character", '*'))
    }

    fn deserialize_str<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.scalar(text, "a string", String::new()))
    }

    fn deserialize_string<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.kind {
            ValueKind::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'static>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'static>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != DURATION {
            return visitor.visit_newtype_struct(self);
        }
        let longer = match &self.value.kind {
            ValueKind::String(s) => {
                humantime::parse_duration(s).is_ok_and(|d| d > LONGEST_DURATION)
            }
            _ => false,
        };
        let text = if longer {
            self.wrong(
                format_args!(
                    "{} is longer than {LONGEST_DURATION_TEXT}, the longest duration the gateway takes",
                    shown(&self.value.kind),
                ),
                duration,
                "0s".to_owned(),
            )
        } else {
            self.scalar(duration, A_DURATION, "0s".to_owned())
        };
        visitor.visit_newtype_struct(
            <String as IntoDeserializer<'static, Error>>::into_deserializer(text),
        )
    }

    fn deserialize_seq<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.list(visitor)
    }

    fn deserialize_tuple<V: Visitor<'static>>(
        self,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.list(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'static>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.list(visitor)
    }

    fn deserialize_map<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.table(None, visitor)
    }

    fn deserialize_struct<V: Visitor<'static>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.table(Some(fields), visitor)
    }

    /// A closed set of names: the name is checked here, so a wrong one has a
    /// stand-in (the shipped name, else the first).
    fn deserialize_enum<V: Visitor<'static>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let known = |v: &ValueKind| match v {
            ValueKind::String(s) if variants.contains(&s.as_str()) => Some(s.clone()),
            _ => None,
        };
        let name = match known(&self.value.kind) {
            Some(name) => name,
            None => {
                let given = match &self.value.kind {
                    ValueKind::String(s) => not_one_of(s, variants),
                    other => {
                        let quoted: Vec<String> =
                            variants.iter().map(|n| format!("{n:?}")).collect();
                        format!("{} is not one of {}", shown(other), quoted.join(", "))
                    }
                };
                let first = variants.first().map_or(String::new(), |n| (*n).to_owned());
                self.wrong(given, known, first)
            }
        };
        visitor.visit_enum(<String as IntoDeserializer<'static, Error>>::into_deserializer(name))
    }

    fn deserialize_bytes<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'static>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests;
