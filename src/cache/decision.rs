//! What the cache does with one request, decided from the key, the client's
//! `Cache-Control` and the lookup, so the handler only carries it out.
//!
//! | request | stored entry | decision |
//! |---|---|---|
//! | cluster replica without a lease | any | [`Decision::Bypass`] (`no-lease`) |
//! | bypassed (id pattern, query, disabled) or client `no-store` | any | [`Decision::Bypass`] |
//! | normal | fresh | [`Decision::Hit`] |
//! | normal | stale, within `stale_while_revalidate` | [`Decision::Revalidate`] |
//! | normal | stale, within `stale_if_error` | [`Decision::Fill`] with a fallback |
//! | client `no-cache` | fresh | [`Decision::Fill`] (`fwd=request`), the fresh entry as fallback |
//! | client `no-cache` | stale | [`Decision::Fill`] (`fwd=request`), the entry as fallback while within `stale_if_error` (never served first: the client asked for a validated answer, RFC 9111 §5.2.1.4) |
//! | any | none, or past every window | [`Decision::Fill`] without a fallback |

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

use super::key::KeyRef;
use super::{Bypass, Replica, RequestMode};
use super::{CacheKey, CacheStatus, CachedResponse, CachedRoute, CustomerCache, Forward, Lookup};

/// A stored response that may stand in for upstream if the fill fails.
#[derive(Clone, Debug)]
pub struct Fallback {
    pub entry: Arc<CachedResponse>,
    pub age: Duration,
    /// How long past its freshness (zero for a fresh entry the client refused).
    pub staleness: Duration,
}

#[derive(Debug)]
pub enum Decision {
    /// Go upstream and store nothing; the status says why.
    Bypass(CacheStatus),
    /// Serve the fresh entry.
    Hit {
        entry: Arc<CachedResponse>,
        age: Duration,
        remaining: Duration,
    },
    /// Serve the expired entry now and refresh `key` once in the background.
    Revalidate {
        key: CacheKey,
        entry: Arc<CachedResponse>,
        age: Duration,
        staleness: Duration,
    },
    /// Fill `key` from upstream (single flight); serve `fallback` if upstream fails.
    Fill {
        key: CacheKey,
        reason: Forward,
        fallback: Option<Fallback>,
    },
}

impl Decision {
    /// What the lookup decided, for the trace: hit, bypass, revalidate or fill.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Hit { .. } => "hit",
            Decision::Bypass(_) => "bypass",
            Decision::Revalidate { .. } => "revalidate",
            Decision::Fill { .. } => "fill",
        }
    }

    /// The decision for a lookup of `key` made under `mode`.
    pub fn after(key: CacheKey, lookup: Lookup, mode: RequestMode) -> Decision {
        Self::after_lookup(|| key, lookup, mode)
    }

    /// As [`Decision::after`], making the owned key only for a decision that
    /// holds one (a hit needs none).
    fn after_lookup(key: impl FnOnce() -> CacheKey, lookup: Lookup, mode: RequestMode) -> Decision {
        let refresh = mode == RequestMode::Refresh;
        let reason = if refresh {
            Forward::Request
        } else {
            Forward::after(&lookup)
        };
        let fallback = match lookup {
            Lookup::Fresh {
                entry,
                age,
                remaining,
            } => {
                if !refresh {
                    return Decision::Hit {
                        entry,
                        age,
                        remaining,
                    };
                }
                // The client asked for a fresh answer; the stored one still backs it
                // if upstream fails.
                Some(Fallback {
                    entry,
                    age,
                    staleness: Duration::ZERO,
                })
            }
            Lookup::Stale {
                entry,
                age,
                staleness,
                within_swr: true,
                ..
            } if !refresh => {
                return Decision::Revalidate {
                    key: key(),
                    entry,
                    age,
                    staleness,
                }
            }
            Lookup::Stale {
                entry,
                age,
                staleness,
                within_stale_if_error: true,
                ..
            } => Some(Fallback {
                entry,
                age,
                staleness,
            }),
            Lookup::Stale { .. } | Lookup::Miss => None,
        };
        Decision::Fill {
            key: key(),
            reason,
            fallback,
        }
    }
}

impl CustomerCache {
    /// Decides how the cache answers a read of `customer_id` on `route`, with the
    /// request's raw query string (without `?`) and headers, on a replica standing as
    /// `replica`. A hit costs the key's checks and one lookup by the borrowed
    /// key: no allocation.
    pub async fn decide(
        &self,
        route: CachedRoute,
        customer_id: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        replica: Replica,
    ) -> Decision {
        if replica == Replica::Unleased {
            // This replica may have missed an invalidation: nothing cached is served or
            // joined (a fill already running may predate a write). Straight upstream,
            // stored nowhere.
            return Decision::Bypass(CacheStatus::Bypass(Bypass::NoLease));
        }
        let mode = self.settings().request_mode(headers);
        let key = match (
            KeyRef::check(self.settings(), route, customer_id, query),
            mode,
        ) {
            (Err(bypass), _) => return Decision::Bypass(CacheStatus::Bypass(bypass)),
            (Ok(_), RequestMode::NoStore) => return Decision::Bypass(CacheStatus::ClientNoStore),
            (Ok(key), RequestMode::Normal | RequestMode::Refresh) => key,
        };
        let lookup = self.lookup_at(key.slot, key.variant.as_deref()).await;
        Decision::after_lookup(|| key.into_owned(), lookup, mode)
    }
}

// How a request on a cached route was answered is vocabulary the metrics and the
// access log share: it lives in `crate::outcome`.
pub use crate::outcome::LookupResult;

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

    fn key() -> CacheKey {
        CacheKey::build(
            &crate::cache::default_settings(),
            CachedRoute::CustomerDetail,
            ID,
            None,
        )
        .expect("cacheable")
    }

    fn entry() -> Arc<CachedResponse> {
        Arc::new(CachedResponse::new(
            http::StatusCode::OK,
            HeaderMap::new(),
            bytes::Bytes::from_static(b"{}"),
        ))
    }

    fn stale(swr: bool, sie: bool) -> Lookup {
        Lookup::Stale {
            entry: entry(),
            age: Duration::from_secs(40),
            staleness: Duration::from_secs(10),
            within_stale_if_error: sie,
            within_swr: swr,
        }
    }

    fn fresh() -> Lookup {
        Lookup::Fresh {
            entry: entry(),
            age: Duration::from_secs(3),
            remaining: Duration::from_secs(27),
        }
    }

    /// The decision as (kind, forward reason, fallback staleness in seconds).
    fn summary(d: &Decision) -> (&'static str, Option<Forward>, Option<u64>) {
        match d {
            Decision::Bypass(_) => ("bypass", None, None),
            Decision::Hit { .. } => ("hit", None, None),
            Decision::Revalidate { .. } => ("revalidate", None, None),
            Decision::Fill {
                reason, fallback, ..
            } => (
                "fill",
                Some(*reason),
                fallback.as_ref().map(|f| f.staleness.as_secs()),
            ),
        }
    }

    #[test]
    fn each_lookup_and_mode_decides_as_the_table_says() {
        use RequestMode::{Normal, Refresh};
        let cases = [
            (fresh(), Normal, ("hit", None, None)),
            (fresh(), Refresh, ("fill", Some(Forward::Request), Some(0))),
            (stale(true, true), Normal, ("revalidate", None, None)),
            // A client's no-cache is never answered from the store first,
            // stale-while-revalidate or not.
            (
                stale(true, false),
                Refresh,
                ("fill", Some(Forward::Request), None),
            ),
            (
                stale(true, true),
                Refresh,
                ("fill", Some(Forward::Request), Some(10)),
            ),
            (
                stale(false, true),
                Normal,
                ("fill", Some(Forward::Stale), Some(10)),
            ),
            (
                stale(false, true),
                Refresh,
                ("fill", Some(Forward::Request), Some(10)),
            ),
            (
                stale(false, false),
                Normal,
                ("fill", Some(Forward::Stale), None),
            ),
            (Lookup::Miss, Normal, ("fill", Some(Forward::Miss), None)),
            (
                Lookup::Miss,
                Refresh,
                ("fill", Some(Forward::Request), None),
            ),
        ];
        for (lookup, mode, expected) in cases {
            let shown = format!("{lookup:?} {mode:?}");
            assert_eq!(
                summary(&Decision::after(key(), lookup, mode)),
                expected,
                "{shown}"
            );
        }
    }

    #[test]
    fn lookup_results_are_listed_in_index_order() {
        for (i, r) in LookupResult::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{}", r.label());
        }
    }
}
