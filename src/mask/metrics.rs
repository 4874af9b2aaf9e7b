//! The field policy's metric families: leaves no policy declares, and values
//! the policy masked (not a named rule), by route family and reason. The
//! policy decides both; its registry of undeclared paths
//! ([`super::policy::Policies::undeclared`]) holds the series, attached by the
//! app to every generation's policies.

use prometheus::{IntCounterVec, Registry};

use crate::metrics::{counter, Family};

#[derive(Clone)]
pub struct MaskPolicyMetrics {
    /// `{family}`: a [`super::policy::PolicyFamily`].
    pub undeclared: Family<IntCounterVec, 1>,
    /// `{family, reason}`: a [`super::policy::PolicyFamily`] and a [`super::policy::MaskReason`].
    pub masked: Family<IntCounterVec, 2>,
}

impl MaskPolicyMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<MaskPolicyMetrics> {
        Ok(MaskPolicyMetrics {
            undeclared: counter(r, "gateway_mask_undeclared_fields_total", "JSON leaves seen that their route family's field policy does not declare non-personal, by family (the paths are on GET /admin/mask/undeclared).", &["family"])?,
            masked: counter(r, "gateway_mask_policy_masked_total", "Values the field policy masked (not a named rule), by family and reason (email, phone, digit_run, iban, card, key_word, undeclared, kind).", &["family", "reason"])?,
        })
    }
}
