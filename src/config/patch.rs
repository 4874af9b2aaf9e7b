//! The config pass's work on the merged value tree: a section read with a
//! problem kept as it was read (each wrong value's default in its place), so
//! its validation's problems can be told from the operator's; and a value
//! looked up by its dotted key.

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
