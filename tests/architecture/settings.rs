//! Each component's settings stay its own: the config loader is the one place that knows
//! several components' settings (it hands each component its own, and values across), so
//!
//! - **no component names another component's settings**: a `crate::<other>::config::…` or
//!   `…::settings::…` path, or a type of the other component's config modules, or one named
//!   like settings there (`Raw…`, `…Settings`, `…Config`) — re-exported or not, since the
//!   check reads the type's name, not the path it is reached by;
//! - **a config module uses leaf modules only**: a component's `config.rs`, `settings.rs` or
//!   `config/` files reference, besides their own component, only components that own no
//!   section and sit in the layers below `policies` (the vocabulary, the registry and the
//!   mechanisms such as `http` and `redact`), so checking a section never pulls in another
//!   component's runtime.
//!
//! The loader and the components above it (start-up, the subcommands) compose settings and
//! are exempt.

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::Graph;

/// Who may know several components' settings, and which components a config module may use.
pub struct Roles {
    /// The config loader and every component above it.
    pub composers: BTreeSet<String>,
    /// Components a config module may reference.
    pub leaves: BTreeSet<String>,
}

/// A file of a component that holds its settings: `config.rs`, `settings.rs`, or anything
/// under a `config/` directory of the component (`src/mask/policy/config.rs` included).
pub fn is_config_module(file: &str) -> bool {
    let Some(inside) = file.strip_prefix("src/") else {
        return false;
    };
    let parts: Vec<&str> = inside.split('/').collect();
    if parts.len() < 2 {
        return false; // `src/config.rs`: a component of its own (the loader), not a module of one
    }
    let stem = parts[parts.len() - 1].trim_end_matches(".rs");
    stem == "config" || stem == "settings" || parts[1..parts.len() - 1].contains(&"config")
}

/// Components with a config module of their own.
pub fn owners_of_settings(graph: &Graph) -> BTreeSet<String> {
    graph
        .defined
        .iter()
        .filter(|d| is_config_module(&d.file))
        .map(|d| d.component.clone())
        .collect()
}

/// Each component's settings types: those its config modules define, and those named like
/// settings anywhere in it.
fn settings_types(graph: &Graph) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &graph.defined {
        let n = d.name.as_str();
        let named_so = (n.starts_with("Raw") && n.len() > 3)
            || n.ends_with("Settings")
            || n.ends_with("Config");
        if named_so || is_config_module(&d.file) {
            out.entry(d.component.as_str()).or_default().insert(n);
        }
    }
    out
}

pub fn failures(graph: &Graph, roles: &Roles) -> Vec<String> {
    let types = settings_types(graph);
    let mut out = BTreeSet::new();
    for r in &graph.references {
        if roles.composers.contains(&r.from) || r.from == r.to {
            continue;
        }
        let at = format!("{}:{}: {}", r.at.file, r.at.line, r.at.text);
        let theirs = types.get(r.to.as_str());
        let named = r.path.iter().skip(1).find(|seg| {
            seg.as_str() == "config"
                || seg.as_str() == "settings"
                || theirs.is_some_and(|t| t.contains(seg.as_str()))
        });
        if let Some(name) = named {
            out.insert(format!(
                "{} names {}'s settings (`{name}`)   {at}\n      the config loader hands each \
                 component its own settings and values across; move the type to its owner or \
                 to a leaf module",
                r.from, r.to
            ));
        }
        if is_config_module(&r.at.file) && !roles.leaves.contains(&r.to) {
            out.insert(format!(
                "config module {} uses {}   {at}\n      a config module uses leaf modules only \
                 ({})",
                r.at.file,
                r.to,
                roles.leaves.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    out.into_iter().collect()
}
