//! Declared non-personal paths as a trie of object keys, descended in lock-step with the
//! document.
//!
//! Matching is **exact** (byte for byte with the declared spelling), unlike the deny checks,
//! which fold keys ([`crate::mask::keynorm::fold_key`]): a declaration lets a value through,
//! so it must not accept a key that only a loose reader takes for the declared one
//! (`"type\u{200d}"`, `"TYPE"`, `"ｔｙｐｅ"` are undeclared, and masked in `enforce` mode).
//! Being stricter here can only mask more.
//!
//! Each declared path carries a [`Kind`]: a leaf there is copied only when its value fits it.

use super::kind::Kind;

/// A node of [`DeclaredPaths`]; [`DeclaredPaths::root`] is the document root.
pub type NodeId = u32;

#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(Box<str>, NodeId)>,
    /// What a leaf here may hold; `None`: only a step on the way to declared paths.
    kind: Option<Kind>,
    /// Declared `key[]`: the leaf may be an array of such values.
    array: bool,
}

/// The declared paths of one family. A path is dotted object keys from the document root,
/// e.g. `data.individual.identification_type`. On the way to a leaf, arrays are transparent
/// (the walk stays on the same node when it enters an array: `data.items[]` and `data.items`
/// step alike). At a declared leaf an array is taken only when the declaration ends in `[]`
/// (`payin_sender_id_list[]:id`): a scalar declaration (`page:count`, `status:flag`) holding
/// an array has undeclared elements, and a flag is never an array's element.
/// Declaring a path declares the scalar leaves at it (or the scalars of an array at it, when
/// declared `key[]`), never an object's fields: `data` does not declare `data.email`. In `enforce` mode a key is
/// copied only when it is on a declared path (declared, or a step to one).
#[derive(Clone, Debug)]
pub struct DeclaredPaths {
    nodes: Vec<Node>,
}

impl Default for DeclaredPaths {
    fn default() -> Self {
        DeclaredPaths {
            nodes: vec![Node::default()],
        }
    }
}

impl DeclaredPaths {
    /// The segments of a configured path: split on `.`, a trailing `[]` dropped.
    pub fn segments(path: &str) -> impl Iterator<Item = &str> {
        path.split('.').map(|s| s.strip_suffix("[]").unwrap_or(s))
    }

    /// Adds a path (validated by the config layer: non-empty ASCII segments) with the kind
    /// of its leaves; false (and nothing changed) when it was declared already.
    pub fn insert(&mut self, path: &str, kind: Kind) -> bool {
        self.insert_segments(Self::segments(path), kind, path.ends_with("[]"))
    }

    /// [`DeclaredPaths::insert`] from the segments already split.
    pub fn insert_segments<'a>(
        &mut self,
        segments: impl IntoIterator<Item = &'a str>,
        kind: Kind,
        array: bool,
    ) -> bool {
        let mut at: NodeId = 0;
        for seg in segments {
            at = match self.child(at, seg) {
                Some(n) => n,
                None => {
                    // Fits in u32: a config cannot hold four billion path segments.
                    let n = self.nodes.len() as NodeId;
                    self.nodes.push(Node::default());
                    self.nodes[at as usize].children.push((seg.into(), n));
                    n
                }
            };
        }
        let node = &mut self.nodes[at as usize];
        if node.kind.is_some() {
            return false;
        }
        node.kind = Some(kind);
        node.array = array;
        true
    }

    /// The document root's node.
    #[inline]
    pub const fn root(&self) -> NodeId {
        0
    }

    /// The node for object key `raw_key` (the key as decoded from the body) under `node`;
    /// `None` when nothing under that key is declared (the walk then stops tracking).
    #[inline]
    pub fn child(&self, node: NodeId, raw_key: &str) -> Option<NodeId> {
        self.nodes
            .get(node as usize)?
            .children
            .iter()
            .find(|(name, _)| &**name == raw_key)
            .map(|&(_, n)| n)
    }

    /// Whether a declared path ends at `node` (whatever its kind).
    #[inline]
    pub fn is_declared(&self, node: NodeId) -> bool {
        self.kind(node).is_some()
    }

    /// Whether the elements of an array at `node` stand at `node`: it is a step on the way to
    /// declared paths (arrays are transparent there), or a leaf declared `key[]`.
    #[inline]
    pub fn takes_array(&self, node: NodeId) -> bool {
        self.nodes
            .get(node as usize)
            .is_some_and(|n| n.kind.is_none() || n.array)
    }

    /// The kind declared at `node`, if a declared path ends there.
    #[inline]
    pub fn kind(&self, node: NodeId) -> Option<&Kind> {
        self.nodes.get(node as usize)?.kind.as_ref()
    }

    /// Every declared path (dotted, arrays not marked) with its kind, in insertion order of
    /// the trie: for tests and listings.
    pub fn paths(&self) -> Vec<(String, &Kind)> {
        let mut out = Vec::new();
        let mut stack: Vec<(NodeId, String)> = vec![(0, String::new())];
        while let Some((n, path)) = stack.pop() {
            let node = &self.nodes[n as usize];
            if let Some(k) = &node.kind {
                out.push((path.clone(), k));
            }
            for (name, child) in node.children.iter().rev() {
                let p = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                stack.push((*child, p));
            }
        }
        out
    }

    /// Whether no path is declared.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }
}
