//! paycombat's credentials: `X-token` on every request, an HMAC `signature` over write bodies.

use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, StatusCode};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::envelope::Refusal;

/// Lowercase hex HMAC-SHA256 of `body` keyed with `key`: the `signature` header paycombat expects.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would never verify.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn unauthorized(message: &'static str) -> Refusal {
    Refusal::new(StatusCode::UNAUTHORIZED, message)
}

/// `Err` carries the 401 to send.
pub(crate) fn check(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    token: &str,
    key: &[u8],
) -> Result<(), Refusal> {
    let Some(sent) = headers.get("x-token") else {
        return Err(unauthorized("missing X-token"));
    };
    if !bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
        return Err(unauthorized("invalid X-token"));
    }

    let is_read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if is_read {
        return Ok(());
    }
    match headers.get("signature") {
        None if body.is_empty() => Ok(()),
        None => Err(unauthorized("missing signature")),
        Some(sent) => {
            let expected = signature(key, body);
            if !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
                Ok(())
            } else {
                Err(unauthorized("invalid signature"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("valid value"));
        }
        h
    }

    fn message(r: Result<(), Refusal>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(refusal) => refusal.message.into_owned(),
        }
    }

    #[test]
    fn signature_is_rfc4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn token_and_signature_rules() {
        let key = b"k";
        let body = br#"{"a":1}"#;
        let good = signature(key, body);
        let patch = Method::PATCH;
        assert!(
            message(check(&Method::GET, &headers(&[]), b"", "t", key)).contains("missing X-token")
        );
        assert!(message(check(
            &Method::GET,
            &headers(&[("x-token", "u")]),
            b"",
            "t",
            key
        ))
        .contains("invalid X-token"));
        assert_eq!(
            message(check(
                &Method::GET,
                &headers(&[("x-token", "t")]),
                b"",
                "t",
                key
            )),
            "ok"
        );
        assert!(
            message(check(&patch, &headers(&[("x-token", "t")]), body, "t", key))
                .contains("missing signature")
        );
        let upper = good.to_uppercase();
        assert!(message(check(
            &patch,
            &headers(&[("x-token", "t"), ("signature", &upper)]),
            body,
            "t",
            key
        ))
        .contains("invalid signature"));
        assert_eq!(
            message(check(
                &patch,
                &headers(&[("x-token", "t"), ("signature", &good)]),
                body,
                "t",
                key
            )),
            "ok"
        );
        // Bodyless writes need no signature, but one that is present must be the empty body's.
        assert_eq!(
            message(check(&patch, &headers(&[("x-token", "t")]), b"", "t", key)),
            "ok"
        );
        let empty = signature(key, b"");
        assert_eq!(
            message(check(
                &patch,
                &headers(&[("x-token", "t"), ("signature", &empty)]),
                b"",
                "t",
                key
            )),
            "ok"
        );
        assert!(message(check(
            &patch,
            &headers(&[("x-token", "t"), ("signature", &good)]),
            b"",
            "t",
            key
        ))
        .contains("invalid signature"));
    }
}
