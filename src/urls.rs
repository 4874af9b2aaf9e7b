//! Every URL-typed setting (`upstream.base_url`, `telemetry.otlp_endpoint`,
//! `cluster.redis_url`) is read by [`parse`], and every place that prints one
//! (the start-up line, `/admin/config`, logs, `check-config`) goes through
//! [`shown`].
//!
//! A URL is configuration, and configuration is printed; a password in it
//! would be printed with it. So no URL carries userinfo: credentials live in
//! their own secret files. The one exception is a bare user name on a Redis
//! URL (`redis://gateway@redis:6379`): Redis 6 ACLs need one, it is not a
//! secret, and the password still comes from `cluster.redis_password_file`.
//! Even that name is not printed.

use http::Uri;

/// What a setting accepts.
#[derive(Clone, Copy, Debug)]
pub struct UrlRule {
    pub schemes: &'static [&'static str],
    /// A user name without a password before the host (`redis://user@host`).
    pub username_allowed: bool,
    /// Where the credentials a refused URL carried belong instead.
    pub credentials_in: &'static str,
}

/// `upstream.base_url`, `telemetry.otlp_endpoint`.
pub const HTTP: UrlRule = UrlRule {
    schemes: &["http", "https"],
    username_allowed: false,
    credentials_in: "paycombat's token goes in `upstream.token_file`, a collector's API key in OTEL_EXPORTER_OTLP_HEADERS",
};

/// `cluster.redis_url`.
pub const REDIS: UrlRule = UrlRule {
    schemes: &["redis", "rediss"],
    username_allowed: true,
    credentials_in: "the password goes in `cluster.redis_password_file` (a bare ACL user name may stay: redis://user@host)",
};

/// Parses a URL setting: one of the rule's schemes, a host, and no userinfo
/// (beyond a bare user name where the rule allows one). Messages never
/// quote the value: a refused one may hold a password.
pub fn parse(v: &str, rule: UrlRule) -> Result<Uri, String> {
    let v = v.trim();
    // Userinfo first: whatever else is wrong, a credential must be named as
    // the reason, and `http::Uri` would refuse some forms before we see them.
    if let Some(userinfo) = userinfo(v) {
        if !rule.username_allowed || userinfo.contains(':') || userinfo.is_empty() {
            return Err(format!(
                "no credentials in a URL (user:password@): {}",
                rule.credentials_in
            ));
        }
    }
    let url: Uri = v
        .parse()
        .map_err(|_| "is not a URL like scheme://host:port".to_owned())?;
    match url.scheme_str() {
        Some(s) if rule.schemes.contains(&s) => {}
        _ => {
            return Err(format!(
                "the scheme must be {}",
                rule.schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        }
    }
    if url.host().is_none_or(str::is_empty) {
        return Err("a host is required".to_owned());
    }
    Ok(url)
}

/// The userinfo part of a URL's authority, if it has one.
fn userinfo(v: &str) -> Option<&str> {
    let rest = v.split_once("://").map_or(v, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').map(|(u, _)| u)
}

/// How a URL is printed anywhere: scheme, host, port and path; never
/// userinfo, query or fragment.
pub fn shown(url: &Uri) -> String {
    let scheme = url.scheme_str().unwrap_or("http");
    let host = url.host().unwrap_or("");
    let port = url.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", url.path())
}

/// [`shown`] for a URL held as text; a value that does not parse is not
/// printed at all.
pub fn shown_str(v: &str) -> String {
    let v = v.trim();
    // Cut the userinfo off before parsing: `http::Uri` refuses some of it.
    let without = match userinfo(v) {
        Some(u) => v.replacen(&format!("{u}@"), "", 1),
        None => v.to_owned(),
    };
    without
        .parse::<Uri>()
        .map(|u| shown(&u))
        .unwrap_or_else(|_| "[unreadable URL]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_refused_without_quoting_it() {
        for (v, rule) in [
            ("http://user:hunter2secret@host", HTTP),
            ("https://user@host:8443", HTTP),
            ("http://:hunter2secret@host/", HTTP),
            ("https://a%40b:hunter2secret@host", HTTP),
            ("redis://:hunter2secret@redis:6379/0", REDIS),
            ("rediss://user:hunter2secret@redis:6380", REDIS),
            ("redis://@redis", REDIS),
        ] {
            let e = parse(v, rule).expect_err(v);
            assert!(e.contains("credentials"), "{v}: {e}");
            assert!(!e.contains("hunter2"), "{v}: {e}");
            // It says where the credential goes instead.
            let file = if v.starts_with("redis") {
                "`cluster.redis_password_file`"
            } else {
                "`upstream.token_file`"
            };
            assert!(e.contains(file), "{v}: {e}");
        }
        assert!(parse("redis://gateway@redis:6379/0", REDIS).is_ok());
        assert!(parse("http://host:8080", HTTP).is_ok());
        assert!(parse("ftp://host", HTTP).is_err());
        assert!(parse("redis://", REDIS).is_err());
    }

    #[test]
    fn printed_urls_carry_no_userinfo_nor_query() {
        for (v, shown) in [
            (
                "http://user:pw@host:8080/v1/traces?k=v#f",
                "http://host:8080/v1/traces",
            ),
            ("redis://gateway@redis:6379/0", "redis://redis:6379/0"),
            ("rediss://:pw@redis:6380", "rediss://redis:6380/"),
            ("https://api.paycombat.com", "https://api.paycombat.com/"),
            ("http://[::1]:9/", "http://[::1]:9/"),
        ] {
            assert_eq!(shown_str(v), shown, "{v}");
        }
        assert_eq!(shown_str("not a url at all"), "[unreadable URL]");
    }
}
