//! Typed declarations as operators write them — `"path:kind"` strings — checked and compiled
//! into a family's [`DeclaredPaths`].
//!
//! A kind is a built-in one ([`BUILT_IN`]), an enum of `mask.policy.enums`, or an object of
//! `mask.policy.objects`: a named list of declarations relative to an object, placed at a path
//! by a declaration naming it (`"data:customer"` declares every path of `customer` under
//! `data`; arrays are transparent, so it also covers `data: [customer, …]`). Objects may name
//! objects (`"individual:person"`), never themselves, directly or not.
//!
//! Precedence: a family's own scalar declarations are placed first, then its objects in
//! order, each path of an object only where nothing is declared yet. So a family (or a test
//! layer) can give one field of a shared object another kind without repeating the object.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::kind::{Kind, BUILT_IN};
use super::DeclaredPaths;
use crate::mask::error::MaskConfigError;

fn problem(key: impl Into<String>, problem: impl Into<String>) -> MaskConfigError {
    MaskConfigError::Policy {
        key: key.into(),
        problem: problem.into(),
    }
}

/// What a declaration's kind names.
#[derive(Clone, Debug)]
enum KindRef {
    Leaf(Kind),
    Object(String),
}

/// One parsed declaration.
#[derive(Clone, Debug)]
struct Decl {
    segments: Vec<String>,
    kind: KindRef,
    /// Written `key[]`: a leaf declaration that takes an array of such values.
    array: bool,
}

/// The enums and objects of `[mask.policy]`, validated.
pub(super) struct Kinds {
    enums: BTreeMap<String, Kind>,
    /// Only objects whose every entry is valid and that refer to no cycle.
    objects: BTreeMap<String, Vec<Decl>>,
}

/// A name an enum or object may take: a lower-case snake-case word, not a built-in kind.
fn refuse_name(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
    if !ok {
        return Some(format!(
            "{name:?} must be a lower-case snake-case name (letters, digits, `_`)"
        ));
    }
    if BUILT_IN.contains(&name) {
        return Some(format!("{name:?} is a built-in kind"));
    }
    None
}

/// Why a declared path cannot be declared, if it cannot.
fn refuse_path(path: &str) -> Option<&'static str> {
    let well_formed = DeclaredPaths::segments(path).all(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'.' | b'[' | b']' | b':'))
    });
    (path.is_empty() || !well_formed).then_some(
        "must be dotted keys of printable ASCII without `:` (an array may be written `key[]`)",
    )
}

impl Kinds {
    pub(super) fn validate(
        enums: &BTreeMap<String, Vec<String>>,
        objects: &BTreeMap<String, Vec<String>>,
        errors: &mut Vec<MaskConfigError>,
    ) -> Kinds {
        let mut kinds = Kinds {
            enums: BTreeMap::new(),
            objects: BTreeMap::new(),
        };
        for (name, values) in enums {
            let key = format!("policy.enums.{name}");
            if let Some(why) = refuse_name(name) {
                errors.push(problem(key, why));
                continue;
            }
            let mut ok = !values.is_empty();
            if values.is_empty() {
                errors.push(problem(&key, "must list at least one value"));
            }
            for (i, v) in values.iter().enumerate() {
                if v.is_empty() || v.len() > 128 || v.chars().any(char::is_control) {
                    errors.push(problem(
                        format!("{key}[{i}]"),
                        format!("{v:?} must be 1 to 128 bytes of printable text"),
                    ));
                    ok = false;
                } else if values[..i].contains(v) {
                    errors.push(problem(
                        format!("{key}[{i}]"),
                        format!("{v:?} is listed twice"),
                    ));
                    ok = false;
                }
            }
            if ok {
                kinds.enums.insert(
                    name.clone(),
                    Kind::Enum {
                        name: Arc::from(name.as_str()),
                        values: values.iter().map(|v| v.as_str().into()).collect(),
                    },
                );
            }
        }
        let mut parsed = BTreeMap::new();
        for (name, entries) in objects {
            let key = format!("policy.objects.{name}");
            if let Some(why) = refuse_name(name) {
                errors.push(problem(key, why));
                continue;
            }
            if enums.contains_key(name) {
                errors.push(problem(key, format!("{name:?} is also an enum")));
                continue;
            }
            let before = errors.len();
            let decls = kinds.parse_all(entries, &key, objects, errors);
            if errors.len() == before {
                parsed.insert(name.clone(), decls);
            }
        }
        // Cycles: an object that reaches itself through the objects it names.
        let cyclic: Vec<String> = parsed
            .keys()
            .filter(|n| reaches(&parsed, n, n, 0))
            .cloned()
            .collect();
        for name in cyclic {
            errors.push(problem(
                format!("policy.objects.{name}"),
                format!("{name:?} contains itself (directly or through another object)"),
            ));
            parsed.remove(&name);
        }
        // An object naming a refused one is refused too.
        loop {
            let broken: Vec<String> = parsed
                .iter()
                .filter(|(_, decls)| {
                    decls
                        .iter()
                        .any(|d| matches!(&d.kind, KindRef::Object(o) if !parsed.contains_key(o)))
                })
                .map(|(n, _)| n.clone())
                .collect();
            if broken.is_empty() {
                break;
            }
            for n in broken {
                parsed.remove(&n);
            }
        }
        kinds.objects = parsed;
        kinds
    }

    /// Parses every entry of a list under `key`; problems go to `errors`.
    fn parse_all(
        &self,
        entries: &[String],
        key: &str,
        objects: &BTreeMap<String, Vec<String>>,
        errors: &mut Vec<MaskConfigError>,
    ) -> Vec<Decl> {
        let mut out: Vec<Decl> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let key = format!("{key}[{i}]");
            let Some((path, kind)) = entry.split_once(':') else {
                errors.push(problem(
                    key,
                    format!(
                        "{entry:?} needs a kind: write \"{entry}:<kind>\", the kind one of {}, an enum of mask.policy.enums or an object of mask.policy.objects",
                        BUILT_IN.join(", ")
                    ),
                ));
                continue;
            };
            if let Some(why) = refuse_path(path) {
                errors.push(problem(key, format!("{path:?} {why}")));
                continue;
            }
            let kind = match (self.leaf_kind(kind), kind.contains('|')) {
                (Some(k), _) => KindRef::Leaf(k),
                (None, true) => {
                    errors.push(problem(
                        key,
                        format!(
                            "{kind:?}: a union (`a|b`) joins kinds of values: built-in kinds but `personal` and `text`, or enums of mask.policy.enums"
                        ),
                    ));
                    continue;
                }
                (None, false) if objects.contains_key(kind) => KindRef::Object(kind.to_owned()),
                (None, false) => {
                    errors.push(problem(
                        key,
                        format!(
                            "unknown kind {kind:?}: one of {}, an enum of mask.policy.enums or an object of mask.policy.objects",
                            BUILT_IN.join(", ")
                        ),
                    ));
                    continue;
                }
            };
            let segments: Vec<String> = DeclaredPaths::segments(path).map(str::to_owned).collect();
            // Several objects may share a path (their declarations add up: `"data:customer"`
            // and `"data:write_envelope"`); anything else at one path twice is a mistake.
            let clash = |d: &Decl| match (&d.kind, &kind) {
                (KindRef::Object(a), KindRef::Object(b)) => a == b,
                _ => true,
            };
            if out.iter().any(|d| d.segments == segments && clash(d)) {
                errors.push(problem(key, format!("{path:?} is declared twice")));
                continue;
            }
            out.push(Decl {
                segments,
                kind,
                array: path.ends_with("[]"),
            });
        }
        out
    }

    /// The kind of values `name` names: a built-in kind, an enum, or a union of such
    /// (`flag|code`; `personal` and `text` join none: one masks, the other copies anything).
    fn leaf_kind(&self, name: &str) -> Option<Kind> {
        let one = |n: &str| Kind::built_in(n).or_else(|| self.enums.get(n).cloned());
        if !name.contains('|') {
            return one(name);
        }
        let kinds = name
            .split('|')
            .map(|n| one(n).filter(|k| !matches!(k, Kind::Personal | Kind::Text)))
            .collect::<Option<Vec<Kind>>>()?;
        Some(Kind::OneOf {
            name: Arc::from(name),
            kinds: kinds.into(),
        })
    }

    /// A family's declarations compiled; problems under `key` (`policy.families.x.declared`).
    pub(super) fn declare(
        &self,
        entries: &[String],
        key: &str,
        errors: &mut Vec<MaskConfigError>,
    ) -> DeclaredPaths {
        let names: BTreeMap<String, Vec<String>> = self
            .objects
            .keys()
            .map(|k| (k.clone(), Vec::new()))
            .collect();
        let decls = self.parse_all(entries, key, &names, errors);
        let mut out = DeclaredPaths::default();
        for d in &decls {
            if let KindRef::Leaf(k) = &d.kind {
                out.insert_segments(d.segments.iter().map(String::as_str), k.clone(), d.array);
            }
        }
        for d in &decls {
            if let KindRef::Object(o) = &d.kind {
                self.place(&mut out, &mut d.segments.clone(), o, 0);
            }
        }
        out
    }

    /// Places object `name` at `prefix` (where nothing is declared yet).
    fn place(&self, out: &mut DeclaredPaths, prefix: &mut Vec<String>, name: &str, depth: usize) {
        // Cycles were refused; the bound keeps a logic error from recursing forever.
        let Some(decls) = self
            .objects
            .get(name)
            .filter(|_| depth <= self.objects.len())
        else {
            return;
        };
        for d in decls {
            let len = prefix.len();
            prefix.extend(d.segments.iter().cloned());
            match &d.kind {
                KindRef::Leaf(k) => {
                    out.insert_segments(prefix.iter().map(String::as_str), k.clone(), d.array);
                }
                KindRef::Object(o) => self.place(out, prefix, o, depth + 1),
            }
            prefix.truncate(len);
        }
    }
}

/// Whether object `from` reaches `target` through the objects it names.
fn reaches(objects: &BTreeMap<String, Vec<Decl>>, from: &str, target: &str, depth: usize) -> bool {
    if depth > objects.len() {
        return true;
    }
    objects.get(from).is_some_and(|decls| {
        decls.iter().any(|d| match &d.kind {
            KindRef::Object(o) => o == target || reaches(objects, o, target, depth + 1),
            KindRef::Leaf(_) => false,
        })
    })
}
