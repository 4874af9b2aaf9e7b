//! Where a client's token bucket stands after one request, and the IETF
//! `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers,
//! the structured-field form) that tell the client.
//!
//! The fields describe the gateway's own per-client policy and nothing else:
//! paycombat's rate-limit headers are never forwarded (the response header
//! builder has no vocabulary for them), so an answer carries one policy.
//!
//! A token bucket (refills `per_second`, holds `burst`) is not a fixed window,
//! so the policy advertised is one a client can follow without ever being
//! refused: `q` = `burst` requests per `w` = ⌈`burst` / `per_second`⌉ seconds.
//! `r` is the tokens left after this request, `t` the seconds until the bucket
//! is full again (rounded up: after `t` seconds, `q` requests pass).

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::client::RateLimit;
use super::error::RateLimited;

/// `RateLimit-Policy`: the policy's quota and window.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`: what is left of the quota and when it is whole again.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The policy's name in both fields: the gateway's word, the same for every
/// client (the limit is the caller's own; no partition key is needed).
const POLICY_NAME: &str = "\"client\"";

/// What a bucket holds after one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// Tokens left (0 when this request was refused).
    pub remaining: u32,
    /// Until the bucket is full again.
    pub full_in: Duration,
}

/// A limited client's bucket after one request: its policy, and what is left
/// when the gateway could read it (not when cluster mode decided without Redis
/// by `rate_limit_on_error = "allow"` or `"deny"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: RateLimit,
    pub left: Option<Left>,
}

/// One rate-limit decision: the verdict and where the bucket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub state: RateState,
    pub verdict: Result<(), RateLimited>,
}

impl RateLimit {
    /// Time for one token to come back.
    pub fn interval(self) -> Duration {
        Duration::from_secs(1) / self.per_second.get()
    }

    /// The advertised window `w`: ⌈burst / per_second⌉ seconds, at least 1.
    pub fn window_secs(self) -> u64 {
        u64::from(self.burst.get())
            .div_ceil(u64::from(self.per_second.get()))
            .max(1)
    }
}

impl RateDecision {
    /// A request that took a token, leaving `remaining` (the bucket is full
    /// again once the `burst - remaining` spent ones have come back).
    pub fn allowed(limit: RateLimit, remaining: u32) -> Self {
        let spent = limit.burst.get().saturating_sub(remaining);
        RateDecision {
            state: RateState {
                limit,
                left: Some(Left {
                    remaining,
                    full_in: limit.interval() * spent,
                }),
            },
            verdict: Ok(()),
        }
    }

    /// A request refused because the next token comes back in `wait`.
    pub fn refused(limit: RateLimit, wait: Duration) -> Self {
        let rest = limit.interval() * limit.burst.get().saturating_sub(1);
        RateDecision {
            state: RateState {
                limit,
                left: Some(Left {
                    remaining: 0,
                    full_in: wait + rest,
                }),
            },
            verdict: Err(RateLimited::from_wait(wait)),
        }
    }

    /// A verdict reached without reading any bucket.
    pub fn unread(limit: RateLimit, verdict: Result<(), RateLimited>) -> Self {
        RateDecision {
            state: RateState { limit, left: None },
            verdict,
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateState {
    /// `RateLimit-Policy: "client";q=<burst>;w=<window>`.
    pub fn policy_value(&self) -> HeaderValue {
        let text = format!(
            "{POLICY_NAME};q={};w={}",
            self.limit.burst.get(),
            self.limit.window_secs()
        );
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("\"client\";q=1"))
    }

    /// `RateLimit: "client";r=<remaining>;t=<seconds until full>`, when known.
    pub fn limit_value(&self) -> Option<HeaderValue> {
        let left = self.left?;
        let text = format!(
            "{POLICY_NAME};r={};t={}",
            left.remaining,
            ceil_secs(left.full_in)
        );
        HeaderValue::from_str(&text).ok()
    }

    /// Writes both fields, replacing any of the same name.
    pub fn write(&self, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_POLICY, self.policy_value());
        match self.limit_value() {
            Some(v) => {
                headers.insert(RATELIMIT, v);
            }
            None => {
                headers.remove(RATELIMIT);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn limit(per_second: u32, burst: u32) -> RateLimit {
        RateLimit {
            per_second: NonZeroU32::new(per_second).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    fn fields(d: &RateDecision) -> (String, Option<String>) {
        let mut h = HeaderMap::new();
        d.state.write(&mut h);
        let get = |n: &HeaderName| h.get(n).map(|v| v.to_str().unwrap().to_owned());
        (get(&RATELIMIT_POLICY).unwrap(), get(&RATELIMIT))
    }

    #[test]
    fn fields_follow_the_draft_syntax() {
        let d = RateDecision::allowed(limit(1, 3), 2);
        assert_eq!(
            fields(&d),
            (
                "\"client\";q=3;w=3".into(),
                Some("\"client\";r=2;t=1".into())
            )
        );
        let d = RateDecision::refused(limit(1, 3), Duration::from_millis(400));
        assert_eq!(d.verdict.unwrap_err().retry_after_secs(), 1);
        assert_eq!(fields(&d).1.as_deref(), Some("\"client\";r=0;t=3"));
        let d = RateDecision::unread(limit(10, 5), Ok(()));
        assert_eq!(fields(&d), ("\"client\";q=5;w=1".into(), None));
    }

    /// The advertised policy never promises more than the bucket gives: q
    /// requests every w seconds fit in a bucket of `burst` refilled at
    /// `per_second` (q ≤ burst, and q / w ≤ per_second).
    #[test]
    fn the_advertised_policy_is_never_more_than_the_bucket() {
        for per_second in 1..40 {
            for burst in 1..40 {
                let l = limit(per_second, burst);
                let w = l.window_secs();
                assert!(w >= 1);
                assert!(u64::from(burst) <= u64::from(per_second) * w, "{l:?} w={w}");
            }
        }
    }

    #[test]
    fn reset_is_rounded_up_and_grows_as_tokens_are_spent() {
        let l = limit(3, 9);
        let t = |remaining| {
            let d = RateDecision::allowed(l, remaining);
            ceil_secs(d.state.left.unwrap().full_in)
        };
        assert_eq!(t(9), 0);
        assert_eq!(t(8), 1, "a third of a second rounds up");
        assert_eq!(t(0), 3);
        assert!((0..9).all(|r| t(r) >= t(r + 1)));
    }
}
