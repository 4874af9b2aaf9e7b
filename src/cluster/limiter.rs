//! Rate limits shared by every replica: one GCRA bucket per client in Redis.
//!
//! GCRA keeps one number per client, the theoretical arrival time (TAT) of the next
//! request. The whole read-compare-write runs inside one Lua script, which Redis executes
//! atomically, so two replicas can never both spend the last token; the clock is Redis's
//! own (`TIME`), so replica clock skew does not matter. Same semantics as the local
//! governor bucket: `per_second` a second, at most `burst` at once.

use std::time::Duration;

use prometheus::IntCounter;

use super::breaker::Gate;
use super::metrics::{ClusterMetrics, RateDecision as DecisionLabel, RateSource, RedisOp};
use super::settings::OnError;
use super::Cluster;
use crate::auth::{Left, RateDecision, RateLimit, RateLimited, RateState};

/// ARGV[1]: emission interval (µs per request); ARGV[2]: burst. Returns {allowed, wait µs,
/// tokens left, µs until the bucket is full again}: `tat - now` is the time the spent
/// tokens take to come back, so what is left is the whole tokens of `burst · interval`
/// not covered by it (for the client's `RateLimit` field).
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - burst * interval - now
if wait > 0 then
  return {0, math.ceil(wait), 0, math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.1f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
local left = math.floor((burst * interval - (new_tat - now)) / interval)
if left < 0 then left = 0 end
return {1, 0, left, math.ceil(new_tat - now)}
";

/// `gateway_cluster_rate_limit_decisions_total` by source and decision, resolved once.
pub(super) struct DecisionCounters([[IntCounter; DecisionLabel::ALL.len()]; RateSource::ALL.len()]);

impl DecisionCounters {
    pub(super) fn new(metrics: &ClusterMetrics) -> Self {
        Self(RateSource::ALL.map(|source| {
            DecisionLabel::ALL
                .map(|decision| metrics.rate_limit_decisions.with([&source, &decision]))
        }))
    }

    fn count(&self, source: RateSource, decision: &Result<(), RateLimited>) {
        self.0[source as usize][usize::from(decision.is_err())].inc();
    }
}

impl Cluster {
    /// Takes one token from `client`'s shared bucket; when Redis cannot answer (or the
    /// breaker says it has not been answering: no point waiting for a timeout on every
    /// request), `cluster.rate_limit_on_error` decides, `local` being the client's own
    /// bucket here.
    pub async fn take(
        &self,
        client: &str,
        limit: RateLimit,
        local: impl FnOnce() -> RateDecision,
    ) -> RateDecision {
        match self.breaker.gate() {
            Gate::Ask => match self.gcra(client, limit).await {
                Ok(decision) => {
                    if self.breaker.succeeded() {
                        self.breaker_closed();
                    }
                    self.decisions.count(RateSource::Redis, &decision.verdict);
                    return decision;
                }
                Err(()) => {
                    if self.breaker.failed(&self.settings) {
                        self.metrics.breaker_open.set(1);
                        self.metrics.breaker_trips.inc();
                        tracing::warn!(
                            failures = self.settings.rate_limit_breaker_failures,
                            cooldown = ?self.settings.rate_limit_breaker_cooldown,
                            "cluster: rate-limit breaker open (Redis slow or failing); limits follow rate_limit_on_error"
                        );
                    }
                }
            },
            Gate::Probe => self.probe(),
            Gate::Skip => {}
        }
        let policy = self.settings.rate_limit_on_error;
        // `allow` and `deny` read no bucket: the client is told the policy only.
        let decision = match policy {
            OnError::Local => local(),
            OnError::Allow => RateDecision::unread(limit, Ok(())),
            OnError::Deny => {
                RateDecision::unread(limit, Err(RateLimited::from_wait(Duration::from_secs(1))))
            }
        };
        self.decisions.count(policy.source(), &decision.verdict);
        decision
    }

    /// One PING, on its own task, to tell whether the breaker may close.
    fn probe(&self) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let ok = me
                .query::<String>(&redis::cmd("PING"), RedisOp::RateLimit)
                .await
                .is_ok();
            me.breaker.probed(ok, &me.settings);
            if ok {
                me.breaker_closed();
            }
        });
    }

    fn breaker_closed(&self) {
        self.metrics.breaker_open.set(0);
        tracing::info!("cluster: rate-limit breaker closed; limits shared through Redis again");
    }

    async fn gcra(&self, client: &str, limit: RateLimit) -> Result<RateDecision, ()> {
        let interval_us = 1_000_000.0 / f64::from(limit.per_second.get());
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(GCRA)
            .arg(1)
            .arg(self.settings.rate_key(client))
            .arg(interval_us)
            .arg(limit.burst.get());
        let (allowed, wait_us, left, full_us): (i64, i64, i64, i64) =
            self.query(&cmd, RedisOp::RateLimit).await.map_err(drop)?;
        let micros = |us: i64| Duration::from_micros(us.max(0) as u64);
        let verdict = if allowed == 1 {
            Ok(())
        } else {
            Err(RateLimited::from_wait(micros(wait_us.max(1))))
        };
        let remaining = u32::try_from(left.max(0))
            .unwrap_or(u32::MAX)
            .min(limit.burst.get());
        Ok(RateDecision {
            state: RateState {
                limit,
                left: Some(Left {
                    remaining,
                    full_in: micros(full_us),
                }),
            },
            verdict,
        })
    }
}
