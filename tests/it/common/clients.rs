//! Clients files for tests: typed entries written out by the `toml` crate, so no test
//! hand-writes (or mis-escapes) the file's TOML.

use paycombat_gateway::auth::hash_key;
use serde::Serialize;

use super::{CLIENT_KEY, READONLY_KEY};

/// One `[[clients]]` entry.
#[derive(Serialize, Clone, Debug)]
pub struct ClientEntry {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys_sha256: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subjects: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<RateLimitEntry>,
    allow: Vec<AllowEntry>,
}

#[derive(Serialize, Clone, Copy, Debug)]
struct RateLimitEntry {
    per_second: u32,
    burst: u32,
}

#[derive(Serialize, Clone, Debug)]
struct AllowEntry {
    methods: Vec<String>,
    path: String,
}

impl ClientEntry {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            keys_sha256: Vec::new(),
            subjects: Vec::new(),
            rate_limit: None,
            allow: Vec::new(),
        }
    }

    /// Accepts `key` (its SHA-256 goes in the file).
    pub fn key(mut self, key: &str) -> Self {
        self.keys_sha256.push(hash_key(key));
        self
    }

    /// Accepts a client certificate naming `subject` (`dns:…`, `uri:…`).
    pub fn subject(mut self, subject: &str) -> Self {
        self.subjects.push(subject.to_owned());
        self
    }

    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limit = Some(RateLimitEntry { per_second, burst });
        self
    }

    /// Allows `methods` (`"*"` for all) on paths matching `path`.
    pub fn allow(mut self, methods: &[&str], path: &str) -> Self {
        self.allow.push(AllowEntry {
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            path: path.to_owned(),
        });
        self
    }

    /// Everything under `/api/v1/`.
    pub fn allow_all(self) -> Self {
        self.allow(&["*"], "/api/v1/**")
    }
}

/// The clients file holding `clients`, in order.
pub fn clients_file(clients: &[ClientEntry]) -> String {
    #[derive(Serialize)]
    struct File<'a> {
        clients: &'a [ClientEntry],
    }
    toml::to_string(&File { clients }).unwrap_or_else(|e| panic!("clients file: {e}"))
}

/// The harness's two clients: `test` (full access, [`CLIENT_KEY`]) and `readonly`
/// ([`READONLY_KEY`], single-customer reads, 1/s with a burst of 3).
pub fn harness_clients() -> Vec<ClientEntry> {
    vec![
        ClientEntry::new("test").key(CLIENT_KEY).allow_all(),
        ClientEntry::new("readonly")
            .key(READONLY_KEY)
            .rate_limit(1, 3)
            .allow(&["GET"], "/api/v1/customer/customer/*"),
    ]
}

/// The harness's clients plus `more`.
pub fn harness_clients_and(more: impl IntoIterator<Item = ClientEntry>) -> String {
    let mut all = harness_clients();
    all.extend(more);
    clients_file(&all)
}
