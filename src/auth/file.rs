//! The clients file: raw serde shape, then validation into a [`ClientRegistry`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use serde::Deserialize;

use super::client::{new_limiter, Client, RateLimit};
use super::error::{AuthConfigError, ClientProblem};
use super::key::KEY_PREFIX;
use super::pattern::AllowRule;
use super::registry::{ClientRegistry, KeyEntry};
use super::subject::Subject;
use crate::clock::Clock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    clients: Vec<RawClient>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    per_second: u32,
    /// Defaults to `per_second`: one second's worth of requests at once.
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    let raw: RawFile = config::Config::builder()
        .add_source(config::File::from_str(s, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(AuthConfigError::Parse)?;
    build(raw, clock)
}

fn build(raw: RawFile, clock: &Clock) -> Result<ClientRegistry, AuthConfigError> {
    if raw.clients.is_empty() {
        return Err(AuthConfigError::NoClients);
    }
    let default_limit = raw
        .defaults
        .rate_limit
        .map(RawRateLimit::validate)
        .transpose()
        .map_err(AuthConfigError::Defaults)?;

    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut owners: HashMap<[u8; 32], usize> = HashMap::new();
    let mut subjects: HashMap<Subject, usize> = HashMap::new();
    let mut clients = Vec::with_capacity(raw.clients.len());
    let mut keys = Vec::new();

    for (index, rc) in raw.clients.iter().enumerate() {
        let fail = |problem| AuthConfigError::Client {
            index,
            name: shorten(&rc.name),
            problem,
        };
        if !valid_name(&rc.name) {
            return Err(fail(ClientProblem::BadName));
        }
        if let Some(&first) = names.get(rc.name.as_str()) {
            return Err(fail(ClientProblem::DuplicateName { first }));
        }
        names.insert(&rc.name, index);

        if rc.keys_sha256.is_empty() && rc.subjects.is_empty() {
            return Err(fail(ClientProblem::NoKeys));
        }
        for (key, text) in rc.keys_sha256.iter().enumerate() {
            let hash = decode_hash(text, key).map_err(fail)?;
            if let Some(&other) = owners.get(&hash) {
                let problem = if other == index {
                    ClientProblem::RepeatedKeyHash { key }
                } else {
                    ClientProblem::KeyHashShared {
                        key,
                        other_index: other,
                        other_name: raw.clients[other].name.clone(),
                    }
                };
                return Err(fail(problem));
            }
            owners.insert(hash, index);
            keys.push(KeyEntry {
                hash,
                client: index,
            });
        }

        for (i, text) in rc.subjects.iter().enumerate() {
            let subject = Subject::parse(text)
                .map_err(|reason| fail(ClientProblem::BadSubject { subject: i, reason }))?;
            if let Some(&other) = subjects.get(&subject) {
                let problem = if other == index {
                    ClientProblem::RepeatedSubject { subject: i }
                } else {
                    ClientProblem::SubjectShared {
                        subject: i,
                        other_index: other,
                        other_name: raw.clients[other].name.clone(),
                    }
                };
                return Err(fail(problem));
            }
            subjects.insert(subject, index);
        }

        if rc.allow.is_empty() {
            return Err(fail(ClientProblem::EmptyAllow));
        }
        let allow = rc
            .allow
            .iter()
            .enumerate()
            .map(|(rule, r)| {
                AllowRule::parse(&r.methods, &r.path)
                    .map_err(|problem| fail(ClientProblem::BadRule { rule, problem }))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let rate_limit = match rc.rate_limit {
            Some(r) => Some(r.validate().map_err(fail)?),
            None => default_limit,
        };

        clients.push(Arc::new(Client {
            name: Arc::from(rc.name.as_str()),
            allow,
            rate_limit,
            limiter: rate_limit.map(|limit| new_limiter(limit, clock)),
            key_count: rc.keys_sha256.len(),
            subject_count: rc.subjects.len(),
            requests: Default::default(),
        }));
    }
    Ok(ClientRegistry {
        clients,
        keys,
        subjects,
    })
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
