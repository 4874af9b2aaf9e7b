//! Field policy: which JSON leaves of a route family's answers are declared non-personal,
//! and what happens to every other leaf.
//!
//! The walk asks, for every response body:
//! 1. **Which policy?** [`PolicyFamily::of_path`] (by the path alone, never the method) →
//!    [`Policies::for_family`] → a [`FieldPolicy`] (its [`PolicyFamily`], [`Mode`],
//!    [`DeclaredPaths`], default strategy).
//! 2. **Descend the declared paths** in lock-step with the document:
//!    [`DeclaredPaths::root`], then [`DeclaredPaths::child`] per object key (arrays are
//!    transparent: stay on the same node). `None` means nothing below is declared.
//! 3. **Is this leaf declared, and does its value fit?** [`DeclaredPaths::kind`] on the
//!    leaf's node, then [`Kind::fits`]. In `enforce` mode a key off the declared paths
//!    ([`DeclaredPaths::child`] is `None`) is rewritten to `<key>#N`.
//! 4. **Is this key personal?** [`Policies::is_personal_key`] (key-word vocabulary).
//! 5. **Does a detector fire?** [`Policies::detectors`] → [`super::detect::Detectors::scan`]
//!    on string values (declared or not: a declared kind is a closed grammar judged by shape
//!    first, so the detectors find nothing in a value that fits it, such as a hex id) and on
//!    object keys, `scan_number_at` on number text; a declared `url`'s parts one by one.
//! 6. **Record what was not declared:** [`Undeclared::record`] with a path built by
//!    [`push_segment`] (placeholders for keys in which a detector fires).
//!
//! What to do with the answers, per mode, is [`FieldPolicy::decide`]'s table: the walk
//! may call it, or apply the same table itself.

mod abbrev;
mod config;
mod declarations;
mod declared;
mod family;
mod field_names;
mod key_word_memo;
pub mod kind;
mod mentions;
mod pairs;
mod role_text;
mod segments;
mod undeclared;
pub(crate) mod words;

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod tests;

pub use config::{FamilyConfig, PolicyConfig};
pub use declared::{DeclaredPaths, NodeId};
pub use family::PolicyFamily;
pub(crate) use field_names::trim_label;
pub use field_names::{Naming, MAX_FIELD_NAME, MAX_FIELD_NAME_WORDS};
pub use kind::{Kind, Leaf};
pub use pairs::KeyClass;
pub use undeclared::{
    push_scanned_segment, push_segment, Undeclared, UndeclaredFamily, UndeclaredListing,
};
pub use words::KeyWords;

use std::sync::Arc;

use super::config::Strategy;
use super::detect::{Detector, Detectors};
use crate::route::Route;

/// How a family treats leaves it does not declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every leaf not declared non-personal is masked with the default strategy: a field
    /// paycombat adds tomorrow is masked until an operator declares it.
    Enforce,
    /// Undeclared leaves are masked only when a named rule, a key word or a detector says
    /// so; the rest pass (and are counted in [`Undeclared`]). For families whose full schema
    /// the gateway cannot know, where masking an amount or a reference would break payments.
    Report,
}

impl Mode {
    pub const fn label(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Report => "report",
        }
    }
}

/// Why the policy (not a named rule) masked a value: a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskReason {
    /// A value-shape detector fired on the value or its key.
    Detected(Detector),
    /// The key (or an enclosing key) holds a personal-data key word.
    KeyWord,
    /// `enforce` mode: the leaf is not declared.
    Undeclared,
    /// The leaf is declared, but its value does not fit the declared kind (a `personal`
    /// field's value never does).
    Kind,
}

impl MaskReason {
    pub const ALL: [MaskReason; 8] = [
        MaskReason::Detected(Detector::Email),
        MaskReason::Detected(Detector::Phone),
        MaskReason::Detected(Detector::DigitRun),
        MaskReason::Detected(Detector::Iban),
        MaskReason::Detected(Detector::Card),
        MaskReason::KeyWord,
        MaskReason::Undeclared,
        MaskReason::Kind,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            MaskReason::Detected(d) => d.label(),
            MaskReason::KeyWord => "key_word",
            MaskReason::Undeclared => "undeclared",
            MaskReason::Kind => "kind",
        }
    }

    /// Position in [`MaskReason::ALL`].
    pub fn index(self) -> usize {
        MaskReason::ALL.iter().position(|&r| r == self).unwrap_or(0)
    }
}

/// One family's policy.
#[derive(Clone, Debug)]
pub struct FieldPolicy {
    pub family: PolicyFamily,
    pub mode: Mode,
    pub declared: DeclaredPaths,
}

/// What the walk does with one leaf (a string, number or boolean value, or `null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Copy the upstream bytes.
    Keep,
    /// Mask with this strategy (the family's default strategy, or the named rule's).
    Mask(Strategy),
}

impl LeafFacts {
    /// Why the policy masks a leaf with these facts, for the `reason` metric label (None
    /// when a named rule decides, or nothing masks it).
    pub fn reason(&self, mode: Mode) -> Option<MaskReason> {
        if self.rule.is_some() {
            return None;
        }
        if let Some(d) = self.detected {
            return Some(MaskReason::Detected(d));
        }
        if self.misfit {
            return Some(MaskReason::Kind);
        }
        if self.declared {
            return None;
        }
        if self.personal_key {
            return Some(MaskReason::KeyWord);
        }
        (mode == Mode::Enforce).then_some(MaskReason::Undeclared)
    }
}

/// Why a leaf is masked or kept, as the walk found it; input of [`FieldPolicy::decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeafFacts {
    /// A declared path ends here and the value fits its kind.
    pub declared: bool,
    /// A declared path ends here and the value does not fit its kind (a `personal` field).
    pub misfit: bool,
    /// A named `[[mask.rules]]` rule matched the key or path: its strategy.
    pub rule: Option<Strategy>,
    /// [`Policies::is_personal_key`] said yes for the leaf's key (or an enclosing key).
    pub personal_key: bool,
    /// A detector fired on the value (or on the leaf's key).
    pub detected: Option<Detector>,
}

impl FieldPolicy {
    /// The decision table both modes share:
    ///
    /// | facts                                   | enforce            | report              |
    /// |-----------------------------------------|--------------------|---------------------|
    /// | a named rule matched                    | rule's strategy    | rule's strategy     |
    /// | a detector fired (declared or not)      | default strategy   | default strategy    |
    /// | declared, value does not fit its kind   | default strategy   | default strategy    |
    /// | declared, value fits its kind           | keep               | keep                |
    /// | key word                                | default strategy   | default strategy    |
    /// | none of these                           | default strategy   | keep (and recorded) |
    ///
    /// A detector firing on a declared leaf still masks it: a declaration says what the
    /// field is, not that upstream put the right thing in it.
    pub fn decide(&self, facts: LeafFacts, default: Strategy) -> Verdict {
        if let Some(s) = facts.rule {
            return Verdict::Mask(s);
        }
        if facts.detected.is_some() || facts.misfit {
            return Verdict::Mask(default);
        }
        if facts.declared {
            return Verdict::Keep;
        }
        if facts.personal_key {
            return Verdict::Mask(default);
        }
        match self.mode {
            Mode::Enforce => Verdict::Mask(default),
            Mode::Report => Verdict::Keep,
        }
    }
}

/// Every family's policy plus what they share: vocabulary, detectors, default strategy and
/// the undeclared-paths registry. Built from `[mask.policy]` (see `config.rs`).
#[derive(Clone, Debug)]
pub struct Policies {
    families: Vec<FieldPolicy>,
    key_words: KeyWords,
    detectors: Detectors,
    default_strategy: Strategy,
    undeclared: Arc<Undeclared>,
}

impl Policies {
    /// `families` must hold one policy per [`PolicyFamily`] (in any order); a missing one
    /// gets `report` mode with nothing declared.
    pub fn new(
        families: Vec<FieldPolicy>,
        key_words: KeyWords,
        detectors: Detectors,
        default_strategy: Strategy,
        undeclared: Arc<Undeclared>,
    ) -> Self {
        let families = PolicyFamily::ALL
            .iter()
            .map(|&f| {
                families
                    .iter()
                    .find(|p| p.family == f)
                    .cloned()
                    .unwrap_or(FieldPolicy {
                        family: f,
                        mode: f.default_mode(),
                        declared: DeclaredPaths::default(),
                    })
            })
            .collect();
        Policies {
            families,
            key_words,
            detectors,
            default_strategy,
            undeclared,
        }
    }

    /// The policy of the family a route belongs to.
    pub fn for_route(&self, route: &Route) -> &FieldPolicy {
        self.for_family(PolicyFamily::of(route))
    }

    pub fn for_family(&self, family: PolicyFamily) -> &FieldPolicy {
        &self.families[family.index()]
    }

    /// Whether a key's words include a personal-data word of the vocabulary.
    pub fn is_personal_key(&self, raw_key: &str) -> bool {
        self.key_words.is_personal_key(raw_key)
    }

    pub fn key_words(&self) -> &KeyWords {
        &self.key_words
    }

    pub fn detectors(&self) -> &Detectors {
        &self.detectors
    }

    /// What undeclared leaves (enforce) and detector or key-word hits are masked with.
    pub fn default_strategy(&self) -> Strategy {
        self.default_strategy
    }

    /// The registry of undeclared paths, shared with `GET /admin/mask/undeclared`.
    pub fn undeclared(&self) -> &Arc<Undeclared> {
        &self.undeclared
    }
}
