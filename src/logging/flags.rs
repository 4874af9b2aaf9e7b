//! The access line's `flags` field: what went wrong with a request, in a short closed
//! vocabulary like Envoy's `%RESPONSE_FLAGS%`, so a log search for `UT` finds every
//! upstream timeout whatever the route or status. `-` when nothing did.
//!
//! Every gateway error and every way a request can end unfinished maps to a flag by an
//! exhaustive match: a new error variant or cause cannot be added without choosing one.

use crate::error::GatewayError;
use crate::outcome::Cause;

/// One flag: the two letters logged and what they mean (README, "Access log").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// paycombat did not answer within `upstream.timeout`.
    UpstreamTimeout,
    /// The connection to paycombat could not be made.
    UpstreamConnectFailure,
    /// paycombat's connection closed or broke the protocol, also mid-body.
    UpstreamClosed,
    /// No upstream call was made for lack of room: the circuit is open, the
    /// concurrency cap is reached, or the client holds its whole share.
    UpstreamOverflow,
    /// paycombat's answer was refused by the gateway (it could not be masked,
    /// or it reflected a credential).
    UpstreamRefused,
    /// The gateway's paycombat credentials are missing or were rejected.
    UpstreamCredentials,
    /// The client's rate limit refused the request.
    RateLimited,
    /// The client was not authenticated, or not allowed this route.
    NoAuth,
    /// No such route.
    NoRoute,
    /// The request was malformed, too large, or its body too slow.
    BadRequest,
    /// Cluster mode refused the write (the other replicas could not be told).
    ClusterUnconfirmed,
    /// An `Idempotency-Key` held the write back: its first send is in flight or has an
    /// unknown outcome, or the key store could not be used.
    IdempotencyHeld,
    /// The client closed the connection or reset the stream before the end.
    DownstreamClosed,
    /// The gateway gave up writing to a client that did not read.
    DownstreamTimeout,
    /// Shutdown's drain deadline cut the request off.
    Shutdown,
    /// A defect in the gateway.
    Internal,
}

impl Flag {
    /// Every flag, in the order they are written.
    pub const ALL: [Flag; 16] = [
        Flag::UpstreamTimeout,
        Flag::UpstreamConnectFailure,
        Flag::UpstreamClosed,
        Flag::UpstreamOverflow,
        Flag::UpstreamRefused,
        Flag::UpstreamCredentials,
        Flag::RateLimited,
        Flag::NoAuth,
        Flag::NoRoute,
        Flag::BadRequest,
        Flag::ClusterUnconfirmed,
        Flag::IdempotencyHeld,
        Flag::DownstreamClosed,
        Flag::DownstreamTimeout,
        Flag::Shutdown,
        Flag::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Flag::UpstreamTimeout => "UT",
            Flag::UpstreamConnectFailure => "UF",
            Flag::UpstreamClosed => "UC",
            Flag::UpstreamOverflow => "UO",
            Flag::UpstreamRefused => "UR",
            Flag::UpstreamCredentials => "UA",
            Flag::RateLimited => "RL",
            Flag::NoAuth => "NA",
            Flag::NoRoute => "NR",
            Flag::BadRequest => "BR",
            Flag::ClusterUnconfirmed => "CU",
            Flag::IdempotencyHeld => "IK",
            Flag::DownstreamClosed => "DC",
            Flag::DownstreamTimeout => "DT",
            Flag::Shutdown => "SD",
            Flag::Internal => "IE",
        }
    }

    /// The flag of an error the gateway answered with.
    pub fn of_error(e: &GatewayError) -> Flag {
        use GatewayError::*;
        match e {
            UpstreamTimeout => Flag::UpstreamTimeout,
            UpstreamConnect => Flag::UpstreamConnectFailure,
            UpstreamProtocol => Flag::UpstreamClosed,
            CircuitOpen { .. } | Overloaded | ClientCapacity { .. } => Flag::UpstreamOverflow,
            Unmaskable { .. } | SecretReflected => Flag::UpstreamRefused,
            UpstreamCredentialsRejected { .. } | CredentialsUnavailable => {
                Flag::UpstreamCredentials
            }
            RateLimited { .. } => Flag::RateLimited,
            Unauthenticated
            | UnknownClient
            | UnknownClientCertificate
            | ConflictingClientIdentity
            | Forbidden
            | AdminUnauthorized => Flag::NoAuth,
            NotFound | AdminNotFound | AdminDisabled => Flag::NoRoute,
            BadPath(_)
            | BodyTooLarge { .. }
            | HeadersTooLarge { .. }
            | BadRequestBody
            | RequestBodyTimeout { .. }
            | AdminMethodNotAllowed { .. }
            | AdminBadRequest
            | CacheDisabled
            | IdempotencyKeyRequired
            | IdempotencyKeyInvalid { .. }
            | IdempotencyKeyReused => Flag::BadRequest,
            IdempotencyInFlight
            | IdempotencyOutcomeUnknown
            | IdempotencyUnavailable
            | IdempotencyStoreFull => Flag::IdempotencyHeld,
            ClusterUnconfirmed => Flag::ClusterUnconfirmed,
            Internal => Flag::Internal,
        }
    }

    /// The flag of a request that ended without its whole answer.
    pub fn of_cause(c: Cause) -> Flag {
        match c {
            Cause::ClientClosed | Cause::StreamReset => Flag::DownstreamClosed,
            Cause::WriteTimeout => Flag::DownstreamTimeout,
            Cause::DrainDeadline => Flag::Shutdown,
            Cause::BodyError => Flag::UpstreamClosed,
            Cause::Panicked => Flag::Internal,
        }
    }
}

/// The flags of one request: a set, written in [`Flag::ALL`] order, joined by `,`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u16);

impl Flags {
    pub fn set(&mut self, flag: Flag) {
        self.0 |= 1 << flag as u16;
    }

    pub fn with(mut self, flag: Option<Flag>) -> Flags {
        if let Some(f) = flag {
            self.set(f);
        }
        self
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Appends the codes (`UT`, `UT,DC`), or `-` when there are none.
    pub fn write(self, buf: &mut Vec<u8>) {
        if self.is_empty() {
            buf.push(b'-');
            return;
        }
        let mut first = true;
        for f in Flag::ALL {
            if self.0 & (1 << f as u16) != 0 {
                if !first {
                    buf.push(b',');
                }
                first = false;
                buf.extend_from_slice(f.code().as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_two_letters_and_in_order() {
        let codes: Vec<&str> = Flag::ALL.map(Flag::code).to_vec();
        let set: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(set.len(), codes.len());
        assert!(codes
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
        for (i, f) in Flag::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "ALL is in declaration order");
        }
    }

    #[test]
    fn flags_are_written_in_a_fixed_order() {
        let mut buf = Vec::new();
        Flags::default().write(&mut buf);
        assert_eq!(buf, b"-");
        let mut f = Flags::default();
        f.set(Flag::DownstreamClosed);
        f.set(Flag::UpstreamTimeout);
        f.set(Flag::UpstreamTimeout);
        buf.clear();
        f.write(&mut buf);
        assert_eq!(buf, b"UT,DC");
    }

    #[test]
    fn errors_and_causes_map_to_their_flags() {
        assert_eq!(Flag::of_error(&GatewayError::UpstreamTimeout).code(), "UT");
        assert_eq!(
            Flag::of_error(&GatewayError::RateLimited {
                retry_after: std::time::Duration::from_secs(1)
            })
            .code(),
            "RL"
        );
        assert_eq!(Flag::of_error(&GatewayError::Forbidden).code(), "NA");
        assert_eq!(Flag::of_cause(Cause::StreamReset).code(), "DC");
        for c in Cause::ALL {
            Flag::of_cause(c);
        }
    }
}
