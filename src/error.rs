//! Every error the gateway produces itself: its status, code and message. The
//! response in paycombat's envelope is built from these by `crate::body::envelope`
//! (this module is vocabulary: it imports nothing of the gateway).
//!
//! Messages are written for the calling service: they say what happened and
//! what to do, never an internal detail (no upstream address, no body bytes,
//! no credential).

use std::time::Duration;

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("path is not allowed: {0}")]
    BadPath(&'static str),
    #[error("no such route on this gateway")]
    NotFound,
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("request headers exceed {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("request body could not be read")]
    BadRequestBody,
    #[error("the request body did not arrive within {limit:?}")]
    RequestBodyTimeout { limit: Duration },
    #[error("missing client key")]
    Unauthenticated,
    #[error("unknown client key")]
    UnknownClient,
    #[error("the client certificate names no client of this gateway (or more than one); send a client key, or use a certificate listed in the clients file")]
    UnknownClientCertificate,
    #[error("the client certificate and the client key identify different clients")]
    ConflictingClientIdentity,
    #[error("route not allowed for this client")]
    Forbidden,
    #[error("client rate limit exceeded")]
    RateLimited { retry_after: Duration },
    #[error("too many concurrent upstream requests")]
    Overloaded,
    /// This client holds its whole share (`upstream.per_client`) of one
    /// shared pool; other clients are unaffected.
    #[error("this client is using its whole share of the gateway's {resource}; other clients are unaffected; retry when some of its own requests have finished")]
    ClientCapacity { resource: &'static str },
    #[error("upstream circuit open")]
    CircuitOpen { retry_after: Duration },
    #[error("upstream credentials are not loaded")]
    CredentialsUnavailable,
    /// Cluster mode with `on_unconfirmed_write = "refuse"`: this replica cannot reach the
    /// others through Redis, so the write was not sent.
    #[error("this gateway replica cannot currently tell the other replicas about writes; the write was not sent to paycombat, retry it")]
    ClusterUnconfirmed,
    #[error("this write route requires an Idempotency-Key header; send a unique key per payment and the same key on every retry of it")]
    IdempotencyKeyRequired,
    #[error("{reason}")]
    IdempotencyKeyInvalid { reason: &'static str },
    #[error("this Idempotency-Key was first used for a different request (method, path, query or body); use a new key for a new request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry it later with the same key")]
    IdempotencyInFlight,
    /// The first request with this key was sent to paycombat, and whether paycombat
    /// acted on it is not known: resending could pay twice.
    #[error("a request with this Idempotency-Key was sent to paycombat but its outcome is unknown; it was not sent again: look the resource up by your own reference before creating it under a new key")]
    IdempotencyOutcomeUnknown,
    /// The shared idempotency store (Redis) cannot be asked, with
    /// `idempotency.on_store_error = "refuse"`: the write was not sent.
    #[error("this gateway cannot currently make sure a keyed write is sent only once; it was not sent to paycombat, retry it with the same key")]
    IdempotencyUnavailable,
    #[error("this gateway holds as many idempotency records as it may; the write was not sent to paycombat, retry it with the same key")]
    IdempotencyStoreFull,
    #[error("could not connect to upstream")]
    UpstreamConnect,
    #[error("upstream did not answer in time")]
    UpstreamTimeout,
    #[error("upstream connection failed")]
    UpstreamProtocol,
    #[error("upstream response could not be inspected for personal data ({reason})")]
    Unmaskable { reason: &'static str },
    #[error("upstream response was refused: it carried a credential the gateway holds")]
    SecretReflected,
    /// paycombat refused the gateway's own merchant credentials (the client's
    /// key was already accepted): an operator problem, never the caller's.
    #[error("paycombat rejected the gateway's own credentials; this is not a fault of the calling service and the gateway's operators have been alerted")]
    UpstreamCredentialsRejected { credential: &'static str },
    /// A defect or a crashed task inside the gateway: never paycombat's fault,
    /// so never counted against upstream, never a reason to serve stale.
    #[error("the gateway failed to handle this request; quote the request id when reporting it")]
    Internal,
    #[error("no such admin endpoint")]
    AdminNotFound,
    /// A known admin endpoint asked with another method; `allow` is the one it takes.
    #[error("this admin endpoint accepts only {allow}")]
    AdminMethodNotAllowed { allow: &'static str },
    #[error("admin endpoints are disabled: set admin.token_file")]
    AdminDisabled,
    #[error("a valid admin bearer token is required")]
    AdminUnauthorized,
    #[error("the cache is disabled")]
    CacheDisabled,
    #[error("give exactly one of ?customer_id=<id> or ?all=true")]
    AdminBadRequest,
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        use GatewayError::*;
        match self {
            BadPath(_)
            | BadRequestBody
            | AdminBadRequest
            | IdempotencyKeyRequired
            | IdempotencyKeyInvalid { .. } => StatusCode::BAD_REQUEST,
            IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            IdempotencyInFlight | IdempotencyOutcomeUnknown => StatusCode::CONFLICT,
            NotFound | AdminNotFound | AdminDisabled => StatusCode::NOT_FOUND,
            BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RequestBodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Unauthenticated
            | UnknownClient
            | UnknownClientCertificate
            | ConflictingClientIdentity
            | AdminUnauthorized => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Overloaded
            | ClientCapacity { .. }
            | CircuitOpen { .. }
            | CredentialsUnavailable
            | ClusterUnconfirmed
            | IdempotencyUnavailable
            | IdempotencyStoreFull => StatusCode::SERVICE_UNAVAILABLE,
            UpstreamConnect | UpstreamProtocol | Unmaskable { .. } | SecretReflected => {
                StatusCode::BAD_GATEWAY
            }
            UpstreamCredentialsRejected { .. } => StatusCode::BAD_GATEWAY,
            UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            CacheDisabled => StatusCode::CONFLICT,
            AdminMethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// Stable machine-readable code: services branch on this, not on the message.
    pub fn code(&self) -> &'static str {
        use GatewayError::*;
        match self {
            BadPath(_) => "BAD_PATH",
            NotFound => "NOT_FOUND",
            BodyTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            HeadersTooLarge { .. } => "HEADERS_TOO_LARGE",
            BadRequestBody => "BAD_REQUEST_BODY",
            RequestBodyTimeout { .. } => "REQUEST_BODY_TIMEOUT",
            Unauthenticated => "UNAUTHENTICATED",
            UnknownClient => "UNKNOWN_CLIENT_KEY",
            UnknownClientCertificate => "UNKNOWN_CLIENT_CERTIFICATE",
            ConflictingClientIdentity => "CONFLICTING_CLIENT_IDENTITY",
            Forbidden => "FORBIDDEN",
            RateLimited { .. } => "RATE_LIMITED",
            Overloaded => "GATEWAY_OVERLOADED",
            ClientCapacity { .. } => "CLIENT_CAPACITY_EXCEEDED",
            CircuitOpen { .. } => "UPSTREAM_CIRCUIT_OPEN",
            CredentialsUnavailable => "CREDENTIALS_UNAVAILABLE",
            ClusterUnconfirmed => "CLUSTER_UNCONFIRMED",
            IdempotencyKeyRequired => "IDEMPOTENCY_KEY_REQUIRED",
            IdempotencyKeyInvalid { .. } => "IDEMPOTENCY_KEY_INVALID",
            IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            IdempotencyInFlight => "IDEMPOTENCY_IN_FLIGHT",
            IdempotencyOutcomeUnknown => "IDEMPOTENCY_OUTCOME_UNKNOWN",
            IdempotencyUnavailable => "IDEMPOTENCY_UNAVAILABLE",
            IdempotencyStoreFull => "IDEMPOTENCY_STORE_FULL",
            UpstreamConnect => "UPSTREAM_UNREACHABLE",
            UpstreamTimeout => "UPSTREAM_TIMEOUT",
            UpstreamProtocol => "UPSTREAM_ERROR",
            Unmaskable { .. } => "UPSTREAM_UNMASKABLE",
            SecretReflected => "UPSTREAM_SECRET_REFLECTED",
            UpstreamCredentialsRejected { .. } => "UPSTREAM_CREDENTIALS_REJECTED",
            Internal => "INTERNAL",
            AdminNotFound | AdminDisabled => "NOT_FOUND",
            AdminUnauthorized => "UNAUTHENTICATED",
            CacheDisabled => "CACHE_DISABLED",
            AdminBadRequest => "BAD_REQUEST",
            AdminMethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
        }
    }

    /// Whether paycombat is to blame (unreachable, timing out, refusing load):
    /// what allows a stale answer. `Internal` is deliberately absent, so the
    /// gateway's own failure never serves stale data in paycombat's name.
    pub fn is_upstream_failure(&self) -> bool {
        use GatewayError::*;
        matches!(
            self,
            UpstreamConnect | UpstreamTimeout | UpstreamProtocol | Overloaded | CircuitOpen { .. }
        )
    }

    /// How long a client should wait before trying again, when the error says.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            GatewayError::RateLimited { retry_after }
            | GatewayError::CircuitOpen { retry_after } => Some(*retry_after),
            GatewayError::Overloaded
            | GatewayError::ClientCapacity { .. }
            | GatewayError::CredentialsUnavailable
            | GatewayError::ClusterUnconfirmed
            | GatewayError::IdempotencyInFlight
            | GatewayError::IdempotencyUnavailable
            | GatewayError::IdempotencyStoreFull => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn envelope_carries_code_and_retry_after() {
        let resp = GatewayError::RateLimited {
            retry_after: Duration::from_millis(1200),
        }
        .to_response("req-1");
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(
            body.starts_with(br#"{"status":false,"message":"#),
            "paycombat's field order"
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], false);
        assert_eq!(v["data"], serde_json::Value::Null);
        assert_eq!(v["error"]["code"], "RATE_LIMITED");
        assert_eq!(v["error"]["request_id"], "req-1");
    }

    #[test]
    fn internal_failures_are_the_gateways_own() {
        let e = GatewayError::Internal;
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code(), "INTERNAL");
        assert!(e.retry_after().is_none());
        assert!(!e.is_upstream_failure());
        assert!(GatewayError::UpstreamProtocol.is_upstream_failure());
    }

    #[test]
    fn rejected_credentials_are_a_502_that_never_serves_stale() {
        let e = GatewayError::UpstreamCredentialsRejected {
            credential: "token",
        };
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(e.code(), "UPSTREAM_CREDENTIALS_REJECTED");
        assert!(e.to_string().contains("not a fault of the calling service"));
        assert!(!e.is_upstream_failure());
        assert!(e.retry_after().is_none());
    }

    /// One of every variant. The `match` makes this exhaustive: a new
    /// variant does not compile until it is listed here, and then the
    /// README's tables must document its code and status.
    fn one_of_each() -> Vec<GatewayError> {
        use GatewayError::*;
        let d = Duration::from_secs(1);
        let all = vec![
            BadPath("x"),
            NotFound,
            BodyTooLarge { limit: 1 },
            HeadersTooLarge { limit: 1 },
            BadRequestBody,
            RequestBodyTimeout { limit: d },
            Unauthenticated,
            UnknownClient,
            UnknownClientCertificate,
            ConflictingClientIdentity,
            Forbidden,
            RateLimited { retry_after: d },
            Overloaded,
            ClientCapacity { resource: "x" },
            CircuitOpen { retry_after: d },
            CredentialsUnavailable,
            ClusterUnconfirmed,
            IdempotencyKeyRequired,
            IdempotencyKeyInvalid { reason: "x" },
            IdempotencyKeyReused,
            IdempotencyInFlight,
            IdempotencyOutcomeUnknown,
            IdempotencyUnavailable,
            IdempotencyStoreFull,
            UpstreamConnect,
            UpstreamTimeout,
            UpstreamProtocol,
            Unmaskable { reason: "x" },
            SecretReflected,
            UpstreamCredentialsRejected { credential: "x" },
            Internal,
            AdminNotFound,
            AdminMethodNotAllowed { allow: "POST" },
            AdminDisabled,
            AdminUnauthorized,
            CacheDisabled,
            AdminBadRequest,
        ];
        for e in &all {
            match e {
                BadPath(_)
                | NotFound
                | BodyTooLarge { .. }
                | HeadersTooLarge { .. }
                | BadRequestBody
                | RequestBodyTimeout { .. }
                | Unauthenticated
                | UnknownClient
                | UnknownClientCertificate
                | ConflictingClientIdentity
                | Forbidden
                | RateLimited { .. }
                | Overloaded
                | ClientCapacity { .. }
                | CircuitOpen { .. }
                | CredentialsUnavailable
                | ClusterUnconfirmed
                | IdempotencyKeyRequired
                | IdempotencyKeyInvalid { .. }
                | IdempotencyKeyReused
                | IdempotencyInFlight
                | IdempotencyOutcomeUnknown
                | IdempotencyUnavailable
                | IdempotencyStoreFull
                | UpstreamConnect
                | UpstreamTimeout
                | UpstreamProtocol
                | Unmaskable { .. }
                | SecretReflected
                | UpstreamCredentialsRejected { .. }
                | Internal
                | AdminNotFound
                | AdminMethodNotAllowed { .. }
                | AdminDisabled
                | AdminUnauthorized
                | CacheDisabled
                | AdminBadRequest => {}
            }
        }
        all
    }

    /// `(status, code)` of every row of the README's error tables (the
    /// service-facing one and the admin one, in "Using it from a service").
    fn readme_error_rows() -> std::collections::BTreeSet<(u16, String)> {
        let readme = include_str!("../README.md");
        let start = readme
            .find("## Using it from a service")
            .expect("README section");
        let end = start
            + readme[start..]
                .find("\n## Configuration")
                .expect("next section");
        let mut rows = std::collections::BTreeSet::new();
        for line in readme[start..end].lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(status), Some(codes)) = (cells.get(1), cells.get(2)) else {
                continue;
            };
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            for code in codes.split('`').skip(1).step_by(2) {
                rows.insert((status, code.to_owned()));
            }
        }
        rows
    }

    #[test]
    fn the_readme_error_tables_list_exactly_the_codes_the_gateway_sends() {
        let sent: std::collections::BTreeSet<(u16, String)> = one_of_each()
            .iter()
            .map(|e| (e.status().as_u16(), e.code().to_owned()))
            .collect();
        let documented = readme_error_rows();
        let missing: Vec<_> = sent.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&sent).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "README error tables: missing {missing:?}, listing codes the gateway never sends {extra:?}"
        );
    }

    #[tokio::test]
    async fn method_not_allowed_names_the_allowed_method() {
        let resp = GatewayError::AdminMethodNotAllowed { allow: "POST" }.to_response("r");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.headers()[header::ALLOW], "POST");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "METHOD_NOT_ALLOWED");
        assert!(v["message"].as_str().unwrap().contains("POST"));
    }

    #[test]
    fn connect_failure_and_timeout_differ() {
        assert_eq!(
            GatewayError::UpstreamConnect.status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            GatewayError::UpstreamTimeout.status(),
            StatusCode::GATEWAY_TIMEOUT
        );
    }
}
