//! `Cache-Status` (RFC 9211) and `Age` values for responses the cache took part in.
//!
//! RFC 9211 keeps `hit` (answered without going upstream) and `fwd` (went upstream, and why)
//! exclusive. `ttl` is the remaining freshness in seconds, negative once stale; it is given
//! whenever a stored response is served, and is consistent with `Age` (`ttl + Age` equals
//! the freshness lifetime). `fwd-status` appears only when it differs from the status
//! served, which is the stale-if-error case. Every request that reaches the cache gets a
//! `Cache-Status`, the gateway's own errors included (a 502 after a failed fill with nothing
//! stale to serve is `fwd=miss; detail=uncacheable`); requests refused before the cache
//! (client authentication, rate limits) get none.
//!
//! | situation | value |
//! |---|---|
//! | fresh hit | `paycombat-gateway; hit; ttl=12` |
//! | stale served while a background refresh runs | `paycombat-gateway; hit; ttl=-3; detail=stale-while-revalidate` |
//! | miss, upstream answer stored | `paycombat-gateway; fwd=miss; stored` |
//! | miss, answer not stored (e.g. too large) | `paycombat-gateway; fwd=miss; detail=too-large` |
//! | miss, answer varies on a request header | `paycombat-gateway; fwd=miss; detail=vary` |
//! | miss collapsed onto another request's fill | `paycombat-gateway; fwd=miss; collapsed; stored` |
//! | stale entry, refreshed from upstream | `paycombat-gateway; fwd=stale; stored` |
//! | stale entry served because upstream failed | `paycombat-gateway; fwd=stale; fwd-status=502; ttl=-5; detail=stale-if-error` |
//! | client `Cache-Control: no-cache` (forced refresh) | `paycombat-gateway; fwd=request; stored` |
//! | client `Cache-Control: no-store` | `paycombat-gateway; fwd=request; detail=no-store` |
//! | id pattern / query / disabled | `paycombat-gateway; fwd=bypass; detail=id-pattern` (`query`, `disabled`, `no-lease`) |
//!
//! `fwd=request` is RFC 9211's reason for request directives that forbid using a stored
//! response; `fwd=bypass` is for requests the cache is configured not to handle.

use std::fmt::Write as _;
use std::time::Duration;

use http::{HeaderValue, StatusCode};

use super::entry::Lookup;
use super::key::Bypass;
use super::StoreOutcome;

/// The cache's identifier in `Cache-Status` (an sf-token).
pub const CACHE_NAME: &str = "paycombat-gateway";

/// Why a request went upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Nothing usable was stored.
    Miss,
    /// A stored response existed but was no longer fresh.
    Stale,
    /// The client's request directives (`no-cache`) forbade using a stored response.
    Request,
}

impl Forward {
    /// `Stale` when the lookup found a stale entry, else `Miss`.
    pub fn after(lookup: &Lookup) -> Self {
        match lookup {
            Lookup::Stale { .. } => Self::Stale,
            Lookup::Fresh { .. } | Lookup::Miss => Self::Miss,
        }
    }

    fn token(self) -> &'static str {
        match self {
            Self::Miss => "miss",
            Self::Stale => "stale",
            Self::Request => "request",
        }
    }
}

/// How the cache handled one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// A fresh stored response was served.
    Hit { remaining: Duration },
    /// A stale stored response was served while a background refresh runs.
    StaleWhileRevalidate { staleness: Duration },
    /// The request went upstream and upstream's answer was served.
    Forwarded {
        reason: Forward,
        /// Whether that answer was stored (any other outcome becomes `detail`).
        store: StoreOutcome,
        collapsed: bool,
    },
    /// The request went upstream, upstream failed, and a stale response was served.
    /// `fwd_status` is upstream's status, or the one the gateway would have answered
    /// (502, 504) when no response arrived.
    StaleIfError {
        staleness: Duration,
        fwd_status: StatusCode,
        collapsed: bool,
    },
    /// The cache is configured not to handle this request.
    Bypass(Bypass),
    /// The client's `Cache-Control: no-store` kept the cache out.
    ClientNoStore,
}

impl CacheStatus {
    /// The serialised `Cache-Status` member.
    pub fn header_value(&self) -> HeaderValue {
        // Hits are the hot path: their values come from a table built once.
        if let Self::Hit { remaining } = *self {
            if let Some(v) = table(&HIT_VALUES, ceil_secs(remaining), |s| {
                format!("{CACHE_NAME}; hit; ttl={s}")
            }) {
                return v;
            }
        }
        let mut out = String::with_capacity(64);
        out.push_str(CACHE_NAME);
        // Writing to a String cannot fail.
        let _ = self.write_params(&mut out);
        HeaderValue::try_from(out).unwrap_or_else(|_| HeaderValue::from_static(CACHE_NAME))
    }

    fn write_params(&self, out: &mut String) -> std::fmt::Result {
        match *self {
            Self::Hit { remaining } => write!(out, "; hit; ttl={}", ceil_secs(remaining)),
            Self::StaleWhileRevalidate { staleness } => write!(
                out,
                "; hit; ttl={}; detail=stale-while-revalidate",
                negative_secs(staleness)
            ),
            Self::Forwarded {
                reason,
                store,
                collapsed,
            } => {
                write!(out, "; fwd={}", reason.token())?;
                if collapsed {
                    out.push_str("; collapsed");
                }
                match store {
                    StoreOutcome::Stored => out.push_str("; stored"),
                    other => write!(out, "; detail={}", other.label())?,
                }
                Ok(())
            }
            Self::StaleIfError {
                staleness,
                fwd_status,
                collapsed,
            } => {
                write!(out, "; fwd=stale; fwd-status={}", fwd_status.as_u16())?;
                if collapsed {
                    out.push_str("; collapsed");
                }
                write!(
                    out,
                    "; ttl={}; detail=stale-if-error",
                    negative_secs(staleness)
                )
            }
            Self::Bypass(reason) => write!(out, "; fwd=bypass; detail={}", reason.label()),
            Self::ClientNoStore => {
                out.push_str("; fwd=request; detail=no-store");
                Ok(())
            }
        }
    }
}

/// `Cache-Status` value for `status`.
pub fn cache_status(status: &CacheStatus) -> HeaderValue {
    status.header_value()
}

/// `Age` (RFC 9111 §5.1) of a stored response: whole seconds, rounded down.
pub fn age_value(age: Duration) -> HeaderValue {
    table(&AGE_VALUES, age.as_secs(), |s| s.to_string())
        .unwrap_or_else(|| HeaderValue::from(age.as_secs()))
}

/// Seconds up to which `Age` and hit `Cache-Status` values are precomputed;
/// covers any TTL an operator is likely to set (longer ones are formatted).
const TABLE_SECS: u64 = 3600;
static AGE_VALUES: std::sync::OnceLock<Vec<HeaderValue>> = std::sync::OnceLock::new();
static HIT_VALUES: std::sync::OnceLock<Vec<HeaderValue>> = std::sync::OnceLock::new();

/// The precomputed header value for `secs`, or None past the table.
fn table(
    cell: &'static std::sync::OnceLock<Vec<HeaderValue>>,
    secs: u64,
    render: fn(u64) -> String,
) -> Option<HeaderValue> {
    if secs > TABLE_SECS {
        return None;
    }
    let values = cell.get_or_init(|| {
        (0..=TABLE_SECS)
            .map(|s| HeaderValue::try_from(render(s)).expect("ASCII digits and tokens"))
            .collect()
    });
    values.get(secs as usize).cloned()
}

/// Staleness as a negative `ttl`, rounded towards zero like `Age`.
fn negative_secs(staleness: Duration) -> i64 {
    -i64::try_from(staleness.as_secs()).unwrap_or(i64::MAX)
}

/// Remaining freshness rounds up so that `ttl + Age` (Age rounds down) stays the lifetime.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(status: CacheStatus) -> String {
        cache_status(&status)
            .to_str()
            .expect("ascii header value")
            .to_owned()
    }

    #[test]
    fn each_case_serialises_per_rfc_9211() {
        let secs = Duration::from_secs;
        let cases = [
            (
                CacheStatus::Hit {
                    remaining: Duration::from_millis(11_300),
                },
                "paycombat-gateway; hit; ttl=12",
            ),
            (
                CacheStatus::StaleWhileRevalidate {
                    staleness: Duration::from_millis(3_900),
                },
                "paycombat-gateway; hit; ttl=-3; detail=stale-while-revalidate",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Miss,
                    store: StoreOutcome::Stored,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=miss; stored",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Miss,
                    store: StoreOutcome::TooLarge,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=miss; detail=too-large",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Miss,
                    store: StoreOutcome::Stored,
                    collapsed: true,
                },
                "paycombat-gateway; fwd=miss; collapsed; stored",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Stale,
                    store: StoreOutcome::Stored,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=stale; stored",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Request,
                    store: StoreOutcome::Stored,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=request; stored",
            ),
            (
                CacheStatus::Forwarded {
                    reason: Forward::Miss,
                    store: StoreOutcome::Invalidated,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=miss; detail=invalidated",
            ),
            (
                CacheStatus::StaleIfError {
                    staleness: secs(5),
                    fwd_status: StatusCode::BAD_GATEWAY,
                    collapsed: false,
                },
                "paycombat-gateway; fwd=stale; fwd-status=502; ttl=-5; detail=stale-if-error",
            ),
            (
                CacheStatus::StaleIfError {
                    staleness: secs(0),
                    fwd_status: StatusCode::GATEWAY_TIMEOUT,
                    collapsed: true,
                },
                "paycombat-gateway; fwd=stale; fwd-status=504; collapsed; ttl=0; detail=stale-if-error",
            ),
            (
                CacheStatus::Bypass(Bypass::IdPattern),
                "paycombat-gateway; fwd=bypass; detail=id-pattern",
            ),
            (
                CacheStatus::Bypass(Bypass::Query),
                "paycombat-gateway; fwd=bypass; detail=query",
            ),
            (
                CacheStatus::Bypass(Bypass::Disabled),
                "paycombat-gateway; fwd=bypass; detail=disabled",
            ),
            (
                CacheStatus::ClientNoStore,
                "paycombat-gateway; fwd=request; detail=no-store",
            ),
        ];
        for (status, expected) in cases {
            assert_eq!(render(status), expected, "{status:?}");
        }
    }

    #[test]
    fn ttl_and_age_add_up_to_the_lifetime() {
        let lifetime = Duration::from_secs(30);
        for age_ms in [0u64, 300, 999, 1_000, 12_700, 29_999] {
            let age = Duration::from_millis(age_ms);
            let ttl = ceil_secs(lifetime - age);
            let header_age: u64 = age_value(age)
                .to_str()
                .expect("ascii")
                .parse()
                .expect("integer");
            assert_eq!(ttl + header_age, 30, "age {age_ms} ms");
        }
    }

    #[test]
    fn forward_reason_follows_the_lookup() {
        assert_eq!(Forward::after(&Lookup::Miss), Forward::Miss);
    }
}
