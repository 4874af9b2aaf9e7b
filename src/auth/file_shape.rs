//! The clients file's shape: which keys each level may hold and what type each value must be,
//! checked over the whole parsed tree in one walk.
//!
//! Why a walk and not serde alone: serde stops at the first problem (an unknown key with
//! `deny_unknown_fields`, a wrong type anywhere), so an operator fixing a file met its problems
//! one run at a time; and the `config` crate converts between types on the way (`per_second =
//! "10"` became 10, `name = 5` became `"5"`), so a mistake could pass unseen. The walk reports
//! every unknown key and every value of the wrong type, each under its dotted path; parts of the
//! file found sound are then deserialized and validated as usual, so their problems are listed
//! beside these.

use config::{Map, Value, ValueKind};

use super::error::AuthConfigError;

/// What a key's value must be.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    TextList,
    /// A whole number a `u32` holds (rates and bursts).
    Count,
    Table(Level),
    TableList(Level),
}

impl Kind {
    /// The expected type in the words the configuration's problems use.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::TextList => "a list of strings",
            Kind::Count => "a whole number from 0 to 4294967295",
            Kind::Table(_) => "a table",
            Kind::TableList(_) => "a list of tables",
        }
    }
}

/// Whether a key must be given (the `Raw…` field has no default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
}

/// One level's keys with their kinds (the `Raw…` types' fields in `file.rs`).
pub type Level = &'static [(&'static str, Kind, Need)];

use Need::{Optional, Required};

const RATE_LIMIT: Level = &[
    ("per_second", Kind::Count, Required),
    ("burst", Kind::Count, Optional),
];
const RULE: Level = &[
    ("methods", Kind::TextList, Required),
    ("path", Kind::Text, Required),
];
pub const CLIENT: Level = &[
    ("name", Kind::Text, Required),
    ("keys_sha256", Kind::TextList, Optional),
    ("subjects", Kind::TextList, Optional),
    ("rate_limit", Kind::Table(RATE_LIMIT), Optional),
    ("allow", Kind::TableList(RULE), Optional),
];
pub const DEFAULTS: Level = &[("rate_limit", Kind::Table(RATE_LIMIT), Optional)];
/// The file's top level.
pub const TOP: Level = &[
    ("defaults", Kind::Table(DEFAULTS), Optional),
    ("clients", Kind::TableList(CLIENT), Optional),
];

/// Every unknown key and every value of the wrong type in the file, in file order by level,
/// each under its dotted path (`clients[1].rate_limit.burst`).
pub fn problems(root: &Value) -> Vec<AuthConfigError> {
    let mut out = Vec::new();
    match &root.kind {
        ValueKind::Table(top) => table(top, "", TOP, &mut out),
        // An empty file parses to nothing at all; `build` reports that it defines no clients.
        ValueKind::Nil => {}
        _ => out.push(AuthConfigError::WrongType {
            key: String::new(),
            expected: "a table",
        }),
    }
    out
}

/// Whether the walk's `problems` leave the part at `at` (`defaults`, `clients[2]`, `clients`)
/// sound: no wrong type and no missing key in it (unknown keys aside, which serde skips), so
/// deserializing it can neither fail on a type nor convert one silently.
pub fn sound_at(problems: &[AuthConfigError], at: &str) -> bool {
    !problems.iter().any(|p| match p {
        AuthConfigError::WrongType { key, .. } | AuthConfigError::MissingKey { key } => key
            .strip_prefix(at)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '['])),
        _ => false,
    })
}

fn table(t: &Map<String, Value>, at: &str, level: Level, out: &mut Vec<AuthConfigError>) {
    let mut keys: Vec<&String> = t.keys().collect();
    keys.sort();
    for key in keys {
        let path = format!("{at}{key}");
        match level.iter().find(|(name, _, _)| name == key) {
            Some((_, kind, _)) => check(&t[key], &path, *kind, out),
            None => out.push(AuthConfigError::UnknownKey {
                key: path,
                known: level,
            }),
        }
    }
    for (name, _, need) in level {
        if *need == Required && !t.contains_key(*name) {
            out.push(AuthConfigError::MissingKey {
                key: format!("{at}{name}"),
            });
        }
    }
}

fn check(v: &Value, path: &str, kind: Kind, out: &mut Vec<AuthConfigError>) {
    let wrong = || AuthConfigError::WrongType {
        key: path.to_owned(),
        expected: kind.expected(),
    };
    match (kind, &v.kind) {
        (Kind::Text, ValueKind::String(_)) => {}
        (Kind::Count, ValueKind::I64(n)) if u32::try_from(*n).is_ok() => {}
        (Kind::Count, ValueKind::U64(n)) if u32::try_from(*n).is_ok() => {}
        (Kind::TextList, ValueKind::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &format!("{path}[{i}]"), Kind::Text, out);
            }
        }
        (Kind::Table(level), ValueKind::Table(t)) => table(t, &format!("{path}."), level, out),
        (Kind::TableList(level), ValueKind::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &format!("{path}[{i}]"), Kind::Table(level), out);
            }
        }
        _ => out.push(wrong()),
    }
}
