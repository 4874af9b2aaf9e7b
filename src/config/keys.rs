//! The configuration as dotted keys: which class each key is (its component
//! declares it, see `crate::reloadable`), what changed between two documents, and
//! the values a reload keeps for the keys that need a restart (`pins`).

use super::{section, Layers, Section};
use crate::problems::Problem;
use crate::redact::ConfigView;
use crate::reloadable::{KeyClass, Keys};

/// The classes of `s`'s keys, as each component owning keys of it declares them (a
/// section may have several owners, as `[upstream]` has: each declares its own keys).
pub fn of(s: Section) -> &'static [Keys] {
    match s {
        Section::Server => &[
            crate::server::config::SERVER_KEYS,
            crate::proxy::RELOAD_KEYS,
        ],
        Section::Admin => &[crate::server::config::ADMIN_KEYS],
        Section::Upstream => &[
            crate::upstream::config::KEYS,
            crate::inspect::config::KEYS,
            crate::fair::config::KEYS,
        ],
        Section::Log => &[crate::logging::config::KEYS],
        Section::Mask => &[
            crate::mask::RELOAD_KEYS,
            crate::inspect::relay_config::MASK_KEYS,
        ],
        Section::Cache => &[crate::cache::RELOAD_KEYS],
        Section::Auth => &[crate::auth::config::KEYS],
        Section::Telemetry => &[crate::telemetry::config::KEYS],
        Section::Cluster => &[crate::cluster::RELOAD_KEYS],
        Section::Idempotency => &[crate::idempotency::settings::KEYS],
    }
}

/// The class of a dotted key (`server.listen`); None when its section is unknown, no
/// owner has decided, or two owners decided differently.
pub fn class(key: &str) -> Option<KeyClass> {
    let (section, rest) = key.split_once('.')?;
    let mut classes = of(Section::of(section)?)
        .iter()
        .filter_map(|k| k.class_of(rest));
    let first = classes.next()?;
    classes.all(|c| c == first).then_some(first)
}

/// Every key of `view` as a dotted path, with its value: tables are walked into,
/// anything else (a value, a list, a list of tables) is one key.
pub fn dotted(view: &ConfigView) -> Vec<(String, &serde_json::Value)> {
    fn walk<'a>(
        prefix: String,
        v: &'a serde_json::Value,
        out: &mut Vec<(String, &'a serde_json::Value)>,
    ) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(format!("{prefix}.{k}"), v, out);
                }
            }
            _ => out.push((prefix, v)),
        }
    }
    let mut out = Vec::new();
    for (name, v) in view.sections() {
        walk(name.to_owned(), v, &mut out);
    }
    out
}

/// The dotted keys whose value differs between `old` and `new` (present in one only
/// included), in the order of `new` then `old`. Values are compared as the documents
/// show them, so a secret's change is seen only where its document shows it changed.
pub fn changed(old: &ConfigView, new: &ConfigView) -> Vec<String> {
    let old_keys = dotted(old);
    let new_keys = dotted(new);
    let find = |keys: &[(String, &serde_json::Value)], k: &str| {
        keys.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| (*v).clone())
    };
    let mut out: Vec<String> = new_keys
        .iter()
        .filter(|(k, v)| find(&old_keys, k).as_ref() != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(
        old_keys
            .iter()
            .filter(|(k, _)| find(&new_keys, k).is_none())
            .map(|(k, _)| k.clone()),
    );
    out
}

/// Every restart-only pattern as a dotted key (`server.listen`, `cluster.redis_url`).
pub fn restart_patterns() -> Vec<String> {
    Section::ALL
        .iter()
        .flat_map(|s| {
            of(*s)
                .iter()
                .flat_map(|k| k.restart)
                .map(move |p| format!("{}.{p}", s.name()))
        })
        .collect()
}

/// The values the layers give the restart-only keys: laid over a later read (as
/// `Layers::pinned`), they keep what the running gateway was started with.
pub fn pins(layers: &Layers) -> Result<Vec<(String, config::Value)>, Problem> {
    let cfg = section::merged(layers)?;
    Ok(restart_patterns()
        .into_iter()
        .filter_map(|key| {
            let value = cfg.get::<config::Value>(&key).ok()?;
            Some((key, value))
        })
        .collect())
}
