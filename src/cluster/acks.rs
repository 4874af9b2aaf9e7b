//! Confirmed invalidations: a writer's answer waits (bounded) until every other live
//! replica has said it dropped the customer, so a read sent to any replica after the
//! answer cannot see pre-write data. Replicas are known from their heartbeats; one that
//! stops sending them stops being waited for after `heartbeat_timeout`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The most peers tracked (and waited for) at once: far above any real number
/// of replicas, and a bound on what heartbeats made up by anyone who can
/// publish on the channel can cost.
pub(super) const MAX_PEERS: usize = 256;

#[derive(Default)]
pub(super) struct Acks {
    /// Other subscribed replicas, by id, with when a heartbeat from each last arrived.
    peers: Mutex<HashMap<String, Instant>>,
    /// Published invalidations still waiting for confirmations, by message id.
    pending: Mutex<HashMap<u64, Pending>>,
}

struct Pending {
    waiting: HashSet<String>,
    done: Option<oneshot::Sender<()>>,
}

impl Acks {
    /// A heartbeat from `peer`: waited for while it is `subscribed`, not otherwise.
    /// True when it was not known as live before (a replica that just subscribed).
    pub(super) fn heard(&self, peer: &str, subscribed: bool) -> bool {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if !subscribed {
            peers.remove(peer);
            return false;
        }
        if let Some(at) = peers.get_mut(peer) {
            *at = Instant::now();
            false
        } else if peers.len() < MAX_PEERS {
            peers.insert(peer.to_owned(), Instant::now());
            true
        } else {
            false
        }
    }

    /// Replicas heard from within `within`; the others are forgotten.
    pub(super) fn live_peers(&self, within: Duration) -> HashSet<String> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.retain(|_, at| at.elapsed() < within);
        peers.keys().cloned().collect()
    }

    /// Registers message `id` as waiting for `peers`; `None` when there is no one to wait for.
    pub(super) fn expect(&self, id: u64, peers: HashSet<String>) -> Option<oneshot::Receiver<()>> {
        if peers.is_empty() {
            return None;
        }
        let (done, rx) = oneshot::channel();
        let pending = Pending {
            waiting: peers,
            done: Some(done),
        };
        self.lock_pending().insert(id, pending);
        Some(rx)
    }

    pub(super) fn acked(&self, id: u64, peer: &str) {
        let mut pending = self.lock_pending();
        let Some(p) = pending.get_mut(&id) else {
            return;
        };
        p.waiting.remove(peer);
        if p.waiting.is_empty() {
            if let Some(done) = pending.remove(&id).and_then(|mut p| p.done.take()) {
                let _ = done.send(());
            }
        }
    }

    /// Stops waiting for message `id`; the replicas that had not confirmed it.
    pub(super) fn forget(&self, id: u64) -> usize {
        self.lock_pending()
            .remove(&id)
            .map_or(0, |p| p.waiting.len())
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_is_done_once_every_live_peer_confirmed_it() {
        let acks = Acks::default();
        assert!(
            acks.expect(1, HashSet::new()).is_none(),
            "alone: nothing to wait for"
        );
        acks.heard("b", true);
        acks.heard("c", true);
        acks.heard("d", true);
        acks.heard("d", false);
        let peers = acks.live_peers(Duration::from_secs(1));
        assert_eq!(peers.len(), 2, "d is degraded: not waited for");
        let mut rx = acks.expect(7, peers).unwrap();
        acks.acked(7, "b");
        acks.acked(8, "c");
        assert!(rx.try_recv().is_err(), "c has not confirmed 7");
        acks.acked(7, "c");
        rx.await.unwrap();
        assert_eq!(acks.forget(7), 0);
    }

    #[test]
    fn no_more_than_max_peers_are_tracked() {
        let acks = Acks::default();
        for n in 0..MAX_PEERS + 100 {
            acks.heard(&format!("{n:032x}"), true);
        }
        let peers = acks.live_peers(Duration::from_secs(60));
        assert_eq!(peers.len(), MAX_PEERS);
        acks.heard(&format!("{:032x}", MAX_PEERS + 1), true);
        assert_eq!(
            acks.live_peers(Duration::from_secs(60)),
            peers,
            "a full table takes no newcomer"
        );
        acks.heard(&format!("{:032x}", 0), false);
        acks.heard(&format!("{:032x}", MAX_PEERS + 1), true);
        assert!(
            acks.live_peers(Duration::from_secs(60))
                .contains(&format!("{:032x}", MAX_PEERS + 1)),
            "room again once one leaves"
        );
    }

    #[test]
    fn silent_peers_are_forgotten() {
        let acks = Acks::default();
        acks.heard("b", true);
        std::thread::sleep(Duration::from_millis(20));
        assert!(acks.live_peers(Duration::from_millis(10)).is_empty());
        let rx = acks.expect(3, ["b".to_owned()].into());
        assert!(rx.is_some());
        assert_eq!(acks.forget(3), 1, "b never confirmed");
    }
}
