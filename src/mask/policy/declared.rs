//! Declared non-personal paths as a trie of object keys, descended in lock-step with the
//! document.
//!
//! Matching is **exact** (byte for byte with the declared spelling), unlike the deny checks,
//! which fold keys ([`crate::mask::keynorm::fold_key`]): a declaration lets a value through,
//! so it must not accept a key that only a loose reader takes for the declared one
//! (`"type\u{200d}"`, `"TYPE"`, `"ｔｙｐｅ"` are undeclared, and masked in `enforce` mode).
//! Being stricter here can only mask more.

/// A node of [`DeclaredPaths`]; [`DeclaredPaths::root`] is the document root.
pub type NodeId = u32;

#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(Box<str>, NodeId)>,
    declared: bool,
}

/// The declared paths of one family. A path is dotted object keys from the document root,
/// e.g. `data.individual.identification_type`; arrays are transparent (the walk stays on
/// the same node when it enters an array) and may be written `items[]` for clarity.
/// Declaring a path declares the scalar leaves at it (or the scalars of an array at it),
/// never an object's fields: `data` does not declare `data.email`.
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

    /// Adds a path (validated by the config layer: non-empty ASCII segments); false when it
    /// was declared already.
    pub fn insert(&mut self, path: &str) -> bool {
        let mut at: NodeId = 0;
        for seg in Self::segments(path) {
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
        !std::mem::replace(&mut node.declared, true)
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

    /// Whether a declared path ends at `node` (its scalar leaves are non-personal).
    #[inline]
    pub fn is_declared(&self, node: NodeId) -> bool {
        self.nodes.get(node as usize).is_some_and(|n| n.declared)
    }

    /// Whether no path is declared.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }
}
