//! What a client's `Cache-Control` asks of the cache, within what the config allows.

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

impl CacheSettings {
    /// Reads every `Cache-Control` field of a request. Directives the config does not allow
    /// clients to use are ignored, so a client cannot defeat the cache unless permitted.
    pub fn request_mode(&self, headers: &HeaderMap) -> RequestMode {
        let mut no_store = false;
        let mut refresh = false;
        let directives = headers
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for directive in directives {
            let (name, arg) = match directive.split_once('=') {
                Some((name, arg)) => (name.trim(), Some(arg.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
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
}
