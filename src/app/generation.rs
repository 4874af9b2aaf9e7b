//! What each configuration generation is built from besides the pipeline's own
//! settings (`Settings::pipeline`, its keys of `[server]`): the inspector's settings,
//! the masker. Start-up and a configuration reload build them the same way, from
//! validated [`Settings`].

use std::sync::Arc;

use crate::config::Settings;
use crate::credentials::secret_file;
use crate::mask::{MaskSettings, Masker};
use crate::problems::Problem;

/// The masker the settings describe (None when masking is off), with its key.
/// The key comes back too, for the secret reflection guard.
pub(crate) fn build_masker(mask: &MaskSettings) -> Result<crate::proxy::Masking, Problem> {
    if !mask.enabled {
        return masker(mask, None);
    }
    let key = mask_key(mask)?;
    masker(mask, key.as_deref())
}

/// `mask.hmac_key_file`, read (None when unset).
pub(crate) fn mask_key(mask: &MaskSettings) -> Result<Option<Vec<u8>>, Problem> {
    match &mask.hmac_key_file {
        Some(p) => Ok(Some(secret_file("mask.hmac_key_file", p)?)),
        None => Ok(None),
    }
}

/// The masker of `mask` with `key` (read once at start: `mask.hmac_key_file` is a
/// restart-only key, so `hmac` digests keep matching across reloads).
pub(crate) fn masker(
    mask: &MaskSettings,
    key: Option<&[u8]>,
) -> Result<crate::proxy::Masking, Problem> {
    if !mask.enabled {
        tracing::warn!(
            "MASKING IS DISABLED (mask.enabled = false): personal data reaches clients unmasked"
        );
        return Ok((None, None));
    }
    let masker = Masker::new(mask, key).map_err(|e| Problem::new(e.full_key(), e.reason()))?;
    Ok((
        Some(Arc::new(masker)),
        key.map(|k| k.to_vec().into_boxed_slice()),
    ))
}

/// The inspector's settings: its own keys of `[upstream]`, the passthrough rules, the
/// upstream call's timeout (how long an answer may be parked) and each client's buffer
/// share.
pub(super) fn inspect_settings(settings: &Settings) -> crate::inspect::InspectSettings {
    crate::inspect::InspectSettings {
        limits: settings.inspect.clone(),
        park_limit: settings.upstream.timeout,
        buffer_share: settings.per_client.buffer_share,
        passthrough: settings.passthrough.clone(),
    }
}
