//! What a value of the configuration is read as, for each type asked for.

use config::ValueKind;

/// A value as a problem shows it: text quoted, a table or a list by its kind.
pub(super) fn shown(v: &ValueKind) -> String {
    match v {
        ValueKind::String(s) => format!("{s:?}"),
        ValueKind::Table(_) => "a table".to_owned(),
        ValueKind::Array(_) => "a list".to_owned(),
        ValueKind::Nil => "an empty value".to_owned(),
        other => other.to_string(),
    }
}

pub(super) fn whole(v: &ValueKind) -> Option<i128> {
    match v {
        ValueKind::I64(n) => Some(i128::from(*n)),
        ValueKind::U64(n) => Some(i128::from(*n)),
        ValueKind::I128(n) => Some(*n),
        ValueKind::U128(n) => i128::try_from(*n).ok(),
        ValueKind::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn number(v: &ValueKind) -> Option<f64> {
    let n = match v {
        ValueKind::Float(f) => *f,
        ValueKind::String(s) => s.parse().ok()?,
        other => whole(other)? as f64,
    };
    n.is_finite().then_some(n)
}

pub(super) fn boolean(v: &ValueKind) -> Option<bool> {
    match v {
        ValueKind::Boolean(b) => Some(*b),
        ValueKind::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        ValueKind::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

pub(super) fn text(v: &ValueKind) -> Option<String> {
    match v {
        ValueKind::String(s) => Some(s.clone()),
        ValueKind::Table(_) | ValueKind::Array(_) | ValueKind::Nil => None,
        other => Some(other.to_string()),
    }
}

pub(super) fn single_char(v: &ValueKind) -> Option<char> {
    let s = text(v)?;
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

pub(super) fn duration(v: &ValueKind) -> Option<String> {
    match v {
        ValueKind::String(s) if humantime::parse_duration(s).is_ok() => Some(s.clone()),
        _ => None,
    }
}

/// The wording of a whole number of type `T`'s range.
pub(super) fn whole_words(min: i128, max: i128) -> String {
    match (min, max) {
        (0, m) if m >= i128::from(u64::MAX) => "a whole number, 0 or more".to_owned(),
        (m, _) if m <= i128::from(i64::MIN) => "a whole number".to_owned(),
        (min, max) => format!("a whole number from {min} to {max}"),
    }
}
