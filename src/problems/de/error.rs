//! The reader's error: a problem built where it is found, from what serde
//! says in structure (which field, which value, what was expected), never
//! from an error's text.

use std::cell::RefCell;
use std::fmt;

use serde::de;

use super::super::{not_one_of, prefixed, Problem};

/// The reader's error: a problem not yet noted, or one already noted where it
/// was found (then it only unwinds).
#[derive(Debug)]
pub struct Error(pub(super) Kind);

#[derive(Debug)]
pub(super) enum Kind {
    Fresh {
        /// The key below where it surfaced (a field's name), if any.
        below: Option<String>,
        reason: String,
        /// For an unknown key: the keys expected where it stands.
        expected: Option<&'static [&'static str]>,
    },
    Noted,
}

impl Error {
    pub(super) fn fresh(reason: impl fmt::Display) -> Error {
        Error(Kind::Fresh {
            below: None,
            reason: reason.to_string(),
            expected: None,
        })
    }

    fn below(field: &str, reason: impl fmt::Display) -> Error {
        Error(Kind::Fresh {
            below: Some(field.to_owned()),
            reason: reason.to_string(),
            expected: None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Fresh { reason, .. } => f.write_str(reason),
            Kind::Noted => f.write_str("noted where it was found"),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::fresh(msg)
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::fresh(format_args!("{} is not {exp}", unexpected(&unexp)))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::fresh(format_args!("{} is not {exp}", unexpected(&unexp)))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        Error::fresh(format_args!("has {len} items, and must be {exp}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::fresh(not_one_of(variant, expected))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error(Kind::Fresh {
            below: Some(field.to_owned()),
            reason: unknown_key(expected),
            expected: Some(expected),
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Error::below(field, "is required")
    }

    fn duplicate_field(field: &'static str) -> Self {
        Error::below(field, "is given twice")
    }
}

/// `unknown key (expected one of `a`, `b`)`.
pub(super) fn unknown_key(expected: &[&str]) -> String {
    let quoted: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [] => "unknown key".to_owned(),
        [one] => format!("unknown key (expected {one})"),
        all => format!("unknown key (expected one of {})", all.join(", ")),
    }
}

/// serde's description of a value a type refused, in the configuration's words.
fn unexpected(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => b.to_string(),
        U::Unsigned(n) => n.to_string(),
        U::Signed(n) => n.to_string(),
        U::Float(f) => f.to_string(),
        U::Char(c) => format!("{:?}", c.to_string()),
        U::Str(s) => format!("{s:?}"),
        U::Unit | U::Option => "an empty value".to_owned(),
        U::Seq => "a list".to_owned(),
        U::Map => "a table".to_owned(),
        other => other.to_string(),
    }
}

/// Where problems and stand-ins are noted during one read.
#[derive(Default)]
pub(super) struct Sink {
    pub(super) problems: RefCell<Vec<Problem>>,
    pub(super) replaced: RefCell<Vec<String>>,
}

impl Sink {
    pub(super) fn add(&self, key: String, reason: impl fmt::Display) {
        self.problems.borrow_mut().push(Problem::new(key, reason));
    }

    /// Notes `e` (surfaced at `path`) unless it already is; it then only unwinds.
    pub(super) fn note(&self, path: &str, e: Error) -> Error {
        if let Kind::Fresh { below, reason, .. } = e.0 {
            let key = match below {
                Some(field) => prefixed(path, &field),
                None => path.to_owned(),
            };
            self.add(key, reason);
        }
        Error(Kind::Noted)
    }
}
