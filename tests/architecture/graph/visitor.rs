//! The per-file visitor: the references, definitions and metric names one source file holds.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Attribute, Item, Meta};

use crate::rel;

use super::*;

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
