//! A request is finished exactly once, whatever ends it.
//!
//! [`Settle`] is made when a request arrives (the in-flight gauge goes up)
//! and, when it is dropped, runs the pipeline's finish phase
//! (`phase/finish.rs`: `gateway_requests_total`, the duration, the access
//! line, the span, and the in-flight gauge back down) —
//! so a request hyper drops (the client hung up, reset its stream, the
//! watchdog or the drain deadline closed the connection) is counted like
//! one that was answered. Once the response head is ready it rides in the
//! response body ([`GatewayBody::watched`]), so it also sees whether the
//! body was sent whole.
//!
//! How a request can end, and what is recorded:
//!
//! - answered: the head was handed to hyper and the body ended whole —
//!   its status, as always;
//! - abandoned by the client before the head (`client_closed`, or
//!   `stream_reset` on HTTP/2): status 499;
//! - cut off by the gateway before the head (`write_timeout`,
//!   `drain_deadline`): status 503, never blamed on the client;
//! - ended while the body was being sent (any of those reasons, or
//!   `body_error` when the body broke off): the status that was sent — the
//!   client has it — with the reason, and the bytes actually handed over;
//! - dropped while a panic in the gateway's code unwinds (`panicked`):
//!   status 500 before the head, never blamed on the client.
//!
//! Every one but the first is also counted in
//! `gateway_requests_abandoned_total{reason, phase}`.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::context::RequestContext;
use super::phase::finish::{Ending, Finisher};
use crate::body::{BodyEnd, Watch};
use crate::outcome::{Cause, ConnEnd, Phase};

/// The response head, once handed over.
#[derive(Clone, Copy)]
struct Head {
    status: StatusCode,
    /// From the request head to the response head.
    elapsed: Duration,
}

/// The request context, and how far the request got: the context's owner
/// from admission until the finish phase.
pub(super) struct Settle {
    finish: Arc<Finisher>,
    pub ctx: RequestContext,
    conn: ConnEnd,
    h2: bool,
    head: Option<Head>,
    /// Body bytes handed to the connection.
    sent: u64,
    /// None until the body is dropped; then how it ended.
    body: Option<BodyEnd>,
}

impl Settle {
    /// The request is in flight from here until this is dropped.
    pub fn begin(finish: Arc<Finisher>, ctx: RequestContext, conn: ConnEnd, h2: bool) -> Settle {
        finish.admitted();
        Settle {
            finish,
            ctx,
            conn,
            h2,
            head: None,
            sent: 0,
            body: None,
        }
    }

    /// The response head with `status` is being handed to the connection.
    pub fn answered(&mut self, status: StatusCode) {
        self.head = Some(Head {
            status,
            elapsed: self.ctx.started.elapsed(),
        });
    }

    /// How the request ended: None when answered whole.
    fn outcome(&self) -> Option<(Cause, Phase)> {
        match (self.head, self.body) {
            (Some(_), Some(BodyEnd::Whole)) => None,
            (Some(_), Some(BodyEnd::Broken)) => Some((Cause::BodyError, Phase::Body)),
            // Dropped unfinished, or (never so in practice) dropped without its body.
            (Some(_), Some(BodyEnd::Dropped) | None) => {
                Some((self.conn.cause_for(self.h2), Phase::Body))
            }
            (None, _) => Some((self.conn.cause_for(self.h2), Phase::Waiting)),
        }
    }

    fn ending(&self) -> Ending {
        let ended = self.outcome();
        let (status, elapsed) = match self.head {
            Some(h) => (h.status, h.elapsed),
            // No answer: the time it waited for one.
            None => (
                ended.map_or(StatusCode::OK, |(c, _)| c.status()),
                self.ctx.started.elapsed(),
            ),
        };
        Ending {
            status,
            elapsed,
            ended,
            bytes_out: self.head.map(|_| self.sent),
            h2: self.h2,
        }
    }
}

impl Watch for Settle {
    fn finished(&mut self, sent: u64, end: BodyEnd) {
        self.sent = sent;
        self.body = Some(end);
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        let end = self.ending();
        self.finish.finish(&self.ctx, &end);
    }
}
