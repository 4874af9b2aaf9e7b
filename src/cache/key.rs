//! Cache keys: which route, which customer, which allowlisted query variant.

use std::sync::Arc;

use moka::Equivalent;

use super::config::CacheSettings;

/// Normalised variants longer than this bypass the cache rather than bloat it.
const MAX_VARIANT_LEN: usize = 512;
/// Ids longer than any sane customer id are refused before the regex sees them.
const MAX_ID_LEN: usize = 128;

// The cacheable routes are route vocabulary (config table names and metric labels).
pub use crate::route::CachedRoute;

/// Why a request does not use the cache at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bypass {
    /// Caching is off globally or for this route.
    Disabled,
    /// The customer id does not match `cache.id_pattern`.
    IdPattern,
    /// The query string carries a parameter outside the route's allowlist (or is too long).
    Query,
    /// Cluster mode, and this replica holds no lease: it may have missed another
    /// replica's invalidation, so it neither serves nor joins anything cached.
    NoLease,
}

impl Bypass {
    /// Metric label value and Cache-Status `detail` token.
    pub fn label(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::IdPattern => "id-pattern",
            Self::Query => "query",
            Self::NoLease => "no-lease",
        }
    }
}

/// What moka stores under: every query variant of one customer's route shares one slot, so
/// invalidating a customer is one removal per route whatever variants exist.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SlotKey {
    pub(crate) route: CachedRoute,
    pub(crate) customer_id: Arc<str>,
}

/// Borrowed [`SlotKey`] so that invalidation by id does not allocate. Field order and types
/// hash exactly like `SlotKey` (`Arc<str>` and `&str` both hash as `str`).
#[derive(Clone, Copy, Debug, Hash)]
pub(crate) struct SlotKeyRef<'a> {
    pub(crate) route: CachedRoute,
    pub(crate) customer_id: &'a str,
}

impl Equivalent<SlotKey> for SlotKeyRef<'_> {
    fn equivalent(&self, key: &SlotKey) -> bool {
        self.route == key.route && self.customer_id == &*key.customer_id
    }
}

/// Identifies one cacheable response. Customer ids are not personal data, so `Debug` may
/// show them; they must still never become metric labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub(crate) slot: SlotKey,
    /// Normalised allowlisted query (`name=value` pairs sorted by name), if any.
    pub(crate) variant: Option<Arc<str>>,
}

impl CacheKey {
    pub fn route(&self) -> CachedRoute {
        self.slot.route
    }

    pub fn customer_id(&self) -> &str {
        &self.slot.customer_id
    }

    pub fn variant(&self) -> Option<&str> {
        self.variant.as_deref()
    }

    /// Builds the key for `customer_id` on `route`, or says why the request must bypass.
    pub(crate) fn build(
        settings: &CacheSettings,
        route: CachedRoute,
        customer_id: &str,
        query: Option<&str>,
    ) -> Result<Self, Bypass> {
        KeyRef::check(settings, route, customer_id, query).map(KeyRef::into_owned)
    }
}

/// A [`CacheKey`] borrowed from the request: what a lookup needs, so that a
/// hit allocates no key. The owned key is made only to fill or refresh.
#[derive(Clone, Debug)]
pub(crate) struct KeyRef<'a> {
    pub(crate) slot: SlotKeyRef<'a>,
    pub(crate) variant: Option<Arc<str>>,
}

impl<'a> KeyRef<'a> {
    /// The checks of [`CacheKey::build`]: route enabled, id pattern, query allowlist.
    pub(crate) fn check(
        settings: &CacheSettings,
        route: CachedRoute,
        customer_id: &'a str,
        query: Option<&str>,
    ) -> Result<Self, Bypass> {
        if !settings.route_enabled(route) {
            return Err(Bypass::Disabled);
        }
        if customer_id.len() > MAX_ID_LEN || !settings.id_matches(customer_id) {
            return Err(Bypass::IdPattern);
        }
        let variant = match query {
            Some(query) => {
                normalise_query(query, |name| settings.route(route).allows_query_param(name))?
            }
            None => None,
        };
        Ok(Self {
            slot: SlotKeyRef { route, customer_id },
            variant,
        })
    }

    pub(crate) fn into_owned(self) -> CacheKey {
        CacheKey {
            slot: SlotKey {
                route: self.slot.route,
                customer_id: Arc::from(self.slot.customer_id),
            },
            variant: self.variant,
        }
    }
}

/// Keeps only `name[=value]` pairs whose name is allowed, sorted by name (stable, so the
/// order of repeated names is kept: upstream may care about it). Any other name bypasses:
/// it might change the response, and an unknown parameter must never be served a response
/// cached for a different one.
fn normalise_query(
    query: &str,
    allowed: impl Fn(&str) -> bool,
) -> Result<Option<Arc<str>>, Bypass> {
    if query.len() > MAX_VARIANT_LEN {
        return Err(Bypass::Query);
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        if !allowed(name) {
            return Err(Bypass::Query);
        }
        pairs.push((name, pair));
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    pairs.sort_by_key(|&(name, _)| name);
    let mut variant = String::with_capacity(query.len());
    for (i, (_, pair)) in pairs.iter().enumerate() {
        if i > 0 {
            variant.push('&');
        }
        variant.push_str(pair);
    }
    Ok(Some(Arc::from(variant)))
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;

    use super::*;
    use crate::cache::config::CacheConfig;

    const ID: &str = "customer_0123456789abcdef0123456789abcdef";

    fn settings_with_allowlist(names: &[&str]) -> CacheSettings {
        let mut config = crate::cache::default_config();
        config.routes.customer_detail.query_allowlist =
            names.iter().map(|name| (*name).to_owned()).collect();
        config.validate().expect("valid config")
    }

    #[test]
    fn id_must_match_the_whole_pattern() {
        let settings = crate::cache::default_settings();
        let route = CachedRoute::CustomerDetail;
        assert!(CacheKey::build(&settings, route, ID, None).is_ok());
        for bad in [
            "customer_0123456789ABCDEF0123456789abcdef",
            "customer_0123456789abcdef0123456789abcde",
            "xcustomer_0123456789abcdef0123456789abcdef",
            "customer_0123456789abcdef0123456789abcdef/../x",
            "",
        ] {
            assert_eq!(
                CacheKey::build(&settings, route, bad, None),
                Err(Bypass::IdPattern),
                "{bad}"
            );
        }
    }

    #[test]
    fn unanchored_pattern_is_anchored() {
        let config = CacheConfig {
            id_pattern: "customer_[0-9a-f]{32}".to_owned(),
            ..crate::cache::default_config()
        };
        let settings = config.validate().expect("valid config");
        assert!(settings.id_matches(ID));
        assert!(!settings.id_matches(&format!("{ID}x")));
        assert!(!settings.id_matches(&format!("x{ID}")));
    }

    #[test]
    fn any_query_bypasses_without_allowlist() {
        let settings = crate::cache::default_settings();
        let route = CachedRoute::CustomerDetail;
        assert_eq!(
            CacheKey::build(&settings, route, ID, Some("expand=wallet")),
            Err(Bypass::Query)
        );
        // An empty query string is no query at all.
        let key = CacheKey::build(&settings, route, ID, Some("")).expect("key");
        assert_eq!(key.variant(), None);
        assert_eq!(
            key,
            CacheKey::build(&settings, route, ID, None).expect("key")
        );
    }

    #[test]
    fn allowlisted_query_becomes_a_normalised_variant() {
        let settings = settings_with_allowlist(&["lang", "expand"]);
        let route = CachedRoute::CustomerDetail;
        let a = CacheKey::build(&settings, route, ID, Some("lang=en&expand=wallet")).expect("a");
        let b = CacheKey::build(&settings, route, ID, Some("expand=wallet&&lang=en")).expect("b");
        assert_eq!(a, b);
        assert_eq!(a.variant(), Some("expand=wallet&lang=en"));
        let c = CacheKey::build(&settings, route, ID, Some("lang=fr")).expect("c");
        assert_ne!(a, c);
        assert_eq!(
            CacheKey::build(&settings, route, ID, Some("lang=en&page=2")),
            Err(Bypass::Query)
        );
        // The allowlist is per route.
        assert_eq!(
            CacheKey::build(
                &settings,
                CachedRoute::CustomerWalletReady,
                ID,
                Some("lang=en")
            ),
            Err(Bypass::Query)
        );
        let long = format!("lang={}", "e".repeat(MAX_VARIANT_LEN));
        assert_eq!(
            CacheKey::build(&settings, route, ID, Some(&long)),
            Err(Bypass::Query)
        );
    }

    #[test]
    fn disabled_route_or_cache_bypasses() {
        let mut config = crate::cache::default_config();
        config.routes.customer_wallet_ready.enabled = false;
        let settings = config.validate().expect("valid");
        assert!(CacheKey::build(&settings, CachedRoute::CustomerDetail, ID, None).is_ok());
        assert_eq!(
            CacheKey::build(&settings, CachedRoute::CustomerWalletReady, ID, None),
            Err(Bypass::Disabled)
        );
        let config = CacheConfig {
            enabled: false,
            ..crate::cache::default_config()
        };
        let settings = config.validate().expect("valid");
        assert_eq!(
            CacheKey::build(&settings, CachedRoute::CustomerDetail, ID, None),
            Err(Bypass::Disabled)
        );
    }

    #[test]
    fn borrowed_slot_key_hashes_like_the_owned_one() {
        let state = RandomState::new();
        let owned = SlotKey {
            route: CachedRoute::CustomerWalletReady,
            customer_id: Arc::from(ID),
        };
        let borrowed = SlotKeyRef {
            route: CachedRoute::CustomerWalletReady,
            customer_id: ID,
        };
        assert_eq!(state.hash_one(&owned), state.hash_one(borrowed));
        assert!(borrowed.equivalent(&owned));
    }
}
