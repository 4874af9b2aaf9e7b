//! Turns an answer into the response the fault plan asks for: hostile body, encoding, headers,
//! then delivery (at once, trickled, or aborted half-way).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use tokio::sync::mpsc;

use super::body::{full, BoxError, ChannelBody, ChunkSource, Payload, ResBody, STREAM_CHUNK};
use super::encode::{encode_all, Coding, Encoder};
use super::envelope::{Reply, JSON};
use super::faulty_bodies::{self, OversizedSource};
use super::plan::{BodyFault, Delivery, EncodingFault, Plan};

/// Pieces a buffered body is cut into when trickled.
const SLOW_PIECES: u64 = 20;
/// Lets the transport flush the part already sent before the abort tears the connection down.
const ABORT_GRACE: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
#[error("response body aborted on purpose")]
struct Aborted;

pub(crate) fn shape(plan: &Plan, reply: Reply) -> Response<ResBody> {
    let Reply {
        mut status,
        mut headers,
        mut payload,
    } = reply;

    if let Some(fault) = plan.body {
        let json = HeaderValue::from_static(JSON);
        payload = match fault {
            BodyFault::Truncated => payload.first_half(),
            BodyFault::Malformed => Payload::Bytes(faulty_bodies::malformed_json()),
            BodyFault::Deep(depth) => Payload::Bytes(faulty_bodies::deep(depth)),
            BodyFault::NonUtf8 => Payload::Bytes(faulty_bodies::non_utf8()),
            BodyFault::Oversized(size) => Payload::Stream(Box::new(OversizedSource::new(size))),
        };
        if fault != BodyFault::Truncated {
            status = StatusCode::OK;
            headers.insert(CONTENT_TYPE, json);
        }
    }
    if plan.wrong_content_type {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    if let Some(directive) = plan.cache_control {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(directive));
    }
    let coding = match plan.encoding {
        None => None,
        Some(EncodingFault::Bogus) => {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("x-unknown"));
            None
        }
        Some(EncodingFault::Gzip) => Some(Coding::Gzip),
        Some(EncodingFault::Deflate) => Some(Coding::Deflate),
        Some(EncodingFault::Br) => Some(Coding::Br),
    };
    if let Some(coding) = coding {
        headers.insert(
            CONTENT_ENCODING,
            HeaderValue::from_static(coding.header_value()),
        );
    }
    deliver(status, headers, payload, coding, plan.delivery)
}

fn deliver(
    status: StatusCode,
    mut headers: HeaderMap,
    payload: Payload,
    coding: Option<Coding>,
    delivery: Delivery,
) -> Response<ResBody> {
    // Buffered bodies are encoded up front so their Content-Length is exact; streamed ones are
    // encoded on the fly and go out chunked.
    let (payload, coding) = match (payload, coding) {
        (Payload::Bytes(raw), Some(coding)) => match encode_all(coding, &raw) {
            Ok(encoded) => (Payload::Bytes(encoded), None),
            Err(_) => {
                return plain(Reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "encoding failed",
                ))
            }
        },
        other => other,
    };
    let has_body = !(status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED);
    if coding.is_none() && has_body {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(payload.len()));
    }

    let body = match (payload, delivery) {
        (_, _) if !has_body => full(Bytes::new()),
        (Payload::Bytes(bytes), Delivery::Normal) => full(bytes),
        (payload, delivery) => {
            let total = payload.len();
            let buffered = matches!(payload, Payload::Bytes(_));
            let (chunk, pieces, abort_at) = match delivery {
                Delivery::Normal => (STREAM_CHUNK as u64, 1, None),
                Delivery::Slow(_) if buffered => {
                    let chunk = total.div_ceil(SLOW_PIECES).max(1);
                    (chunk, total.div_ceil(chunk).max(1), None)
                }
                Delivery::Slow(_) => (
                    STREAM_CHUNK as u64,
                    total.div_ceil(STREAM_CHUNK as u64).max(1),
                    None,
                ),
                Delivery::ResetMidBody => (STREAM_CHUNK as u64, 1, Some(total / 2)),
            };
            let pace = match delivery {
                Delivery::Slow(over) => Some(over / u32::try_from(pieces).unwrap_or(u32::MAX)),
                _ => None,
            };
            let source = payload.into_source(usize::try_from(chunk).unwrap_or(STREAM_CHUNK));
            let (tx, body) = ChannelBody::channel();
            tokio::spawn(produce(
                tx,
                source,
                coding.map(Encoder::new),
                pace,
                abort_at,
            ));
            body
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A reply with no fault applied.
pub(crate) fn plain(reply: Reply) -> Response<ResBody> {
    shape(&Plan::NONE, reply)
}

type Tx = mpsc::Sender<Result<Bytes, BoxError>>;

async fn abort(tx: &Tx) {
    tokio::time::sleep(ABORT_GRACE).await;
    let _ = tx.send(Err(Box::new(Aborted))).await;
}

/// Feeds a streamed body; stops as soon as the receiving side is gone.
async fn produce(
    tx: Tx,
    mut source: Box<dyn ChunkSource>,
    mut encoder: Option<Encoder>,
    pace: Option<Duration>,
    abort_at: Option<u64>,
) {
    let mut sent = 0u64;
    while let Some(mut chunk) = source.next_chunk() {
        if let Some(pace) = pace {
            tokio::time::sleep(pace).await;
        }
        let mut aborting = false;
        if let Some(limit) = abort_at {
            let room = limit.saturating_sub(sent);
            if chunk.len() as u64 >= room {
                chunk.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                aborting = true;
            }
        }
        sent += chunk.len() as u64;
        let out = match encoder.as_mut() {
            None => Ok(chunk),
            Some(enc) => encode_piece(enc, &chunk, aborting),
        };
        match out {
            Ok(bytes) => {
                if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = tx.send(Err(Box::new(err))).await;
                return;
            }
        }
        if aborting {
            abort(&tx).await;
            return;
        }
    }
    if abort_at.is_some() {
        abort(&tx).await;
        return;
    }
    if let Some(enc) = encoder {
        let _ = match enc.finish() {
            Ok(tail) if tail.is_empty() => return,
            Ok(tail) => tx.send(Ok(tail)).await,
            Err(err) => tx.send(Err(Box::new(err))).await,
        };
    }
}

/// Encodes one piece; before a deliberate abort, flushes so the client really gets a part.
fn encode_piece(enc: &mut Encoder, chunk: &[u8], flush: bool) -> std::io::Result<Bytes> {
    let head = enc.push(chunk)?;
    if !flush {
        return Ok(head);
    }
    let tail = enc.flush()?;
    let mut both = BytesMut::with_capacity(head.len() + tail.len());
    both.extend_from_slice(&head);
    both.extend_from_slice(&tail);
    Ok(both.freeze())
}
