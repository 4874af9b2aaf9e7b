//! Rule lookup structures built once from the config and consulted for every object key.
//!
//! Both are tuned for the hot path: no hashing, no allocation, a handful of byte comparisons
//! per key.

/// Field rules bucketed by key length: most keys of a body fall into a bucket holding zero to
/// three names, so a lookup is a length index plus a couple of `memcmp`s.
#[derive(Debug, Default)]
pub(crate) struct FieldIndex {
    by_len: Vec<Vec<(Box<str>, usize)>>,
}

impl FieldIndex {
    pub(crate) fn insert(&mut self, name: &str, rule: usize) {
        let len = name.len();
        if self.by_len.len() <= len {
            self.by_len.resize_with(len + 1, Vec::new);
        }
        self.by_len[len].push((name.into(), rule));
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        self.by_len
            .get(key.len())?
            .iter()
            .find(|(name, _)| **name == *key)
            .map(|&(_, rule)| rule)
    }
}

/// Path rules as a trie of object keys. Node 0 is the document root.
#[derive(Debug)]
pub(crate) struct PathTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    children: Vec<(Box<str>, u32)>,
    rule: Option<usize>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![Node::default()],
        }
    }
}

impl PathTrie {
    /// Adds `segments` and returns the rule already stored at that path, if any.
    pub(crate) fn insert<'a>(
        &mut self,
        segments: impl Iterator<Item = &'a str>,
        rule: usize,
    ) -> Option<usize> {
        let mut at = 0usize;
        for seg in segments {
            let found = self.nodes[at]
                .children
                .iter()
                .find(|(name, _)| **name == *seg)
                .map(|&(_, n)| n as usize);
            at = match found {
                Some(n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node::default());
                    // Node ids fit in u32: a config cannot hold four billion path segments.
                    self.nodes[at].children.push((seg.into(), n as u32));
                    n
                }
            };
        }
        match self.nodes[at].rule {
            Some(existing) => Some(existing),
            None => {
                self.nodes[at].rule = Some(rule);
                None
            }
        }
    }

    /// The root, or `None` when there are no path rules (lets the walk skip path tracking).
    pub(crate) fn root(&self) -> Option<u32> {
        (!self.nodes[0].children.is_empty()).then_some(0)
    }

    #[inline]
    pub(crate) fn child(&self, node: u32, key: &str) -> Option<u32> {
        self.nodes
            .get(node as usize)?
            .children
            .iter()
            .find(|(name, _)| **name == *key)
            .map(|&(_, n)| n)
    }

    #[inline]
    pub(crate) fn rule(&self, node: u32) -> Option<usize> {
        self.nodes.get(node as usize)?.rule
    }
}
