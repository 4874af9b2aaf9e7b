//! The in-process store (single replica, or cluster mode's `on_store_error = "local"`
//! fallback): moka, bounded in bytes by the gateway itself rather than by eviction.
//!
//! moka's own size bound would evict some record to make room, and an evicted record
//! inside its TTL lets its retry reach paycombat a second time. So the cache has no
//! capacity of its own; the store counts the bytes its records weigh and refuses a new
//! claim (`StoreError::Full`, a 503) while they fill `idempotency.max_bytes`. Records
//! leave only when their TTL ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use moka::future::Cache;
use moka::ops::compute::Op;

use super::record::Record;
use super::store::{Claim, Store, StoreError};

pub struct LocalStore {
    records: Cache<String, Arc<Record>>,
    /// Bytes the records in `records` weigh (`Record::weight`).
    used: Arc<AtomicU64>,
    max_bytes: u64,
}

impl LocalStore {
    /// Records live for `ttl` from their last write.
    pub fn new(ttl: Duration, max_bytes: u64) -> LocalStore {
        let used = Arc::new(AtomicU64::new(0));
        let freed = used.clone();
        let records = Cache::builder()
            .time_to_live(ttl)
            // Every removal (expiry, replacement, release) gives back what it weighed.
            .eviction_listener(move |_k, v: Arc<Record>, _cause| {
                freed.fetch_sub(v.weight(), Ordering::Relaxed);
            })
            .build();
        LocalStore {
            records,
            used,
            max_bytes,
        }
    }

    /// Bytes held now (expired records may still count until moka's next maintenance).
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    async fn fits(&self, weight: u64) -> bool {
        if self.used_bytes() + weight <= self.max_bytes {
            return true;
        }
        // Expired records are only given back when moka runs its maintenance.
        self.records.run_pending_tasks().await;
        self.used_bytes() + weight <= self.max_bytes
    }
}

impl Store for LocalStore {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        async move {
            if let Some(found) = self.records.get(id).await {
                return Ok(Claim::Found((*found).clone()));
            }
            if !self.fits(claim.weight()).await {
                return Err(StoreError::Full);
            }
            let claim = Arc::new(claim.clone());
            let used = &self.used;
            let entry = self
                .records
                .entry_by_ref(id)
                .or_insert_with(async {
                    used.fetch_add(claim.weight(), Ordering::Relaxed);
                    claim.clone()
                })
                .await;
            if entry.is_fresh() {
                Ok(Claim::Claimed)
            } else {
                Ok(Claim::Found((*entry.into_value()).clone()))
            }
        }
        .boxed()
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        async move { Ok(self.records.get(id).await.map(|r| (*r).clone())) }.boxed()
    }

    fn settle<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        record: &'a Record,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let used = &self.used;
            self.records
                .entry_by_ref(id)
                .and_compute_with(|current| async move {
                    match current {
                        Some(c) if **c.value() == *claim => {
                            used.fetch_add(record.weight(), Ordering::Relaxed);
                            Op::Put(Arc::new(record.clone()))
                        }
                        _ => Op::Nop,
                    }
                })
                .await;
            Ok(())
        }
        .boxed()
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.records
                .entry_by_ref(id)
                .and_compute_with(|current| async move {
                    match current {
                        Some(c) if **c.value() == *claim => Op::Remove,
                        _ => Op::Nop,
                    }
                })
                .await;
            Ok(())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::record::State;

    fn in_flight(owner: &str) -> Record {
        Record {
            fingerprint: "f".into(),
            state: State::InFlight {
                owner: owner.into(),
                lease_until_ms: u64::MAX,
            },
        }
    }

    fn unknown() -> Record {
        Record {
            fingerprint: "f".into(),
            state: State::Unknown {
                why: "timeout".into(),
            },
        }
    }

    const TTL: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn one_claim_wins_and_only_its_owner_settles_or_releases_it() {
        let s = LocalStore::new(TTL, 1 << 20);
        assert_eq!(s.claim("k", &in_flight("a"), TTL).await, Ok(Claim::Claimed));
        assert_eq!(
            s.claim("k", &in_flight("b"), TTL).await,
            Ok(Claim::Found(in_flight("a")))
        );
        s.release("k", &in_flight("b")).await.unwrap();
        s.settle("k", &in_flight("b"), &unknown(), TTL)
            .await
            .unwrap();
        assert_eq!(s.get("k").await, Ok(Some(in_flight("a"))));
        s.settle("k", &in_flight("a"), &unknown(), TTL)
            .await
            .unwrap();
        assert_eq!(s.get("k").await, Ok(Some(unknown())));
        // A settled record is no longer a claim: nobody releases it.
        s.release("k", &in_flight("a")).await.unwrap();
        assert_eq!(s.get("k").await, Ok(Some(unknown())));
        s.release("x", &in_flight("a")).await.unwrap();
        assert_eq!(s.get("x").await, Ok(None));
    }

    #[tokio::test]
    async fn concurrent_claims_on_one_key_make_one_winner() {
        let s = Arc::new(LocalStore::new(TTL, 1 << 20));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move { s.claim("k", &in_flight(&i.to_string()), TTL).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            if t.await.unwrap() == Ok(Claim::Claimed) {
                won += 1;
            }
        }
        assert_eq!(won, 1);
    }

    #[tokio::test]
    async fn a_full_store_refuses_new_claims_and_keeps_every_record() {
        let one = in_flight("a").weight();
        let s = LocalStore::new(TTL, one * 3);
        for k in ["a", "b", "c"] {
            assert_eq!(s.claim(k, &in_flight("a"), TTL).await, Ok(Claim::Claimed));
        }
        assert_eq!(
            s.claim("d", &in_flight("a"), TTL).await,
            Err(StoreError::Full)
        );
        for k in ["a", "b", "c"] {
            assert!(s.get(k).await.unwrap().is_some(), "{k} was not evicted");
        }
        // A released claim gives its bytes back.
        s.release("a", &in_flight("a")).await.unwrap();
        s.records.run_pending_tasks().await;
        assert_eq!(s.claim("d", &in_flight("a"), TTL).await, Ok(Claim::Claimed));
    }

    #[tokio::test]
    async fn expired_records_give_their_bytes_back() {
        let one = in_flight("a").weight();
        let s = LocalStore::new(Duration::from_millis(50), one);
        assert_eq!(s.claim("a", &in_flight("a"), TTL).await, Ok(Claim::Claimed));
        assert_eq!(
            s.claim("b", &in_flight("a"), TTL).await,
            Err(StoreError::Full)
        );
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(s.claim("b", &in_flight("a"), TTL).await, Ok(Claim::Claimed));
        assert_eq!(s.used_bytes(), one);
    }
}
