//! How a request ended, when it did not end with its whole answer sent: who
//! gave up (the client, or the gateway) and why, as a closed set — the
//! `reason` of `gateway_requests_abandoned_total` and of the access line; and
//! how a request on a cached route was answered ([`LookupResult`]).
//!
//! The connection knows why it closed; the request only sees itself dropped.
//! So each connection keeps a [`ConnEnd`] cell, set before the connection is
//! dropped by whoever decided it should go (the watchdog, the drain, the
//! socket reporting the client gone), and read by the request's guard when it
//! is dropped. First writer wins: the cause is what happened first.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use http::StatusCode;

/// Why a request ended without its whole answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The client closed (or reset) its connection.
    ClientClosed,
    /// HTTP/2: the client reset this stream (RST_STREAM); the connection stayed up.
    StreamReset,
    /// The gateway dropped the connection: the client made no room for the
    /// response for `server.response_write_timeout` (on this or another stream),
    /// or did not finish closing a connection the gateway asked it to close.
    WriteTimeout,
    /// Shutdown: the request was still running at `server.drain_timeout`.
    DrainDeadline,
    /// The response body broke off after its head was sent (upstream failed
    /// mid-transfer, or the secret guard stopped it).
    BodyError,
    /// The gateway's own code panicked while serving the request (a bug):
    /// the request is dropped while the panic unwinds, so it is not the
    /// connection's doing and never the client's.
    Panicked,
}

impl Cause {
    pub const ALL: [Cause; 6] = [
        Cause::ClientClosed,
        Cause::StreamReset,
        Cause::WriteTimeout,
        Cause::DrainDeadline,
        Cause::BodyError,
        Cause::Panicked,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Cause::ClientClosed => "client_closed",
            Cause::StreamReset => "stream_reset",
            Cause::WriteTimeout => "write_timeout",
            Cause::DrainDeadline => "drain_deadline",
            Cause::BodyError => "body_error",
            Cause::Panicked => "panicked",
        }
    }

    /// True when the client gave up; false when the gateway cut the request off.
    pub fn by_client(self) -> bool {
        matches!(self, Cause::ClientClosed | Cause::StreamReset)
    }

    /// The status logged and counted for a request that ended this way before
    /// any answer: 499 (nginx's "client closed request") when the client left,
    /// 503 when the gateway cut it off (it failed to serve it), 500 when
    /// its own code failed.
    pub fn status(self) -> StatusCode {
        match self {
            Cause::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
            c if c.by_client() => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            _ => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn from_u8(v: u8) -> Option<Cause> {
        Cause::ALL.get(usize::from(v).checked_sub(1)?).copied()
    }

    fn to_u8(self) -> u8 {
        self as u8 + 1
    }
}

/// When the request ended: before its response head was handed over
/// (`waiting`), or while its body was being sent (`body`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Waiting,
    Body,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::Waiting, Phase::Body];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Body => "body",
        }
    }
}

/// Why one connection ended, shared by the connection and its requests.
#[derive(Clone, Default, Debug)]
pub struct ConnEnd(Arc<AtomicU8>);

impl ConnEnd {
    /// Records `cause` unless one is recorded already.
    pub fn set(&self, cause: Cause) {
        let _ = self
            .0
            .compare_exchange(0, cause.to_u8(), Ordering::AcqRel, Ordering::Acquire);
    }

    pub fn get(&self) -> Option<Cause> {
        Cause::from_u8(self.0.load(Ordering::Acquire))
    }

    /// Why a request on this connection was dropped: a panic unwinding
    /// through it (the connection's task then goes without recording a
    /// cause); else the connection's cause when it has one; otherwise the
    /// connection is still up, so on HTTP/2 the client reset the stream, and
    /// on HTTP/1.1 (where only the connection's end drops a request) the
    /// client closed it.
    pub fn cause_for(&self, h2: bool) -> Cause {
        if std::thread::panicking() {
            return Cause::Panicked;
        }
        self.get().unwrap_or(if h2 {
            Cause::StreamReset
        } else {
            Cause::ClientClosed
        })
    }
}

/// How a request on a cached route was answered (`gateway_cache_lookups_total`
/// result and the access log's `cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupResult {
    Hit,
    Miss,
    /// A stale entry was served (while revalidating, or because upstream failed).
    Stale,
    /// Answered by another request's fill.
    Collapsed,
    Bypass,
}

impl LookupResult {
    pub const ALL: [LookupResult; 5] = [
        Self::Hit,
        Self::Miss,
        Self::Stale,
        Self::Collapsed,
        Self::Bypass,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
            Self::Collapsed => "collapsed",
            Self::Bypass => "bypass",
        }
    }

    /// Position in [`LookupResult::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A miss, or a collapsed one when another request's fill answered it.
    pub fn filled(collapsed: bool) -> LookupResult {
        if collapsed {
            Self::Collapsed
        } else {
            Self::Miss
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cause_wins_and_round_trips() {
        for first in Cause::ALL {
            let end = ConnEnd::default();
            assert_eq!(end.get(), None);
            end.set(first);
            for later in Cause::ALL {
                end.set(later);
            }
            assert_eq!(end.get(), Some(first));
            assert_eq!(end.clone().cause_for(true), first);
        }
    }

    #[test]
    fn a_live_connection_means_the_stream_or_the_client_went() {
        let end = ConnEnd::default();
        assert_eq!(end.cause_for(true), Cause::StreamReset);
        assert_eq!(end.cause_for(false), Cause::ClientClosed);
    }

    #[test]
    fn the_client_is_blamed_only_for_its_own_causes() {
        for c in Cause::ALL {
            let s = c.status().as_u16();
            assert_eq!(c.by_client(), s == 499, "{c:?}");
            assert!(
                c.by_client() || s == 503 || (c == Cause::Panicked && s == 500),
                "{c:?}"
            );
        }
    }

    /// A request dropped while a panic unwinds through it is the gateway's
    /// failure, whatever the connection says: the panic leaves no cause on
    /// the connection, and the client must not be blamed for it.
    #[test]
    fn a_request_dropped_by_a_panic_is_the_gateways_failure() {
        struct Dropped(ConnEnd, std::sync::mpsc::Sender<Cause>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.1.send(self.0.cause_for(false));
            }
        }
        for preset in [None, Some(Cause::ClientClosed), Some(Cause::DrainDeadline)] {
            let end = ConnEnd::default();
            if let Some(c) = preset {
                end.set(c);
            }
            let (tx, rx) = std::sync::mpsc::channel();
            let guard = Dropped(end.clone(), tx);
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let _guard = guard;
                panic!("a bug in a handler");
            }));
            assert!(unwound.is_err());
            let cause = rx.recv().unwrap();
            assert_eq!(cause, Cause::Panicked, "{preset:?}");
            assert_eq!(cause.status().as_u16(), 500);
            assert!(!cause.by_client());
            // Outside a panic the connection's cause stands.
            assert_eq!(end.cause_for(false), preset.unwrap_or(Cause::ClientClosed));
        }
    }

    /// As in a handler: the request's guard lives across an await in a
    /// spawned task's future, and the panic comes after that await. The
    /// future's locals are dropped as the panic unwinds, so the guard sees it.
    #[tokio::test]
    async fn a_panicking_task_drops_its_request_while_panicking() {
        struct Dropped(ConnEnd, std::sync::mpsc::Sender<Cause>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.1.send(self.0.cause_for(true));
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let task = tokio::spawn(async move {
            let _guard = Dropped(ConnEnd::default(), tx);
            tokio::task::yield_now().await;
            if std::hint::black_box(true) {
                panic!("a bug in a handler");
            }
        });
        assert!(task.await.unwrap_err().is_panic());
        assert_eq!(rx.recv().unwrap(), Cause::Panicked);
    }
}
