//! Request patterns `wrk` cannot produce, for `scripts/bench.sh`:
//!
//! - `burst`: open N connections first, then send one GET on each at the same
//!   instant (a barrier releases them), and tally the answers' `Cache-Status`.
//!   N concurrent cold reads of one customer must cost one upstream request.
//! - `sweep`: read `--count` distinct customer ids (`customer_<prefix><i:024>`)
//!   over `--concurrency` keep-alive connections, each id once.
//! - `repeat`: send one path `--count` times over `--concurrency` keep-alive
//!   connections: a fixed amount of work, for instruction-count profiles.
//!
//! Each prints one JSON line on stdout.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

#[derive(Parser, Debug)]
#[command(about = "Load patterns for scripts/bench.sh")]
struct Cli {
    /// The gateway (or upstream) to call.
    #[arg(long, global = true, default_value = "127.0.0.1:28080")]
    addr: SocketAddr,
    /// Extra request header `name: value` (repeatable).
    #[arg(long = "header", global = true)]
    headers: Vec<String>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand, Debug)]
enum Mode {
    Burst {
        #[arg(long)]
        path: String,
        #[arg(long, default_value_t = 500)]
        connections: usize,
    },
    Sweep {
        /// Eight lowercase hex digits, so runs with different prefixes never share ids.
        #[arg(long)]
        prefix: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    Repeat {
        #[arg(long)]
        path: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

type Sender = SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("--header {h:?}: expected `name: value`"))
        })
        .collect()
}

/// One GET; returns the status and the `Cache-Status` header, with the body drained.
async fn get(
    sender: &mut Sender,
    addr: SocketAddr,
    path: &str,
    headers: &[(String, String)],
) -> Result<(StatusCode, String), String> {
    let mut req = Request::get(path).header(http::header::HOST, addr.to_string());
    for (n, v) in headers {
        req = req.header(n.as_str(), v.as_str());
    }
    let req = req
        .body(Empty::new())
        .map_err(|e| format!("request: {e}"))?;
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = resp.status();
    let cache_status = resp
        .headers()
        .get("cache-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?;
    Ok((status, cache_status))
}

/// `hit`, `collapsed`, `miss`, … from a `Cache-Status` value.
fn cache_outcome(value: &str) -> &'static str {
    if value.is_empty() {
        "none"
    } else if value.contains("; hit") {
        "hit"
    } else if value.contains("collapsed") {
        "collapsed"
    } else if value.contains("fwd=miss") {
        "miss"
    } else {
        "other"
    }
}

async fn burst(
    addr: SocketAddr,
    path: String,
    n: usize,
    headers: Vec<(String, String)>,
) -> Result<String, String> {
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        senders.push(connect(addr).await?);
    }
    let barrier = Arc::new(Barrier::new(n));
    let headers = Arc::new(headers);
    let path = Arc::new(path);
    let started = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut s| {
            let (barrier, headers, path) = (barrier.clone(), headers.clone(), path.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                get(&mut s, addr, &path, &headers).await
            })
        })
        .collect();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut errors = 0u64;
    for t in tasks {
        match t.await {
            Ok(Ok((status, cs))) => {
                *statuses.entry(status.as_u16().to_string()).or_default() += 1;
                *outcomes.entry(cache_outcome(&cs)).or_default() += 1;
            }
            _ => errors += 1,
        }
    }
    Ok(serde_json::json!({
        "mode": "burst",
        "connections": n,
        "secs": started.elapsed().as_secs_f64(),
        "status": statuses,
        "cache": outcomes,
        "errors": errors,
    })
    .to_string())
}

/// Runs `concurrency` keep-alive workers until `count` requests were sent;
/// `path_of(i)` gives the i-th request's path.
async fn drive(
    addr: SocketAddr,
    count: u64,
    concurrency: usize,
    headers: Vec<(String, String)>,
    path_of: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> Result<(u64, u64, Duration), String> {
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let headers = Arc::new(headers);
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut sender = connect(addr).await?;
        let (next, ok, headers, path_of) =
            (next.clone(), ok.clone(), headers.clone(), path_of.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                match get(&mut sender, addr, &path_of(i), &headers).await {
                    Ok((s, _)) if s.is_success() => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    // A dropped connection: open another and carry on.
                    Err(_) => match connect(addr).await {
                        Ok(s) => sender = s,
                        Err(_) => break,
                    },
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    Ok((count, ok.load(Ordering::Relaxed), started.elapsed()))
}

async fn run(cli: Cli) -> Result<String, String> {
    let headers = parse_headers(&cli.headers)?;
    let addr = cli.addr;
    let (mode, (sent, ok, elapsed)) = match cli.mode {
        Mode::Burst { path, connections } => return burst(addr, path, connections, headers).await,
        Mode::Sweep {
            prefix,
            count,
            concurrency,
        } => {
            if prefix.len() != 8
                || !prefix
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err("--prefix: eight lowercase hex digits".into());
            }
            let path_of = Arc::new(move |i: u64| {
                format!("/api/v1/customer/customer/customer_{prefix}{i:024}")
            });
            (
                "sweep",
                drive(addr, count, concurrency, headers, path_of).await?,
            )
        }
        Mode::Repeat {
            path,
            count,
            concurrency,
        } => {
            let path_of = Arc::new(move |_| path.clone());
            (
                "repeat",
                drive(addr, count, concurrency, headers, path_of).await?,
            )
        }
    };
    Ok(serde_json::json!({
        "mode": mode,
        "requests": sent,
        "ok": ok,
        "secs": elapsed.as_secs_f64(),
        "rps": sent as f64 / elapsed.as_secs_f64().max(1e-9),
    })
    .to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(line) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").is_err() {
                return ExitCode::from(74);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
