//! The shared store in cluster mode: records in Redis under `<prefix>:idem:<id>`, on the
//! cluster's own command connection (bounded by `cluster.command_timeout`). Each
//! operation is one atomic step: a claim is `SET NX PX` (returning the record that
//! won instead, in the same script), and settling or releasing a claim compares the
//! whole claim (its owner is unique) before writing, so a late replica never
//! overwrites a record made after its claim ran out.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::record::Record;
use super::store::{Claim, Store, StoreError};
use crate::cluster::Cluster;

/// KEYS[1] record; ARGV[1] claim, ARGV[2] ttl ms. Nil when claimed, else the record.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])";

/// KEYS[1] record; ARGV[1] the claim, ARGV[2] its outcome, ARGV[3] ttl ms.
const SETTLE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1
end
return 0";

/// KEYS[1] record; ARGV[1] the claim.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

pub struct RedisStore {
    cluster: Arc<Cluster>,
}

impl RedisStore {
    pub fn new(cluster: Arc<Cluster>) -> RedisStore {
        RedisStore { cluster }
    }

    fn eval(&self, script: &str, id: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(1).arg(self.cluster.key("idem", id));
        cmd
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Store for RedisStore {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        async move {
            let mut cmd = self.eval(CLAIM, id);
            cmd.arg(claim.encode()).arg(ms(ttl));
            let found: Option<Vec<u8>> = self
                .cluster
                .command(&cmd, crate::cluster::metrics::RedisOp::Idempotency)
                .await
                .map_err(|_| StoreError::Unavailable)?;
            match found {
                None => Ok(Claim::Claimed),
                // A value that is no record (not ours): refuse rather than overwrite it.
                Some(bytes) => Record::decode(&bytes)
                    .map(Claim::Found)
                    .ok_or(StoreError::Unavailable),
            }
        }
        .boxed()
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(self.cluster.key("idem", id));
            let found: Option<Vec<u8>> = self
                .cluster
                .command(&cmd, crate::cluster::metrics::RedisOp::Idempotency)
                .await
                .map_err(|_| StoreError::Unavailable)?;
            Ok(found.and_then(|b| Record::decode(&b)))
        }
        .boxed()
    }

    fn settle<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        record: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let mut cmd = self.eval(SETTLE, id);
            cmd.arg(claim.encode()).arg(record.encode()).arg(ms(ttl));
            self.cluster
                .command::<i64>(&cmd, crate::cluster::metrics::RedisOp::Idempotency)
                .await
                .map(|_| ())
                .map_err(|_| StoreError::Unavailable)
        }
        .boxed()
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let mut cmd = self.eval(RELEASE, id);
            cmd.arg(claim.encode());
            self.cluster
                .command::<i64>(&cmd, crate::cluster::metrics::RedisOp::Idempotency)
                .await
                .map(|_| ())
                .map_err(|_| StoreError::Unavailable)
        }
        .boxed()
    }
}
