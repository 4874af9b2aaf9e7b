//! The component graph of one crate, read from its source with `syn`.
//!
//! The file visitor that reads one source file is in [`visitor`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Attribute, Item, Meta, Token, UseTree};

use crate::{rel, rust_files};

mod visitor;

/// One example of an edge: where it is and the line that makes it.
#[derive(Clone, Debug)]
pub struct Example {
    pub file: String,
    pub line: usize,
    pub text: String,
}

/// One reference from a component to another, as the settings rule reads it.
#[derive(Clone, Debug)]
pub struct Reference {
    pub from: String,
    pub to: String,
    /// The path from the crate root (`["inspect", "RawBuffering"]`).
    pub path: Vec<String>,
    pub at: Example,
}

/// A metric family's name (a string literal `"gateway_…"`) outside test-only code: where a
/// family is registered (`counter(r, "gateway_x_total", …)`, `IntGauge::new("gateway_x", …)`,
/// or a `const` such a call is given).
#[derive(Clone, Debug)]
pub struct MetricName {
    pub component: String,
    pub name: String,
    pub at: Example,
}

/// A type a component defines (`struct`, `enum`, `type`), and the file it is in.
#[derive(Clone, Debug)]
pub struct Defined {
    pub component: String,
    pub name: String,
    pub file: String,
}

#[derive(Default)]
pub struct Graph {
    /// Top-level modules of the crate.
    pub components: BTreeSet<String>,
    /// The top-level modules of the root file being walked (`lib.rs` or `main.rs`: each is a
    /// crate of its own, `crate::` means a different thing in each).
    in_scope: BTreeSet<String>,
    /// `pub use x::Name` at the crate root: `crate::Name` belongs to `x`.
    root_names: BTreeMap<String, String>,
    /// (from, to) → the first reference found.
    pub edges: BTreeMap<(String, String), Example>,
    /// Every reference between two components, not only the first of each edge.
    pub references: Vec<Reference>,
    /// Every type defined outside test-only code.
    pub defined: Vec<Defined>,
    /// Every metric name written outside test-only code.
    pub metric_names: Vec<MetricName>,
    /// Files parsed as part of the non-test module tree.
    seen: BTreeSet<PathBuf>,
    /// Files and directories of test-only modules (not parsed).
    test_only: Vec<PathBuf>,
    /// `#[macro_export]` macros: they live at the crate root (`crate::name!`), but belong to
    /// the component that defines them.
    exported_macros: BTreeMap<String, String>,
    /// Every `macro_rules!` name → the components that define one by that name: `#[macro_use]`
    /// carries a macro to later modules by its bare name (`mac!()`), no path to see.
    macros: BTreeMap<String, BTreeSet<String>>,
    /// Bare `name!` invocations: (from, name, example), resolved against `macros`.
    bare_macros: Vec<(String, String, Example)>,
    /// `crate::name` references to a root name the walk had not placed yet (a macro exported
    /// from a file walked later): (from, name, example), resolved once the walk is done.
    pending: Vec<(String, String, Example)>,
    /// What the checker cannot place (a glob of the crate root, code in the crate root).
    pub unplaceable: Vec<String>,
}

impl Graph {
    pub fn of_crate(display_root: &Path, krate: &Path) -> Graph {
        let mut graph = Graph::default();
        let src = krate.join("src");
        for root_file in ["lib.rs", "main.rs"] {
            let file = src.join(root_file);
            if !file.exists() {
                continue;
            }
            // Each root file is its own crate: its components are its own top-level modules.
            let ast = parse(&file);
            let (components, root_names) = root_names_of(&ast);
            graph.components.extend(components.iter().cloned());
            graph.in_scope = components;
            graph.root_names = root_names;
            if root_file == "lib.rs" {
                graph.root_holds_only_modules(display_root, &file, &ast);
            }
            graph.walk(display_root, &file, &ast, Vec::new(), src.clone());
            for (from, name, example) in std::mem::take(&mut graph.pending) {
                if let Some(to) = graph.exported_macros.get(&name) {
                    if *to != from {
                        graph.edges.entry((from, to.clone())).or_insert(example);
                    }
                }
            }
            for (from, name, example) in std::mem::take(&mut graph.bare_macros) {
                let Some(owners) = graph.macros.get(&name) else {
                    continue; // std's, or another crate's
                };
                if owners.contains(&from) {
                    continue; // its own
                }
                for to in owners {
                    graph
                        .edges
                        .entry((from.clone(), to.clone()))
                        .or_insert(example.clone());
                }
            }
        }
        graph
    }

    /// Code in the crate root would sit above every component and below none: a component
    /// calling `crate::helper()` that calls into a higher component hides the edge. So the
    /// root holds modules, re-exports and attributes only.
    fn root_holds_only_modules(&mut self, display_root: &Path, file: &Path, ast: &syn::File) {
        for item in &ast.items {
            if let Item::Use(u) = item {
                let mut leaves = Vec::new();
                use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                if let Some((_, _, span)) = leaves.iter().find(|(_, name, _)| name == "*") {
                    self.unplaceable.push(format!(
                        "{}:{}: a glob re-export at the crate root: `crate::Name` then comes \
                         from no component the checker can name; re-export names",
                        rel(display_root, file),
                        span.start().line
                    ));
                }
            }
            if test_only(item_attrs(item)) || matches!(item, Item::Mod(_) | Item::Use(_)) {
                continue;
            }
            let line = match item {
                Item::Fn(f) => f.sig.ident.span().start().line,
                Item::Struct(s) => s.ident.span().start().line,
                Item::Enum(e) => e.ident.span().start().line,
                Item::Const(c) => c.ident.span().start().line,
                Item::Static(c) => c.ident.span().start().line,
                Item::Trait(t) => t.ident.span().start().line,
                Item::Type(t) => t.ident.span().start().line,
                Item::Macro(m) => m.mac.path.segments[0].ident.span().start().line,
                _ => 0,
            };
            self.unplaceable.push(format!(
                "{}:{line}: an item in the crate root (only `mod` and `use` belong there: \
                 code there is in no component, and the checker cannot see what it hides)",
                rel(display_root, file)
            ));
        }
    }

    fn walk(
        &mut self,
        display_root: &Path,
        file: &Path,
        ast: &syn::File,
        module: Vec<String>,
        dir: PathBuf,
    ) {
        self.seen.insert(file.to_path_buf());
        let text = fs::read_to_string(file).unwrap_or_default();
        let mut visitor = FileVisitor {
            graph: self,
            display_root,
            file: file.to_path_buf(),
            lines: text.lines().map(str::to_owned).collect(),
            module,
            dir,
        };
        visitor.visit_file(ast);
    }

    pub fn check_all_files_seen(&self, root: &Path, krate: &Path, failures: &mut Vec<String>) {
        failures.extend(self.unplaceable.iter().cloned());
        for file in rust_files(&krate.join("src")) {
            let under_test = self.test_only.iter().any(|t| file.starts_with(t));
            if !self.seen.contains(&file) && !under_test {
                failures.push(format!(
                    "{} is not reached from the crate root by a non-test `mod` (the checker \
                     cannot place it)",
                    rel(root, &file)
                ));
            }
        }
    }

    /// Each strongly connected set of more than one component, with every edge inside it.
    pub fn cycles(&self, ignored: &[(String, String)]) -> Vec<String> {
        let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in self.edges.keys() {
            if ignored.iter().any(|(x, y)| x == a && y == b) {
                continue;
            }
            next.entry(a.as_str()).or_default().push(b.as_str());
        }
        let mut out = Vec::new();
        for scc in strongly_connected(&next) {
            if scc.len() < 2 {
                continue;
            }
            let members: BTreeSet<&str> = scc.iter().copied().collect();
            let mut report = format!(
                "import cycle between {} components: {}\n",
                members.len(),
                members.iter().copied().collect::<Vec<_>>().join(", ")
            );
            for ((a, b), ex) in &self.edges {
                if !members.contains(a.as_str()) || !members.contains(b.as_str()) {
                    continue;
                }
                if ignored.iter().any(|(x, y)| x == a && y == b) {
                    continue;
                }
                let back = shortest_path(&next, b, a).join(" → ");
                report.push_str(&format!(
                    "  {a} → {b}   {}:{}: {}\n      closed by {back}\n",
                    ex.file, ex.line, ex.text
                ));
            }
            out.push(report);
        }
        out
    }
}

fn parse(file: &Path) -> syn::File {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn root_names_of(ast: &syn::File) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut components = BTreeSet::new();
    for item in &ast.items {
        if let Item::Mod(m) = item {
            if !test_only(&m.attrs) {
                components.insert(m.ident.to_string());
            }
        }
    }
    let mut names = BTreeMap::new();
    for item in &ast.items {
        if let Item::Use(u) = item {
            let mut leaves = Vec::new();
            use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
            for (path, name, _) in leaves {
                let path: Vec<&str> = path
                    .iter()
                    .map(String::as_str)
                    .skip_while(|s| *s == "crate" || *s == "self")
                    .collect();
                if let Some(first) = path.first() {
                    if components.contains(*first) {
                        names.insert(name, (*first).to_owned());
                    }
                }
            }
        }
    }
    (components, names)
}

/// Each leaf of a use tree: its full path, the name it binds, and the span of that name.
fn use_leaves(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, proc_macro2::Span)>,
) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let mut path = prefix.clone();
            let name = n.ident.to_string();
            if name != "self" {
                path.push(name.clone());
            }
            out.push((path, name, n.ident.span()));
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, r.rename.to_string(), r.ident.span()));
        }
        UseTree::Glob(g) => {
            out.push((prefix.clone(), "*".into(), g.star_token.spans[0]));
        }
        UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix, out);
            }
        }
    }
}

/// `#[cfg(test)]`, or `#[cfg(all(…, test, …))]`: code that exists only in test builds.
pub(crate) fn test_only(attrs: &[Attribute]) -> bool {
    fn only_test(meta: &Meta) -> bool {
        match meta {
            Meta::Path(p) => p.is_ident("test"),
            Meta::List(l) if l.path.is_ident("all") => l
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .is_ok_and(|args| args.iter().any(only_test)),
            _ => false,
        }
    }
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.parse_args::<Meta>().is_ok_and(|m| only_test(&m)))
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

struct FileVisitor<'g> {
    graph: &'g mut Graph,
    display_root: &'g Path,
    file: PathBuf,
    lines: Vec<String>,
    /// The module the visitor is in, from the crate root (empty: the root itself).
    module: Vec<String>,
    /// Where this module's `mod x;` files are.
    dir: PathBuf,
}

/// Tarjan's algorithm over a small graph.
fn strongly_connected<'a>(next: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn connect<'a>(v: &'a str, next: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in next.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if !s.index.contains_key(w) {
                connect(w, next, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(scc);
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> = next
        .iter()
        .flat_map(|(a, bs)| std::iter::once(*a).chain(bs.iter().copied()))
        .collect();
    for v in nodes {
        if !s.index.contains_key(v) {
            connect(v, next, &mut s);
        }
    }
    s.out
}

/// The shortest path `from ⇝ to` (breadth first), as the list of components on it.
fn shortest_path<'a>(
    next: &BTreeMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    to: &'a str,
) -> Vec<&'a str> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        if v == to {
            let mut path = vec![to];
            let mut at = to;
            while at != from {
                at = came_from[at];
                path.push(at);
            }
            path.reverse();
            return path;
        }
        for &w in next.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if w != from && !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![from, "?", to]
}
