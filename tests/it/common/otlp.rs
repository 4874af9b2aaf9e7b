//! An OTLP/HTTP trace receiver on an ephemeral loopback port: accepts
//! `POST /v1/traces` (protobuf `ExportTraceServiceRequest`), keeps every span
//! it decodes, answers 200. Stopped when dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

/// One received span, flattened to what the tests assert on.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub service: String,
    pub name: String,
    /// The OTLP span kind number (2 server, 3 client, 1 internal).
    pub kind: i32,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub attributes: Vec<(String, String)>,
    /// The OTLP status code (2 error).
    pub status: i32,
}

impl SpanRecord {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Receiver {
    pub endpoint: String,
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    posts: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn value_text(v: Option<Value>) -> String {
    match v {
        Some(Value::StringValue(s)) => s,
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn decode(body: &[u8]) -> Result<Vec<SpanRecord>, prost::DecodeError> {
    let req = ExportTraceServiceRequest::decode(body)?;
    let mut out = Vec::new();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .map(|kv| value_text(kv.value.clone().and_then(|v| v.value)))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push(SpanRecord {
                    service: service.clone(),
                    name: s.name,
                    kind: s.kind,
                    trace_id: hex::encode(&s.trace_id),
                    span_id: hex::encode(&s.span_id),
                    parent_span_id: hex::encode(&s.parent_span_id),
                    attributes: s
                        .attributes
                        .into_iter()
                        .map(|kv| (kv.key, value_text(kv.value.and_then(|v| v.value))))
                        .collect(),
                    status: s.status.map_or(0, |st| st.code),
                });
            }
        }
    }
    Ok(out)
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let spans: Arc<Mutex<Vec<SpanRecord>>> = Arc::default();
        let posts: Arc<Mutex<Vec<String>>> = Arc::default();
        let (s, p) = (spans.clone(), posts.clone());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (spans, posts) = (s.clone(), p.clone());
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (spans, posts) = (spans.clone(), posts.clone());
                    async move {
                        posts.lock().unwrap().push(format!(
                            "{} {}",
                            req.method(),
                            req.uri().path()
                        ));
                        let ok = req.method() == http::Method::POST
                            && req.uri().path() == "/v1/traces"
                            && req.headers().get(http::header::CONTENT_TYPE)
                                == Some(&http::HeaderValue::from_static("application/x-protobuf"));
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        let status = match (ok, body.as_deref().map(decode)) {
                            (true, Ok(Ok(decoded))) => {
                                spans.lock().unwrap().extend(decoded);
                                StatusCode::OK
                            }
                            _ => StatusCode::BAD_REQUEST,
                        };
                        let mut resp = Response::new(Full::new(Bytes::new()));
                        *resp.status_mut() = status;
                        resp.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/x-protobuf"),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            endpoint,
            spans,
            posts,
            task,
        }
    }

    /// The gateway's `[telemetry]` section exporting here: every request
    /// sampled, batches every 50 ms; `extra` lines (`key = value`) win.
    pub fn overlay(&self, extra: &str) -> String {
        let endpoint = format!("otlp_endpoint = \"{}\"", self.endpoint);
        let defaults = [
            endpoint.as_str(),
            "sampling_ratio = 1.0",
            "export_interval = \"50ms\"",
            "export_timeout = \"2s\"",
        ];
        let given = |line: &str| {
            let key = line.split('=').next().unwrap_or("").trim();
            extra
                .lines()
                .any(|l| l.split('=').next().unwrap_or("").trim() == key)
        };
        let mut lines: Vec<&str> = defaults.into_iter().filter(|l| !given(l)).collect();
        lines.extend(extra.lines());
        format!("[telemetry]\n{}\n", lines.join("\n"))
    }

    pub fn spans(&self) -> Vec<SpanRecord> {
        self.spans.lock().unwrap().clone()
    }

    /// Every request the receiver got (method and path), decodable or not.
    pub fn posts(&self) -> Vec<String> {
        self.posts.lock().unwrap().clone()
    }

    /// Waits (at most 5 s) until a trace has `count` spans named `name`, and
    /// returns all spans of that trace.
    pub async fn trace_with(&self, trace_id: &str, name: &str, count: usize) -> Vec<SpanRecord> {
        let end = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let spans: Vec<SpanRecord> = self
                .spans()
                .into_iter()
                .filter(|s| s.trace_id == trace_id)
                .collect();
            if spans.iter().filter(|s| s.name == name).count() >= count
                || tokio::time::Instant::now() > end
            {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
