//! `[mask.policy]` as operators write it, and its validation into [`super::Policies`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::declarations::Kinds;
use super::{FieldPolicy, KeyWords, Mode, Policies, PolicyFamily, Undeclared};
use crate::mask::config::Strategy;
use crate::mask::detect::{Detector, Detectors};
use crate::mask::error::MaskConfigError;
use crate::mask::keynorm::{fold_word, prepare_words};
use crate::problems::not_one_of;

/// Raw `[mask.policy]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// What undeclared leaves (`enforce`), key-word keys and detector hits are masked with:
    /// `"redact"` or `"null"`.
    pub default_strategy: String,
    /// Personal-data words: a key one of whose words is one of these is personal.
    pub key_words: Vec<String>,
    /// Words for a person's role (`payer`, `recipient`, `penerima`): a key that is only such
    /// a word holds a person, so a string under it that is no identifier is personal.
    #[serde(default)]
    pub role_words: Vec<String>,
    /// Enabled value-shape detectors: `email`, `phone`, `digit_run`, `iban`, `card`.
    pub detectors: Vec<String>,
    /// Fewest digits of a standalone digit run in a string that the `digit_run` detector
    /// masks (6..=19).
    pub digit_run_min: usize,
    /// Fewest digits of the integer a JSON number denotes (`6281234567890`, `6281234567890.0`,
    /// `6.28123456789e12`) that `digit_run` masks (`digit_run_min`..=40).
    pub number_digits_min: usize,
    /// Distinct undeclared paths listed per family (1..=10000); later ones are counted only.
    pub max_undeclared_paths: usize,
    /// Closed sets of strings a declaration may name as its kind: `customer_type =
    /// ["individual", "company"]` lets `"data.type:customer_type"` copy exactly those.
    #[serde(default)]
    pub enums: BTreeMap<String, Vec<String>>,
    /// Object shapes: declarations relative to an object, named so that a declaration can
    /// place the whole object at a path (`"data:customer"`, `"data.items[]:customer"`).
    #[serde(default)]
    pub objects: BTreeMap<String, Vec<String>>,
    /// Per-family mode and declared paths, by family name.
    pub families: BTreeMap<String, FamilyConfig>,
}

/// One `[mask.policy.families.<name>]` table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FamilyConfig {
    /// `"enforce"` or `"report"`.
    pub mode: String,
    /// Declarations `path:kind`: a dotted path of keys matched exactly
    /// (`data.items[].id`), and the kind of value its leaves may hold (`id`, `flag`, …, an
    /// enum of `enums`) or an object of `objects` placed at the path.
    #[serde(default)]
    pub declared: Vec<String>,
}

const MODES: [(&str, Mode); 2] = [("enforce", Mode::Enforce), ("report", Mode::Report)];
const DEFAULT_STRATEGIES: [(&str, Strategy); 2] =
    [("redact", Strategy::Redact), ("null", Strategy::Null)];

fn problem(key: impl Into<String>, problem: impl Into<String>) -> MaskConfigError {
    MaskConfigError::Policy {
        key: key.into(),
        problem: problem.into(),
    }
}

impl PolicyConfig {
    /// Checks every key, collecting every problem. A declared path a named rule also covers
    /// is accepted: the rule wins ([`super::FieldPolicy::decide`]), so adding a rule never
    /// needs a declaration removed. A path the key words call personal may be declared: that
    /// is how an operator overrides the heuristic for a field such as `payin_method_name`.
    pub fn validate(&self) -> Result<Policies, Vec<MaskConfigError>> {
        let mut errors = Vec::new();
        let default_strategy = DEFAULT_STRATEGIES
            .iter()
            .find(|(n, _)| *n == self.default_strategy)
            .map(|&(_, s)| s);
        if default_strategy.is_none() {
            errors.push(problem(
                "policy.default_strategy",
                not_one_of(&self.default_strategy, &DEFAULT_STRATEGIES.map(|(n, _)| n)),
            ));
        }

        let mut words: Vec<String> = Vec::new();
        for (i, w) in self.key_words.iter().enumerate() {
            let key = format!("policy.key_words[{i}]");
            // One word as a key's words are folded (not the whole-key fold, which would glue
            // `two words` into one).
            // `=race`: a word that meets whole words only (see `KeyWords::new`).
            let (mark, bare) = match w.strip_prefix(super::words::EXACT_MARK) {
                Some(rest) => ("=", rest),
                None => ("", w.as_str()),
            };
            let prepared = prepare_words(bare);
            let folded = fold_word(&prepared);
            if !is_entry(&folded) {
                errors.push(problem(
                    key,
                    format!("{w:?} must be one word of letters and digits, or words joined by `_` (`=` first: whole words only)"),
                ));
            } else if words.iter().any(|x| x.trim_start_matches('=') == folded) {
                errors.push(problem(key, format!("{w:?} is listed twice")));
            } else {
                words.push(format!("{mark}{folded}"));
            }
        }
        let mut roles: Vec<String> = Vec::new();
        for (i, w) in self.role_words.iter().enumerate() {
            let key = format!("policy.role_words[{i}]");
            let prepared = prepare_words(w);
            let folded = fold_word(&prepared);
            if !is_entry(&folded) {
                errors.push(problem(
                    key,
                    format!("{w:?} must be one word of letters and digits, or words joined by `_`"),
                ));
            } else if roles
                .iter()
                .chain(&words)
                .any(|x| x.trim_start_matches('=') == folded)
            {
                errors.push(problem(key, format!("{w:?} is listed twice")));
            } else {
                roles.push(folded.into_owned());
            }
        }
        let key_words = KeyWords::new(words.iter().map(String::as_str))
            .with_roles(roles.iter().map(String::as_str));

        let mut enabled = Vec::new();
        for (i, d) in self.detectors.iter().enumerate() {
            let key = format!("policy.detectors[{i}]");
            match Detector::from_label(d) {
                Some(det) if enabled.contains(&det) => {
                    errors.push(problem(key, format!("{d:?} is listed twice")));
                }
                Some(det) => enabled.push(det),
                None => errors.push(problem(
                    key,
                    not_one_of(d, &Detector::ALL.map(Detector::label)),
                )),
            }
        }
        if !(6..=19).contains(&self.digit_run_min) {
            errors.push(problem("policy.digit_run_min", "must be between 6 and 19"));
        }
        if self.number_digits_min < self.digit_run_min || self.number_digits_min > 40 {
            errors.push(problem(
                "policy.number_digits_min",
                "must be between mask.policy.digit_run_min and 40",
            ));
        }
        if !(1..=10_000).contains(&self.max_undeclared_paths) {
            errors.push(problem(
                "policy.max_undeclared_paths",
                "must be between 1 and 10000",
            ));
        }

        let kinds = Kinds::validate(&self.enums, &self.objects, &mut errors);
        let mut families = Vec::new();
        for (name, fc) in &self.families {
            let base = format!("policy.families.{name}");
            let Some(family) = PolicyFamily::from_label(name) else {
                errors.push(problem(
                    base,
                    format!(
                        "unknown family: {}",
                        not_one_of(name, &PolicyFamily::ALL.map(PolicyFamily::label))
                    ),
                ));
                continue;
            };
            let mode = MODES.iter().find(|(n, _)| *n == fc.mode).map(|&(_, m)| m);
            if mode.is_none() {
                errors.push(problem(
                    format!("{base}.mode"),
                    not_one_of(&fc.mode, &MODES.map(|(n, _)| n)),
                ));
            }
            let declared = kinds.declare(&fc.declared, &format!("{base}.declared"), &mut errors);
            families.push(FieldPolicy {
                family,
                mode: mode.unwrap_or(Mode::Enforce),
                declared,
            });
        }

        match (errors.is_empty(), default_strategy) {
            (true, Some(default_strategy)) => Ok(Policies::new(
                families,
                key_words,
                Detectors::new(&enabled, self.digit_run_min, self.number_digits_min),
                default_strategy,
                Arc::new(Undeclared::new(self.max_undeclared_paths)),
            )),
            _ => Err(errors),
        }
    }
}

/// A vocabulary entry: one word of letters and digits, or a compound of such words joined by
/// `_` (`identity_card`, `date_of_birth`), whose abbreviations are derived word by word.
fn is_entry(folded: &str) -> bool {
    folded
        .split('_')
        .all(|p| !p.is_empty() && p.chars().all(char::is_alphanumeric))
}
