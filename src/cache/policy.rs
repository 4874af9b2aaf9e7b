//! The cache's answers to the proxy's two questions about a fill: may a request that
//! collapsed onto another's fill take its outcome, and does a stored fallback stand in for
//! it (stale-if-error)? The proxy describes what happened ([`FillOutcome`]); every rule
//! about freshness lives here and in [`super::decision`], none in the proxy.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::{CacheStatus, CachedResponse, Fallback, StoreOutcome};

/// Where this replica stands in cluster mode, as the cache needs it for a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replica {
    /// Not clustered: the store is this process's alone.
    Standalone,
    /// Clustered and holding a lease: every invalidation reached this replica.
    Leased,
    /// Clustered without a lease: it may have missed an invalidation.
    Unleased,
}

/// How a fill's upstream call ended, described by the proxy without judging it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillOutcome {
    /// Upstream answered and the gateway inspected it; `store` is what storing it did.
    Answered {
        status: StatusCode,
        store: StoreOutcome,
    },
    /// No answer the gateway could use.
    Failed(FillFailure),
}

/// A fill that produced a gateway error instead of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillFailure {
    /// The status the gateway answers with for this error.
    pub status: StatusCode,
    /// Paycombat is to blame: unreachable, timing out, broken, refusing load, its circuit
    /// open. The gateway's own failures and paycombat refusing the gateway's credentials
    /// are not.
    pub upstream_to_blame: bool,
    /// Refused on behalf of the filling caller alone (its own circuit, its own share of
    /// the upstream slots): another caller might have been let through.
    pub callers_own: bool,
}

impl FillOutcome {
    /// Whether a request collapsed onto this fill may take its outcome as its own. Not an
    /// answer that varies on request headers (it is the filling client's), nor a refusal
    /// made for the filling client alone: the collapsed request then asks for itself.
    pub fn shareable(&self) -> bool {
        match self {
            Self::Answered { store, .. } => *store != StoreOutcome::Varies,
            Self::Failed(f) => !f.callers_own,
        }
    }

    /// The upstream status a stored fallback may stand in for (stale-if-error): upstream
    /// unreachable, timing out, or answering 5xx. Not when paycombat refused the gateway's
    /// credentials: that may be a deliberate revocation, and cached personal data must not
    /// outlive it.
    fn stale_if_error(&self) -> Option<StatusCode> {
        match *self {
            Self::Answered { status, .. } if status.is_server_error() => Some(status),
            Self::Answered { .. } => None,
            Self::Failed(f) if f.upstream_to_blame => Some(f.status),
            Self::Failed(_) => None,
        }
    }
}

/// A stored response served in place of a failed fill.
#[derive(Debug)]
pub struct StandIn {
    pub entry: Arc<CachedResponse>,
    pub age: Duration,
    pub status: CacheStatus,
}

impl Fallback {
    /// The stored response to serve instead of what the fill produced, when the fill
    /// failed in a way stale-if-error covers. `collapsed`: the fill was another request's.
    pub fn stand_in(&self, outcome: &FillOutcome, collapsed: bool) -> Option<StandIn> {
        let fwd_status = outcome.stale_if_error()?;
        Some(StandIn {
            entry: Arc::clone(&self.entry),
            age: self.age,
            status: CacheStatus::StaleIfError {
                staleness: self.staleness,
                fwd_status,
                collapsed,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: u16, upstream_to_blame: bool, callers_own: bool) -> FillOutcome {
        FillOutcome::Failed(FillFailure {
            status: StatusCode::from_u16(status).expect("status"),
            upstream_to_blame,
            callers_own,
        })
    }

    fn answered(status: u16, store: StoreOutcome) -> FillOutcome {
        FillOutcome::Answered {
            status: StatusCode::from_u16(status).expect("status"),
            store,
        }
    }

    #[test]
    fn stale_if_error_covers_upstream_failures_and_5xx_only() {
        let fallback = Fallback {
            entry: Arc::new(CachedResponse::new(
                StatusCode::OK,
                http::HeaderMap::new(),
                bytes::Bytes::from_static(b"{}"),
            )),
            age: Duration::from_secs(40),
            staleness: Duration::from_secs(10),
        };
        let served = |o: FillOutcome| fallback.stand_in(&o, false).map(|s| s.status);
        let sie = |status: u16| {
            Some(CacheStatus::StaleIfError {
                staleness: Duration::from_secs(10),
                fwd_status: StatusCode::from_u16(status).expect("status"),
                collapsed: false,
            })
        };
        assert_eq!(served(answered(503, StoreOutcome::Uncacheable)), sie(503));
        assert_eq!(served(answered(500, StoreOutcome::Uncacheable)), sie(500));
        assert_eq!(served(failed(502, true, false)), sie(502));
        assert_eq!(served(failed(503, true, true)), sie(503));
        for not_covered in [
            answered(200, StoreOutcome::Stored),
            answered(404, StoreOutcome::Uncacheable),
            answered(401, StoreOutcome::Uncacheable),
            // Credentials refused, the gateway's own failure, a caller's own share.
            failed(502, false, false),
            failed(500, false, false),
            failed(503, false, true),
        ] {
            assert_eq!(served(not_covered), None, "{not_covered:?}");
        }
    }

    #[test]
    fn a_collapsed_request_takes_neither_a_varying_answer_nor_a_callers_own_refusal() {
        assert!(answered(200, StoreOutcome::Stored).shareable());
        assert!(answered(200, StoreOutcome::TooLarge).shareable());
        assert!(answered(503, StoreOutcome::Uncacheable).shareable());
        assert!(failed(504, true, false).shareable());
        assert!(!answered(200, StoreOutcome::Varies).shareable());
        assert!(!failed(503, true, true).shareable());
        assert!(!failed(429, false, true).shareable());
    }
}
