//! `/__sandbox/…`: steering a running sandbox over HTTP (no authentication, never faulted, so a
//! global `reset` can always be cleared).

use http::request::Parts;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::envelope::Reply;
use super::fault::Fault;
use super::state::SandboxState;

pub(crate) fn handle(state: &SandboxState, parts: &Parts, body: &[u8]) -> Reply {
    match (&parts.method, parts.uri.path()) {
        (&Method::POST, "/__sandbox/fault") => {
            let Ok(spec) = std::str::from_utf8(body) else {
                return Reply::error(StatusCode::BAD_REQUEST, "fault spec must be UTF-8");
            };
            let spec = spec.trim();
            if spec.is_empty() {
                state.set_fault(None);
                return current(state);
            }
            match spec.parse::<Fault>() {
                Ok(fault) => {
                    state.set_fault(Some(fault));
                    current(state)
                }
                Err(err) => Reply::error(StatusCode::BAD_REQUEST, &err.to_string()),
            }
        }
        (&Method::DELETE, "/__sandbox/fault") => {
            state.set_fault(None);
            current(state)
        }
        (&Method::GET, "/__sandbox/fault") => current(state),
        (&Method::GET, "/__sandbox/counts") => {
            let counts: Map<String, Value> = state
                .request_counts()
                .into_iter()
                .map(|(name, n)| (name.to_owned(), Value::from(n)))
                .collect();
            Reply::ok(Value::Object(counts))
        }
        (&Method::GET, "/__sandbox/creates") => {
            let counts: Map<String, Value> = state
                .executed_counts()
                .into_iter()
                .map(|(name, n)| (name.to_owned(), Value::from(n)))
                .collect();
            Reply::ok(Value::Object(counts))
        }
        _ => Reply::error(StatusCode::NOT_FOUND, "not found"),
    }
}

fn current(state: &SandboxState) -> Reply {
    Reply::ok(json!({"fault": state.fault().map(|f| f.to_string())}))
}
