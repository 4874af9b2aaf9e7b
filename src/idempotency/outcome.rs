//! How a keyed write's one exchange ended, judged by what paycombat can have done with
//! it: the record a retry will find is chosen from this and nothing else.

use http::StatusCode;

use crate::error::GatewayError;

/// What became of the first send of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Never reached paycombat, or paycombat said it did not act on it (429, 503): the
    /// claim is released, so a retry is sent.
    NotExecuted,
    /// paycombat may or may not have acted on it: a retry is told to reconcile.
    Unknown(&'static str),
    /// paycombat answered: the answer is kept and replayed.
    Answered,
}

impl Sent {
    /// The `outcome` label of `gateway_idempotency_outcomes_total`.
    pub fn label(self) -> &'static str {
        match self {
            Sent::NotExecuted => "not_executed",
            Sent::Unknown(_) => "unknown",
            Sent::Answered => "answered",
        }
    }

    /// The same, as the metric's label type.
    pub fn metric_label(self) -> super::metrics::SentLabel {
        use super::metrics::SentLabel;
        match self {
            Sent::NotExecuted => SentLabel::NotExecuted,
            Sent::Unknown(_) => SentLabel::Unknown,
            Sent::Answered => SentLabel::Answered,
        }
    }

    /// A status paycombat answered with.
    pub fn of_status(status: StatusCode) -> Sent {
        match status.as_u16() {
            // Refused before being acted on (load shedding, rate limits).
            429 | 503 => Sent::NotExecuted,
            // It failed somewhere, perhaps after the payment was made.
            500 => Sent::Unknown("upstream_500"),
            502 => Sent::Unknown("upstream_502"),
            504 => Sent::Unknown("upstream_504"),
            _ => Sent::Answered,
        }
    }

    /// An error the gateway produced instead of paycombat's answer. Exhaustive on
    /// purpose: a new error does not compile until someone decides whether a request
    /// that ended with it may have been acted on. Only what provably happened before
    /// the request left (or what paycombat refused without acting) is `NotExecuted`.
    pub fn of_error(e: &GatewayError) -> Sent {
        use GatewayError::*;
        match e {
            // Refused by the gateway before sending, or no connection was ever made.
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
            | UpstreamConnect
            | IdempotencyKeyRequired
            | IdempotencyKeyInvalid { .. }
            | IdempotencyKeyReused
            | IdempotencyInFlight
            | IdempotencyOutcomeUnknown
            | IdempotencyUnavailable
            | IdempotencyStoreFull
            | AdminNotFound
            | AdminMethodNotAllowed { .. }
            | AdminDisabled
            | AdminUnauthorized
            | CacheDisabled
            | AdminBadRequest => Sent::NotExecuted,
            // paycombat refused the gateway's credentials (a 401): nothing was done,
            // and the retry after the operators fix them must be sent.
            UpstreamCredentialsRejected { .. } => Sent::NotExecuted,
            UpstreamTimeout => Sent::Unknown("timeout"),
            // The connection broke after (part of) the request may have been sent.
            UpstreamProtocol => Sent::Unknown("connection_broken"),
            // paycombat answered, but the answer could not be handed over.
            Unmaskable { .. } | SecretReflected => Sent::Unknown("answer_refused"),
            Internal => Sent::Unknown("internal"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_readme_says() {
        for s in [200, 201, 204, 400, 401, 404, 409, 422, 501] {
            assert_eq!(
                Sent::of_status(StatusCode::from_u16(s).unwrap()),
                Sent::Answered,
                "{s}"
            );
        }
        for s in [429, 503] {
            assert_eq!(
                Sent::of_status(StatusCode::from_u16(s).unwrap()),
                Sent::NotExecuted
            );
        }
        for s in [500, 502, 504] {
            assert!(matches!(
                Sent::of_status(StatusCode::from_u16(s).unwrap()),
                Sent::Unknown(_)
            ));
        }
    }

    #[test]
    fn errors_after_sending_are_unknown_never_retryable() {
        assert_eq!(
            Sent::of_error(&GatewayError::UpstreamConnect),
            Sent::NotExecuted
        );
        assert_eq!(Sent::of_error(&GatewayError::Overloaded), Sent::NotExecuted);
        for e in [
            GatewayError::UpstreamTimeout,
            GatewayError::UpstreamProtocol,
            GatewayError::SecretReflected,
            GatewayError::Internal,
        ] {
            assert!(matches!(Sent::of_error(&e), Sent::Unknown(_)), "{e:?}");
        }
    }
}
