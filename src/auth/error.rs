//! Errors of client access control: refusals answered to callers, and clients-file problems.

use std::path::PathBuf;
use std::time::Duration;

use http::StatusCode;

use super::metrics::RejectReason;

/// Why a request was refused before reaching the upstream.
///
/// Messages are safe to send to the caller: they never contain the presented key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `X-token` and no `Authorization: Bearer` credential.
    #[error("missing credentials: send X-token or Authorization: Bearer")]
    Missing,
    /// A credential was presented but matches no configured key.
    #[error("invalid credentials")]
    Unknown,
    /// `X-token` and `Authorization: Bearer` (or repeated headers) carry different keys. Refused
    /// rather than picking one, so a proxy in front cannot smuggle a second identity past us.
    #[error("conflicting credentials: X-token and Authorization carry different keys")]
    Ambiguous,
    /// A verified client certificate names no configured client, and no key was sent.
    #[error("the client certificate names no configured client")]
    UnknownCertificate,
    /// A verified client certificate names more than one configured client.
    #[error("the client certificate names more than one configured client")]
    AmbiguousCertificate,
    /// The certificate and the key each identify a client, and not the same one.
    /// Refused rather than picking one: either may be the borrowed identity.
    #[error("the client certificate and the client key identify different clients")]
    Conflict,
    /// The client is known but its allowlist does not cover this method and path.
    #[error("this client may not call this route")]
    Forbidden,
}

impl AuthError {
    /// Value of the `reason` label of `gateway_client_rejections_total`.
    pub fn reason(&self) -> &'static str {
        self.rejection().as_str()
    }

    /// The same, as the label of `gateway_client_rejections_total`.
    pub fn rejection(&self) -> RejectReason {
        match self {
            AuthError::Missing
            | AuthError::Unknown
            | AuthError::Ambiguous
            | AuthError::UnknownCertificate
            | AuthError::AmbiguousCertificate
            | AuthError::Conflict => RejectReason::Unauthenticated,
            AuthError::Forbidden => RejectReason::Forbidden,
        }
    }

    /// HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing
            | AuthError::Unknown
            | AuthError::Ambiguous
            | AuthError::UnknownCertificate
            | AuthError::AmbiguousCertificate
            | AuthError::Conflict => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden => StatusCode::FORBIDDEN,
        }
    }

    /// Client-safe message (same as `Display`).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// The client has used up its token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limit exceeded, retry after {} s", retry_after.as_secs())]
pub struct RateLimited {
    /// Time until one more request is allowed, rounded up to whole seconds, at least 1 s,
    /// so it can go straight into a `Retry-After` header.
    pub retry_after: Duration,
}

impl RateLimited {
    pub(crate) fn from_wait(wait: Duration) -> Self {
        let mut secs = wait.as_secs();
        if wait.subsec_nanos() > 0 {
            secs = secs.saturating_add(1);
        }
        RateLimited {
            retry_after: Duration::from_secs(secs.max(1)),
        }
    }

    /// Whole seconds for the `Retry-After` header (≥ 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs()
    }

    /// The reason label of `gateway_client_rejections_total`.
    pub fn reason(&self) -> &'static str {
        self.rejection().as_str()
    }

    pub fn rejection(&self) -> RejectReason {
        RejectReason::RateLimited
    }
}

/// The clients file could not be read or is invalid. Never contains a key or a key hash.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("cannot read clients file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML (its position given, never its text).
    #[error("clients file is not valid: {}", plain(.0))]
    Parse(config::ConfigError),
    /// A value the clients' types refused, under its dotted key.
    #[error("clients file is not valid: {0}")]
    Invalid(crate::problems::Problem),
    #[error("clients file is not valid: `{key}`: unknown key (expected one of {})", .known.iter().map(|(k, _, _)| format!("`{k}`")).collect::<Vec<_>>().join(", "))]
    UnknownKey {
        /// Its dotted path in the file (`clients[1].colour`).
        key: String,
        /// The keys valid where it stands.
        known: super::file_shape::Level,
    },
    #[error("clients file is not valid: `{key}`: missing (this key is required)")]
    MissingKey {
        /// Its dotted path in the file (`clients[0].name`).
        key: String,
    },
    /// A value of another type than its key's. The value itself is not echoed: a mis-pasted
    /// key may be the wrong-typed part.
    #[error("clients file is not valid: `{key}`: is not {expected}")]
    WrongType {
        /// Its dotted path in the file (`clients[0].rate_limit.per_second`); empty for the
        /// whole file.
        key: String,
        expected: &'static str,
    },
    #[error("clients file defines no clients")]
    NoClients,
    #[error("clients file [defaults]: {0}")]
    Defaults(ClientProblem),
    #[error("{} ha{} only certificate subjects and no keys_sha256, but `server.tls.client_auth` is \"off\": no request could authenticate as {}", .names.join(", "), if .names.len() == 1 { "s" } else { "ve" }, if .names.len() == 1 { "it" } else { "them" })]
    CertificateOnly {
        /// The clients concerned, by name.
        names: Vec<String>,
    },
    #[error("clients[{index}] ({name:?}): {problem}")]
    Client {
        /// Zero-based position in the `[[clients]]` array.
        index: usize,
        /// The configured name, shortened if absurdly long (it may be the invalid part).
        name: String,
        problem: ClientProblem,
    },
    /// More than one of the above, in file order: every problem at once.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Many(Vec<AuthConfigError>),
}

impl AuthConfigError {
    /// Each problem on its own (one for all but [`AuthConfigError::Many`]).
    pub fn each(&self) -> Vec<&AuthConfigError> {
        match self {
            AuthConfigError::Many(all) => all.iter().flat_map(AuthConfigError::each).collect(),
            one => vec![one],
        }
    }
}

/// What is wrong with one client entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientProblem {
    #[error("name must be 1-64 characters of a-z, 0-9, '_' or '-'")]
    BadName,
    #[error("name already used by clients[{first}]")]
    DuplicateName { first: usize },
    #[error("neither keys_sha256 nor subjects is set; give at least one key hash or certificate subject")]
    NoKeys,
    // The offending value is not echoed: a mis-pasted raw key would land in logs.
    #[error("keys_sha256[{key}] must be exactly 64 hex characters 0-9a-f (got {len} characters)")]
    BadKeyHash { key: usize, len: usize },
    #[error(
        "keys_sha256[{key}] looks like a raw key, not its SHA-256; put the hash `paycombat-gateway hash-key` prints for it here (and never the key itself)"
    )]
    RawKeyInsteadOfHash { key: usize },
    #[error("keys_sha256[{key}] is listed twice for this client")]
    RepeatedKeyHash { key: usize },
    #[error("keys_sha256[{key}] is also a key of clients[{other_index}] ({other_name:?})")]
    KeyHashShared {
        key: usize,
        other_index: usize,
        other_name: String,
    },
    #[error("subjects[{subject}]: {reason}")]
    BadSubject { subject: usize, reason: String },
    #[error("subjects[{subject}] is listed twice for this client")]
    RepeatedSubject { subject: usize },
    #[error("subjects[{subject}] is also a subject of clients[{other_index}] ({other_name:?})")]
    SubjectShared {
        subject: usize,
        other_index: usize,
        other_name: String,
    },
    #[error("allow list is empty; the client could call nothing")]
    EmptyAllow,
    #[error("allow[{rule}]: {problem}")]
    BadRule { rule: usize, problem: String },
    #[error("rate_limit: {field} must be at least 1")]
    ZeroRate { field: &'static str },
}

/// The `config` crate's error (the file's parse) in the words of the gateway's own settings.
fn plain(e: &config::ConfigError) -> String {
    let problem = crate::problems::from_config_error("", e);
    if problem.key.is_empty() {
        problem.reason
    } else {
        problem.to_string()
    }
}
