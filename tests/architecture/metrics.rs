//! Each metric family is its component's: the component that decides its values registers
//! it, and others count with a handle to it. So
//!
//! - **the registry holds no family**: the components of the `registry` layer (`metrics`:
//!   the constructors, `Family`, `Label`, the shared label vocabulary) write no metric name
//!   (`"gateway_…"`) outside test-only code;
//! - **a family is registered in one component**: one metric name written in two components
//!   is two owners (or one family registered twice): keep it where its values are decided
//!   and hand the other a handle.
//!
//! A metric name is a string literal that is exactly `gateway_<lower case, digits, _>`, as
//! every registration writes one: `counter(r, "gateway_x_total", …)`,
//! `IntGauge::new("gateway_x", …)`, or a `const` given to such a call. (Help texts and doc
//! comments only mention names inside longer strings.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::graph::Graph;

pub fn failures(graph: &Graph, registry: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut owners: BTreeMap<&str, BTreeMap<&str, &crate::graph::Example>> = BTreeMap::new();
    for m in &graph.metric_names {
        if registry.contains(&m.component) {
            out.push(format!(
                "the registry ({}) registers `{}`   {}:{}: {}\n      a family belongs to the \
                 component that decides its values: register it there (its `metrics.rs`)",
                m.component, m.name, m.at.file, m.at.line, m.at.text
            ));
        }
        owners
            .entry(m.name.as_str())
            .or_default()
            .entry(m.component.as_str())
            .or_insert(&m.at);
    }
    for (name, by) in owners.iter().filter(|(_, by)| by.len() > 1) {
        let places: Vec<String> = by
            .iter()
            .map(|(c, at)| format!("{c} at {}:{}", at.file, at.line))
            .collect();
        out.push(format!(
            "`{name}` is registered by {} components: {}\n      one owner registers it; the \
             others count with a handle to it",
            by.len(),
            places.join(", ")
        ));
    }
    out
}

/// The components of the `registry` layer of docs/architecture.md.
fn registry_of(root: &Path) -> BTreeSet<String> {
    let doc = fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    crate::layers_in(&doc)
        .into_iter()
        .find(|(layer, _)| layer == "registry")
        .map(|(_, cs)| cs.into_iter().collect())
        .expect("docs/architecture.md has a `registry` layer")
}

#[test]
fn each_metric_family_is_registered_by_its_component() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = Graph::of_crate(root, root);
    assert!(
        graph.metric_names.len() > 50,
        "found the families ({})",
        graph.metric_names.len()
    );
    let failures = failures(&graph, &registry_of(root));
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// The metrics check itself: a family in the registry and a family registered by two
/// components (one through a `const`) both fail, with their places; a component registering
/// its own passes, and so does a name in test-only code or inside a longer string.
#[test]
fn the_metrics_check_fails_on_each_kind_of_breach() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("metrics")).expect("mkdir");
    let files = [
        ("lib.rs", "mod metrics;\nmod a;\nmod b;\nmod c;\n"),
        (
            "metrics.rs",
            "mod requests;\npub fn counter(_: &str) {}\n#[cfg(test)]\nfn t() { counter(\"gateway_test_total\"); }\n",
        ),
        (
            "metrics/requests.rs",
            "fn r() { prometheus::IntGauge::new(\"gateway_inflight\", \"h\"); }\n",
        ),
        (
            "a.rs",
            "fn r() { crate::metrics::counter(\"gateway_shared_total\"); }\n",
        ),
        (
            "b.rs",
            "/// Counts in `gateway_c_total`.\nfn r() {\n    crate::metrics::counter(NAME);\n}\nconst NAME: &str =\n    \"gateway_shared_total\";\n",
        ),
        (
            "c.rs",
            "fn r() { crate::metrics::counter(\"gateway_c_total\"); }\n",
        ),
    ];
    for (name, text) in files {
        fs::write(src.join(name), text).expect("write");
    }
    let graph = Graph::of_crate(dir.path(), dir.path());
    let failures = failures(&graph, &["metrics".to_owned()].into());
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].starts_with(
            "the registry (metrics) registers `gateway_inflight`   src/metrics/requests.rs:1"
        ),
        "{failures:#?}"
    );
    assert!(
        failures[1].starts_with(
            "`gateway_shared_total` is registered by 2 components: a at src/a.rs:1, b at src/b.rs:6"
        ),
        "{failures:#?}"
    );
}
