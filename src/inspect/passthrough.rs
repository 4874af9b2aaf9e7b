//! Routes whose bodies the gateway releases without inspecting them.
//!
//! The only exception to "every body is parsed as JSON and masked": a
//! response passes uninspected when its request matched a `[[mask.passthrough]]`
//! entry (methods + path pattern, the syntax of client allowlists) and its one
//! `Content-Type` is one the entry lists. An entry may also name the bytes
//! such bodies start with (`magic`, `%PDF-` for the memo PDFs), so an upstream
//! that labels JSON as a PDF is refused instead of trusted.

use http::Method;

use crate::auth::AllowRule;
/// One validated `[[mask.passthrough]]` entry.
#[derive(Debug, Clone)]
pub struct PassthroughRule {
    allow: AllowRule,
    /// Lowercase media type essences (`application/pdf`).
    content_types: Vec<String>,
    magic: Option<Box<[u8]>>,
    ranges: bool,
}

impl PassthroughRule {
    /// One `[[mask.passthrough]]` entry's values (the entry as written is
    /// `[mask]`'s; the config pass hands them over).
    pub fn parse(
        methods: &[String],
        path: &str,
        types: &[String],
        magic: &str,
        ranges: bool,
    ) -> Result<Self, String> {
        let allow = AllowRule::parse(methods, path)?;
        if types.is_empty() {
            return Err("content_types is empty".to_owned());
        }
        let mut content_types = Vec::with_capacity(types.len());
        for t in types {
            let t = t.trim().to_ascii_lowercase();
            let well_formed = t.split_once('/').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && t.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"/.+-_".contains(&c))
            });
            if !well_formed {
                return Err(format!(
                    "content type {t:?} must be a bare media type like \"application/pdf\""
                ));
            }
            if crate::mask::is_json_media_type(&t) {
                return Err(format!(
                    "content type {t:?} is JSON: JSON is always inspected and masked"
                ));
            }
            content_types.push(t);
        }
        Ok(PassthroughRule {
            allow,
            content_types,
            magic: (!magic.is_empty()).then(|| magic.as_bytes().into()),
            ranges,
        })
    }

    pub fn route_matches(&self, method: &Method, path: &str) -> bool {
        self.allow.allows(method, path)
    }

    /// Whether a response of this media type essence (lowercase) may pass.
    pub fn admits(&self, essence: &str) -> bool {
        self.listed(essence).is_some()
    }

    /// The entry's own spelling of `essence`, if it lists it: what the
    /// client's `Content-Type` says (never upstream's text).
    pub fn listed(&self, essence: &str) -> Option<&str> {
        self.content_types
            .iter()
            .find(|t| *t == essence)
            .map(String::as_str)
    }

    /// The entry's first listed type (for its bodiless answers).
    pub fn first_type(&self) -> &str {
        self.content_types
            .first()
            .map_or("application/octet-stream", String::as_str)
    }

    pub fn magic(&self) -> Option<&[u8]> {
        self.magic.as_deref()
    }

    /// Whether range requests are forwarded on this route.
    pub fn ranges(&self) -> bool {
        self.ranges
    }
}

/// A request that matched an entry, with the one byte range forwarded for it
/// (entries with `ranges = true` only).
#[derive(Debug, Clone, Copy)]
pub struct PassthroughRequest<'a> {
    pub rule: &'a PassthroughRule,
    pub range: Option<super::headers::ByteRange>,
}

/// All passthrough entries; the first that matches a request applies.
#[derive(Debug, Clone, Default)]
pub struct Passthrough {
    rules: Vec<PassthroughRule>,
}

impl Passthrough {
    pub fn new(rules: Vec<PassthroughRule>) -> Self {
        Passthrough { rules }
    }

    pub fn for_request(&self, method: &Method, path: &str) -> Option<&PassthroughRule> {
        self.rules.iter().find(|r| r.route_matches(method, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::relay_config::RawPassthrough;

    fn parse(c: &RawPassthrough) -> Result<PassthroughRule, String> {
        c.rule()
    }

    fn cfg(path: &str, types: &[&str], magic: &str) -> RawPassthrough {
        RawPassthrough {
            methods: vec!["GET".to_owned()],
            path: path.to_owned(),
            content_types: types.iter().map(|t| (*t).to_owned()).collect(),
            magic: magic.to_owned(),
            ranges: false,
        }
    }

    #[test]
    fn matches_route_and_type() {
        let r = parse(&cfg("/api/v1/payin/memo/*", &["Application/PDF"], "%PDF-")).unwrap();
        let p = Passthrough::new(vec![r]);
        let rule = p
            .for_request(&Method::GET, "/api/v1/payin/memo/p1")
            .unwrap();
        assert!(rule.admits("application/pdf"));
        assert!(!rule.admits("application/json"));
        assert_eq!(rule.magic(), Some(&b"%PDF-"[..]));
        assert!(p
            .for_request(&Method::POST, "/api/v1/payin/memo/p1")
            .is_none());
        assert!(p
            .for_request(&Method::GET, "/api/v1/payin/memo/p1/x")
            .is_none());
        assert!(p
            .for_request(&Method::GET, "/api/v1/payin/memo/..")
            .is_none());
    }

    #[test]
    fn bad_entries_are_refused() {
        for (path, types) in [
            ("/api/v1/x", &[][..]),
            ("/api/v1/x", &["pdf"][..]),
            ("/api/v1/x", &["application/json"][..]),
            ("/api/v1/x", &["application/problem+json"][..]),
            ("/api/v1/x", &["application/pdf; charset=x"][..]),
            ("api/v1/x", &["application/pdf"][..]),
        ] {
            assert!(parse(&cfg(path, types, "")).is_err(), "{path} {types:?}");
        }
    }
}
