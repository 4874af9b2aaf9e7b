//! Route allowlist entries: a set of methods plus a path pattern.
//!
//! Pattern syntax: '/'-separated segments; `*` matches exactly one non-empty segment, `**` (last
//! segment only) matches one or more remaining segments, anything else is a literal compared
//! byte for byte (paths are case-sensitive).
//!
//! Request paths are matched fail-closed, on the segments `crate::path::segments` yields: a path
//! that `path::validate` refuses (dot segments, `;` parameters, encoded separators, double or
//! overlong encodings, ...) never matches, because the upstream (or anything between) might
//! normalise it into a route the allowlist did not grant. A trailing `/` never matches either.

use http::Method;

use crate::path::ValidPath;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Tail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<Segment>,
}

impl PathPattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err(format!("path {pattern:?} must start with '/'"));
        };
        if let Err(why) = crate::path::validate(pattern) {
            // No request path could ever match it.
            return Err(format!("path {pattern:?}: {why}"));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let segment = match *part {
                "" => return Err(format!("path {pattern:?} has an empty segment")),
                "*" => Segment::One,
                "**" if last => Segment::Tail,
                "**" => return Err(format!("path {pattern:?}: '**' is only allowed last")),
                "." | ".." => return Err(format!("path {pattern:?} has a dot segment")),
                lit if lit.contains('*') => {
                    return Err(format!(
                        "path {pattern:?}: '*' must be a whole segment (no partial wildcards)"
                    ))
                }
                lit if lit.contains(['?', '#', '%', '\\']) || !lit.is_ascii() => {
                    return Err(format!(
                        "path {pattern:?}: segment {lit:?} may not contain '?', '#', '%', '\\' or non-ASCII"
                    ))
                }
                lit => Segment::Literal(lit.to_owned()),
            };
            segments.push(segment);
        }
        Ok(PathPattern { segments })
    }

    /// `path` is the request path; a query, if any, is ignored.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        ValidPath::check(path).is_ok_and(|p| self.matches_checked(p))
    }

    /// As `matches`, on a path already checked (and without a query).
    pub(crate) fn matches_checked(&self, path: ValidPath<'_>) -> bool {
        let mut parts = path.segments();
        for segment in &self.segments {
            match segment {
                // A checked path has no empty segment but, after a trailing
                // '/', the last: one look at the end stands for a walk over
                // the rest.
                Segment::Tail => {
                    return parts.next().is_some_and(|p| !p.is_empty())
                        && !path.as_str().ends_with('/')
                }
                Segment::One => {
                    if !matches!(parts.next(), Some(p) if !p.is_empty()) {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Methods {
    Any,
    Only(Vec<Method>),
}

/// One `allow` entry of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowRule {
    methods: Methods,
    path: PathPattern,
}

impl AllowRule {
    pub(crate) fn parse(methods: &[String], path: &str) -> Result<Self, String> {
        if methods.is_empty() {
            return Err("methods is empty".to_owned());
        }
        let methods = if methods.iter().any(|m| m == "*") {
            if methods.len() > 1 {
                return Err("methods: '*' already covers every method; list it alone".to_owned());
            }
            Methods::Any
        } else {
            let mut parsed = Vec::with_capacity(methods.len());
            for m in methods {
                let valid = !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase());
                let method = Method::from_bytes(m.as_bytes()).ok().filter(|_| valid);
                match method {
                    Some(method) => parsed.push(method),
                    None => {
                        return Err(format!(
                            "method {m:?} is not an uppercase method name or '*'"
                        ))
                    }
                }
            }
            Methods::Only(parsed)
        };
        Ok(AllowRule {
            methods,
            path: PathPattern::parse(path)?,
        })
    }

    /// Whether the rule takes `method`. HEAD is GET without the body (RFC 9110
    /// §9.3.2), and HTTP clients and tools send it where they may GET: a rule
    /// that allows GET allows HEAD.
    fn allows_method(&self, method: &Method) -> bool {
        match &self.methods {
            Methods::Any => true,
            Methods::Only(list) => {
                list.contains(method) || *method == Method::HEAD && list.contains(&Method::GET)
            }
        }
    }

    /// Whether the rule lets a client change anything upstream (a method other
    /// than GET, HEAD, OPTIONS, TRACE): paycombat refuses unsigned writes.
    pub(crate) fn allows_writes(&self) -> bool {
        match &self.methods {
            Methods::Any => true,
            Methods::Only(list) => list.iter().any(|m| !m.is_safe()),
        }
    }

    pub(crate) fn allows(&self, method: &Method, path: &str) -> bool {
        self.allows_method(method) && self.path.matches(path)
    }

    pub(crate) fn allows_checked(&self, method: &Method, path: ValidPath<'_>) -> bool {
        self.allows_method(method) && self.path.matches_checked(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule as first written: every remaining segment walked.
    fn reference(p: &PathPattern, path: &str) -> bool {
        let Ok(mut parts) = crate::path::segments(path) else {
            return false;
        };
        for segment in &p.segments {
            match segment {
                Segment::Tail => {
                    return parts.next().is_some_and(|s| !s.is_empty())
                        && parts.all(|s| !s.is_empty())
                }
                Segment::One => {
                    if !matches!(parts.next(), Some(s) if !s.is_empty()) {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    proptest! {
        #[test]
        fn matching_a_checked_path_agrees_with_walking_every_segment(
            path in prop_oneof![crate::path::tests::tricky_path(), "/[ab/]{0,12}", "/api/v1(/[a-z*]{0,3}){0,4}/?"],
            pattern in prop::sample::select(vec!["/api/v1/**", "/api/**", "/api/v1/*", "/api/v1/*/b", "/a/**", "/a/*/**", "/a", "/a/b"]),
        ) {
            let p = pat(pattern);
            prop_assert_eq!(p.matches(&path), reference(&p, &path), "{} on {:?}", pattern, path);
        }
    }

    fn pat(p: &str) -> PathPattern {
        PathPattern::parse(p).expect("valid pattern")
    }

    #[test]
    fn star_matches_exactly_one_non_empty_segment() {
        let p = pat("/api/v1/customer/customer/*");
        assert!(p.matches("/api/v1/customer/customer/customer_0123"));
        assert!(!p.matches("/api/v1/customer/customer"));
        assert!(!p.matches("/api/v1/customer/customer/"));
        assert!(!p.matches("/api/v1/customer/customer/a/b"));
        assert!(!p.matches("/api/v1/customer/other/a"));
    }

    #[test]
    fn star_in_the_middle() {
        let p = pat("/api/v1/*/retrieve");
        assert!(p.matches("/api/v1/payin/retrieve"));
        assert!(!p.matches("/api/v1/retrieve"));
        assert!(!p.matches("/api/v1/a/b/retrieve"));
    }

    #[test]
    fn double_star_matches_one_or_more_tail_segments() {
        let p = pat("/api/v1/payout/**");
        assert!(p.matches("/api/v1/payout/create-payout"));
        assert!(p.matches("/api/v1/payout/a/b/c"));
        assert!(!p.matches("/api/v1/payout"));
        assert!(!p.matches("/api/v1/payout/"));
        assert!(!p.matches("/api/v1/payoutx/a"));
    }

    #[test]
    fn literal_is_exact_and_case_sensitive() {
        let p = pat("/api/v1/checkout");
        assert!(p.matches("/api/v1/checkout"));
        assert!(!p.matches("/api/v1/Checkout"));
        assert!(!p.matches("/api/v1/checkout/x"));
        assert!(!p.matches("/api/v1"));
    }

    #[test]
    fn trailing_slash_never_matches() {
        assert!(!pat("/api/v1/checkout").matches("/api/v1/checkout/"));
        assert!(!pat("/api/v1/**").matches("/api/v1/checkout/"));
    }

    #[test]
    fn query_is_ignored() {
        let p = pat("/api/v1/customer/customer");
        assert!(p.matches("/api/v1/customer/customer?page=1&limit=10"));
    }

    #[test]
    fn traversal_and_encoded_separators_never_match() {
        let p = pat("/api/v1/payout/**");
        assert!(!p.matches("/api/v1/payout/../customer/customer/x"));
        assert!(!p.matches("/api/v1/payout/%2e%2E/customer"));
        assert!(!p.matches("/api/v1/payout/./x"));
        assert!(!p.matches("/api/v1/payout//x"));
        let one = pat("/api/v1/customer/customer/*");
        assert!(!one.matches("/api/v1/customer/customer/..%2F..%2Fpayout"));
        assert!(!one.matches("/api/v1/customer/customer/a%5cb"));
        assert!(!one.matches("api/v1/customer/customer/x"));
    }

    #[test]
    fn path_parameters_and_odd_encodings_never_match() {
        let payout = pat("/api/v1/payout/**");
        for p in [
            "/api/v1/payout/..;/customer/customer/customer_0123",
            "/api/v1/payout/..%3b/customer/customer/customer_0123",
            "/api/v1/payout/..%253b/customer",
            "/api/v1/payout/%252e%252e/customer",
            "/api/v1/payout/%c0%ae%c0%ae/customer",
            "/api/v1/payout/x%c0%afy",
            "/api/v1/payout/%e0%80%ae",
            "/api/v1/payout/a%c1%9cb",
            "/api/v1/payout/%25",
            "/api/v1/payout/%ff",
            "/api/v1/payout/caf\u{e9}",
        ] {
            assert!(!payout.matches(p), "{p}");
        }
        let detail = pat("/api/v1/customer/customer/*");
        assert!(!detail.matches("/api/v1/customer/customer/;"));
        assert!(!detail.matches("/api/v1/customer/customer/%3B"));
        assert!(!detail.matches("/api/v1/customer/customer/%3F"));
        assert!(detail.matches("/api/v1/customer/customer/caf%C3%A9"));
    }

    /// Prefixes that make matching likely, then pieces of known tricks.
    fn near_miss_path() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefix = prop_oneof![
            Just("/api/v1/payout/"),
            Just("/api/v1/customer/customer/"),
            Just("/api/v1/"),
            Just(""),
        ];
        (prefix, crate::path::tests::tricky_path()).prop_map(|(a, b)| format!("{a}{b}"))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        #[test]
        fn matches_never_grants_what_validate_refuses(target in near_miss_path()) {
            // The gateway validates the path component; `matches` is given the target.
            let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
            for p in ["/**", "/api/v1/**", "/api/v1/payout/**", "/api/v1/customer/customer/*", "/*/*/*/*"] {
                if pat(p).matches(&target) {
                    proptest::prop_assert_eq!(crate::path::validate(path), Ok(()), "{} granted {:?}", p, target);
                }
            }
            // And `/**` grants exactly what validate accepts (less a trailing '/').
            let valid = crate::path::validate(path).is_ok() && !path.ends_with('/');
            proptest::prop_assert_eq!(pat("/**").matches(&target), valid, "{:?}", target);
        }
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for bad in [
            "api/v1",
            "/",
            "/api//v1",
            "/api/**/x",
            "/api/v*",
            "/api/../x",
            "/api?x=1",
            "/api/%2e",
            "/api/v1/x;y",
            "/api/v1/x\\y",
        ] {
            assert!(PathPattern::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn method_star_allows_any_method() {
        let rule = AllowRule::parse(&["*".into()], "/api/v1/payout/**").expect("valid");
        for m in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            assert!(rule.allows(&m, "/api/v1/payout/create-payout"));
        }
    }

    #[test]
    fn head_is_allowed_wherever_get_is_and_nowhere_else() {
        let get = AllowRule::parse(&["GET".into()], "/a").expect("valid");
        assert!(get.allows(&Method::HEAD, "/a"));
        assert!(!get.allows(&Method::HEAD, "/b"));
        let post = AllowRule::parse(&["POST".into()], "/a").expect("valid");
        assert!(!post.allows(&Method::HEAD, "/a"));
        // HEAD alone does not open GET.
        let head = AllowRule::parse(&["HEAD".into()], "/a").expect("valid");
        assert!(!head.allows(&Method::GET, "/a"));
    }

    #[test]
    fn writes_are_any_method_but_the_safe_ones() {
        for (methods, writes) in [
            (vec!["GET"], false),
            (vec!["GET", "HEAD", "OPTIONS"], false),
            (vec!["GET", "POST"], true),
            (vec!["DELETE"], true),
            (vec!["*"], true),
        ] {
            let methods: Vec<String> = methods.into_iter().map(str::to_owned).collect();
            let rule = AllowRule::parse(&methods, "/a").expect("valid");
            assert_eq!(rule.allows_writes(), writes, "{methods:?}");
        }
    }

    #[test]
    fn method_list_is_exact() {
        let rule = AllowRule::parse(&["GET".into(), "HEAD".into()], "/a").expect("valid");
        assert!(rule.allows(&Method::GET, "/a"));
        assert!(rule.allows(&Method::HEAD, "/a"));
        assert!(!rule.allows(&Method::POST, "/a"));
        assert!(!rule.allows(&Method::GET, "/b"));
    }

    #[test]
    fn bad_methods_are_rejected() {
        assert!(AllowRule::parse(&[], "/a").is_err());
        assert!(AllowRule::parse(&["get".into()], "/a").is_err());
        assert!(AllowRule::parse(&["GE T".into()], "/a").is_err());
        assert!(AllowRule::parse(&["*".into(), "GET".into()], "/a").is_err());
    }
}
