//! Rule lookup structures built once from the config and consulted for every object key.
//!
//! Both compare keys in one form ([`Spelling::form`]): the walk folds each key once and looks
//! it up in both; no hashing, a handful of byte comparisons per key.

use std::borrow::Cow;

use super::keynorm::fold_key;

/// How an object key is compared with a rule's name (or a path rule's segment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// Byte for byte.
    #[default]
    Exact,
    /// Both sides through [`fold_key`], the masker's one key normalisation (NFKC, full case
    /// folding, invisible and format characters and `_` / `-` dropped, surrounding blanks
    /// trimmed), so a key matches whenever any common client would read it as the name:
    /// `phoneNumber`, `PHONE-NUMBER`, `ｐｈｏｎｅ_number`, `"phone_number "`, `la\u017ft_name`.
    Folded,
}

impl Spelling {
    /// The form a rule name is stored in, and a key is looked up in.
    pub(crate) fn form(self, name: &str) -> Cow<'_, str> {
        match self {
            Spelling::Exact => Cow::Borrowed(name),
            Spelling::Folded => fold_key(name),
        }
    }
}

/// Field rules bucketed by key length (in the stored form): most keys of a body fall into a
/// bucket holding zero to three names, so a lookup is a length index plus a couple of compares.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldIndex {
    spelling: Spelling,
    by_len: Vec<Vec<(Box<str>, usize)>>,
}

impl FieldIndex {
    pub(crate) fn new(spelling: Spelling) -> Self {
        FieldIndex {
            spelling,
            by_len: Vec::new(),
        }
    }

    pub(crate) fn spelling(&self) -> Spelling {
        self.spelling
    }

    pub(crate) fn insert(&mut self, name: &str, rule: usize) {
        let stored: Box<str> = self.spelling.form(name).into();
        let len = stored.len();
        if self.by_len.len() <= len {
            self.by_len.resize_with(len + 1, Vec::new);
        }
        self.by_len[len].push((stored, rule));
    }

    /// The rule for a key as written (folded here when the spelling says so).
    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        self.get_formed(&self.spelling.form(key))
    }

    /// The rule for a key already in [`Spelling::form`].
    #[inline]
    pub(crate) fn get_formed(&self, formed: &str) -> Option<usize> {
        self.by_len
            .get(formed.len())?
            .iter()
            .find(|(name, _)| &**name == formed)
            .map(|&(_, rule)| rule)
    }
}

/// Path rules as a trie of object keys. Node 0 is the document root.
#[derive(Clone, Debug)]
pub(crate) struct PathTrie {
    spelling: Spelling,
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(Box<str>, u32)>,
    rule: Option<usize>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie::new(Spelling::default())
    }
}

impl PathTrie {
    pub(crate) fn new(spelling: Spelling) -> Self {
        PathTrie {
            spelling,
            nodes: vec![Node::default()],
        }
    }

    /// Adds `segments` and returns the rule already stored at that path, if any.
    pub(crate) fn insert<'a>(
        &mut self,
        segments: impl Iterator<Item = &'a str>,
        rule: usize,
    ) -> Option<usize> {
        let mut at = 0usize;
        for seg in segments {
            let formed = self.spelling.form(seg);
            let found = self.nodes[at]
                .children
                .iter()
                .find(|(name, _)| **name == *formed)
                .map(|&(_, n)| n as usize);
            at = match found {
                Some(n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node::default());
                    // Node ids fit in u32: a config cannot hold four billion path segments.
                    self.nodes[at].children.push((formed.into(), n as u32));
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

    /// The child of `node` for a key already in [`Spelling::form`].
    #[inline]
    pub(crate) fn child(&self, node: u32, formed: &str) -> Option<u32> {
        self.nodes
            .get(node as usize)?
            .children
            .iter()
            .find(|(name, _)| &**name == formed)
            .map(|&(_, n)| n)
    }

    #[inline]
    pub(crate) fn rule(&self, node: u32) -> Option<usize> {
        self.nodes.get(node as usize)?.rule
    }
}
