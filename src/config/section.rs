//! The layers merged, and each section read on its own so a wrong value in
//! one does not hide the problems of the others.

use super::{patch, EnvLayer, Layers, RawSettings, DEFAULT_TOML};
use crate::problems::{self, not_one_of, Problem, Problems};

/// The top-level sections, in the order of `config/default.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Server,
    Admin,
    Upstream,
    Log,
    Mask,
    Cache,
    Auth,
    Telemetry,
    Cluster,
    Idempotency,
}

impl Section {
    pub const ALL: [Section; 10] = [
        Section::Server,
        Section::Admin,
        Section::Upstream,
        Section::Log,
        Section::Mask,
        Section::Cache,
        Section::Auth,
        Section::Telemetry,
        Section::Cluster,
        Section::Idempotency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Server => "server",
            Section::Admin => "admin",
            Section::Upstream => "upstream",
            Section::Log => "log",
            Section::Mask => "mask",
            Section::Cache => "cache",
            Section::Auth => "auth",
            Section::Telemetry => "telemetry",
            Section::Cluster => "cluster",
            Section::Idempotency => "idempotency",
        }
    }

    pub fn of(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

pub(super) fn merged(layers: &Layers) -> Result<config::Config, Problem> {
    use config::{Config, File, FileFormat};
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
    let env = layers.env.as_deref().filter(|e| !e.is_empty());
    match (&layers.file, env) {
        (Some(_), Some(env)) => {
            return Err(Problem::new(
                "--config",
                format!(
                    "give either --config FILE or --env / GATEWAY_ENV ({env:?}), not both: \
                     each names the one file layered over the defaults"
                ),
            ))
        }
        (Some(path), None) => {
            if !path.is_file() {
                return Err(Problem::new(
                    "--config",
                    format!("{} does not exist", path.display()),
                ));
            }
            builder = builder.add_source(File::from(path.as_path()).format(FileFormat::Toml));
        }
        (None, Some(env)) => {
            let path = layers.config_dir.join(format!("{env}.toml"));
            if !path.is_file() {
                return Err(Problem::new(
                    "GATEWAY_ENV",
                    format!("{env:?} selects {}, which does not exist", path.display()),
                ));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        (None, None) => {}
    }
    if let Some(overlay) = &layers.overlay {
        builder = builder.add_source(File::from_str(overlay, FileFormat::Toml));
    }
    // Strings as given; each key's type decides what they become (see `env`).
    builder = builder.add_source(layers.vars.clone().unwrap_or_else(EnvLayer::from_process));
    // Flags last, before anything is validated: a flag's value is checked
    // like any other layer's.
    for (key, value) in &layers.flags {
        builder = builder
            .set_override(key.as_str(), value.as_str())
            .map_err(|e| problems::from_config_error("", &e))?;
    }
    // Above everything: what a reload keeps of the running configuration.
    for (key, value) in &layers.pinned {
        builder = builder
            .set_override(key.as_str(), value.clone())
            .map_err(|e| problems::from_config_error("", &e))?;
    }
    builder
        .build()
        .map_err(|e| problems::from_config_error("configuration", &e))
}

/// The TOML layers above the defaults, as text, each with the name a problem
/// in it is told under: the file (`--config FILE` or `<env>.toml`) and the
/// overlay. A file that cannot be read is the merge's problem, not this.
pub(super) fn toml_layers(layers: &Layers) -> Vec<(String, String)> {
    let env = layers.env.as_deref().filter(|e| !e.is_empty());
    let file = match (&layers.file, env) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(env)) => Some(layers.config_dir.join(format!("{env}.toml"))),
        (None, None) => None,
    };
    let mut out = Vec::new();
    if let Some(path) = file {
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((text, path.display().to_string()));
        }
    }
    if let Some(overlay) = &layers.overlay {
        out.push((overlay.clone(), "the overlay".to_owned()));
    }
    out
}

/// The sections `only` as read (others stay `None`).
pub(super) fn read(layers: &Layers, only: &[Section], p: &mut Problems) -> RawSettings {
    let cfg = match merged(layers) {
        Ok(cfg) => cfg,
        Err(problem) => {
            p.extend([problem]);
            return RawSettings::default();
        }
    };
    if let config::ValueKind::Table(root) = &cfg.cache.kind {
        let names = Section::ALL.map(Section::name);
        let mut unknown: Vec<&String> = root.keys().filter(|k| Section::of(k).is_none()).collect();
        unknown.sort();
        for key in unknown {
            p.add(
                key.clone(),
                format!("unknown section: {}", not_one_of(key, &names)),
            );
        }
    }
    let mut patched = Vec::new();
    let mut raw = RawSettings::default();
    for s in only {
        let (p, pa) = (&mut *p, &mut patched);
        match s {
            Section::Server => {
                // Two owners (see `server_owners`): each reads its own keys.
                raw.server = section(&cfg, *s, p, pa);
                raw.pipeline = section(&cfg, *s, p, pa);
                unclaimed(&cfg, *s, &server_owners(), p);
            }
            Section::Admin => raw.admin = section(&cfg, *s, p, pa),
            Section::Upstream => {
                // Three owners (see `upstream_owners`): each reads its own keys.
                raw.upstream = section(&cfg, *s, p, pa);
                raw.inspect = section(&cfg, *s, p, pa);
                raw.fair = section(&cfg, *s, p, pa);
                unclaimed(&cfg, *s, &upstream_owners(), p);
            }
            Section::Log => raw.log = section(&cfg, *s, p, pa),
            Section::Mask => {
                // Two owners (see `mask_owners`): each reads its own keys.
                raw.mask = section(&cfg, *s, p, pa);
                raw.relay = section(&cfg, *s, p, pa);
                unclaimed(&cfg, *s, &mask_owners(), p);
            }
            Section::Cache => raw.cache = section(&cfg, *s, p, pa),
            Section::Auth => raw.auth = section(&cfg, *s, p, pa),
            Section::Telemetry => raw.telemetry = section(&cfg, *s, p, pa),
            Section::Cluster => raw.cluster = section(&cfg, *s, p, pa),
            Section::Idempotency => raw.idempotency = section(&cfg, *s, p, pa),
        }
    }
    raw.patched = patched;
    raw
}

/// The keys of `[server]` by owner: the server's (the listener, its connections'
/// limits, TLS, the drain), then the request pipeline's (the bounds on a request head
/// and body, the trusted proxies).
fn server_owners() -> [&'static [&'static str]; 2] {
    [
        keys_of::<crate::server::config::RawServer>(),
        keys_of::<crate::proxy::RawPipeline>(),
    ]
}

/// The keys of `[mask]` by owner: the masker's, then inspection's (`passthrough`:
/// the routes whose answers are relayed uninspected).
fn mask_owners() -> [&'static [&'static str]; 2] {
    [
        keys_of::<crate::mask::MaskConfig>(),
        keys_of::<crate::inspect::RawRelay>(),
    ]
}

/// The keys of `[upstream]` by owner: the upstream component's, then
/// inspection's (the answer's limits and buffering), then fair's
/// (`per_client`). Operators keep them in one section, next to the call
/// whose answers and capacity they bound; each component reads only its own.
fn upstream_owners() -> [&'static [&'static str]; 3] {
    [
        keys_of::<crate::upstream::config::RawUpstream>(),
        keys_of::<crate::inspect::RawInspect>(),
        keys_of::<crate::fair::RawFair>(),
    ]
}

/// The keys a raw struct reads, as its `Deserialize` names them (the field
/// list serde hands `deserialize_struct`), so a new field is a new key here
/// with nothing else to edit.
fn keys_of<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor};
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Fields<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Error::custom("fields noted"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// A key of section `s` that none of its `owners` reads: each owner reads
/// only its own keys, so the section as a whole refuses the rest, as one
/// owner's `deny_unknown_fields` would.
fn unclaimed(cfg: &config::Config, s: Section, owners: &[&[&str]], p: &mut Problems) {
    let Ok(config::ValueKind::Table(table)) = cfg.get::<config::Value>(s.name()).map(|v| v.kind)
    else {
        return; // not a table: its owners have said so
    };
    let known: Vec<&str> = owners.iter().flat_map(|o| o.iter().copied()).collect();
    let expected = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut keys: Vec<&String> = table
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .collect();
    keys.sort();
    for key in keys {
        p.add(
            format!("{}.{key}", s.name()),
            format!("unknown key (expected one of {expected})"),
        );
    }
}

/// Section `s` (or one owner's keys of it) read in one pass, every wrong
/// value in it noted (see [`problems::de`]): each one found is stood in for by
/// its shipped default, so the rest are still read. A section read with a
/// problem is listed in `patched`, as written but with those defaults, so its
/// other values are still checked but it is never used.
fn section<T: serde::de::DeserializeOwned>(
    cfg: &config::Config,
    s: Section,
    p: &mut Problems,
    patched: &mut Vec<(Section, config::Value)>,
) -> Option<T> {
    let name = s.name();
    // Through `Value` rather than `Config::get`, which would replace the key of
    // the value at fault with the section's name.
    let value = match cfg.get::<config::Value>(name) {
        Ok(v) => v,
        Err(e) => {
            p.extend([problems::from_config_error(name, &e)]);
            return None;
        }
    };
    let shipped = super::default_section::<config::Value>(name);
    let read = problems::de::read::<T>(&value, Some(&shipped), name);
    let clean = read.problems.is_empty();
    p.extend(read.problems);
    let raw = read.value?;
    if !clean {
        let mut written = value;
        for key in &read.replaced {
            if key.is_empty() {
                written = shipped.clone();
            } else {
                patch::set_aside(&mut written, &shipped, key);
            }
        }
        patched.push((s, written));
    }
    Some(raw)
}
