//! Per-client shares of the capacity every client draws on: upstream slots,
//! response buffer memory ([`budget`]) and spool bytes.
//!
//! A global bound alone lets one caller take all of it (256 never-reading
//! PDF downloads held every upstream slot), so each pool also bounds what one
//! [`Caller`] may hold: a client exceeding its share gets its own 503
//! `CLIENT_CAPACITY_EXCEEDED` while every other client still finds room.
//! A caller is a client name from the clients file, or, when authentication
//! is off, the peer address of the connection — an IPv6 peer's /64 — (behind
//! a load balancer every request comes from its address: one share for all
//! of them).

pub mod budget;
pub(crate) mod config;
mod metrics;

pub use config::{PerClientSettings, RawFair};
pub use metrics::{FairMetrics, Resource};

use crate::metrics::Configured;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// One upstream slot, given back when dropped: the upstream component takes it
/// (`Upstream::permit`), and whoever relays the answer holds it until paycombat has
/// sent the last byte, so it lives here, below both.
pub struct Slot {
    _held: Held,
    caller: Caller,
    in_use: prometheus::IntGauge,
}

impl Slot {
    /// A slot held in `held`, counted in `in_use` (already raised) until dropped.
    pub fn new(held: Held, caller: Caller, in_use: prometheus::IntGauge) -> Slot {
        Slot {
            _held: held,
            caller,
            in_use,
        }
    }

    /// Whose share this slot is drawn from (their buffers are charged to them too).
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.in_use.dec();
    }
}

/// Whose share a request draws on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShareKey {
    Client(Arc<str>),
    Peer(IpAddr),
}

/// The caller of one request: its share key and its metric label (the
/// client name, or `anonymous` when authentication is off: label values come
/// from the clients file, a closed set, never from peer addresses).
#[derive(Clone, Debug)]
pub struct Caller {
    pub key: ShareKey,
    pub label: Configured,
}

impl Caller {
    /// `client`: the authenticated client, if any; else the peer address is the key.
    pub fn new(client: Option<&Configured>, peer: IpAddr, anonymous: &Configured) -> Caller {
        match client {
            Some(name) => Caller {
                key: ShareKey::Client(name.shared().clone()),
                label: name.clone(),
            },
            None => Caller {
                key: ShareKey::Peer(peer_share(peer)),
                label: anonymous.clone(),
            },
        }
    }
}

/// The address whose share an unauthenticated peer draws on. An IPv6 host
/// is given a whole /64 and may send from any address in it (privacy
/// addresses rotate on their own), so keying on the full address would give
/// one host 2^64 shares: its /64 is one share. An IPv4 address mapped into
/// IPv6 (a dual-stack listener) is that IPv4 address.
fn peer_share(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
    }
}

/// Which bound refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The whole pool is in use.
    Total,
    /// This caller holds its whole share.
    Share,
}

/// A pool of `total` units of which one caller may hold at most `per_caller`.
#[derive(Debug)]
pub struct Shares {
    total: usize,
    per_caller: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    used: usize,
    by_caller: HashMap<ShareKey, usize>,
}

/// Units `per_caller` may hold of `total`: `share` of it, rounded up, at least one.
pub fn share_of(total: usize, share: f64) -> usize {
    let n = (total as f64 * share).ceil();
    if n >= total as f64 {
        total
    } else {
        (n as usize).max(1)
    }
}

impl Shares {
    pub fn new(total: usize, per_caller: usize) -> Arc<Shares> {
        Arc::new(Shares {
            total,
            per_caller: per_caller.min(total),
            state: Mutex::new(State::default()),
        })
    }

    /// An empty holding for `key`, grown with [`Held::grow`].
    pub fn hold(self: &Arc<Self>, key: &ShareKey) -> Held {
        Held {
            shares: self.clone(),
            key: key.clone(),
            units: 0,
        }
    }

    /// Units in use now, in all and by `key`.
    #[cfg(test)]
    pub fn used(&self, key: &ShareKey) -> (usize, usize) {
        let s = self.lock();
        (s.used, s.by_caller.get(key).copied().unwrap_or(0))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent counts (every
        // update is a single statement pair), so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, key: &ShareKey, n: usize) -> Result<(), Refusal> {
        let mut s = self.lock();
        let mine = s.by_caller.get(key).copied().unwrap_or(0);
        // A share of everything is no share: the total refuses first.
        if mine + n > self.per_caller && self.per_caller < self.total {
            return Err(Refusal::Share);
        }
        if s.used + n > self.total {
            return Err(Refusal::Total);
        }
        s.used += n;
        *s.by_caller.entry(key.clone()).or_default() += n;
        Ok(())
    }

    fn give(&self, key: &ShareKey, n: usize) {
        if n == 0 {
            return;
        }
        let mut s = self.lock();
        s.used = s.used.saturating_sub(n);
        if let Some(mine) = s.by_caller.get_mut(key) {
            *mine = mine.saturating_sub(n);
            if *mine == 0 {
                // Bounded by the callers holding something now, not by every
                // peer address ever seen.
                s.by_caller.remove(key);
            }
        }
    }
}

/// Units one holder draws from a [`Shares`] pool; given back when dropped.
#[derive(Debug)]
pub struct Held {
    shares: Arc<Shares>,
    key: ShareKey,
    units: usize,
}

impl Held {
    pub fn units(&self) -> usize {
        self.units
    }

    /// Holds `n` more units, or none of them.
    pub fn grow(&mut self, n: usize) -> Result<(), Refusal> {
        self.shares.take(&self.key, n)?;
        self.units += n;
        Ok(())
    }

    /// Gives back everything above `units`.
    pub fn shrink_to(&mut self, units: usize) {
        if units < self.units {
            self.shares.give(&self.key, self.units - units);
            self.units = units;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.shares.give(&self.key, self.units);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u8) -> ShareKey {
        ShareKey::Client(Arc::from(format!("c{n}")))
    }

    #[test]
    fn one_caller_cannot_take_more_than_its_share() {
        let pool = Shares::new(4, 2);
        let mut a = pool.hold(&key(1));
        a.grow(2).unwrap();
        assert_eq!(a.grow(1), Err(Refusal::Share));
        let mut b = pool.hold(&key(2));
        b.grow(2).unwrap();
        let mut c = pool.hold(&key(3));
        assert_eq!(c.grow(1), Err(Refusal::Total));
        drop(a);
        c.grow(1).unwrap();
        assert_eq!(pool.used(&key(3)), (3, 1));
        b.shrink_to(0);
        drop(c);
        assert_eq!(pool.used(&key(1)), (0, 0));
        assert!(pool.lock().by_caller.is_empty());
    }

    #[test]
    fn one_ipv6_host_is_one_share_whatever_address_it_sends_from() {
        let anon = Configured::anonymous();
        let key = |ip: &str| Caller::new(None, ip.parse().unwrap(), &anon).key;
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:1234:5678:9abc")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        let named = Caller::new(
            Some(&Configured::declared("svc")),
            "2001:db8::1".parse().unwrap(),
            &anon,
        );
        assert_eq!(named.key, ShareKey::Client(Arc::from("svc")));
        assert_eq!(
            &*Caller::new(None, "2001:db8::1".parse().unwrap(), &anon).label,
            "anonymous"
        );
    }

    #[test]
    fn shares_round_up_and_stay_within_the_total() {
        assert_eq!(share_of(256, 0.5), 128);
        assert_eq!(share_of(10, 0.01), 1);
        assert_eq!(share_of(10, 1.0), 10);
        assert_eq!(share_of(3, 0.34), 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever callers take and give back in whatever order, no caller
        /// ever holds more than its share, the pool never more than its total,
        /// and everything is back once every holding is dropped.
        #[test]
        fn bounds_hold_under_any_history(
            ops in prop::collection::vec((0u8..4, 0usize..4, any::<bool>()), 0..60),
        ) {
            let pool = Shares::new(7, 3);
            let mut held: Vec<Held> = Vec::new();
            for (who, n, give_back) in ops {
                if give_back && !held.is_empty() {
                    let h = held.swap_remove(n % held.len());
                    drop(h);
                } else {
                    let mut h = pool.hold(&key(who));
                    let _ = h.grow(n);
                    held.push(h);
                }
                let s = pool.lock();
                prop_assert!(s.used <= 7);
                prop_assert!(s.by_caller.values().all(|&v| v <= 3));
                prop_assert_eq!(s.used, s.by_caller.values().sum::<usize>());
            }
            drop(held);
            prop_assert_eq!(pool.used(&key(0)), (0, 0));
        }
    }
}
