//! The shape of the source tree, checked by parsing it (nothing runs):
//!
//! - **No import cycle between top-level components.** Every module path is collapsed to its
//!   top-level component (`crate::cache::key::Key` → `cache`); an edge `a → b` is any
//!   reference from code in `a` to `b`: `use crate::…` (grouped trees too), `crate::…` paths in
//!   code and in macro arguments, `super::…` that climbs out of `a`, and names the crate root
//!   re-exports (`crate::Settings` → `config`). Test-only code (`#[cfg(test)]` items and the
//!   modules and files under them) is not part of the graph: tests may reach anywhere. The
//!   strongly connected components of that graph must all be single components; each cycle
//!   is reported edge by edge with one example reference (file:line) and the shortest way
//!   back that closes it.
//! - **Every gateway component imports only layers below its own.** The layer order is written
//!   once, in docs/architecture.md (the block after `<!-- layers -->`), and read from there:
//!   a component missing from it, or an edge that points sideways or up, fails with its
//!   example. (Acyclic follows from layered; the cycle report says which loop to cut.)
//! - **Components own their settings** (see [`settings`]): no component but the config loader
//!   and those above it names another component's settings, and a component's config module
//!   uses leaf modules only. The roles are read from the same layers block.
//! - **Each metric family is its component's** (see [`metrics`]): the registry (the
//!   `registry` layer) registers none, and no family is registered by two components.
//! - **A phase never takes the whole pipeline** (see [`phases`]): only `src/proxy/mod.rs` and
//!   `pipeline.rs` name `Proxy`.
//! - **No source file over [`MAX_LINES`] lines** under `src/` and `crates/*/src/` (files under
//!   `tests/` are listed when over, not failed).

mod graph;
mod metrics;
mod phases;
mod settings;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use graph::Graph;

const MAX_LINES: usize = 550;

/// Edges the checks skip, each with what makes it: none. An entry is a debt with its reason
/// beside it; the cycle check fails on one that no longer matches an edge, so none can
/// outlive its reason.
const IGNORED_EDGES: &[(&str, &str)] = &[];

#[test]
fn no_import_cycle_between_components() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for krate in crate_dirs(root) {
        let graph = Graph::of_crate(root, &krate);
        // `PRINT_COMPONENT_GRAPH=1 cargo test --test architecture -- --nocapture` lists every
        // edge with its example, cycle or not.
        if std::env::var_os("PRINT_COMPONENT_GRAPH").is_some() {
            for ((a, b), ex) in &graph.edges {
                eprintln!("{a} → {b}   {}:{}: {}", ex.file, ex.line, ex.text);
            }
        }
        graph.check_all_files_seen(root, &krate, &mut failures);
        let ignored: Vec<(String, String)> = if krate == root {
            IGNORED_EDGES
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        } else {
            Vec::new()
        };
        for edge in &ignored {
            if !graph.edges.contains_key(edge) {
                failures.push(format!(
                    "IGNORED_EDGES lists {} → {}, which is no longer an edge: remove it",
                    edge.0, edge.1
                ));
            }
        }
        failures.extend(graph.cycles(&ignored));
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Files allowed over [`MAX_LINES`] for now, each with why: none. The check fails once a
/// listed file is back under the limit, so an entry cannot outlive its reason.
const OVER_LIMIT_FOR_NOW: &[&str] = &[];

#[test]
fn each_component_imports_only_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let layers = layers_in(&doc);
    assert!(
        !layers.is_empty(),
        "docs/architecture.md has no `<!-- layers -->` block"
    );
    let layer_of = |c: &str| layers.iter().position(|(_, cs)| cs.iter().any(|x| x == c));
    let graph = Graph::of_crate(root, root);
    let mut failures = Vec::new();
    for c in &graph.components {
        if layer_of(c).is_none() {
            failures.push(format!(
                "component `{c}` is in no layer: add it to the layers block of docs/architecture.md"
            ));
        }
    }
    for (layer, names) in &layers {
        for c in names.iter().filter(|c| !graph.components.contains(*c)) {
            failures.push(format!(
                "docs/architecture.md's layer `{layer}` names `{c}`, which is no component of src/"
            ));
        }
    }
    for ((a, b), ex) in &graph.edges {
        if IGNORED_EDGES.iter().any(|(x, y)| x == a && y == b) {
            continue;
        }
        if let (Some(la), Some(lb)) = (layer_of(a), layer_of(b)) {
            if lb >= la {
                failures.push(format!(
                    "{a} ({}) → {b} ({}) does not point to a lower layer   {}:{}: {}",
                    layers[la].0, layers[lb].0, ex.file, ex.line, ex.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// The loader and the layers above it compose; the components of the layers below `policies`
/// that own no section are the leaves a config module may use.
fn roles(graph: &Graph, layers: &[(String, Vec<String>)]) -> settings::Roles {
    let at = |name: &str| {
        layers
            .iter()
            .position(|(l, _)| l == name)
            .unwrap_or_else(|| panic!("docs/architecture.md has no `{name}` layer"))
    };
    let (configuration, policies) = (at("configuration"), at("policies"));
    let owners = settings::owners_of_settings(graph);
    settings::Roles {
        composers: layers[configuration..]
            .iter()
            .flat_map(|(_, cs)| cs.iter().cloned())
            .collect(),
        leaves: layers[..policies]
            .iter()
            .flat_map(|(_, cs)| cs.iter().cloned())
            .filter(|c| !owners.contains(c))
            .collect(),
    }
}

/// Breaches of the settings rule left for now, each `(file, component it names)` with its
/// reason. The check fails once an entry no longer matches a failure, so none can outlive
/// its reason.
const SETTINGS_DEBTS: &[(&str, &str)] = &[];

#[test]
fn components_own_their_settings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let layers = layers_in(&doc);
    let graph = Graph::of_crate(root, root);
    let mut failures = settings::failures(&graph, &roles(&graph, &layers));
    let debt = |f: &String, (file, to): &(&str, &str)| {
        f.starts_with(&format!("config module {file} uses {to} "))
            || f.contains(&format!("   {file}:")) && f.contains(&format!(" names {to}'s "))
    };
    for d in SETTINGS_DEBTS {
        if !failures.iter().any(|f| debt(f, d)) {
            failures.push(format!(
                "SETTINGS_DEBTS lists {} → {}, which no longer fails: remove it",
                d.0, d.1
            ));
        }
    }
    failures.retain(|f| !SETTINGS_DEBTS.iter().any(|d| debt(f, d)));
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn a_phase_never_takes_the_whole_pipeline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let failures = phases::failures(root, &root.join("src/proxy"));
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// The phase check itself: a phase taking `&Proxy`, one in an `impl Proxy` block and one
/// holding an `Arc<Proxy>` fail with their lines; the composers, a comment or a string
/// naming it, and test-only code pass.
#[test]
fn the_phase_check_fails_on_a_phase_taking_the_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let proxy = dir.path().join("src/proxy");
    fs::create_dir_all(proxy.join("phase")).expect("dirs");
    for (name, text) in [
        ("mod.rs", "pub struct Proxy;\nimpl Proxy { fn f(&self) {} }\n"),
        ("pipeline.rs", "use super::Proxy;\nfn g(_: &Proxy) {}\n"),
        ("phase/taking.rs", "// Proxy\nfn h(_: &super::super::Proxy) {}\n"),
        ("phase/method.rs", "use crate::proxy::Proxy;\n\nimpl Proxy {}\n"),
        ("held.rs", "struct S { p: std::sync::Arc<crate::proxy::Proxy> }\n"),
        ("fine.rs", "/// Not `Proxy`.\nfn k() -> &'static str { \"Proxy\" }\n#[cfg(test)]\nmod tests { use crate::proxy::Proxy; }\n"),
    ] {
        fs::write(proxy.join(name), text).expect("write");
    }
    let mut found = phases::failures(dir.path(), &proxy);
    found
        .iter_mut()
        .for_each(|f| f.truncate(f.find(": a phase").unwrap_or(f.len())));
    found.sort();
    assert_eq!(
        found,
        [
            "src/proxy/held.rs:1",
            "src/proxy/phase/method.rs:1",
            "src/proxy/phase/method.rs:3",
            "src/proxy/phase/taking.rs:2",
        ]
    );
}

/// The settings check itself: each way of naming another component's settings fails (by its
/// module path, by a re-exported name, from a config module reaching a component that is no
/// leaf), and what the rule allows passes.
#[test]
fn the_settings_check_fails_on_each_kind_of_breach() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    for d in ["a", "b", "config"] {
        fs::create_dir_all(src.join(d)).expect("mkdir");
    }
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nmod config;\nmod leaf;\nmod d;\n",
        ),
        ("leaf.rs", "pub struct Word;\n"),
        // `b` owns a section; its raw type is re-exported at `crate::b::RawB`.
        ("b.rs", "pub mod config;\npub use config::RawB;\npub struct Runtime;\n"),
        ("b/config.rs", "pub struct RawB;\npub struct Limits;\n"),
        // `a`'s config module: a leaf is fine; another's settings by re-export, and a
        // component that is no leaf, are not.
        ("a.rs", "mod config;\n"),
        (
            "a/config.rs",
            "use crate::leaf::Word;\nstruct RawA { b: crate::b::RawB }\nfn f() { let _ = crate::c::go; }\n",
        ),
        // `c` (no config module) names `b`'s settings by their module path, and uses `b`'s
        // runtime, which is allowed.
        ("c.rs", "pub fn go() {}\nfn f(_: crate::b::config::Limits, _: crate::b::Runtime) {}\n"),
        // The loader knows every component's settings.
        ("config.rs", "mod parts;\n"),
        ("config/parts.rs", "struct All { a: crate::b::RawB, l: crate::b::config::Limits }\n"),
        ("d.rs", "fn f() { crate::config::load(); }\n"),
    ];
    for (name, text) in files {
        fs::write(src.join(name), text).expect("write");
    }
    let graph = Graph::of_crate(dir.path(), dir.path());
    let roles = settings::Roles {
        composers: ["config".to_owned()].into(),
        leaves: ["leaf".to_owned()].into(),
    };
    let failures = settings::failures(&graph, &roles);
    let places: BTreeSet<String> = failures
        .iter()
        .filter_map(|f| f.split("   ").nth(1))
        .map(|at| at.split(": ").next().unwrap_or_default().to_owned())
        .collect();
    let want: BTreeSet<String> = ["src/a/config.rs:2", "src/a/config.rs:3", "src/c.rs:2"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(places, want, "{failures:#?}");
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("a names b's settings (`RawB`)")),
        "{failures:#?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("config module src/a/config.rs uses c")),
        "{failures:#?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("c names b's settings (`config`)")),
        "{failures:#?}"
    );
    assert_eq!(
        settings::owners_of_settings(&graph),
        ["a".to_owned(), "b".to_owned()].into()
    );
}

/// `name: a, b, c` lines of the fenced block after `<!-- layers -->`, top layer first in the
/// doc; returned bottom layer first.
fn layers_in(doc: &str) -> Vec<(String, Vec<String>)> {
    let Some(start) = doc.find("<!-- layers -->") else {
        return Vec::new();
    };
    let mut lines = doc[start..].lines().skip_while(|l| !l.starts_with("```"));
    lines.next();
    let mut layers: Vec<(String, Vec<String>)> = lines
        .take_while(|l| !l.starts_with("```"))
        .filter_map(|l| l.split_once(':'))
        .map(|(name, cs)| {
            let cs = cs
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            (name.trim().to_owned(), cs)
        })
        .collect();
    layers.reverse();
    layers
}

#[test]
fn no_source_file_over_the_size_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut over = Vec::new();
    for krate in crate_dirs(root) {
        for file in rust_files(&krate.join("src")) {
            let lines = line_count(&file);
            let allowed = OVER_LIMIT_FOR_NOW.contains(&rel(root, &file).as_str());
            if lines > MAX_LINES && !allowed {
                over.push(format!("{} has {lines} lines", rel(root, &file)));
            }
            if lines <= MAX_LINES && allowed {
                over.push(format!(
                    "{} is within the limit now: remove it from OVER_LIMIT_FOR_NOW",
                    rel(root, &file)
                ));
            }
        }
    }
    // Tests, benches and examples are source files of the crate too: a long test file is
    // split by what its tests are about (a directory module, helpers in its mod.rs).
    for dir in ["tests", "benches", "examples"] {
        for file in rust_files(&root.join(dir)) {
            let lines = line_count(&file);
            if lines > MAX_LINES {
                over.push(format!("{} has {lines} lines", rel(root, &file)));
            }
        }
    }
    assert!(
        over.is_empty(),
        "source files over {MAX_LINES} lines (split them by job):\n{}",
        over.join("\n")
    );
}

/// The checker itself: every kind of reference it promises to count makes an edge, and
/// test-only code makes none.
#[test]
fn the_checker_sees_every_kind_of_reference() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("b/deep")).expect("mkdir");
    fs::create_dir_all(src.join("a")).expect("mkdir");
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\nmod e;\nmod f;\nmod h;\nmod g;\nmod i;\n#[macro_use]\nmod j;\nmod k;\n\
             pub use e::Named;\n",
        ),
        ("a.rs", "use crate::{b::x, c};\n#[cfg(test)]\nmod tests;\n"),
        ("a/tests.rs", "use crate::f::Z;\n"),
        ("b.rs", "mod deep;\n#[cfg(test)]\nuse crate::f::Y;\n"),
        ("b/deep.rs", "fn g() { super::super::d::h(); }\n"),
        (
            "c.rs",
            "fn g() -> crate::Named { tracing::info!(\"{}\", crate::f::X); todo!() }\n",
        ),
        ("d.rs", "mod inner { fn g() { let _ = crate::a::A; } }\n"),
        ("e.rs", "pub struct Named;\n"),
        (
            "f.rs",
            "#[cfg(all(test, unix))]\nfn t() { crate::a::q(); }\n",
        ),
        // An exported macro is `crate::mk!` at the root but belongs to `g`; the `$crate`
        // paths in its body are `g`'s references. `h` is walked before `g`.
        (
            "g.rs",
            "#[macro_export]\nmacro_rules! mk { () => { impl $crate::e::T for () {} } }\n",
        ),
        ("h.rs", "crate::mk!();\n"),
        // A `#[macro_use]` macro used by its bare name in another component.
        ("j.rs", "macro_rules! local { () => {} }\nfn f() { local!(); }\n"),
        ("k.rs", "fn f() { local!(); println!(); }\n"),
        // A path in an attribute's string.
        (
            "i.rs",
            "struct S { #[serde(serialize_with = \"crate::e::ser\")] x: u8 }\n",
        ),
    ];
    for (name, text) in files {
        fs::write(src.join(name), text).expect("write");
    }
    let graph = Graph::of_crate(dir.path(), dir.path());
    let edges: BTreeSet<String> = graph
        .edges
        .keys()
        .map(|(a, b)| format!("{a}→{b}"))
        .collect();
    let want: BTreeSet<String> = [
        "a→b", "a→c", "b→d", "c→e", "c→f", "d→a", "g→e", "h→g", "i→e", "k→j",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(edges, want);
    let mut failures = Vec::new();
    graph.check_all_files_seen(dir.path(), dir.path(), &mut failures);
    assert!(failures.is_empty(), "{failures:?}");
    let cycles = graph.cycles(&[]);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("a, b, d"), "{}", cycles[0]);
    assert!(cycles[0].contains("src/b/deep.rs:1"), "{}", cycles[0]);
    // With the closing edge ignored there is no cycle.
    assert!(graph.cycles(&[("d".into(), "a".into())]).is_empty());
}

/// What would hide edges fails instead: code in the crate root (a component calling
/// `crate::helper()` reaches whatever it uses), a glob re-export at the root (`crate::Name`
/// then names no component), and a glob or alias of the crate root (after
/// `use super::*;` in a component, `cache::Key` is a bare path naming no crate root).
#[test]
fn the_checker_refuses_what_it_cannot_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nfn helper() {}\npub use b::*;\n",
        ),
        ("a.rs", "use super::*;\nfn f() { b::g(); }\n"),
        ("b.rs", "use crate as root;\npub fn g() {}\n"),
        ("c.rs", "#[cfg(test)]\nuse crate::*;\n"),
    ];
    for (name, text) in files {
        fs::write(src.join(name), text).expect("write");
    }
    let graph = Graph::of_crate(dir.path(), dir.path());
    let mut failures = Vec::new();
    graph.check_all_files_seen(dir.path(), dir.path(), &mut failures);
    let places: BTreeSet<String> = failures
        .iter()
        .map(|f| f.split(": ").next().unwrap_or_default().to_owned())
        .collect();
    let want: BTreeSet<String> = ["src/lib.rs:4", "src/lib.rs:5", "src/a.rs:1", "src/b.rs:1"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(places, want, "{failures:#?}");
}

/// The package's own directory and each workspace crate under `crates/`.
fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(entries) = fs::read_dir(root.join("crates")) {
        let mut more: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("src").is_dir())
            .collect();
        more.sort();
        dirs.extend(more);
    }
    dirs
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn line_count(file: &Path) -> usize {
    fs::read_to_string(file).map_or(0, |t| t.lines().count())
}

fn rel(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}
