//! The clients file: raw serde shape, then validation into a [`ClientRegistry`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use serde::Deserialize;

use super::client::{new_limiter, Client, RateLimit};
use super::error::{AuthConfigError, ClientProblem};
use super::file_shape;
use super::key::KEY_PREFIX;
use super::pattern::AllowRule;
use super::registry::{ClientRegistry, KeyEntry};
use super::subject::Subject;
use crate::clock::Clock;

/// The file's parts found sound: each client keeps its index; `None` is a client left out for
/// a wrong type (listed by the walk).
#[derive(Debug, Default)]
struct RawFile {
    defaults: RawDefaults,
    clients: Vec<Option<RawClient>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawDefaults {
    rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Deserialize)]
struct RawClient {
    name: String,
    // Defaulted so that a missing list gets the same precise error as an empty one.
    #[serde(default)]
    keys_sha256: Vec<String>,
    /// Certificate names (`dns:…`, `uri:…`) that identify the client over mTLS.
    #[serde(default)]
    subjects: Vec<String>,
    rate_limit: Option<RawRateLimit>,
    #[serde(default)]
    allow: Vec<RawRule>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct RawRateLimit {
    per_second: u32,
    /// Defaults to `per_second`: one second's worth of requests at once.
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct RawRule {
    methods: Vec<String>,
    path: String,
}

impl RawRateLimit {
    fn validate(self) -> Result<RateLimit, ClientProblem> {
        let per_second = NonZeroU32::new(self.per_second).ok_or(ClientProblem::ZeroRate {
            field: "per_second",
        })?;
        let burst = match self.burst {
            None => per_second,
            Some(b) => NonZeroU32::new(b).ok_or(ClientProblem::ZeroRate { field: "burst" })?,
        };
        Ok(RateLimit { per_second, burst })
    }
}

/// `clock`: what the clients' token buckets read.
pub(crate) fn parse(s: &str, clock: &Clock) -> Result<ClientRegistry, AuthConfigError> {
    // The `config` crate (already used for the gateway's settings) parses TOML and reports the
    // failing key path; it adds no second TOML stack to the build.
    let parsed = config::Config::builder()
        .add_source(config::File::from_str(s, config::FileFormat::Toml))
        .build()
        .map_err(AuthConfigError::Parse)?;
    // Unknown keys and wrong types are found by walking the tree (`file_shape`), then the
    // parts found sound are deserialized: every problem of the file is listed at once.
    let mut errors = file_shape::problems(&parsed.cache);
    let raw = sound_parts(parsed.cache, &mut errors);
    let clients_misshapen = !file_shape::sound_at(&errors, "clients");
    match build(raw, clock) {
        Ok(registry) if errors.is_empty() => return Ok(registry),
        Ok(_) => {}
        // Clients were left out for their types, which are listed: "no clients" would mislead.
        Err(AuthConfigError::NoClients) if clients_misshapen => {}
        Err(AuthConfigError::Many(more)) => errors.extend(more),
        Err(one) => errors.push(one),
    }
    Err(match errors.len() {
        1 => errors.remove(0),
        _ => AuthConfigError::Many(errors),
    })
}

/// The defaults and each client whose values all have their types, deserialized; a part with
/// a wrong type is left out (its problems are listed by the walk). Clients keep their place,
/// so every problem names the index the operator sees in the file.
fn sound_parts(root: config::Value, errors: &mut Vec<AuthConfigError>) -> RawFile {
    use config::ValueKind::{Array, Table};
    let Table(mut top) = root.kind else {
        return RawFile::default();
    };
    let defaults = match top.remove("defaults") {
        Some(v) if file_shape::sound_at(errors, "defaults") => {
            read(&v, "defaults", errors).unwrap_or_default()
        }
        _ => RawDefaults::default(),
    };
    let mut clients = Vec::new();
    if let Some(Array(items)) = top.remove("clients").map(|v| v.kind) {
        for (i, v) in items.into_iter().enumerate() {
            let at = format!("clients[{i}]");
            let client = if file_shape::sound_at(errors, &at) {
                read(&v, &at, errors)
            } else {
                None
            };
            clients.push(client);
        }
    }
    RawFile { defaults, clients }
}

/// `v` (the part of the file at `at`) read as a `T`, or `None` with its problems listed.
fn read<T: serde::de::DeserializeOwned>(
    v: &config::Value,
    at: &str,
    errors: &mut Vec<AuthConfigError>,
) -> Option<T> {
    let read = crate::problems::de::read(v, None, at);
    if read.problems.is_empty() {
        return read.value;
    }
    errors.extend(read.problems.into_iter().map(AuthConfigError::Invalid));
    None
}

/// Every problem of the file is found, not only the first: a client with a
/// problem is checked to its end and the next clients still are, so one run
/// of `check-config` (or one reload attempt) lists them all.
fn build(raw: RawFile, clock: &Clock) -> Result<ClientRegistry, AuthConfigError> {
    if raw.clients.is_empty() {
        return Err(AuthConfigError::NoClients);
    }
    let mut errors: Vec<AuthConfigError> = Vec::new();
    let default_limit = match raw
        .defaults
        .rate_limit
        .map(RawRateLimit::validate)
        .transpose()
    {
        Ok(limit) => limit,
        Err(problem) => {
            errors.push(AuthConfigError::Defaults(problem));
            None
        }
    };

    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut owners: HashMap<[u8; 32], usize> = HashMap::new();
    let mut subjects: HashMap<Subject, usize> = HashMap::new();
    let mut clients = Vec::with_capacity(raw.clients.len());
    let mut keys = Vec::new();

    for (index, rc) in raw.clients.iter().enumerate() {
        let Some(rc) = rc else { continue };
        let mut problems: Vec<ClientProblem> = Vec::new();
        if !valid_name(&rc.name) {
            problems.push(ClientProblem::BadName);
        } else if let Some(&first) = names.get(rc.name.as_str()) {
            problems.push(ClientProblem::DuplicateName { first });
        } else {
            names.insert(&rc.name, index);
        }

        if rc.keys_sha256.is_empty() && rc.subjects.is_empty() {
            problems.push(ClientProblem::NoKeys);
        }
        for (key, text) in rc.keys_sha256.iter().enumerate() {
            let hash = match decode_hash(text, key) {
                Ok(hash) => hash,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            if let Some(&other) = owners.get(&hash) {
                problems.push(if other == index {
                    ClientProblem::RepeatedKeyHash { key }
                } else {
                    ClientProblem::KeyHashShared {
                        key,
                        other_index: other,
                        other_name: name_of(&raw.clients, other),
                    }
                });
                continue;
            }
            owners.insert(hash, index);
            keys.push(KeyEntry {
                hash,
                client: index,
            });
        }

        for (i, text) in rc.subjects.iter().enumerate() {
            let subject = match Subject::parse(text) {
                Ok(subject) => subject,
                Err(reason) => {
                    problems.push(ClientProblem::BadSubject { subject: i, reason });
                    continue;
                }
            };
            if let Some(&other) = subjects.get(&subject) {
                problems.push(if other == index {
                    ClientProblem::RepeatedSubject { subject: i }
                } else {
                    ClientProblem::SubjectShared {
                        subject: i,
                        other_index: other,
                        other_name: name_of(&raw.clients, other),
                    }
                });
                continue;
            }
            subjects.insert(subject, index);
        }

        if rc.allow.is_empty() {
            problems.push(ClientProblem::EmptyAllow);
        }
        let mut allow = Vec::with_capacity(rc.allow.len());
        for (rule, r) in rc.allow.iter().enumerate() {
            match AllowRule::parse(&r.methods, &r.path) {
                Ok(a) => allow.push(a),
                Err(problem) => problems.push(ClientProblem::BadRule { rule, problem }),
            }
        }

        let rate_limit = match rc.rate_limit.map(RawRateLimit::validate).transpose() {
            Ok(Some(limit)) => Some(limit),
            Ok(None) => default_limit,
            Err(problem) => {
                problems.push(problem);
                None
            }
        };

        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|problem| AuthConfigError::Client {
                index,
                name: shorten(&rc.name),
                problem,
            }));
            continue;
        }
        clients.push(Arc::new(Client {
            // Validated above: `[a-z0-9_-]{1,64}`, one of the file's own names.
            name: crate::metrics::Configured::declared(rc.name.as_str()),
            allow,
            rate_limit,
            limiter: rate_limit.map(|limit| new_limiter(limit, clock)),
            key_count: rc.keys_sha256.len(),
            subject_count: rc.subjects.len(),
            requests: Default::default(),
        }));
    }
    match errors.len() {
        0 => Ok(ClientRegistry {
            clients,
            keys,
            subjects,
        }),
        1 => Err(errors.remove(0)),
        _ => Err(AuthConfigError::Many(errors)),
    }
}

/// The name of a client already seen (so present) at `index`.
fn name_of(clients: &[Option<RawClient>], index: usize) -> String {
    clients[index]
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn shorten(name: &str) -> String {
    name.chars().take(64).collect()
}

/// Either case of hex is accepted (tools differ). `key` is the index used in the error.
fn decode_hash(text: &str, key: usize) -> Result<[u8; 32], ClientProblem> {
    let mut out = [0u8; 32];
    if text.len() == 64 && hex::decode_to_slice(text, &mut out).is_ok() {
        return Ok(out);
    }
    if text.starts_with(KEY_PREFIX) {
        return Err(ClientProblem::RawKeyInsteadOfHash { key });
    }
    // Only the length is reported; the value itself stays out of logs.
    Err(ClientProblem::BadKeyHash {
        key,
        len: text.chars().count(),
    })
}
