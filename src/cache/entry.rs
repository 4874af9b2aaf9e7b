//! Stored responses, their weight, freshness and retention.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

use super::config::RouteCachePolicy;
use super::key::SlotKey;

/// Bookkeeping cost of an entry beyond its bytes (moka node, `Arc`s, key, the header map's
/// index and entry tables, allocator rounding), so that the weight tracks resident memory:
/// measured at about 1.5 KB per customer-detail entry on top of its body and header bytes.
pub(crate) const ENTRY_OVERHEAD: u64 = 1536;
/// Headers the gateway adds when it replays an entry (Age, Cache-Status, X-Request-Id).
const REPLAY_HEADERS: usize = 3;
/// Upper bound on query variants kept per customer and route; the oldest go first.
const MAX_VARIANTS: usize = 16;

/// A masked upstream response, ready to replay.
#[derive(Clone)]
pub struct CachedResponse {
    pub status: StatusCode,
    /// Upstream headers as received; the handler decides which to replay.
    pub headers: HeaderMap,
    /// Already masked: the cache only ever holds bytes that may leave the gateway.
    pub body: Bytes,
    /// When upstream answered; freshness and `Age` count from here.
    pub stored_at: Instant,
    /// The query variant this response answers, set when stored.
    pub(crate) variant: Option<Arc<str>>,
    /// The rules epoch of the view that stored it, set when stored: a view answers only
    /// from entries stored under its own rules (see `CustomerCache::with_rules`).
    pub(crate) rules: u64,
}

impl CachedResponse {
    /// A response received from upstream just now.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self::received_at(status, headers, body, Instant::now())
    }

    /// A response received from upstream at `stored_at` (e.g. when its headers arrived).
    pub fn received_at(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        stored_at: Instant,
    ) -> Self {
        // Values parsed by hyper share the connection's whole read buffer; a
        // stored entry must own exactly its bytes, or each one pins kilobytes
        // the weigher never sees. Room is left for the headers added on replay.
        let mut owned = HeaderMap::with_capacity(headers.len() + REPLAY_HEADERS);
        for (name, value) in &headers {
            let mut copy =
                HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
            copy.set_sensitive(value.is_sensitive());
            owned.append(name.clone(), copy);
        }
        Self {
            status,
            headers: owned,
            body: Bytes::copy_from_slice(&body),
            stored_at,
            variant: None,
            rules: 0,
        }
    }

    /// Bytes this response accounts for in the cache, key excluded.
    pub(crate) fn weight(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        let variant = self.variant.as_deref().map_or(0, str::len);
        (self.body.len() + headers + variant) as u64 + ENTRY_OVERHEAD
    }
}

/// Body and header values are left out: even masked, they are customer data.
impl fmt::Debug for CachedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedResponse")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .field("stored_at", &self.stored_at)
            .finish_non_exhaustive()
    }
}

/// What [`super::CustomerCache::lookup`] found.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Within its freshness lifetime: serve it.
    Fresh {
        entry: Arc<CachedResponse>,
        age: Duration,
        /// Freshness left (Cache-Status `ttl`).
        remaining: Duration,
    },
    /// Past its freshness lifetime but still inside a stale window.
    Stale {
        entry: Arc<CachedResponse>,
        age: Duration,
        /// How long past the freshness lifetime (Cache-Status `ttl` is its negation).
        staleness: Duration,
        /// May be served if the refresh fails.
        within_stale_if_error: bool,
        /// May be served now while a background refresh runs.
        within_swr: bool,
    },
    Miss,
}

/// How long one stored response is fresh, then servable stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lifetimes {
    pub(crate) fresh: Duration,
    pub(crate) stale_if_error: Duration,
    pub(crate) stale_while_revalidate: Duration,
}

impl Lifetimes {
    /// `None`: this status is never stored on this route.
    pub(crate) fn of(policy: &RouteCachePolicy, status: StatusCode) -> Option<Self> {
        match status {
            StatusCode::OK => Some(Self {
                fresh: policy.ttl,
                stale_if_error: policy.stale_if_error,
                stale_while_revalidate: policy.stale_while_revalidate,
            }),
            // A "not found" answered from cache after upstream fails, or while refreshing,
            // would hide a customer that has since been created: no stale windows.
            StatusCode::NOT_FOUND if !policy.negative_ttl.is_zero() => Some(Self {
                fresh: policy.negative_ttl,
                stale_if_error: Duration::ZERO,
                stale_while_revalidate: Duration::ZERO,
            }),
            _ => None,
        }
    }

    pub(crate) fn retention(&self) -> Duration {
        self.fresh + self.stale_if_error.max(self.stale_while_revalidate)
    }

    pub(crate) fn classify(&self, entry: Arc<CachedResponse>, now: Instant) -> Lookup {
        let age = now.saturating_duration_since(entry.stored_at);
        if age < self.fresh {
            return Lookup::Fresh {
                remaining: self.fresh - age,
                entry,
                age,
            };
        }
        let staleness = age - self.fresh;
        let within_stale_if_error = staleness < self.stale_if_error;
        let within_swr = staleness < self.stale_while_revalidate;
        if within_stale_if_error || within_swr {
            Lookup::Stale {
                entry,
                age,
                staleness,
                within_stale_if_error,
                within_swr,
            }
        } else {
            Lookup::Miss
        }
    }
}

/// What moka holds for one customer and route: every stored query variant. Almost always a
/// single entry (no allowlisted query).
#[derive(Clone)]
pub(crate) struct Slot {
    entries: Arc<[Arc<CachedResponse>]>,
    /// Precomputed so that the weigher is a field read.
    weight: u32,
}

impl Slot {
    /// `fresh` plus the still-retained entries of `existing` for other variants, newest
    /// first, trimmed to [`MAX_VARIANTS`] and to `max_weight` (the newest always stays).
    pub(crate) fn merge(
        key: &SlotKey,
        existing: Option<Slot>,
        fresh: Arc<CachedResponse>,
        policy: &RouteCachePolicy,
        max_weight: u64,
        now: Instant,
    ) -> Self {
        let mut entries = vec![fresh];
        if let Some(existing) = existing {
            let mut kept: Vec<Arc<CachedResponse>> = existing
                .entries
                .iter()
                .filter(|old| old.variant != entries[0].variant)
                // Variants stored under other rules are never answered again.
                .filter(|old| old.rules == entries[0].rules)
                .filter(|old| {
                    Lifetimes::of(policy, old.status).is_some_and(|lifetimes| {
                        now.saturating_duration_since(old.stored_at) < lifetimes.retention()
                    })
                })
                .cloned()
                .collect();
            kept.sort_by_key(|entry| std::cmp::Reverse(entry.stored_at));
            entries.extend(kept);
        }
        entries.truncate(MAX_VARIANTS);
        let key_weight = key.customer_id.len() as u64;
        let mut weight: u64 = key_weight + entries.iter().map(|e| e.weight()).sum::<u64>();
        while weight > max_weight && entries.len() > 1 {
            if let Some(dropped) = entries.pop() {
                weight -= dropped.weight();
            }
        }
        Self {
            entries: entries.into(),
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn weight(&self) -> u32 {
        self.weight
    }

    pub(crate) fn find(&self, variant: Option<&str>) -> Option<&Arc<CachedResponse>> {
        self.entries
            .iter()
            .find(|entry| entry.variant.as_deref() == variant)
    }

    /// Longest time any entry still needs to be kept, counted from `now`.
    fn remaining_retention(&self, policy: &RouteCachePolicy, now: Instant) -> Duration {
        self.entries
            .iter()
            .filter_map(|entry| {
                let lifetimes = Lifetimes::of(policy, entry.status)?;
                let age = now.saturating_duration_since(entry.stored_at);
                Some(lifetimes.retention().saturating_sub(age))
            })
            .max()
            .unwrap_or(Duration::ZERO)
    }
}

/// Per-entry expiry: keep a slot while any of its responses is fresh or still inside a
/// stale window; freshness itself is decided at lookup from `stored_at`.
pub(crate) struct SlotExpiry {
    /// The newest rules' retention (a configuration reload replaces them).
    pub(crate) routes: Arc<arc_swap::ArcSwap<[RouteCachePolicy; 2]>>,
}

impl moka::Expiry<SlotKey, Slot> for SlotExpiry {
    fn expire_after_create(&self, key: &SlotKey, slot: &Slot, now: Instant) -> Option<Duration> {
        Some(slot.remaining_retention(&self.routes.load()[key.route.index()], now))
    }

    fn expire_after_update(
        &self,
        key: &SlotKey,
        slot: &Slot,
        now: Instant,
        _until_now: Option<Duration>,
    ) -> Option<Duration> {
        Some(slot.remaining_retention(&self.routes.load()[key.route.index()], now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::CachedRoute;

    fn policy() -> RouteCachePolicy {
        let mut policy = crate::cache::default_settings()
            .route(CachedRoute::CustomerDetail)
            .clone();
        policy.ttl = Duration::from_secs(30);
        policy.stale_if_error = Duration::from_secs(60);
        policy.stale_while_revalidate = Duration::from_secs(5);
        policy
    }

    fn response(status: StatusCode, body: &'static [u8], at: Instant) -> Arc<CachedResponse> {
        Arc::new(CachedResponse::received_at(
            status,
            HeaderMap::new(),
            Bytes::from_static(body),
            at,
        ))
    }

    #[test]
    fn classify_walks_fresh_stale_miss() {
        let t0 = Instant::now();
        let lifetimes = Lifetimes::of(&policy(), StatusCode::OK).expect("200 is stored");
        let entry = response(StatusCode::OK, b"{}", t0);
        let at = |secs| t0 + Duration::from_secs(secs);
        match lifetimes.classify(entry.clone(), at(10)) {
            Lookup::Fresh { age, remaining, .. } => {
                assert_eq!(age, Duration::from_secs(10));
                assert_eq!(remaining, Duration::from_secs(20));
            }
            other => panic!("expected fresh, got {other:?}"),
        }
        match lifetimes.classify(entry.clone(), at(33)) {
            Lookup::Stale {
                staleness,
                within_stale_if_error,
                within_swr,
                ..
            } => {
                assert_eq!(staleness, Duration::from_secs(3));
                assert!(within_stale_if_error && within_swr);
            }
            other => panic!("expected stale, got {other:?}"),
        }
        assert!(matches!(
            lifetimes.classify(entry.clone(), at(40)),
            Lookup::Stale {
                within_stale_if_error: true,
                within_swr: false,
                ..
            }
        ));
        assert!(matches!(lifetimes.classify(entry, at(90)), Lookup::Miss));
    }

    #[test]
    fn only_200_and_opted_in_404_are_storable() {
        let mut policy = policy();
        assert!(Lifetimes::of(&policy, StatusCode::NOT_FOUND).is_none());
        assert!(Lifetimes::of(&policy, StatusCode::BAD_GATEWAY).is_none());
        assert!(Lifetimes::of(&policy, StatusCode::NO_CONTENT).is_none());
        policy.negative_ttl = Duration::from_secs(5);
        let negative = Lifetimes::of(&policy, StatusCode::NOT_FOUND).expect("404 stored");
        assert_eq!(negative.retention(), Duration::from_secs(5));
    }

    #[test]
    fn weight_counts_body_headers_and_overhead() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().expect("value"));
        let entry = CachedResponse::new(StatusCode::OK, headers, Bytes::from(vec![b'x'; 1000]));
        let expected = 1000 + ("content-type".len() + "application/json".len() + 4) as u64;
        assert_eq!(entry.weight(), expected + ENTRY_OVERHEAD);
    }

    #[test]
    fn merge_keeps_other_variants_and_respects_limits() {
        let policy = policy();
        let now = Instant::now();
        let key = SlotKey {
            route: CachedRoute::CustomerDetail,
            customer_id: Arc::from("customer_x"),
        };
        let variant = |name: &str, at: Instant| {
            let mut entry = CachedResponse::received_at(
                StatusCode::OK,
                HeaderMap::new(),
                Bytes::from_static(b"0123456789"),
                at,
            );
            entry.variant = Some(Arc::from(name));
            Arc::new(entry)
        };
        let mut slot = Slot::merge(&key, None, variant("a", now), &policy, u64::MAX, now);
        slot = Slot::merge(&key, Some(slot), variant("b", now), &policy, u64::MAX, now);
        // Re-storing "a" replaces it rather than duplicating it.
        slot = Slot::merge(&key, Some(slot), variant("a", now), &policy, u64::MAX, now);
        assert_eq!(slot.entries.len(), 2);
        assert!(slot.find(Some("a")).is_some() && slot.find(Some("b")).is_some());
        assert!(slot.find(None).is_none());

        // Entries past retention are dropped on the next merge.
        let old = now - Duration::from_secs(120);
        let slot = Slot::merge(&key, None, variant("old", old), &policy, u64::MAX, old);
        let slot = Slot::merge(
            &key,
            Some(slot),
            variant("new", now),
            &policy,
            u64::MAX,
            now,
        );
        assert!(slot.find(Some("old")).is_none());

        // The weight bound drops the oldest variants but keeps the newest.
        let one = variant("a", now).weight() + key.customer_id.len() as u64;
        let mut slot = Slot::merge(&key, None, variant("a", now), &policy, one, now);
        slot = Slot::merge(&key, Some(slot), variant("b", now), &policy, one, now);
        assert_eq!(slot.entries.len(), 1);
        assert!(slot.find(Some("b")).is_some());
        assert_eq!(u64::from(slot.weight()), one);

        // The variant count is capped.
        let mut slot = Slot::merge(&key, None, variant("v0", now), &policy, u64::MAX, now);
        for i in 1..40 {
            let name = format!("v{i}");
            slot = Slot::merge(
                &key,
                Some(slot),
                variant(&name, now),
                &policy,
                u64::MAX,
                now,
            );
        }
        assert_eq!(slot.entries.len(), MAX_VARIANTS);
        assert!(slot.find(Some("v39")).is_some());
    }
}

#[cfg(test)]
mod ownership_tests {
    use super::*;

    #[test]
    fn stored_entries_own_their_bytes() {
        // Like hyper: a header value and the body sliced out of one large read buffer.
        let buffer = Bytes::from(vec![b'a'; 64 * 1024]);
        let value = HeaderValue::from_maybe_shared(buffer.slice(10..20)).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-upstream", value);
        let entry = CachedResponse::new(StatusCode::OK, headers, buffer.slice(100..200));
        let range = buffer.as_ptr() as usize..buffer.as_ptr() as usize + buffer.len();
        let stored_value = entry.headers["x-upstream"].as_bytes().as_ptr() as usize;
        assert!(
            !range.contains(&stored_value),
            "header value still points into the read buffer"
        );
        assert!(
            !range.contains(&(entry.body.as_ptr() as usize)),
            "body still points into the read buffer"
        );
        assert_eq!(entry.headers["x-upstream"], "aaaaaaaaaa");
        assert_eq!(entry.body.len(), 100);
        assert!(
            entry.headers.capacity() > REPLAY_HEADERS,
            "room for the replay headers"
        );
    }
}
