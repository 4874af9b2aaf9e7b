//! The command connection: one multiplexed connection to Redis, made again as soon as a
//! command needs it after the last one ended.
//!
//! Not redis-rs's `ConnectionManager`, for two reasons that both broke read-after-write:
//! - its reconnect sleeps at least a second between attempts (its backoff starts at one
//!   second), longer than what is left of a write's `publish_deadline` after one
//!   timed-out attempt, so a writer whose link came back within the deadline still
//!   answered unconfirmed while the other replicas kept their stale entries;
//! - over RESP2 it learns that a connection is gone only from a command that failed on
//!   it, so after a Redis restart the first command of each replica failed.
//!
//! Here the connection's driver is ours: when it ends (Redis closed the connection), the
//! connection is forgotten at once and the next command makes a new one first. Each
//! attempt is one connect bounded by `connect_timeout`; commands arriving meanwhile wait
//! for the same attempt (each within its own bound), and the attempt runs to its end on a
//! task of its own even if they stop waiting. After a failed attempt, commands get its
//! failure without connecting for a short hold-off (10 ms doubling to 200 ms, far below
//! any `publish_deadline`), so a Redis that refuses at once is not hammered with a
//! connect per command. A connection that is forgotten, or outlived by this holder, has
//! its driver aborted: commands that timed out on a hung Redis do not keep its socket.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use redis::aio::MultiplexedConnection;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// A live connection and the generation it was made in (so that news of a connection's
/// end never forgets a newer one).
pub(super) type Live = (u64, MultiplexedConnection);

/// Why no connection could be made: the redis-rs error's category, or a timeout.
pub(super) type NotMade = String;

type Attempt = Shared<BoxFuture<'static, Result<Live, NotMade>>>;

/// Told once per failed attempt, with why (the cluster counts and logs it).
pub(super) type OnFailure = Box<dyn Fn(&str) + Send + Sync>;

const FIRST_HOLD_OFF: Duration = Duration::from_millis(10);
const MAX_HOLD_OFF: Duration = Duration::from_millis(200);

pub(super) struct Commands {
    client: redis::Client,
    connect_timeout: Duration,
    response_timeout: Duration,
    silence_limit: Duration,
    on_failure: OnFailure,
    state: Mutex<State>,
    me: Weak<Commands>,
}

#[derive(Default)]
struct State {
    live: Option<(u64, MultiplexedConnection, AbortHandle)>,
    attempt: Option<Attempt>,
    generation: u64,
    /// The last attempt's failure, and until when it stands in for a new attempt.
    failed: Option<(NotMade, Instant)>,
    hold_off: Duration,
    /// When the live connection last answered anything (made counts as an answer).
    replied_at: Option<Instant>,
}

impl Commands {
    /// `response_timeout` bounds the longest command (callers bound their own, shorter);
    /// `silence_limit`: how long a connection may answer nothing before a command that
    /// timed out on it takes it for dead.
    pub(super) fn new(
        client: redis::Client,
        connect_timeout: Duration,
        response_timeout: Duration,
        silence_limit: Duration,
        on_failure: OnFailure,
    ) -> Arc<Commands> {
        Arc::new_cyclic(|me| Commands {
            client,
            connect_timeout,
            response_timeout,
            silence_limit,
            on_failure,
            state: Mutex::new(State::default()),
            me: me.clone(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live connection, or the one the attempt under way (started now if there is
    /// none and the last failure is older than its hold-off) makes.
    pub(super) async fn get(&self) -> Result<Live, NotMade> {
        let attempt = {
            let mut state = self.state();
            if let Some((generation, conn, _)) = &state.live {
                return Ok((*generation, conn.clone()));
            }
            // An attempt that ended without settling (its task panicked or was
            // cancelled) is finished: it must not stand in for every later one.
            match state.attempt.as_ref().filter(|a| a.peek().is_none()) {
                Some(attempt) => attempt.clone(),
                None => {
                    if let Some((why, until)) = &state.failed {
                        if Instant::now() < *until {
                            return Err(why.clone());
                        }
                    }
                    let attempt = self.start_attempt();
                    state.attempt = Some(attempt.clone());
                    attempt
                }
            }
        };
        attempt.await
    }

    /// Forgets connection `generation` (its driver ended, or a command on it failed in a
    /// way that means it is gone) and stops its driver. A newer connection is kept.
    pub(super) fn lost(&self, generation: u64) {
        let mut state = self.state();
        if state
            .live
            .as_ref()
            .is_some_and(|(g, _, _)| *g == generation)
        {
            if let Some((_, _, driver)) = state.live.take() {
                driver.abort();
            }
        }
    }

    /// Connection `generation` answered something (a reply, an error reply): it is alive.
    pub(super) fn replied(&self, generation: u64) {
        let mut state = self.state();
        if state
            .live
            .as_ref()
            .is_some_and(|(g, _, _)| *g == generation)
        {
            state.replied_at = Some(Instant::now());
        }
    }

    /// A command sent on connection `generation` at `sent` got no answer within its bound.
    /// If the connection answered nothing since then, nor for `silence_limit`, it is taken
    /// for dead and forgotten (see the module's comment). Whether it was.
    pub(super) fn timed_out(&self, generation: u64, sent: Instant) -> bool {
        let dead = {
            let state = self.state();
            state
                .live
                .as_ref()
                .is_some_and(|(g, _, _)| *g == generation)
                && state
                    .replied_at
                    .is_none_or(|at| at <= sent && at.elapsed() >= self.silence_limit)
        };
        if dead {
            self.lost(generation);
        }
        dead
    }

    /// One connect, on a task of its own; its outcome is shared by every waiter.
    fn start_attempt(&self) -> Attempt {
        let me = self.me.clone();
        let (client, within, response) = (
            self.client.clone(),
            self.connect_timeout,
            self.response_timeout,
        );
        let task = tokio::spawn(async move {
            let made = tokio::time::timeout(
                within,
                client.create_multiplexed_tokio_connection_with_response_timeout(response),
            )
            .await;
            let Some(me) = me.upgrade() else {
                return Err("stopped".to_owned());
            };
            match made {
                Ok(Ok((conn, driver))) => Ok(me.settle(conn, driver)),
                Ok(Err(e)) => Err(me.failed(e.category())),
                Err(_) => Err(me.failed("timed out")),
            }
        });
        async move { task.await.unwrap_or_else(|_| Err("stopped".to_owned())) }
            .boxed()
            .shared()
    }

    /// A made connection: live from now, its driver on a task that forgets it when the
    /// connection ends.
    fn settle(
        &self,
        conn: MultiplexedConnection,
        driver: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Live {
        let mut state = self.state();
        state.attempt = None;
        state.failed = None;
        state.hold_off = Duration::ZERO;
        state.generation += 1;
        state.replied_at = Some(Instant::now());
        let generation = state.generation;
        let me = self.me.clone();
        let driver = tokio::spawn(async move {
            driver.await;
            if let Some(me) = me.upgrade() {
                me.lost(generation);
            }
        });
        state.live = Some((generation, conn.clone(), driver.abort_handle()));
        (generation, conn)
    }

    /// A failed attempt: told once, and standing in for new attempts for a hold-off.
    fn failed(&self, why: &str) -> NotMade {
        (self.on_failure)(why);
        let mut state = self.state();
        state.attempt = None;
        state.hold_off = (state.hold_off * 2).clamp(FIRST_HOLD_OFF, MAX_HOLD_OFF);
        state.failed = Some((why.to_owned(), Instant::now() + state.hold_off));
        why.to_owned()
    }

    #[cfg(test)]
    fn is_live(&self) -> bool {
        self.state().live.is_some()
    }
}

impl Drop for Commands {
    fn drop(&mut self) {
        if let Some((_, _, driver)) = self.state().live.take() {
            driver.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A port nothing listens on: connects are refused at once.
    fn refused() -> redis::Client {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap()
    }

    fn counting(client: redis::Client) -> (Arc<Commands>, Arc<AtomicUsize>) {
        let failures = Arc::new(AtomicUsize::new(0));
        let told = failures.clone();
        let c = Commands::new(
            client,
            Duration::from_millis(200),
            Duration::from_secs(1),
            Duration::from_millis(300),
            Box::new(move |_| {
                told.fetch_add(1, Ordering::Relaxed);
            }),
        );
        (c, failures)
    }

    /// Ends the current hold-off now (instead of waiting it out).
    fn expire_hold_off(c: &Commands) {
        if let Some((_, until)) = &mut c.state().failed {
            *until = Instant::now();
        }
    }

    #[tokio::test]
    async fn a_failure_stands_in_for_attempts_only_for_its_hold_off() {
        let (c, failures) = counting(refused());
        assert!(c.get().await.is_err());
        assert_eq!(failures.load(Ordering::Relaxed), 1);
        assert_eq!(c.state().hold_off, FIRST_HOLD_OFF);
        // Within the hold-off: the same failure, no new connect, nothing told again.
        for _ in 0..5 {
            assert!(c.get().await.is_err());
        }
        assert_eq!(failures.load(Ordering::Relaxed), 1, "one attempt so far");
        // After it, one new attempt; the hold-off doubles, never past its cap.
        expire_hold_off(&c);
        assert!(c.get().await.is_err());
        assert_eq!(failures.load(Ordering::Relaxed), 2);
        assert_eq!(c.state().hold_off, FIRST_HOLD_OFF * 2);
        for _ in 0..10 {
            expire_hold_off(&c);
            assert!(c.get().await.is_err());
        }
        assert_eq!(failures.load(Ordering::Relaxed), 12);
        assert_eq!(c.state().hold_off, MAX_HOLD_OFF);
        assert!(c.state().attempt.is_none(), "nothing left under way");
        assert!(!c.is_live());
    }

    /// A server that answers every command `+OK`, and closes the connection once it
    /// answered a PING (as a restarted Redis does, with nothing asked of it).
    async fn closing_server() -> redis::Client {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let got = &buf[..n];
                // Each command is one RESP array: count the `*` that start one.
                let commands = (0..n)
                    .filter(|&i| got[i] == b'*' && (i == 0 || got[i - 1] == b'\n'))
                    .count();
                for _ in 0..commands {
                    socket.write_all(b"+OK\r\n").await.unwrap();
                }
                if got.windows(4).any(|w| w == b"PING") {
                    return;
                }
            }
        });
        redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap()
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_forgotten_without_a_command() {
        let client = closing_server().await;
        let (c, failures) = counting(client);
        let (_, mut conn) = c.get().await.expect("connected");
        let _: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while c.is_live() {
            assert!(
                Instant::now() < deadline,
                "the closed connection is still live"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(failures.load(Ordering::Relaxed), 0);
    }
}
