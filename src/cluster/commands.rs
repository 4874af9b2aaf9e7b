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
//! task of its own even if they stop waiting. No attempt is made without a command asking
//! for it, so a Redis that is down costs one connect per retry, at each caller's pace.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use redis::aio::MultiplexedConnection;

/// A live connection and the generation it was made in (so that news of a connection's
/// end never forgets a newer one).
pub(super) type Live = (u64, MultiplexedConnection);

/// Why no connection could be made: the redis-rs error's category, or a timeout.
pub(super) type NotMade = String;

type Attempt = Shared<BoxFuture<'static, Result<Live, NotMade>>>;

pub(super) struct Commands {
    client: redis::Client,
    connect_timeout: Duration,
    response_timeout: Duration,
    state: Mutex<State>,
    me: Weak<Commands>,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    attempt: Option<Attempt>,
    generation: u64,
}

impl Commands {
    /// `response_timeout` bounds the longest command (callers bound their own, shorter).
    pub(super) fn new(
        client: redis::Client,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Arc<Commands> {
        Arc::new_cyclic(|me| Commands {
            client,
            connect_timeout,
            response_timeout,
            state: Mutex::new(State::default()),
            me: me.clone(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a connection is live now (a command does not need to ask: [`Self::get`]
    /// makes one).
    #[cfg(test)]
    fn is_live(&self) -> bool {
        self.state().live.is_some()
    }

    /// The live connection, or the one the attempt under way (started now if there is
    /// none) makes.
    pub(super) async fn get(&self) -> Result<Live, NotMade> {
        let attempt = {
            let mut state = self.state();
            if let Some(live) = &state.live {
                return Ok(live.clone());
            }
            match &state.attempt {
                Some(attempt) => attempt.clone(),
                None => {
                    let attempt = self.start_attempt();
                    state.attempt = Some(attempt.clone());
                    attempt
                }
            }
        };
        attempt.await
    }

    /// Forgets connection `generation`: its driver ended, or a command on it failed in a
    /// way that means it is gone. A newer connection is kept.
    pub(super) fn lost(&self, generation: u64) {
        let mut state = self.state();
        if state.live.as_ref().is_some_and(|(g, _)| *g == generation) {
            state.live = None;
        }
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
            let outcome = match made {
                Ok(Ok((conn, driver))) => Ok((conn, driver)),
                Ok(Err(e)) => Err(e.category().to_owned()),
                Err(_) => Err("timed out".to_owned()),
            };
            let Some(me) = me.upgrade() else {
                return Err("stopped".to_owned());
            };
            me.settle(outcome)
        });
        async move { task.await.unwrap_or_else(|_| Err("stopped".to_owned())) }
            .boxed()
            .shared()
    }

    /// Records an attempt's outcome; a made connection's driver runs on a task that
    /// forgets the connection when it ends.
    fn settle(
        &self,
        outcome: Result<
            (
                MultiplexedConnection,
                impl std::future::Future<Output = ()> + Send + 'static,
            ),
            NotMade,
        >,
    ) -> Result<Live, NotMade> {
        let mut state = self.state();
        state.attempt = None;
        let (conn, driver) = outcome?;
        state.generation += 1;
        let generation = state.generation;
        let me = self.me.clone();
        tokio::spawn(async move {
            driver.await;
            if let Some(me) = me.upgrade() {
                me.lost(generation);
            }
        });
        state.live = Some((generation, conn.clone()));
        Ok((generation, conn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port nothing listens on: connects are refused at once.
    fn refused() -> redis::Client {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap()
    }

    #[tokio::test]
    async fn a_failed_attempt_is_not_remembered_and_the_next_command_tries_again() {
        let c = Commands::new(
            refused(),
            Duration::from_millis(200),
            Duration::from_secs(1),
        );
        for _ in 0..3 {
            let started = tokio::time::Instant::now();
            assert!(c.get().await.is_err());
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "one refused connect, no backoff sleep of a second before the next"
            );
            assert!(c.state().attempt.is_none(), "nothing left under way");
        }
        assert!(!c.is_live());
    }
}
