//! `[mask]` validated and compiled: what [`super::Masker`] is built from. Every
//! problem of the section is found in one pass; only the HMAC key itself is
//! checked later, where it is read.

use std::path::PathBuf;

use super::config::{MaskConfig, Strategy};
use super::error::MaskConfigError;
use super::masker::{Rule, MAX_DEPTH_LIMIT};
use super::rules::{FieldIndex, PathTrie, Spelling};

/// Validated `[mask]` settings with the rules compiled into their lookup structures.
#[derive(Clone, Debug)]
pub struct MaskSettings {
    /// When false the gateway skips masking (the rules were still checked).
    pub enabled: bool,
    /// Where the key for `hmac` rules is read, once, at start.
    pub hmac_key_file: Option<PathBuf>,
    pub(super) placeholder: Box<str>,
    pub(super) mask_char: char,
    pub(super) max_depth: usize,
    pub(super) hmac_prefix: Box<str>,
    pub(super) hmac_hex_chars: usize,
    pub(super) rules: Vec<Rule>,
    pub(super) fields: FieldIndex,
    pub(super) paths: PathTrie,
    pub(super) mail_domains: Box<[Box<str>]>,
    /// `[mask.policy]` validated: per-family field policies, key words, detectors and the
    /// undeclared-paths registry the masker records into.
    pub policies: super::policy::Policies,
    /// The section as written, for `GET /admin/config`.
    pub source: MaskConfig,
}

impl MaskSettings {
    /// The first rule needing the HMAC key, as `(index, name)`.
    pub(super) fn first_hmac_rule(&self) -> Option<(usize, &str)> {
        self.rules
            .iter()
            .position(|r| r.strategy == Strategy::Hmac)
            .map(|i| (i, &*self.rules[i].name))
    }
}

impl MaskConfig {
    /// Checks every key and every rule, reporting all that are wrong.
    pub fn validate(&self) -> Result<MaskSettings, Vec<MaskConfigError>> {
        let mut errors = Vec::new();
        if self.max_depth == 0 || self.max_depth > MAX_DEPTH_LIMIT {
            errors.push(MaskConfigError::MaxDepth {
                max: MAX_DEPTH_LIMIT,
            });
        }
        if self.hmac_hex_chars == 0 || self.hmac_hex_chars > 64 {
            errors.push(MaskConfigError::HmacHexChars);
        }
        let spelling = if self.match_spellings {
            Spelling::Folded
        } else {
            Spelling::Exact
        };
        let mut mail_domains = Vec::with_capacity(self.shared_mail_domains.len());
        for (index, d) in self.shared_mail_domains.iter().enumerate() {
            if super::masker::is_hostname(d) {
                mail_domains.push(d.to_ascii_lowercase().into_boxed_str());
            } else {
                errors.push(MaskConfigError::MailDomain { index });
            }
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(self.rules.len());
        // By config index, "" for an entry already refused: error messages
        // name earlier rules by their index even after a refusal.
        let mut names: Vec<Box<str>> = Vec::with_capacity(self.rules.len());
        let mut fields = FieldIndex::new(spelling);
        let mut paths = PathTrie::new(spelling);
        for (index, rc) in self.rules.iter().enumerate() {
            names.push("".into());
            let name: &str = match (&rc.field, &rc.path) {
                (Some(f), None) => {
                    if f.is_empty() {
                        errors.push(MaskConfigError::Empty {
                            index,
                            what: "field",
                        });
                        continue;
                    }
                    if let Some(first) = fields.get(f) {
                        errors.push(duplicate(&names, index, first, f));
                        continue;
                    }
                    fields.insert(f, index);
                    f
                }
                (None, Some(p)) => {
                    if p.is_empty() || p.split('.').any(str::is_empty) {
                        errors.push(MaskConfigError::Empty {
                            index,
                            what: "path",
                        });
                        continue;
                    }
                    if let Some(first) = paths.insert(p.split('.'), index) {
                        errors.push(duplicate(&names, index, first, p));
                        continue;
                    }
                    p
                }
                _ => {
                    errors.push(MaskConfigError::FieldOrPath { index });
                    continue;
                }
            };
            // Names are metric label values and must tell rules apart (a one-segment path and a
            // field of the same name would not).
            if let Some(first) = names.iter().position(|n| &**n == name) {
                errors.push(duplicate(&names, index, first, name));
                continue;
            }
            names[index] = name.into();
            rules.push(Rule {
                name: name.into(),
                strategy: rc.strategy,
            });
        }
        let policies = self.policy.validate().map_err(|e| errors.extend(e)).ok();
        let Some(policies) = policies.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };
        Ok(MaskSettings {
            policies,
            enabled: self.enabled,
            hmac_key_file: self.hmac_key_file.clone(),
            placeholder: self.placeholder.as_str().into(),
            mask_char: self.mask_char,
            max_depth: self.max_depth,
            hmac_prefix: self.hmac_prefix.as_str().into(),
            hmac_hex_chars: self.hmac_hex_chars,
            rules,
            fields,
            paths,
            mail_domains: mail_domains.into_boxed_slice(),
            source: self.clone(),
        })
    }
}

fn duplicate(names: &[Box<str>], index: usize, first: usize, name: &str) -> MaskConfigError {
    match names.get(first) {
        Some(n) if !n.is_empty() && &**n != name => MaskConfigError::SameSpelling {
            index,
            name: name.to_owned(),
            first,
            first_name: n.to_string(),
        },
        _ => MaskConfigError::Duplicate {
            index,
            first,
            name: name.to_owned(),
        },
    }
}
