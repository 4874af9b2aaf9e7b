//! Client keys: generation, hashing, and extraction from request headers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::error::AuthError;

/// Prefix of generated keys, so a leaked key is recognisable in secret scanners and code review.
pub const KEY_PREFIX: &str = "pcgw_";

/// The header clients already use towards paycombat; keeping it means switching a service's base
/// URL to the gateway is the only change it needs.
pub const X_TOKEN: &str = "x-token";
/// [`X_TOKEN`] as a header name: looked up on every authenticated request (cache hits
/// included), where a `&str` would be parsed and checked as a name each time.
const X_TOKEN_NAME: HeaderName = HeaderName::from_static(X_TOKEN);

/// Lowercase hex SHA-256 of the key's UTF-8 bytes: the form stored in the clients file.
pub fn hash_key(key: &str) -> String {
    hex::encode(digest(key.as_bytes()))
}

pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A new random client key: `pcgw_` + 43 base64url characters (32 bytes from the thread-local
/// CSPRNG, which is seeded from the operating system).
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut key = String::with_capacity(KEY_PREFIX.len() + 43);
    key.push_str(KEY_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut key);
    key
}

/// The key the caller presented, as raw header bytes.
///
/// Sources: every `X-token` value and every `Authorization` value with the `Bearer` scheme
/// (scheme case-insensitive). Other `Authorization` schemes are ignored. Empty values count as
/// absent. If the sources disagree the request is refused as [`AuthError::Ambiguous`].
pub(crate) fn presented_key(headers: &HeaderMap) -> Result<&[u8], AuthError> {
    let x_tokens = headers
        .get_all(&X_TOKEN_NAME)
        .iter()
        .map(|v| trim(v.as_bytes()));
    let bearers = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| bearer_token(v.as_bytes()));
    let mut found: Option<&[u8]> = None;
    for candidate in x_tokens.chain(bearers).filter(|c| !c.is_empty()) {
        match found {
            None => found = Some(candidate),
            // Both values come from the caller, so comparing them in variable time leaks nothing.
            Some(first) if first != candidate => return Err(AuthError::Ambiguous),
            Some(_) => {}
        }
    }
    found.ok_or(AuthError::Missing)
}

fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = trim(value);
    let scheme_len = value
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_len);
    if scheme.eq_ignore_ascii_case(b"bearer") {
        Some(trim(rest))
    } else {
        None
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn hash_key_known_vector() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_keys_have_the_right_shape_and_differ() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        for key in [&a, &b] {
            let body = key.strip_prefix(KEY_PREFIX).expect("prefix");
            assert_eq!(body.len(), 43);
            assert!(body
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
            assert_eq!(URL_SAFE_NO_PAD.decode(body).expect("base64url").len(), 32);
        }
    }

    #[test]
    fn x_token_and_bearer_are_both_read() {
        assert_eq!(
            presented_key(&headers(&[("x-token", "k1")])),
            Ok(&b"k1"[..])
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer k1")])),
            Ok(&b"k1"[..])
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bEaReR   k1 ")])),
            Ok(&b"k1"[..])
        );
    }

    #[test]
    fn same_key_in_both_headers_is_fine_different_is_ambiguous() {
        let same = headers(&[("x-token", "k1"), ("authorization", "Bearer k1")]);
        assert_eq!(presented_key(&same), Ok(&b"k1"[..]));
        let differ = headers(&[("x-token", "k1"), ("authorization", "Bearer k2")]);
        assert_eq!(presented_key(&differ), Err(AuthError::Ambiguous));
        let repeated = headers(&[("x-token", "k1"), ("x-token", "k2")]);
        assert_eq!(presented_key(&repeated), Err(AuthError::Ambiguous));
    }

    #[test]
    fn absent_empty_or_other_schemes_are_missing() {
        assert_eq!(presented_key(&HeaderMap::new()), Err(AuthError::Missing));
        assert_eq!(
            presented_key(&headers(&[("x-token", "  ")])),
            Err(AuthError::Missing)
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Basic dXNlcjpwYXNz")])),
            Err(AuthError::Missing)
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer")])),
            Err(AuthError::Missing)
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearerk1")])),
            Err(AuthError::Missing)
        );
    }
}
