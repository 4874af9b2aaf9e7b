//! The config pass's work on the merged value tree: a wrong value set aside
//! (its default put in its place) so the rest of its section can still be
//! checked, and booleans kept strict whichever layer gives them.

/// Sets aside the value at dotted `key` (relative to `root`) so the rest can
/// be read: the shipped default takes its place when `defaults` has one, else
/// it is removed. An element of a list takes the whole list with it. False when
/// there is no such value.
pub fn set_aside(root: &mut config::Value, defaults: &config::Value, key: &str) -> bool {
    let shipped = {
        let mut defaults = defaults.clone();
        parent(&mut defaults, key).and_then(|(table, last)| table.remove(last))
    };
    let Some((table, last)) = parent(root, key) else {
        return false;
    };
    match shipped {
        Some(v) => table.insert(last.to_owned(), v).is_some(),
        None => table.remove(last).is_some(),
    }
}

/// The value at dotted `key` (relative to `root`), if any.
pub fn value_at(root: &config::Value, key: &str) -> Option<config::ValueKind> {
    let mut root = root.clone();
    parent(&mut root, key)
        .and_then(|(table, last)| table.remove(last))
        .map(|v| v.kind)
}

/// The table holding the value at `key`, and that value's name in it.
fn parent<'a, 'k>(
    root: &'a mut config::Value,
    key: &'k str,
) -> Option<(&'a mut config::Map<String, config::Value>, &'k str)> {
    use config::ValueKind;
    let parts: Vec<(&str, Option<usize>)> = key
        .split('.')
        .map(|part| match part.split_once('[') {
            Some((field, rest)) => (field, rest.split(']').next().and_then(|i| i.parse().ok())),
            None => (part, None),
        })
        .collect();
    let ((last, _), path) = parts.split_last()?;
    let mut at = root;
    for (field, index) in path {
        let ValueKind::Table(table) = &mut at.kind else {
            return None;
        };
        let next = table.get_mut(*field)?;
        at = match index {
            None => next,
            Some(i) => match &mut next.kind {
                ValueKind::Array(items) => items.get_mut(*i)?,
                _ => return None,
            },
        };
    }
    match &mut at.kind {
        ValueKind::Table(table) => Some((table, last)),
        _ => None,
    }
}

/// The keys (relative to `value`) where the shipped default is a boolean but
/// the value given is not `true` or `false`, with the value as given. The
/// `config` crate would read "yes", "on", "1" as true; a boolean here is
/// strict, whichever layer it comes from, so a value that may have been
/// meant otherwise is refused rather than guessed. Tables are walked; lists
/// (whose elements have no shipped default) are not.
pub fn loose_bools(value: &config::Value, defaults: &config::Value) -> Vec<(String, String)> {
    use config::ValueKind;
    let mut out = Vec::new();
    let (ValueKind::Table(given), ValueKind::Table(shipped)) = (&value.kind, &defaults.kind) else {
        return out;
    };
    let mut keys: Vec<&String> = given.keys().collect();
    keys.sort();
    for key in keys {
        let (v, Some(d)) = (&given[key], shipped.get(key)) else {
            continue;
        };
        match (&v.kind, &d.kind) {
            (ValueKind::Boolean(_), ValueKind::Boolean(_)) => {}
            (ValueKind::String(s), ValueKind::Boolean(_))
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {}
            (other, ValueKind::Boolean(_)) => out.push((key.clone(), shown(other))),
            (ValueKind::Table(_), ValueKind::Table(_)) => out.extend(
                loose_bools(v, d)
                    .into_iter()
                    .map(|(k, s)| (format!("{key}.{k}"), s)),
            ),
            _ => {}
        }
    }
    out
}

fn shown(v: &config::ValueKind) -> String {
    match v {
        config::ValueKind::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
