//! `upstream.response_headers` and `upstream.vary_request_headers`,
//! compiled: which of the headers the gateway has a vocabulary for it
//! writes, and which request-header names its `Vary` may name.
//!
//! A header the gateway has no vocabulary for could carry anything — a
//! `Location` or `Link` with an email in it, a `Set-Cookie`, an
//! `X-Debug-Echo` of the request — so listing one is a configuration error,
//! and whatever upstream sends beyond the list is dropped and counted. What a
//! listed header may hold is [`super::headers`]'s to say.

use http::header::{HeaderMap, HeaderName};

use super::headers::{Kind, GATEWAY_RATE_FIELDS, KNOWN};

/// The response headers the gateway writes from upstream's, with the
/// vocabulary of each.
#[derive(Debug, Clone, Default)]
pub struct HeaderAllowlist {
    pub(super) allowed: Vec<(HeaderName, Kind)>,
    /// Request-header names a `Vary` may carry (lowercase).
    pub(super) vary: Vec<HeaderName>,
}

impl HeaderAllowlist {
    /// `entries`: names, or `prefix-*` (which selects the known names it
    /// covers). `vary`: request-header names.
    pub fn parse(entries: &[String], vary: &[String]) -> Result<Self, String> {
        let mut list = HeaderAllowlist::default();
        let add = |name: &'static str, kind: Kind, list: &mut HeaderAllowlist| {
            if !list.allowed.iter().any(|(n, _)| n == name) {
                list.allowed.push((HeaderName::from_static(name), kind));
            }
        };
        for e in entries {
            let e = e.trim().to_ascii_lowercase();
            if let Some(prefix) = e.strip_suffix('*') {
                if prefix.is_empty() || HeaderName::from_bytes(prefix.as_bytes()).is_err() {
                    return Err(format!(
                        "{e:?}: a prefix entry is a header name followed by '*'"
                    ));
                }
                let mut selected = KNOWN
                    .iter()
                    .filter(|(n, _)| n.starts_with(prefix))
                    .peekable();
                // An entry that selects nothing (`x-ratelimit-*`: the gateway's
                // own fields) would pass silently and do nothing.
                if selected.peek().is_none() {
                    return Err(format!(
                        "{e:?} selects no header the gateway writes from upstream's ({})",
                        KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ));
                }
                for (name, kind) in selected {
                    add(name, *kind, &mut list);
                }
                continue;
            }
            HeaderName::from_bytes(e.as_bytes())
                .map_err(|_| format!("{e:?} is not a header name"))?;
            if GATEWAY_RATE_FIELDS.contains(&e.as_str()) {
                return Err(format!(
                    "{e:?}: the gateway writes its own rate-limit fields (RateLimit and \
                     RateLimit-Policy, each client's policy); paycombat's are never forwarded"
                ));
            }
            match KNOWN.iter().find(|(n, _)| *n == e) {
                Some((name, kind)) => add(name, *kind, &mut list),
                None => {
                    return Err(format!(
                        "{e:?}: the gateway writes only headers it can rebuild from its own vocabulary ({}); \
                         Content-Length, Content-Encoding, Age and Set-Cookie are always its own",
                        KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ))
                }
            }
        }
        for v in vary {
            let name = HeaderName::from_bytes(v.trim().as_bytes())
                .map_err(|_| format!("vary_request_headers: {v:?} is not a header name"))?;
            if !list.vary.contains(&name) {
                list.vary.push(name);
            }
        }
        Ok(list)
    }

    /// Lines of upstream's headers the gateway will not write at all
    /// (counted as dropped): every header not on the list, except the ones
    /// the gateway always sets itself.
    pub fn unlisted(&self, upstream: &HeaderMap) -> u64 {
        upstream
            .iter()
            .filter(|(name, _)| {
                !self.allowed.iter().any(|(n, _)| n == *name) && !super::headers::own(name)
            })
            .count() as u64
    }

    /// The names listed (for `/admin/config`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(|(n, _)| n.as_str())
    }

    /// The `Vary` names allowed (for `/admin/config`).
    pub fn vary_names(&self) -> impl Iterator<Item = &str> {
        self.vary.iter().map(|n| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::map;

    #[test]
    fn only_listed_headers_with_a_vocabulary_pass() {
        let list = HeaderAllowlist::parse(&["Content-Type".into(), "e*".into()], &[]).unwrap();
        let names: Vec<&str> = list.names().collect();
        assert_eq!(names, ["content-type", "expires", "etag"]);
        let h = map(&[
            ("content-type", "application/json"),
            ("etag", "\"9\""),
            ("location", "https://x/?email=a@b.c"),
            ("set-cookie", "s=1"),
            ("x-debug-echo", "x-token: snd_abc"),
            ("content-length", "10"),
        ]);
        assert_eq!(
            list.unlisted(&h),
            2,
            "content-length and set-cookie are the gateway's own"
        );
        for bad in [
            "content-length",
            "set-cookie",
            "*",
            "bad header",
            "location",
            "x-custom",
            "ratelimit",
            "X-RateLimit-Remaining",
            "x-ratelimit-*",
        ] {
            assert!(HeaderAllowlist::parse(&[bad.into()], &[]).is_err(), "{bad}");
        }
        assert!(HeaderAllowlist::parse(&[], &["bad name".into()]).is_err());
        let e = HeaderAllowlist::parse(&["RateLimit-Policy".into()], &[]).unwrap_err();
        assert!(e.contains("its own rate-limit fields"), "{e}");
    }
}
