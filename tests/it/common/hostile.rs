//! A hostile upstream on loopback: answers each request with whatever raw
//! bytes the test's responder builds from the request head it received (so
//! it can reflect it), and records every head.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the hostile upstream answers: raw response bytes, built from the
/// request head it received (so it can reflect it).
pub type Responder = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

pub struct Hostile {
    pub base: String,
    responder: Arc<Mutex<Responder>>,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Hostile {
    pub async fn start() -> Hostile {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let responder: Arc<Mutex<Responder>> =
            Arc::new(Mutex::new(Arc::new(|_: &str| response("200 OK", &[], b""))));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (r, h) = (responder.clone(), heads.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (r, h) = (r.clone(), h.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 8192];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    h.lock().unwrap().push(head.clone());
                    let answer = {
                        let f = r.lock().unwrap().clone();
                        f(&head)
                    };
                    let _ = s.write_all(&answer).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        Hostile {
            base,
            responder,
            heads,
            task,
        }
    }

    pub fn answer(&self, f: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) {
        *self.responder.lock().unwrap() = Arc::new(f);
    }

    pub fn answer_bytes(&self, bytes: Vec<u8>) {
        self.answer(move |_| bytes.clone());
    }

    /// Answers every request `200 OK` with `body` as `application/json`.
    pub fn answer_json(&self, body: String) {
        self.answer_bytes(response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        ));
    }

    pub fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.heads.lock().unwrap().len()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A raw HTTP/1.1 response: the given header lines, a content-length, the body.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}
