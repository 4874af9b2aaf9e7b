//! Rule lookup structures built once from the config and consulted for every object key.
//!
//! Both are tuned for the hot path: no hashing, no allocation, a handful of byte comparisons
//! per key.

/// How an object key is compared with a rule's name (or a path rule's segment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// Byte for byte.
    #[default]
    Exact,
    /// ASCII case ignored and `_` / `-` skipped, so `phone_number`, `phoneNumber`,
    /// `Phone-Number` and `PHONENUMBER` are one name. Non-ASCII bytes compare exactly.
    Folded,
}

impl Spelling {
    /// The form a rule name is stored in.
    pub(crate) fn stored(self, name: &str) -> Box<str> {
        match self {
            Spelling::Exact => name.into(),
            Spelling::Folded => name
                .chars()
                .filter(|&c| c != '_' && c != '-')
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
                .into_boxed_str(),
        }
    }

    /// Length of `key` in the stored form, without building it.
    #[inline]
    fn len(self, key: &str) -> usize {
        match self {
            Spelling::Exact => key.len(),
            Spelling::Folded => key.len() - key.bytes().filter(|&b| is_separator(b)).count(),
        }
    }

    /// Whether `key` matches a name in its stored form.
    #[inline]
    fn matches(self, stored: &str, key: &str) -> bool {
        match self {
            Spelling::Exact => stored == key,
            Spelling::Folded => {
                let mut want = stored.bytes();
                for b in key.bytes() {
                    if is_separator(b) {
                        continue;
                    }
                    if want.next() != Some(b.to_ascii_lowercase()) {
                        return false;
                    }
                }
                want.next().is_none()
            }
        }
    }
}

/// `_` and `-` are ASCII, so skipping them byte-wise never splits a UTF-8 sequence.
#[inline]
fn is_separator(b: u8) -> bool {
    matches!(b, b'_' | b'-')
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

    pub(crate) fn insert(&mut self, name: &str, rule: usize) {
        let stored = self.spelling.stored(name);
        let len = stored.len();
        if self.by_len.len() <= len {
            self.by_len.resize_with(len + 1, Vec::new);
        }
        self.by_len[len].push((stored, rule));
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        let spelling = self.spelling;
        self.by_len
            .get(spelling.len(key))?
            .iter()
            .find(|(name, _)| spelling.matches(name, key))
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
            let spelling = self.spelling;
            let found = self.nodes[at]
                .children
                .iter()
                .find(|(name, _)| spelling.matches(name, seg))
                .map(|&(_, n)| n as usize);
            at = match found {
                Some(n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node::default());
                    // Node ids fit in u32: a config cannot hold four billion path segments.
                    self.nodes[at]
                        .children
                        .push((spelling.stored(seg), n as u32));
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
            .find(|(name, _)| self.spelling.matches(name, key))
            .map(|&(_, n)| n)
    }

    #[inline]
    pub(crate) fn rule(&self, node: u32) -> Option<usize> {
        self.nodes.get(node as usize)?.rule
    }
}
