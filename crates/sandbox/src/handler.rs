//! One request, start to finish: count, read, record, pick the fault, answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::admin;
use super::api;
use super::body::{BoxError, Payload, ResBody};
use super::envelope::{Refusal, Reply};
use super::fault::Fault;
use super::plan::{Outcome, Plan};
use super::route::{self, Route};
use super::shape::{plain, shape};
use super::state::{RecordedRequest, SandboxState};

/// Request bodies above this get a 413.
pub(crate) const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;
/// `silence` holds a request at most this long if the client never gives up.
const SILENCE_LIMIT: Duration = Duration::from_secs(600);
pub(crate) const FAULT_HEADER: &str = "x-sandbox-fault";

#[derive(Debug, thiserror::Error)]
enum Dropped {
    #[error("connection dropped on purpose")]
    Reset,
    #[error("silent request timed out")]
    SilenceOver,
}

pub(crate) async fn handle(
    state: Arc<SandboxState>,
    request: Request<Incoming>,
) -> Result<Response<ResBody>, BoxError> {
    let route = route::classify(request.method(), request.uri().path()).route;
    // Counted on arrival, so faulted and rejected requests count too.
    state.count(route);

    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let (body, too_large) = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => (Bytes::new(), true),
        // The client went away mid-upload: nobody is left to answer.
        Err(err) => return Err(err),
    };
    state.record(RecordedRequest {
        method: parts.method.clone(),
        version: parts.version,
        path_and_query,
        headers: parts.headers.clone(),
        body: body.clone(),
        route: route.name(),
    });
    if too_large {
        return Ok(plain(Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )));
    }
    if route == Route::SandboxAdmin {
        return Ok(plain(admin::handle(&state, &parts, &body)));
    }

    let plan = match plan_for(&state, &parts.headers) {
        Ok(plan) => plan,
        Err(refusal) => return Ok(plain(refusal.into())),
    };
    if let Some(delay) = plan.delay {
        tokio::time::sleep(delay).await;
    }
    // `status`, `reset` and `silence` stand for an upstream that never processed the request, so
    // writes under them change nothing; the other faults reshape the answer of a processed one.
    let reply = match plan.outcome {
        Outcome::Reset => return Err(Box::new(Dropped::Reset)),
        Outcome::Silence => {
            // The connection closing drops this future; the limit only bounds a stuck client.
            tokio::time::sleep(SILENCE_LIMIT).await;
            return Err(Box::new(Dropped::SilenceOver));
        }
        Outcome::Status(code) => status_reply(code),
        Outcome::Answer => execute(&state, &parts, &body),
        // The write is made, then its answer lost: the client cannot know it was.
        Outcome::AnsweredSilence => {
            execute(&state, &parts, &body);
            tokio::time::sleep(SILENCE_LIMIT).await;
            return Err(Box::new(Dropped::SilenceOver));
        }
        Outcome::AnsweredReset => {
            execute(&state, &parts, &body);
            return Err(Box::new(Dropped::Reset));
        }
    };
    Ok(shape(&plan, reply))
}

/// Processes an API request; a write it acted on (a 2xx) is counted
/// (`SandboxState::executed_writes`), so tests can tell how many creates paycombat made.
fn execute(state: &SandboxState, parts: &http::request::Parts, body: &[u8]) -> Reply {
    let target = route::classify(&parts.method, parts.uri.path());
    let reply = api::dispatch(state, &target, parts, body);
    let write = !matches!(
        parts.method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    );
    if write && reply.status.is_success() {
        state.count_executed(target.route);
    }
    reply
}

/// The header's fault wins over the global one; an empty header means "no fault" for this request.
fn plan_for(state: &SandboxState, headers: &HeaderMap) -> Result<Plan, Refusal> {
    match headers.get(FAULT_HEADER) {
        Some(value) => {
            let spec = value.to_str().unwrap_or("\u{fffd}").trim();
            if spec.is_empty() {
                return Ok(Plan::NONE);
            }
            spec.parse::<Fault>()
                .map(|fault| Plan::from_fault(Some(&fault)))
                .map_err(|err| Refusal::bad_request(err.to_string()))
        }
        None => Ok(Plan::from_fault(state.global_fault().as_deref())),
    }
}

fn status_reply(code: u16) -> Reply {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Reply {
            status,
            headers: HeaderMap::new(),
            payload: Payload::Bytes(Bytes::new()),
        };
    }
    let reason = status.canonical_reason().unwrap_or("error");
    let mut reply = Reply::error(status, &format!("sandbox fault: {code} {reason}"));
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        reply.headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        );
    }
    reply
}
