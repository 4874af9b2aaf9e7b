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
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MaskConfigError {
    #[error("mask.rules[{index}]: set exactly one of `field` or `path`")]
    FieldOrPath { index: usize },
    #[error("mask.rules[{index}]: `{what}` must not be empty or contain an empty path segment")]
    Empty { index: usize, what: &'static str },
    #[error("mask.rules[{index}] ({name}): duplicate of mask.rules[{first}]")]
    Duplicate {
        index: usize,
        first: usize,
        name: String,
    },
    /// Two names that differ only in case or `_` / `-` would match the same keys.
    #[error(
        "mask.rules[{index}] ({name}): matches the same keys as mask.rules[{first}] \
         ({first_name}) once case and `_`/`-` are ignored (mask.match_spellings)"
    )]
    SameSpelling {
        index: usize,
        name: String,
        first: usize,
        first_name: String,
    },
    #[error("mask.rules[{index}] ({name}): strategy `hmac` needs an HMAC key, none is configured")]
    HmacWithoutKey { index: usize, name: String },
    #[error("mask.max_depth must be between 1 and {max}")]
    MaxDepth { max: usize },
    #[error("mask.hmac_hex_chars must be between 1 and 64")]
    HmacHexChars,
    #[error("mask: the HMAC key must not be empty")]
    EmptyHmacKey,
}
