//! The `[cache]` section: raw serde settings, validated once into [`CacheSettings`].

use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::key::CachedRoute;
use crate::problems::{positive, ConfigError, Problems};

/// Longest an entry may be kept (freshness plus stale windows). Customer data older than
/// this is not worth serving, and the bound keeps `Instant` arithmetic far from overflow.
const MAX_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The bound as the README and `config/default.toml` write it (`24h`).
fn max_retention_text() -> String {
    crate::duration_text::format(MAX_RETENTION)
}

/// Raw `[cache]` section as written in TOML; every value comes from
/// `config/default.toml` and the layers above it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    pub enabled: bool,
    /// Bound on the sum of entry weights (body + headers + key + fixed overhead).
    pub max_bytes: u64,
    /// Responses weighing more than this are served but not stored.
    pub max_entry_bytes: u64,
    /// Customer ids not matching this pattern are never cached. The pattern is anchored
    /// automatically: it must match the whole id.
    pub id_pattern: String,
    /// A client's `Cache-Control: no-cache` forces a refresh from upstream.
    pub allow_client_no_cache: bool,
    /// A client's `Cache-Control: no-store` bypasses the cache.
    pub allow_client_no_store: bool,
    pub routes: RoutesConfig,
}

/// `[cache]` on a configuration reload: what is cached and for how long is live
/// (entries are dropped when it changes); the store is built once at its size.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[
        "max_entry_bytes",
        "id_pattern",
        "allow_client_no_cache",
        "allow_client_no_store",
        "routes",
    ],
    restart: &["enabled", "max_bytes"],
};

/// `[cache.routes.*]`. A layer naming one key of a route keeps the route's
/// other keys from the layers below (the configuration is merged key by key).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesConfig {
    pub customer_detail: RouteCacheConfig,
    pub customer_wallet_ready: RouteCacheConfig,
}

impl RoutesConfig {
    pub fn get(&self, route: CachedRoute) -> &RouteCacheConfig {
        match route {
            CachedRoute::CustomerDetail => &self.customer_detail,
            CachedRoute::CustomerWalletReady => &self.customer_wallet_ready,
        }
    }
}

/// One cached route's retention rules.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCacheConfig {
    pub enabled: bool,
    /// Freshness lifetime of a stored 200.
    #[serde(with = "crate::duration_text")]
    pub ttl: Duration,
    /// How long past `ttl` an entry may still be served when upstream fails.
    #[serde(with = "crate::duration_text")]
    pub stale_if_error: Duration,
    /// How long past `ttl` an entry may be served while a background refresh runs; 0 = off.
    #[serde(with = "crate::duration_text")]
    pub stale_while_revalidate: Duration,
    /// Freshness lifetime of a stored 404 "customer not found"; 0 = such answers are not stored.
    #[serde(with = "crate::duration_text")]
    pub negative_ttl: Duration,
    /// Query parameter names that do not bypass the cache; they become part of the key.
    pub query_allowlist: Vec<String>,
}

/// The shipped `[cache]` section, from `config/default.toml`.
pub fn default_config() -> CacheConfig {
    crate::defaults::default_section("cache")
}

/// The shipped `[cache]` section, validated.
pub fn default_settings() -> CacheSettings {
    default_config()
        .validate()
        .unwrap_or_else(|e| panic!("config/default.toml [cache] is invalid: {e}"))
}

/// Validated `[cache]` settings: what [`super::CustomerCache`] is built from.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    pub enabled: bool,
    pub max_bytes: u64,
    /// At most `u32::MAX`, so an entry that fits never saturates the weigher.
    pub max_entry_bytes: u64,
    pub allow_client_no_cache: bool,
    pub allow_client_no_store: bool,
    id_pattern: Regex,
    /// The shipped pattern is checked by hand: a regex run is most of the
    /// gateway's own cost on a cache hit.
    default_id_pattern: bool,
    /// The same pattern, unanchored, for finding the ids a write names.
    scanner: super::scan::IdScanner,
    routes: [RouteCachePolicy; 2],
}

const DEFAULT_ID_PATTERN: &str = "^customer_[0-9a-f]{32}$";

/// `customer_` + 32 lowercase hex digits, as `DEFAULT_ID_PATTERN` says. Every
/// cacheable read asks (cache hits included): one table load per digit, folded
/// without a branch.
fn is_default_customer_id(id: &str) -> bool {
    id.strip_prefix("customer_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .fold(0, |odd, b| odd | NOT_LOWER_HEX[usize::from(b)])
                == 0
    })
}

/// 1 for every byte that is not `0-9` or `a-f`.
const NOT_LOWER_HEX: [u8; 256] = {
    let mut t = [1; 256];
    let mut b = 0;
    while b < 256 {
        if (b as u8).is_ascii_digit() || (b >= b'a' as usize && b <= b'f' as usize) {
            t[b] = 0;
        }
        b += 1;
    }
    t
};

/// Validated retention rules of one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteCachePolicy {
    pub enabled: bool,
    pub ttl: Duration,
    pub stale_if_error: Duration,
    pub stale_while_revalidate: Duration,
    pub negative_ttl: Duration,
    pub query_allowlist: Vec<String>,
}

impl RouteCachePolicy {
    /// How long a stored 200 is kept: fresh, then stale but still servable.
    pub fn retention(&self) -> Duration {
        self.ttl + self.stale_if_error.max(self.stale_while_revalidate)
    }

    pub fn allows_query_param(&self, name: &str) -> bool {
        self.query_allowlist.iter().any(|allowed| allowed == name)
    }
}

impl CacheSettings {
    pub fn route(&self, route: CachedRoute) -> &RouteCachePolicy {
        &self.routes[route.index()]
    }

    /// Whether `customer_id` may be cached at all (the whole id must match `id_pattern`).
    pub fn id_matches(&self, customer_id: &str) -> bool {
        if self.default_id_pattern {
            is_default_customer_id(customer_id)
        } else {
            self.id_pattern.is_match(customer_id)
        }
    }

    /// Every id matching `id_pattern` anywhere in `bytes` (a write's body or path).
    pub fn ids_in(&self, bytes: &[u8]) -> Vec<String> {
        self.scanner.scan(bytes)
    }

    /// Whether anything is cached on `route`.
    pub fn route_enabled(&self, route: CachedRoute) -> bool {
        self.enabled && self.route(route).enabled
    }
}

impl CacheConfig {
    /// Checks every key and compiles the id pattern once.
    pub fn validate(self) -> Result<CacheSettings, ConfigError> {
        let mut problems = Problems::default();
        let settings = problems.within("cache", |p| self.check(p));
        problems.finish(settings)
    }

    /// As [`CacheConfig::validate`], noting every problem in `p` (keys
    /// relative to `[cache]`).
    pub fn check(self, p: &mut Problems) -> Option<CacheSettings> {
        let max_bytes = p.check("max_bytes", positive(self.max_bytes));
        if self.max_entry_bytes == 0 || self.max_entry_bytes > self.max_bytes {
            p.add(
                "max_entry_bytes",
                format!("must be between 1 and cache.max_bytes ({})", self.max_bytes),
            );
        } else if self.max_entry_bytes > u64::from(u32::MAX) {
            p.add("max_entry_bytes", format!("must be at most {}", u32::MAX));
        }
        let patterns = if self.id_pattern.trim().is_empty() {
            p.add("id_pattern", "must not be empty");
            None
        } else {
            // Anchoring here means a pattern written without ^…$ still has to match the whole
            // id; a partial match would let path-like ids through.
            let compiled = Regex::new(&format!("^(?:{})$", self.id_pattern)).and_then(|id| {
                super::scan::IdScanner::new(&self.id_pattern).map(|scanner| (id, scanner))
            });
            p.check(
                "id_pattern",
                compiled.map_err(|_| "not a valid regular expression"),
            )
        };
        let default_id_pattern = self.id_pattern.trim() == DEFAULT_ID_PATTERN;

        // Array order follows `CachedRoute::index`.
        let detail = check_route(CachedRoute::CustomerDetail, self.routes.customer_detail, p);
        let wallet = check_route(
            CachedRoute::CustomerWalletReady,
            self.routes.customer_wallet_ready,
            p,
        );
        let (id_pattern, scanner) = patterns?;
        Some(CacheSettings {
            enabled: self.enabled,
            max_bytes: max_bytes?,
            max_entry_bytes: self.max_entry_bytes,
            allow_client_no_cache: self.allow_client_no_cache,
            allow_client_no_store: self.allow_client_no_store,
            id_pattern,
            default_id_pattern,
            scanner,
            routes: [detail?, wallet?],
        })
    }
}

fn check_route(
    route: CachedRoute,
    raw: RouteCacheConfig,
    p: &mut Problems,
) -> Option<RouteCachePolicy> {
    let key = |field: &str| format!("routes.{}.{field}", route.name());
    let before = p.len();
    if raw.enabled && raw.ttl.is_zero() {
        p.add(
            key("ttl"),
            "must be greater than 0 (set enabled = false to turn the route off)",
        );
    }
    for (field, value) in [
        ("ttl", raw.ttl),
        ("stale_if_error", raw.stale_if_error),
        ("stale_while_revalidate", raw.stale_while_revalidate),
        ("negative_ttl", raw.negative_ttl),
    ] {
        if value > MAX_RETENTION {
            p.add(
                key(field),
                format!("must be at most {}", max_retention_text()),
            );
        }
    }
    let policy = RouteCachePolicy {
        enabled: raw.enabled,
        ttl: raw.ttl,
        stale_if_error: raw.stale_if_error,
        stale_while_revalidate: raw.stale_while_revalidate,
        negative_ttl: raw.negative_ttl,
        query_allowlist: raw.query_allowlist,
    };
    if p.len() == before && policy.retention() > MAX_RETENTION {
        p.add(
            key("ttl"),
            format!(
                "ttl plus the longer stale window must be at most {}",
                max_retention_text()
            ),
        );
    }
    for (i, name) in policy.query_allowlist.iter().enumerate() {
        let bad_char = name.chars().any(|c| {
            matches!(c, '&' | '=' | '#' | '?' | '%') || c.is_whitespace() || c.is_control()
        });
        if name.is_empty() || bad_char {
            p.add(
                key("query_allowlist"),
                format!("entry {i} is not a plain query parameter name"),
            );
        } else if policy.query_allowlist[..i].contains(name) {
            p.add(key("query_allowlist"), format!("entry {i} is listed twice"));
        }
    }
    (p.len() == before).then_some(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `toml` layered over the shipped defaults, as the gateway reads it.
    fn parse(toml: &str) -> Result<CacheConfig, config::ConfigError> {
        config::Config::builder()
            .add_source(config::File::from_str(
                crate::defaults::DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .add_source(config::File::from_str(toml, config::FileFormat::Toml))
            .build()?
            .get::<CacheConfig>("cache")
    }

    fn invalid_key(config: CacheConfig) -> String {
        match config.validate() {
            Ok(_) => panic!("expected a validation error"),
            Err(err) => err.problems()[0].key.clone(),
        }
    }

    #[test]
    fn documented_section_parses_to_the_defaults() {
        let toml = r#"
            [cache]
            enabled = true
            max_bytes = 67108864
            max_entry_bytes = 262144
            id_pattern = "^customer_[0-9a-f]{32}$"
            allow_client_no_cache = true
            allow_client_no_store = true
            [cache.routes.customer_detail]
            enabled = true
            ttl = "30s"
            stale_if_error = "60s"
            stale_while_revalidate = "0s"
            negative_ttl = "0s"
            query_allowlist = []
            [cache.routes.customer_wallet_ready]
            enabled = true
            ttl = "10s"
            stale_if_error = "60s"
        "#;
        assert_eq!(parse(toml).expect("parses"), default_config());
        let settings = default_config().validate().expect("defaults are valid");
        let wallet = settings.route(CachedRoute::CustomerWalletReady);
        assert_eq!(wallet.ttl, Duration::from_secs(10));
        assert_eq!(wallet.retention(), Duration::from_secs(70));
    }

    #[test]
    fn partial_route_table_keeps_that_routes_defaults() {
        let parsed = parse(
            r#"
            [cache]
            max_bytes = 1048576
            [cache.routes.customer_wallet_ready]
            stale_while_revalidate = "5s"
            "#,
        )
        .expect("parses");
        assert_eq!(parsed.max_bytes, 1_048_576);
        let wallet = &parsed.routes.customer_wallet_ready;
        assert_eq!(wallet.ttl, Duration::from_secs(10));
        assert_eq!(wallet.stale_while_revalidate, Duration::from_secs(5));
        assert_eq!(parsed.routes.customer_detail.ttl, Duration::from_secs(30));
    }

    /// The bound is written as the docs write it: `24h`, not humantime's `1day`.
    #[test]
    fn the_retention_bound_reads_as_24h() {
        let mut config = default_config();
        config.routes.customer_detail.stale_if_error = Duration::from_secs(25 * 3600);
        let err = config.validate().expect_err("over the bound");
        let text = err.problems()[0].to_string();
        assert!(text.contains("must be at most 24h"), "{text}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        for toml in [
            "[cache]\nmax_byte = 1",
            "[cache.routes.customer_list]\nttl = \"1s\"",
            "[cache.routes.customer_detail]\nttl_seconds = 1",
        ] {
            assert!(parse(toml).is_err(), "{toml}");
        }
        assert!(parse("[cache.routes.customer_detail]\nttl = \"soon\"").is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        let base = default_config;
        assert_eq!(
            invalid_key(CacheConfig {
                max_bytes: 0,
                ..base()
            }),
            "cache.max_bytes"
        );
        assert_eq!(
            invalid_key(CacheConfig {
                max_entry_bytes: 128 * 1024 * 1024,
                ..base()
            }),
            "cache.max_entry_bytes"
        );
        assert_eq!(
            invalid_key(CacheConfig {
                id_pattern: "customer_[".to_owned(),
                ..base()
            }),
            "cache.id_pattern"
        );
        let mut zero_ttl = base();
        zero_ttl.routes.customer_wallet_ready.ttl = Duration::ZERO;
        assert_eq!(
            invalid_key(zero_ttl),
            "cache.routes.customer_wallet_ready.ttl"
        );
        let mut disabled_zero_ttl = base();
        disabled_zero_ttl.routes.customer_wallet_ready.enabled = false;
        disabled_zero_ttl.routes.customer_wallet_ready.ttl = Duration::ZERO;
        assert!(disabled_zero_ttl.validate().is_ok());
        let mut forever = base();
        forever.routes.customer_detail.stale_if_error = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(
            invalid_key(forever),
            "cache.routes.customer_detail.stale_if_error"
        );
        for bad in ["", "a&b", "a=b", "a b"] {
            let mut allowlist = base();
            allowlist.routes.customer_detail.query_allowlist = vec![bad.to_owned()];
            assert_eq!(
                invalid_key(allowlist),
                "cache.routes.customer_detail.query_allowlist",
                "{bad:?}"
            );
        }
        let mut twice = base();
        twice.routes.customer_detail.query_allowlist = vec!["lang".into(), "lang".into()];
        assert_eq!(
            invalid_key(twice),
            "cache.routes.customer_detail.query_allowlist"
        );
    }
}

#[cfg(test)]
mod id_pattern_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// The hand-written check for the shipped pattern agrees with the regex.
        #[test]
        fn hand_check_matches_the_regex(
            id in prop_oneof![
                "customer_[0-9a-fA-F]{30,34}",
                "customer_[0-9a-f]{32}",
                "[a-z_]{0,12}[0-9a-f]{0,40}",
                any::<String>(),
            ]
        ) {
            let regex = Regex::new(&format!("^(?:{DEFAULT_ID_PATTERN})$")).unwrap();
            prop_assert_eq!(is_default_customer_id(&id), regex.is_match(&id), "{}", id);
        }
    }

    #[test]
    fn a_custom_pattern_uses_the_regex() {
        let cfg = CacheConfig {
            id_pattern: "cust-[0-9]+".to_owned(),
            ..default_config()
        };
        let s = cfg.validate().unwrap();
        assert!(s.id_matches("cust-42"));
        assert!(!s.id_matches("customer_67d84b19d50b490a8fa75ab20bbf275a"));
        let d = default_config().validate().unwrap();
        assert!(d.id_matches("customer_67d84b19d50b490a8fa75ab20bbf275a"));
        assert!(!d.id_matches("customer_67D84B19D50B490A8FA75AB20BBF275A"));
    }
}
