//! The sandbox over real sockets on 127.0.0.1, driven by a plain hyper client.

mod api;
mod customer_writes;
mod faults;
mod tls;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{signature, Sandbox, SandboxConfig};

pub(super) const TOKEN: &str = "snd_ZGVtby1zYW5kYm94LXRva2Vu";
pub(super) const KEY: &[u8] = b"demo-signature-key";

pub(super) async fn start() -> Sandbox {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    Sandbox::start(listener, SandboxConfig::demo())
        .await
        .expect("start")
}

/// A request carrying the demo token, and a signature when it has a body.
pub(super) fn authed(
    sb: &Sandbox,
    method: Method,
    path: &str,
    body: &[u8],
) -> http::request::Builder {
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("{}{path}", sb.base_url()))
        .header("x-token", TOKEN);
    if !body.is_empty() {
        builder = builder
            .header("signature", signature(KEY, body))
            .header("content-type", "application/json");
    }
    builder
}

pub(super) async fn send(
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
    // A fresh client per request: a pooled connection must not carry one test's fault into the next.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    client.request(request).await
}

pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

pub(super) async fn fetch(request: Request<Full<Bytes>>) -> Answer {
    let response = send(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

/// An authenticated call with the demo credentials.
pub(super) async fn call(sb: &Sandbox, method: Method, path: &str, body: &[u8]) -> Answer {
    let request = authed(sb, method, path, body)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    fetch(request).await
}

pub(super) async fn call_with_fault(
    sb: &Sandbox,
    method: Method,
    path: &str,
    fault: &str,
) -> Answer {
    let request = authed(sb, method, path, b"")
        .header("x-sandbox-fault", fault)
        .body(Full::new(Bytes::new()))
        .expect("request");
    fetch(request).await
}

pub(super) fn detail_path(id: &str) -> String {
    format!("/api/v1/customer/customer/{id}")
}

pub(super) fn ready_path(id: &str) -> String {
    format!("/api/v1/customer/customer-wallet-is-ready/{id}")
}
