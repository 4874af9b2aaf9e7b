//! `[auth]`: whether clients must present a key, and the clients file that
//! lists them. Raw as written, checked into [`AuthSettings`]; problems are
//! named relative to the section. The file itself is read by the config
//! pass's file checks and at start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::problems::{self, optional_path, Problems};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthModeSetting {
    /// Every client presents a key from the clients file.
    Keys,
    /// No client authentication at all: only when said explicitly.
    None,
}

impl AuthModeSetting {
    const NAMES: [(&'static str, AuthModeSetting); 2] =
        [("keys", Self::Keys), ("none", Self::None)];

    pub fn name(self) -> &'static str {
        problems::name_of(&Self::NAMES, self)
    }
}

impl<'de> Deserialize<'de> for AuthModeSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &Self::NAMES)
    }
}

impl Serialize for AuthModeSetting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub mode: AuthModeSetting,
    pub clients_file: String,
}

/// `[auth]` on a configuration reload: the clients file is opened and watched once
/// (it reloads itself, rate limits included, when it changes).
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &["mode", "clients_file"],
};

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthModeSetting,
    pub clients_file: Option<PathBuf>,
}

impl RawAuth {
    /// Keys relative to `[auth]`.
    pub fn check(self, p: &mut Problems) -> Option<AuthSettings> {
        let auth = AuthSettings {
            mode: self.mode,
            clients_file: optional_path(&self.clients_file),
        };
        if auth.mode == AuthModeSetting::Keys && auth.clients_file.is_none() {
            p.add(
                "clients_file",
                "required when `auth.mode = \"keys\"` (or set `auth.mode = \"none\"` explicitly)",
            );
            return None;
        }
        Some(auth)
    }
}
