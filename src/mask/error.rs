//! Errors of the masker. None of them carries any byte of the body: a body may hold personal
//! data and errors end up in logs.

/// A body the masker could not inspect; the caller must not forward it.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskError {
    /// Not JSON: syntax error, truncation, trailing bytes, or an unreadable number.
    #[error("response body is not valid JSON (line {line}, column {column})")]
    Parse { line: usize, column: usize },
    #[error("response body is not valid UTF-8")]
    NotUtf8,
    #[error("response body nests deeper than the configured maximum")]
    TooDeep,
}

impl MaskError {
    /// Metric label value.
    pub fn reason(&self) -> &'static str {
        match self {
            MaskError::Parse { .. } | MaskError::NotUtf8 => "parse_error",
            MaskError::TooDeep => "too_deep",
        }
    }
}

/// A `[mask]` section that cannot be turned into a masker; the message names the offending rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskConfigError {
    FieldOrPath {
        index: usize,
    },
    Empty {
        index: usize,
        what: &'static str,
    },
    Duplicate {
        index: usize,
        first: usize,
        name: String,
    },
    /// Two names that differ only in case or `_` / `-` would match the same keys.
    SameSpelling {
        index: usize,
        name: String,
        first: usize,
        first_name: String,
    },
    HmacWithoutKey {
        index: usize,
        name: String,
    },
    MaxDepth {
        max: usize,
    },
    HmacHexChars,
    EmptyHmacKey,
    /// A `shared_mail_domains` entry that is not a hostname.
    MailDomain {
        index: usize,
    },
    /// A problem in `[mask.policy]`, under its dotted key.
    Policy {
        key: String,
        problem: String,
    },
}

impl MaskConfigError {
    /// The dotted key at fault, under `[mask]` (as written in the config:
    /// [`MaskConfigError::key`] is relative to the section).
    pub fn full_key(&self) -> String {
        crate::problems::prefixed("mask", &self.key())
    }

    /// The dotted key at fault, relative to `[mask]` (`rules[3]`); the
    /// config pass adds the section.
    pub fn key(&self) -> String {
        use MaskConfigError::*;
        match self {
            FieldOrPath { index }
            | Empty { index, .. }
            | Duplicate { index, .. }
            | SameSpelling { index, .. }
            | HmacWithoutKey { index, .. } => format!("rules[{index}]"),
            MaxDepth { .. } => "max_depth".to_owned(),
            HmacHexChars => "hmac_hex_chars".to_owned(),
            EmptyHmacKey => "hmac_key_file".to_owned(),
            MailDomain { index } => format!("shared_mail_domains[{index}]"),
            Policy { key, .. } => key.clone(),
        }
    }

    /// The rule's field or path, when the problem is with a named rule.
    fn name(&self) -> Option<&str> {
        use MaskConfigError::*;
        match self {
            Duplicate { name, .. } | SameSpelling { name, .. } | HmacWithoutKey { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }

    fn problem(&self) -> String {
        use MaskConfigError::*;
        match self {
            FieldOrPath { .. } => "set exactly one of `field` or `path`".to_owned(),
            Empty { what, .. } => {
                format!("`{what}` must not be empty or contain an empty path segment")
            }
            Duplicate { first, .. } => format!("is a duplicate of mask.rules[{first}]"),
            SameSpelling {
                first, first_name, ..
            } => format!(
                "matches the same keys as mask.rules[{first}] ({first_name}) once case and \
                 `_`/`-` are ignored (mask.match_spellings)"
            ),
            HmacWithoutKey { .. } => {
                "uses strategy `hmac`, which needs an HMAC key: set `mask.hmac_key_file`".to_owned()
            }
            MaxDepth { max } => format!("must be between 1 and {max}"),
            HmacHexChars => "must be between 1 and 64".to_owned(),
            EmptyHmacKey => "the HMAC key must not be empty".to_owned(),
            MailDomain { .. } => {
                "must be a hostname (letters, digits, `-`, dot-separated labels)".to_owned()
            }
            Policy { problem, .. } => problem.clone(),
        }
    }

    /// What is wrong, without the key (for a message that names the key itself).
    pub fn reason(&self) -> String {
        match self.name() {
            Some(name) => format!("{name:?} {}", self.problem()),
            None => self.problem(),
        }
    }
}

impl std::fmt::Display for MaskConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full_key())?;
        if let Some(name) = self.name() {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.problem())
    }
}

impl std::error::Error for MaskConfigError {}
