//! Relaying a passthrough body: paycombat's pace on one side, the client's
//! on the other, and a bounded buffer between them.
//!
//! One task per response reads the body from paycombat as fast as it comes,
//! checks every byte with the secret guard *before* it is buffered, and
//! holds it in memory (up to `upstream.buffering.memory_per_response`, drawn
//! from the buffer budget) or, beyond that, in the response's spool file. It
//! hands the client one piece at a time, as the connection takes them. The
//! upstream slot is given back the moment paycombat has sent the last byte:
//! a slow or stalled reader then holds buffers (bounded, and its own share
//! of them), never a slot another client needs.
//!
//! When both bounds are full the task stops reading from paycombat until the
//! client makes room (it then holds its slot, within its client's share),
//! for at most `upstream.timeout`; a body waiting longer is cut off. As
//! before buffering, paycombat's own pace is not bounded here: a slot held
//! while paycombat is still sending is paycombat's, not the client's. A
//! reflected secret, a broken upstream or a spool the disk refuses ends the
//! client's transfer with an error and frees everything at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::reflect::StreamGuard;
use super::spool::{Full, Spool};
use crate::body::BoxError;
use crate::fair::budget::{BodyBudget, Reservation};
use crate::fair::Slot;

/// Largest piece handed to the client: one frame of the connection
/// (`server::body::MAX_FRAME`), so a piece on its way out — in the channel,
/// or with hyper — is never more than the client takes at once.
pub const PIECE: usize = 16 * 1024;

/// How often a body parked at full bounds looks for room freed by others.
const RETRY: Duration = Duration::from_millis(50);

/// What the client's side of the channel receives.
pub type Piece = Result<Bytes, BoxError>;

/// Why a relayed transfer was cut off (the client sees a broken transfer:
/// the head is already sent).
#[derive(Debug, thiserror::Error)]
pub enum Cut {
    #[error("the client made no room for the body within upstream.timeout")]
    Parked,
    #[error("upstream body broke off")]
    Upstream,
    #[error("passthrough body could not be spooled: {0}")]
    Spool(std::io::Error),
}

pub struct Relay {
    body: Option<Incoming>,
    /// Given back when paycombat has sent everything (or the transfer ends).
    slot: Option<Slot>,
    /// How long a body may wait for room with its slot held.
    park_limit: Duration,
    parked_since: Option<Instant>,
    guard: StreamGuard,
    memory_limit: usize,
    budget: Arc<BodyBudget>,
    reservation: Reservation,
    mem: VecDeque<Bytes>,
    mem_bytes: usize,
    spool: Spool,
    /// A checked piece that fit nowhere yet; reading waits until it does.
    parked: Option<Bytes>,
    /// The transfer failed: nothing more is sent but this error.
    failed: Option<BoxError>,
}

enum Event<'a> {
    Gone,
    Send(mpsc::Permit<'a, Piece>),
    Frame(Option<Result<http_body::Frame<Bytes>, hyper::Error>>),
    Deadline,
    Retry,
}

async fn next_frame(
    body: &mut Option<Incoming>,
) -> Option<Result<http_body::Frame<Bytes>, hyper::Error>> {
    match body {
        Some(b) => b.frame().await,
        None => std::future::pending().await,
    }
}

pub struct Parts {
    pub body: Incoming,
    pub prefix: Bytes,
    pub slot: Slot,
    pub park_limit: Duration,
    pub guard: StreamGuard,
}

impl Relay {
    pub fn new(
        parts: Parts,
        memory_limit: usize,
        budget: Arc<BodyBudget>,
        spool: Spool,
    ) -> (Relay, Bytes) {
        let reservation = budget.reservation(parts.slot.caller());
        let relay = Relay {
            body: Some(parts.body),
            slot: Some(parts.slot),
            park_limit: parts.park_limit,
            parked_since: None,
            guard: parts.guard,
            memory_limit,
            budget,
            reservation,
            mem: VecDeque::new(),
            mem_bytes: 0,
            spool,
            parked: None,
            failed: None,
        };
        (relay, parts.prefix)
    }

    fn has_data(&self) -> bool {
        !self.mem.is_empty() || self.spool.unread() > 0 || self.parked.is_some()
    }

    /// Runs until the client has everything, goes away, or the transfer fails.
    pub async fn run(mut self, prefix: Bytes, tx: mpsc::Sender<Piece>) {
        if !prefix.is_empty() {
            self.accept(prefix).await;
        }
        loop {
            if self.failed.is_none() && self.body.is_none() && !self.has_data() {
                return; // Complete: dropping `tx` ends the client's body.
            }
            let failed = self.failed.is_some();
            let has_data = failed || self.has_data();
            let can_read = !failed && self.body.is_some() && self.parked.is_none();
            let parked = !failed && self.parked.is_some();
            let give_up = self.parked_since.unwrap_or_else(Instant::now) + self.park_limit;
            let event = tokio::select! {
                biased;
                () = tx.closed() => Event::Gone,
                p = tx.reserve(), if has_data => match p {
                    Ok(p) => Event::Send(p),
                    Err(_) => Event::Gone,
                },
                f = next_frame(&mut self.body), if can_read => Event::Frame(f),
                () = tokio::time::sleep_until(give_up), if parked => Event::Deadline,
                () = tokio::time::sleep(RETRY), if parked => Event::Retry,
            };
            match event {
                Event::Gone => return,
                Event::Send(permit) => {
                    if let Some(e) = self.failed.take() {
                        permit.send(Err(e));
                        return;
                    }
                    match self.next_piece().await {
                        Ok(Some(piece)) => permit.send(Ok(piece)),
                        Ok(None) => {}
                        Err(e) => self.fail(Box::new(Cut::Spool(e))),
                    }
                    self.unpark().await;
                }
                Event::Frame(None) => self.upstream_done().await,
                Event::Frame(Some(Err(_))) => self.fail(Box::new(Cut::Upstream)),
                Event::Frame(Some(Ok(frame))) => {
                    // Trailers are never forwarded: they are headers the
                    // allowlist has not seen.
                    if let Ok(data) = frame.into_data() {
                        self.accept(data).await;
                    }
                }
                Event::Deadline => self.fail(Box::new(Cut::Parked)),
                Event::Retry => self.unpark().await,
            }
        }
    }

    /// paycombat sent everything: its slot goes back, and the bytes the
    /// secret guard held back (possibly the start of a secret, until the body
    /// ended without one) join the rest.
    async fn upstream_done(&mut self) {
        self.body = None;
        self.slot = None;
        let tail = self.guard.finish();
        if !tail.is_empty() {
            self.hold(tail).await;
        }
    }

    /// Frees everything; only the error is left to send.
    fn fail(&mut self, e: BoxError) {
        tracing::warn!(error = %e, "passthrough transfer cut off");
        self.failed = Some(e);
        self.body = None;
        self.slot = None;
        self.mem.clear();
        self.mem_bytes = 0;
        self.reservation.shrink_to(0);
        self.parked = None;
        self.spool.discard();
    }

    /// Checks `data` for secrets, then holds it.
    async fn accept(&mut self, data: Bytes) {
        match self.guard.check(data) {
            Ok(data) if !data.is_empty() => self.hold(data).await,
            Ok(_) => {}
            Err(e) => self.fail(e),
        }
    }

    /// Holds checked `data`, or parks it until there is room.
    async fn hold(&mut self, data: Bytes) {
        if let Some(data) = self.place(data).await {
            self.parked = Some(data);
            self.parked_since = Some(Instant::now());
        }
    }

    /// Holds `data` in memory or the spool, keeping the order; gives it back
    /// when neither has room now.
    async fn place(&mut self, data: Bytes) -> Option<Bytes> {
        let total = self.mem_bytes + data.len();
        if self.spool.unread() == 0
            && total <= self.memory_limit
            && self.budget.try_cover(&mut self.reservation, total)
        {
            self.mem_bytes = total;
            // Copies: a frame is a slice of the upstream connection's read
            // buffer, and holding the slice would hold the whole buffer
            // outside the budget's count. In pieces of one client frame, so
            // what is in flight to the client stays one frame.
            for piece in data.chunks(PIECE) {
                self.mem.push_back(Bytes::copy_from_slice(piece));
            }
            return None;
        }
        match self.spool.write(data.clone()).await {
            Ok(()) => None,
            Err(Full::NoRoom) => Some(data),
            Err(Full::Io(e)) => {
                self.fail(Box::new(Cut::Spool(e)));
                None
            }
        }
    }

    async fn unpark(&mut self) {
        // `place` keeps the order: the parked piece is the newest.
        if let Some(data) = self.parked.take() {
            self.parked = self.place(data).await;
            if self.parked.is_none() {
                self.parked_since = None;
            }
        }
    }

    /// The next piece for the client, oldest first: memory, then the spool,
    /// then a parked piece once nothing is ahead of it.
    async fn next_piece(&mut self) -> std::io::Result<Option<Bytes>> {
        if let Some(b) = self.mem.pop_front() {
            self.mem_bytes -= b.len();
            self.reservation.shrink_to(self.mem_bytes);
            return Ok(Some(b));
        }
        if let Some(read) = self.spool.read().await {
            return read.map(Some);
        }
        let parked = self.parked.take();
        if parked.is_some() {
            self.parked_since = None;
        }
        Ok(parked)
    }
}
