//! paycombat refusing the gateway's own credentials.
//!
//! The gateway checks the client's key itself and replaces it with the
//! merchant `X-token` (and a `signature` on bodies) before forwarding, so a
//! 401 from paycombat is about the gateway's credentials, never the caller's:
//! the caller gets 502 `UPSTREAM_CREDENTIALS_REJECTED`, the SRE an alert.
//!
//! Only 401 counts. paycombat documents neither 401 nor 403 bodies; a 403 is
//! the usual answer to a merchant lacking a permission on one resource or
//! action, which a client's request can provoke without anything being wrong
//! with the credentials. Paging on it would let any caller raise a critical
//! alert, so a 403 passes through (masked) as paycombat's answer. The status
//! alone decides: paycombat's `invalid X-token` / `invalid signature`
//! messages are inferred, not documented, and the body is not read for them.

use crate::route::RouteLabel;
use http::StatusCode;

use super::Outgoing;
use crate::error::GatewayError;

crate::label_enum! {
    /// The credential paycombat refused: the `credential` label of
    /// `gateway_upstream_credentials_rejected_total`.
    pub enum Credential {
        Token => "token",
        TokenOrSignature => "token_or_signature",
    }
}

#[cfg(test)]
const REJECTED_CREDENTIALS: [&str; 2] = [TOKEN, TOKEN_OR_SIGNATURE];
#[cfg(test)]
const TOKEN: &str = Credential::Token.as_str();
#[cfg(test)]
const TOKEN_OR_SIGNATURE: &str = Credential::TokenOrSignature.as_str();

/// The credential to suspect when paycombat answered `status` to `out`, or
/// `None` when the answer is not a refusal of the gateway's credentials. An
/// unsigned request carried only the token; a signed one may have failed on
/// either, and paycombat does not document which it checks first.
#[cfg(test)]
fn suspect(status: StatusCode, out: &Outgoing) -> Option<&'static str> {
    suspected(status, out).map(Credential::as_str)
}

fn suspected(status: StatusCode, out: &Outgoing) -> Option<Credential> {
    if status != StatusCode::UNAUTHORIZED {
        return None;
    }
    Some(if out.signature().is_some() {
        Credential::TokenOrSignature
    } else {
        Credential::Token
    })
}

impl super::Upstream {
    /// Turns a 401 into the gateway's own error, counted and logged with the
    /// suspect credential's name and its configured source (never its value).
    pub(super) fn refused_credentials(
        &self,
        status: StatusCode,
        out: &Outgoing,
        route: RouteLabel,
    ) -> Option<GatewayError> {
        let suspected = suspected(status, out)?;
        self.metrics
            .upstream_credentials_rejected
            .with([&suspected])
            .inc();
        let credential = suspected.as_str();
        tracing::error!(
            route = route.name(),
            credential,
            status = status.as_u16(),
            "paycombat rejected the gateway's merchant credentials: check upstream.token_file \
             (and upstream.signature_key_file when credential is token_or_signature) \
             against the merchant dashboard"
        );
        Some(GatewayError::UpstreamCredentialsRejected { credential })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, Method, Uri};

    use super::*;
    use crate::upstream::headers::SIGNATURE;

    fn out(signed: bool) -> Outgoing {
        let mut headers = HeaderMap::new();
        if signed {
            headers.insert(SIGNATURE, HeaderValue::from_static("00"));
        }
        Outgoing {
            method: if signed { Method::POST } else { Method::GET },
            uri: Uri::from_static("/api/v1/customer/create"),
            headers,
            body: Bytes::new(),
        }
    }

    #[test]
    fn only_a_401_blames_the_gateways_credentials() {
        for code in 100..=599u16 {
            let status = StatusCode::from_u16(code).unwrap();
            let got = suspect(status, &out(false));
            assert_eq!(got.is_some(), code == 401, "{code}");
        }
        assert_eq!(suspect(StatusCode::FORBIDDEN, &out(true)), None);
    }

    #[test]
    fn a_signed_request_suspects_both_credentials() {
        assert_eq!(
            suspect(StatusCode::UNAUTHORIZED, &out(false)),
            Some("token")
        );
        assert_eq!(
            suspect(StatusCode::UNAUTHORIZED, &out(true)),
            Some("token_or_signature")
        );
        for label in [TOKEN, TOKEN_OR_SIGNATURE] {
            assert!(REJECTED_CREDENTIALS.contains(&label));
        }
    }
}
