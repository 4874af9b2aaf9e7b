//! The component graph of one crate, read from its source with `syn`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Item, Meta, Token, UseTree};

use crate::{rel, rust_files};

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
fn test_only(attrs: &[Attribute]) -> bool {
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

impl FileVisitor<'_> {
    /// Records a reference to `path` (as written, from the current module) at `line`.
    fn reference(&mut self, path: &[String], line: usize) {
        let Some(from) = self.module.first().cloned() else {
            return; // the crate root sits above every component
        };
        let absolute: Vec<String> = match path.first().map(String::as_str) {
            Some("crate") => path[1..].to_vec(),
            Some("super") => {
                let mut base = self.module.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    if base.pop().is_none() {
                        return;
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            _ => return, // `self::`, a local name or another crate: within `from` or outside
        };
        let example = Example {
            file: rel(self.display_root, &self.file),
            line,
            text: self
                .lines
                .get(line.saturating_sub(1))
                .map(|l| l.trim().to_owned())
                .unwrap_or_default(),
        };
        let Some(first) = absolute.first() else {
            // `use crate::*` / `use super::*` up to the root: every component's name and every
            // root re-export becomes a bare name here, which no later path shows.
            // (`use crate as x;` likewise.)
            self.graph.unplaceable.push(format!(
                "{}:{}: a glob or alias of the crate root (`{}`): name what you use, so the \
                 checker can see which component it comes from",
                example.file, example.line, example.text
            ));
            return;
        };
        let to = if self.graph.in_scope.contains(first) {
            first.clone()
        } else if let Some(owner) = self.graph.root_names.get(first) {
            owner.clone()
        } else if let Some(owner) = self.graph.exported_macros.get(first) {
            owner.clone()
        } else {
            // An item of the crate root itself, or a macro exported by a file not walked yet.
            self.graph.pending.push((from, first.clone(), example));
            return;
        };
        if to == from {
            return;
        }
        self.graph.references.push(Reference {
            from: from.clone(),
            to: to.clone(),
            path: absolute,
            at: example.clone(),
        });
        self.graph.edges.entry((from, to)).or_insert(example);
    }

    /// `crate :: a :: b`, `$crate :: a` and `super :: …` sequences inside a macro's or an
    /// attribute's tokens; in an attribute also a string that is such a path
    /// (`#[serde(serialize_with = "crate::redact::url")]`).
    fn scan_tokens(&mut self, tokens: TokenStream, in_attribute: bool) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let TokenTree::Group(g) = &tokens[i] {
                self.scan_tokens(g.stream(), in_attribute);
                i += 1;
                continue;
            }
            if let (true, TokenTree::Literal(lit)) = (in_attribute, &tokens[i]) {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                    if let Ok(p) = syn::parse_str::<syn::Path>(&s.value()) {
                        let segments: Vec<String> =
                            p.segments.iter().map(|s| s.ident.to_string()).collect();
                        if p.leading_colon.is_none() && segments.len() > 1 {
                            self.reference(&segments, lit.span().start().line);
                        }
                    }
                }
                i += 1;
                continue;
            }
            let start = i;
            let mut path = Vec::new();
            while let Some(TokenTree::Ident(id)) = tokens.get(i) {
                path.push(id.to_string());
                let colons = matches!(
                    (tokens.get(i + 1), tokens.get(i + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                        if a.as_char() == ':' && b.as_char() == ':'
                );
                if !colons {
                    break;
                }
                i += 3;
            }
            // `$crate` in a macro defined here is this crate: `$crate::metrics::Label` in a
            // macro of component `x` is `x → metrics` (and each use of the macro is an edge to
            // `x`, see `exported_macros`).
            let is_path = path.len() > 1 && (path[0] == "crate" || path[0] == "super");
            if is_path {
                let line = tokens[start].span().start().line;
                self.reference(&path, line);
            }
            // Past the last name of the path (or the token that is not one).
            if path.is_empty() || matches!(tokens.get(i), Some(TokenTree::Ident(_))) {
                i += 1;
            }
        }
    }
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if test_only(item_attrs(item)) {
            if let Item::Mod(m) = item {
                // Its file(s) are test-only: remembered so the coverage check accepts them.
                let name = m.ident.to_string();
                self.graph
                    .test_only
                    .push(self.dir.join(format!("{name}.rs")));
                self.graph.test_only.push(self.dir.join(&name));
                if let Some(p) = path_attr(&m.attrs) {
                    self.graph.test_only.push(self.file_dir().join(p));
                }
            }
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[Attribute] = match item {
            syn::ImplItem::Fn(f) => &f.attrs,
            syn::ImplItem::Const(c) => &c.attrs,
            syn::ImplItem::Type(t) => &t.attrs,
            _ => &[],
        };
        if !test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let name = m.ident.to_string();
        let mut module = self.module.clone();
        module.push(name.clone());
        if let Some((_, items)) = &m.content {
            let (outer_module, outer_dir) = (self.module.clone(), self.dir.clone());
            self.module = module;
            self.dir = self.dir.join(&name);
            for item in items {
                self.visit_item(item);
            }
            self.module = outer_module;
            self.dir = outer_dir;
            return;
        }
        let file = match path_attr(&m.attrs) {
            Some(p) => self.file_dir().join(p),
            None => {
                let flat = self.dir.join(format!("{name}.rs"));
                if flat.exists() {
                    flat
                } else {
                    self.dir.join(&name).join("mod.rs")
                }
            }
        };
        let child_dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
            file.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            file.with_extension("")
        };
        let ast = parse(&file);
        self.graph
            .walk(self.display_root, &file, &ast, module, child_dir);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut leaves = Vec::new();
        use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
        for (path, _, span) in leaves {
            self.reference(&path, span.start().line);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p.segments[0].ident.span().start().line;
            self.reference(&segments, line);
        }
        visit::visit_path(self, p);
    }

    // A metric name anywhere in non-test code: a family is registered with one (given to a
    // constructor directly or through a `const`), and nothing else spells one exactly.
    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        let name = s.value();
        let is_metric = name.strip_prefix("gateway_").is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_lowercase())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        if let (true, Some(component)) = (is_metric, self.module.first()) {
            let line = s.span().start().line;
            let at = Example {
                file: rel(self.display_root, &self.file),
                line,
                text: self
                    .lines
                    .get(line.saturating_sub(1))
                    .map(|l| l.trim().to_owned())
                    .unwrap_or_default(),
            };
            self.graph.metric_names.push(MetricName {
                component: component.clone(),
                name,
                at,
            });
        }
    }

    fn visit_item_struct(&mut self, i: &'ast syn::ItemStruct) {
        self.define(&i.ident);
        visit::visit_item_struct(self, i);
    }

    fn visit_item_enum(&mut self, i: &'ast syn::ItemEnum) {
        self.define(&i.ident);
        visit::visit_item_enum(self, i);
    }

    fn visit_item_type(&mut self, i: &'ast syn::ItemType) {
        self.define(&i.ident);
        visit::visit_item_type(self, i);
    }

    // `pub(crate)`, `pub(super)`, `pub(in crate::x)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let (Some(name), Some(from)) = (m.path.get_ident(), self.module.first()) {
            let line = name.span().start().line;
            let example = Example {
                file: rel(self.display_root, &self.file),
                line,
                text: self
                    .lines
                    .get(line.saturating_sub(1))
                    .map(|l| l.trim().to_owned())
                    .unwrap_or_default(),
            };
            self.graph
                .bare_macros
                .push((from.clone(), name.to_string(), example));
        }
        visit::visit_macro(self, m);
        self.scan_tokens(m.tokens.clone(), false);
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        let is_rules = m.mac.path.is_ident("macro_rules");
        if let (true, Some(name), Some(from)) = (is_rules, &m.ident, self.module.first()) {
            self.graph
                .macros
                .entry(name.to_string())
                .or_default()
                .insert(from.clone());
        }
        let exported = m.attrs.iter().any(|a| a.path().is_ident("macro_export"));
        if let (true, Some(name), Some(from)) = (exported, &m.ident, self.module.first()) {
            self.graph
                .exported_macros
                .insert(name.to_string(), from.clone());
        }
        visit::visit_item_macro(self, m);
    }

    // Paths in attribute arguments: `#[serde(with = "crate::x")]`, `#[derive(crate::x::D)]`.
    // (`#[doc = "…"]` is a name-value attribute: doc links are not code.)
    fn visit_attribute(&mut self, a: &'ast Attribute) {
        visit::visit_attribute(self, a);
        if let Meta::List(l) = &a.meta {
            self.scan_tokens(l.tokens.clone(), true);
        }
    }
}

impl FileVisitor<'_> {
    fn define(&mut self, name: &syn::Ident) {
        if let Some(component) = self.module.first() {
            self.graph.defined.push(Defined {
                component: component.clone(),
                name: name.to_string(),
                file: rel(self.display_root, &self.file),
            });
        }
    }

    fn file_dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
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
