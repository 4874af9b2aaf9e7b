//! `Cache-Control`, read one way for both directions: what a client's asks of
//! the cache (within what the config allows), and what upstream's forbids.

use http::header::CACHE_CONTROL;
use http::HeaderMap;

use super::config::CacheSettings;

/// How a cacheable request should use the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestMode {
    /// Serve from cache when possible.
    Normal,
    /// `no-cache` or `max-age=0`: go upstream, then store the answer (Cache-Status
    /// `fwd=request`).
    Refresh,
    /// `no-store`: neither read nor write the cache.
    NoStore,
}

/// Every directive of every `Cache-Control` line, as (name, argument): names
/// trimmed, arguments trimmed and unquoted. Lines that are not text carry none.
pub fn cache_control(headers: &HeaderMap) -> impl Iterator<Item = (&str, Option<&str>)> {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(directives)
        .map(|(name, arg)| (name, arg.map(|a| a.trim_matches('"'))))
}

/// The directives of one `Cache-Control` value, as (name, argument) with both
/// trimmed and the argument as written (quotes kept); empty items skipped. The
/// one way the gateway splits this header, for the cache and for the response
/// header grammar alike.
pub fn directives(value: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|directive| match directive.split_once('=') {
            Some((name, arg)) => (name.trim(), Some(arg.trim())),
            None => (directive, None),
        })
}

/// What upstream's `Cache-Control` says about storing its answer. The one header builder
/// (`inspect::headers`) fills it in while it reads upstream's lines to rebuild the client's,
/// so storability never parses that header a second time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpstreamDirectives {
    forbids_storing: bool,
}

impl UpstreamDirectives {
    /// Notes one directive upstream's answer carries (by name, any case).
    pub fn note(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("private") {
            self.forbids_storing = true;
        }
    }

    /// Reads every `Cache-Control` line of `headers` (for answers the header builder did
    /// not build, and for tests).
    pub fn read(headers: &HeaderMap) -> Self {
        let mut read = Self::default();
        for (name, _) in cache_control(headers) {
            read.note(name);
        }
        read
    }

    /// Upstream forbids storing the answer: `no-store`, or `private` (the qualified form
    /// `private="set-cookie"` too).
    pub fn forbids_storing(&self) -> bool {
        self.forbids_storing
    }
}

/// Whether upstream forbids storing the answer, read from `headers`.
#[cfg(test)]
pub fn forbids_storing(headers: &HeaderMap) -> bool {
    UpstreamDirectives::read(headers).forbids_storing()
}

impl CacheSettings {
    /// Reads every `Cache-Control` field of a request. Directives the config does not allow
    /// clients to use are ignored, so a client cannot defeat the cache unless permitted.
    pub fn request_mode(&self, headers: &HeaderMap) -> RequestMode {
        let mut no_store = false;
        let mut refresh = false;
        for (name, arg) in cache_control(headers) {
            if name.eq_ignore_ascii_case("no-store") {
                no_store = true;
            } else if name.eq_ignore_ascii_case("no-cache")
                || (name.eq_ignore_ascii_case("max-age") && arg == Some("0"))
            {
                refresh = true;
            }
        }
        if no_store && self.allow_client_no_store {
            RequestMode::NoStore
        } else if refresh && self.allow_client_no_cache {
            RequestMode::Refresh
        } else {
            RequestMode::Normal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::config::CacheConfig;

    fn mode(settings: &CacheSettings, values: &[&str]) -> RequestMode {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(CACHE_CONTROL, value.parse().expect("header value"));
        }
        settings.request_mode(&headers)
    }

    #[test]
    fn directives_map_to_modes() {
        let settings = crate::cache::default_settings();
        assert_eq!(mode(&settings, &[]), RequestMode::Normal);
        assert_eq!(mode(&settings, &["max-age=60"]), RequestMode::Normal);
        assert_eq!(mode(&settings, &["No-Cache"]), RequestMode::Refresh);
        assert_eq!(mode(&settings, &["max-age=0"]), RequestMode::Refresh);
        assert_eq!(mode(&settings, &["max-age=\"0\""]), RequestMode::Refresh);
        assert_eq!(
            mode(&settings, &["no-cache, no-store"]),
            RequestMode::NoStore
        );
        assert_eq!(
            mode(&settings, &["max-age=5", "no-store"]),
            RequestMode::NoStore
        );
    }

    #[test]
    fn disallowed_directives_are_ignored() {
        let config = CacheConfig {
            allow_client_no_cache: false,
            allow_client_no_store: false,
            ..crate::cache::default_config()
        };
        let settings = config.validate().expect("valid");
        assert_eq!(mode(&settings, &["no-cache"]), RequestMode::Normal);
        assert_eq!(mode(&settings, &["no-store"]), RequestMode::Normal);

        let config = CacheConfig {
            allow_client_no_store: false,
            ..crate::cache::default_config()
        };
        let settings = config.validate().expect("valid");
        assert_eq!(
            mode(&settings, &["no-store, no-cache"]),
            RequestMode::Refresh
        );
    }

    #[test]
    fn one_tokenizer_reads_both_directions() {
        let mut h = HeaderMap::new();
        h.append(
            CACHE_CONTROL,
            "max-age=\"0\" , Private=\"set-cookie\""
                .parse()
                .expect("value"),
        );
        h.append(
            CACHE_CONTROL,
            http::HeaderValue::from_bytes(b"no-store\xff").expect("value"),
        );
        h.append(CACHE_CONTROL, " no-cache".parse().expect("value"));
        let read: Vec<_> = cache_control(&h).collect();
        assert_eq!(
            read,
            [
                ("max-age", Some("0")),
                ("Private", Some("set-cookie")),
                ("no-cache", None)
            ]
        );
        // The line that is not text is skipped by both readers alike.
        assert!(forbids_storing(&h));
        assert_eq!(
            crate::cache::default_settings().request_mode(&h),
            RequestMode::Refresh
        );
    }

    proptest::proptest! {
        #[test]
        fn both_directions_see_the_same_directives(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "no-store", "No-Store", " private", "private=\"x\"", "no-cache",
                        "max-age=0", "max-age=5", "public", "", "s-maxage=1",
                    ]),
                    0..4,
                ),
                0..3,
            ),
        ) {
            let mut h = HeaderMap::new();
            for line in &lines {
                h.append(CACHE_CONTROL, line.join(",").parse().expect("value"));
            }
            let names: Vec<String> = lines
                .iter()
                .flatten()
                .map(|d| d.split('=').next().unwrap_or("").trim().to_ascii_lowercase())
                .collect();
            let has = |n: &str| names.iter().any(|m| m == n);
            proptest::prop_assert_eq!(forbids_storing(&h), has("no-store") || has("private"));
            let expected = if has("no-store") {
                RequestMode::NoStore
            } else if has("no-cache") || lines.iter().flatten().any(|d| *d == "max-age=0") {
                RequestMode::Refresh
            } else {
                RequestMode::Normal
            };
            proptest::prop_assert_eq!(crate::cache::default_settings().request_mode(&h), expected);
        }
    }
}
