//! Every key has a class, decided by its component; the diff and the pins.

use super::keys;
use super::*;
use crate::reloadable::KeyClass;

const NO_AUTH: &str = "[auth]\nmode = \"none\"";

/// The sections the layers give (the files they name are not read).
fn read(layers: &Layers) -> Settings {
    let (partial, problems) = sections(layers, &Section::ALL);
    problems.finish(partial.complete()).unwrap()
}

fn with(overlay: &str) -> Settings {
    load_with(Path::new("/nonexistent"), None, Some(overlay)).unwrap()
}

/// Every dotted key of `config/default.toml` and of the `/admin/config` document has
/// exactly one class: a key added without deciding whether a reload applies it fails
/// here, naming it.
#[test]
fn every_key_of_the_defaults_and_the_view_has_one_class() {
    fn walk(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut all = Vec::new();
    walk(
        "",
        &toml::Value::Table(DEFAULT_TOML.parse::<toml::Table>().unwrap()),
        &mut all,
    );
    let view = with(NO_AUTH).view;
    all.extend(keys::dotted(&view).into_iter().map(|(k, _)| k));
    assert!(all.len() > 100, "{} keys", all.len());
    let undecided: Vec<&String> = all.iter().filter(|k| keys::class(k).is_none()).collect();
    assert!(
        undecided.is_empty(),
        "keys without a reload class (declare them live or restart in their component's \
         config module, next to its raw section): {undecided:?}"
    );
    // And no pattern names a key that does not exist (a renamed key left behind).
    for s in Section::ALL {
        for p in keys::of(s)
            .iter()
            .flat_map(|k| k.live.iter().chain(k.restart))
        {
            let full = format!("{}.{p}", s.name());
            assert!(
                all.iter().any(|key| crate::reloadable::covers(&full, key)),
                "{full} names no key of config/default.toml"
            );
        }
    }
    assert_eq!(keys::class("server.listen"), Some(KeyClass::Restart));
    assert_eq!(keys::class("cluster.redis_url"), Some(KeyClass::Restart));
    assert_eq!(keys::class("mask.rules"), Some(KeyClass::Live));
    assert_eq!(
        keys::class("cache.routes.customer_detail.ttl"),
        Some(KeyClass::Live)
    );
}

#[test]
fn the_diff_names_changed_keys_never_values() {
    let old = with(NO_AUTH).view;
    let new = with(&format!(
        "{NO_AUTH}\n[cache.routes.customer_detail]\nttl = \"5s\"\n[server]\nlisten = \"127.0.0.1:1\"\n\
         [upstream]\ntoken = \"sekrit-token\"\n[[mask.rules]]\nfield = \"x_extra\"\nstrategy = \"redact\"\n"
    ))
    .view;
    let changed = keys::changed(&old, &new);
    assert_eq!(
        changed,
        [
            "server.listen",
            "upstream.token",
            "mask.rules",
            "cache.routes.customer_detail.ttl"
        ]
    );
    assert!(changed.iter().all(|k| !k.contains("sekrit")));
    assert!(keys::changed(&old, &old).is_empty());
}

/// A read with the running configuration's pins keeps every restart-only value and
/// takes every live one from the new layers.
#[test]
fn pins_keep_the_restart_only_values_of_the_running_configuration() {
    let started = Layers {
        overlay: Some(format!(
            "{NO_AUTH}\n[server]\nlisten = \"127.0.0.1:1111\"\n[cluster]\nprefix = \"a\""
        )),
        vars: Some(EnvLayer::from_vars(Vec::<(String, String)>::new())),
        ..Layers::default()
    };
    let pins = keys::pins(&started).unwrap();
    let edited = Layers {
        overlay: Some(format!(
            "{NO_AUTH}\n[server]\nlisten = \"127.0.0.1:2222\"\nmax_request_body_bytes = 77\n\
             [cluster]\nprefix = \"b\"\n[log]\nlevel = \"debug\"\n"
        )),
        ..started.clone()
    };
    let pinned = Layers {
        pinned: pins,
        ..edited.clone()
    };
    let s = read(&pinned);
    assert_eq!(s.server.listen.port(), 1111);
    assert_eq!(s.pipeline.request_body.max_bytes, 77);
    assert_eq!(s.log.level, "debug");
    let unpinned = read(&edited);
    let left = keys::changed(&s.view, &unpinned.view);
    assert_eq!(left, ["server.listen", "cluster.prefix"]);
    assert!(left
        .iter()
        .all(|k| keys::class(k) == Some(KeyClass::Restart)));
}

/// The README's table of what reloads live is the components' declarations, row by row.
#[test]
fn the_readme_reload_table_is_the_declared_classes() {
    const README: &str = include_str!("../../README.md");
    let table = README
        .split("<!-- reload-classes -->")
        .nth(1)
        .expect("the README's reload table, after <!-- reload-classes -->");
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    let names = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_owned())
            .filter(|s| !s.is_empty() && s != "—")
            .collect()
    };
    let mut seen = Vec::new();
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 3, "{row}");
        let section = cells[0].trim().trim_matches('`');
        let s = Section::of(section).unwrap_or_else(|| panic!("unknown section in {row}"));
        let declared = keys::of(s);
        let live: Vec<&str> = declared.iter().flat_map(|k| k.live).copied().collect();
        let restart: Vec<&str> = declared.iter().flat_map(|k| k.restart).copied().collect();
        assert_eq!(names(cells[1]), live, "README live keys of [{section}]");
        assert_eq!(
            names(cells[2]),
            restart,
            "README restart keys of [{section}]"
        );
        seen.push(s);
    }
    assert_eq!(seen, Section::ALL, "one row per section, in order");
}
