//! **A phase never takes the whole pipeline.** The request pipeline (`src/proxy/`) composes
//! its phases from its parts in one place, `mod.rs` (the `Proxy` and its parts) and
//! `pipeline.rs` (their order); every other file of it is a phase, or a branch of phases,
//! which receives only the settings and components it reads. So no other file names `Proxy`:
//! not in a parameter (`&Proxy`, `Arc<Proxy>`, `self: Arc<Self>` in `impl Proxy`), a field,
//! or an `impl Proxy` block. Test-only code is left out.

use std::fs;
use std::path::Path;

use syn::visit::{self, Visit};

use crate::graph::test_only;
use crate::{rel, rust_files};

/// The files that compose the phases (and so may name the whole pipeline).
const COMPOSERS: &[&str] = &["mod.rs", "pipeline.rs"];

/// Every place a phase file of `proxy` (the pipeline's directory) names `Proxy`.
pub fn failures(root: &Path, proxy: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for file in rust_files(proxy) {
        let name = file
            .strip_prefix(proxy)
            .map(|p| p.to_string_lossy().into_owned());
        if name.as_deref().is_ok_and(|n| COMPOSERS.contains(&n)) {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read source");
        let Ok(ast) = syn::parse_file(&text) else {
            out.push(format!("{}: does not parse", rel(root, &file)));
            continue;
        };
        let mut v = Names { lines: Vec::new() };
        v.visit_file(&ast);
        for line in v.lines {
            out.push(format!(
                "{}:{line}: a phase names `Proxy`: hand it the settings and components it reads (composed in src/proxy/mod.rs), not the whole pipeline",
                rel(root, &file)
            ));
        }
    }
    out
}

struct Names {
    lines: Vec<usize>,
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => return visit::visit_item(self, item),
        };
        if !test_only(attrs) {
            visit::visit_item(self, item);
        }
    }

    fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
        if seg.ident == "Proxy" {
            self.lines.push(seg.ident.span().start().line);
        }
        visit::visit_path_segment(self, seg);
    }

    fn visit_use_name(&mut self, name: &'ast syn::UseName) {
        if name.ident == "Proxy" {
            self.lines.push(name.ident.span().start().line);
        }
    }
}
