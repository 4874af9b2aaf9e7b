//! Response headers: which of upstream's may reach the client.
//!
//! Headers pass by allowlist (`upstream.response_headers`): a header the
//! gateway does not know could carry anything — a `Location` or `Link` with
//! an email in it, a `Set-Cookie`, an `X-Debug-Echo` of the request — so the
//! rest are dropped and counted. How a body is framed is read by
//! [`crate::http::framing`].

use http::header::{self, HeaderMap, HeaderName};

/// `upstream.response_headers`, compiled: exact names plus `prefix-*` entries.
#[derive(Debug, Clone, Default)]
pub struct HeaderAllowlist {
    exact: Vec<HeaderName>,
    prefixes: Vec<String>,
}

/// Headers the gateway always sets itself: an allowlist entry never lets the
/// upstream's copy through (they describe the gateway's answer, not paycombat's).
const OWN: &[HeaderName] = &[
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
    header::AGE,
    header::SET_COOKIE,
];

impl HeaderAllowlist {
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut list = HeaderAllowlist::default();
        for e in entries {
            let e = e.trim().to_ascii_lowercase();
            if let Some(prefix) = e.strip_suffix('*') {
                if prefix.is_empty() || HeaderName::from_bytes(prefix.as_bytes()).is_err() {
                    return Err(format!(
                        "{e:?}: a prefix entry is a header name followed by '*'"
                    ));
                }
                list.prefixes.push(prefix.to_owned());
                continue;
            }
            let name = HeaderName::from_bytes(e.as_bytes())
                .map_err(|_| format!("{e:?} is not a header name"))?;
            if OWN.contains(&name) {
                return Err(format!(
                    "{e:?} is set by the gateway itself and cannot be passed from upstream"
                ));
            }
            list.exact.push(name);
        }
        Ok(list)
    }

    pub fn allows(&self, name: &HeaderName) -> bool {
        if OWN.contains(name) {
            return false;
        }
        self.exact.contains(name)
            || self
                .prefixes
                .iter()
                .any(|p| name.as_str().starts_with(p.as_str()))
    }

    /// Drops every header not on the list; returns how many lines went
    /// (not counting the ones the gateway always replaces with its own).
    pub fn retain(&self, headers: &mut HeaderMap) -> u64 {
        for own in OWN {
            headers.remove(own);
        }
        let before = headers.len();
        let names: Vec<HeaderName> = headers
            .keys()
            .filter(|k| !self.allows(k))
            .cloned()
            .collect();
        for n in names {
            headers.remove(n);
        }
        (before - headers.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::map;

    #[test]
    fn only_listed_headers_pass() {
        let list =
            HeaderAllowlist::parse(&["Content-Type".into(), "x-ratelimit-*".into()]).unwrap();
        let mut h = map(&[
            ("content-type", "application/json"),
            ("x-ratelimit-remaining", "9"),
            ("location", "https://x/?email=a@b.c"),
            ("set-cookie", "s=1"),
            ("x-debug-echo", "x-token: snd_abc"),
            ("content-length", "10"),
        ]);
        assert_eq!(
            list.retain(&mut h),
            2,
            "content-length and set-cookie are the gateway's own"
        );
        assert_eq!(h.len(), 2);
        assert!(h.contains_key("x-ratelimit-remaining"));
        for bad in ["content-length", "set-cookie", "*", "bad header"] {
            assert!(HeaderAllowlist::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
