//! Who may hold a lease, and which invalidations they have confirmed.
//!
//! A writer may answer before its lease wait is over only when every replica that could
//! still answer from a cache without having applied the invalidation has confirmed it.
//! Such a replica holds a lease from a heartbeat Redis ran before the invalidation (one
//! run after it reaches that replica after the invalidation): the writer's subscription,
//! live since before that heartbeat, delivered it before its own invalidation's echo. So
//! the replicas to wait for are those whose heartbeats arrived within the last lease
//! (plus margin), counted after the echo; see `Cluster::may_complete`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::lease::mono_ns;

/// The most peers tracked at once: far above any real number of replicas, and a bound
/// on what heartbeats made up by anyone who can publish on the channel can cost. A full
/// table disables early answers (the writer waits its lease) rather than ignore a peer.
pub(super) const MAX_PEERS: usize = 256;

#[derive(Default)]
pub(super) struct Acks {
    peers: Mutex<Peers>,
    /// Published invalidations not answered yet, by message id.
    pending: Mutex<HashMap<u64, Pending>>,
}

#[derive(Default)]
struct Peers {
    /// Other replicas, by id, with when a heartbeat from each last arrived (mono ns).
    seen: HashMap<String, u64>,
    /// When a heartbeat last found the table full (mono ns; 0: never).
    overflowed: u64,
}

pub(super) struct Pending {
    /// When the first PUBLISH attempt was sent (mono ns).
    pub(super) first_attempt: u64,
    /// Replicas that confirmed.
    pub(super) acked: HashSet<String>,
    /// The subscription (by epoch) that delivered this invalidation back to its writer.
    pub(super) echo_epoch: Option<u64>,
    done: Option<oneshot::Sender<()>>,
}

impl Acks {
    /// A heartbeat from `peer` arrived.
    pub(super) fn heard(&self, peer: &str) {
        let now = mono_ns();
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = peers.seen.get_mut(peer) {
            *at = now;
        } else if peers.seen.len() < MAX_PEERS {
            peers.seen.insert(peer.to_owned(), now);
        } else {
            peers.overflowed = now;
        }
    }

    /// Replicas heard from within `within_ns`, or `None` when the table overflowed
    /// within it (someone may be missing). Older entries are forgotten.
    pub(super) fn peers_within(&self, within_ns: u64) -> Option<HashSet<String>> {
        let now = mono_ns();
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers
            .seen
            .retain(|_, at| now.saturating_sub(*at) < within_ns);
        if peers.overflowed != 0 && now.saturating_sub(peers.overflowed) < within_ns {
            return None;
        }
        Some(peers.seen.keys().cloned().collect())
    }

    /// Registers message `id` before its first PUBLISH attempt (sent at `first_attempt`).
    pub(super) fn register(&self, id: u64, first_attempt: u64) -> oneshot::Receiver<()> {
        let (done, rx) = oneshot::channel();
        self.lock_pending().insert(
            id,
            Pending {
                first_attempt,
                acked: HashSet::new(),
                echo_epoch: None,
                done: Some(done),
            },
        );
        rx
    }

    /// `peer` confirmed message `id`; false when nothing waits for it.
    pub(super) fn acked(&self, id: u64, peer: &str) -> bool {
        match self.lock_pending().get_mut(&id) {
            Some(p) => {
                p.acked.insert(peer.to_owned());
                true
            }
            None => false,
        }
    }

    /// Message `id` came back through subscription `epoch`; false when nothing waits.
    pub(super) fn echoed(&self, id: u64, epoch: u64) -> bool {
        match self.lock_pending().get_mut(&id) {
            Some(p) => {
                p.echo_epoch.get_or_insert(epoch);
                true
            }
            None => false,
        }
    }

    /// Completes message `id` if `ready` says so.
    pub(super) fn complete_if(&self, id: u64, ready: impl FnOnce(&Pending) -> bool) {
        let mut pending = self.lock_pending();
        if let Some(p) = pending.get_mut(&id) {
            if ready(p) {
                if let Some(done) = p.done.take() {
                    let _ = done.send(());
                }
            }
        }
    }

    /// Stops tracking message `id`.
    pub(super) fn forget(&self, id: u64) {
        self.lock_pending().remove(&id);
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_max_peers_are_tracked_and_a_full_table_disables_early_answers() {
        let acks = Acks::default();
        for n in 0..MAX_PEERS {
            acks.heard(&format!("{n:032x}"));
        }
        assert_eq!(acks.peers_within(60_000_000_000).unwrap().len(), MAX_PEERS);
        acks.heard(&format!("{:032x}", MAX_PEERS + 1));
        assert!(
            acks.peers_within(60_000_000_000).is_none(),
            "someone was not counted: no early answer"
        );
    }

    #[test]
    fn silent_peers_are_forgotten() {
        let acks = Acks::default();
        acks.heard("b");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(acks.peers_within(10_000_000).unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_message_completes_only_when_its_condition_holds() {
        let acks = Acks::default();
        let mut rx = acks.register(7, mono_ns());
        assert!(acks.acked(7, "b"));
        assert!(!acks.acked(8, "b"), "nothing waits for 8");
        acks.complete_if(7, |p| p.echo_epoch.is_some());
        assert!(rx.try_recv().is_err(), "no echo yet");
        assert!(acks.echoed(7, 3));
        acks.complete_if(7, |p| p.echo_epoch == Some(3) && p.acked.contains("b"));
        rx.await.unwrap();
        acks.forget(7);
        assert!(!acks.echoed(7, 3));
    }
}
