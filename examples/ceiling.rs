//! The benchmark ceiling: a bare hyper 1.x HTTP/1.1 server that answers every
//! GET with one fixed response, the bytes the gateway returns for a cache hit.
//! Whatever the gateway's hit path costs shows up as the gap to this server
//! (same runtime flavour, same `TCP_NODELAY`, same body and headers).
//!
//!     cargo run --release --example ceiling -- --listen 127.0.0.1:28090 \
//!         --body-file body.json --headers-file headers.txt
//!
//! `--headers-file` holds a response head as `curl -D` writes it; its status
//! line, `date`, `content-length` and hop-by-hop headers are skipped (hyper
//! writes its own).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use clap::Parser;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(about = "Bare hyper server answering every GET with one fixed body (benchmark ceiling)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:28090")]
    listen: SocketAddr,
    /// The response body, served byte for byte.
    #[arg(long)]
    body_file: PathBuf,
    /// Response headers in `curl -D` format (optional).
    #[arg(long)]
    headers_file: Option<PathBuf>,
}

/// Headers hyper writes itself, or that describe one connection only.
const SKIPPED: &[&str] = &[
    "date",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
];

fn parse_headers(text: &str) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    // The first line is the status line.
    for line in text.lines().skip(1) {
        let line = line.trim_end_matches('\r');
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("header name {name:?}: {e}"))?;
        let value =
            HeaderValue::from_str(value.trim()).map_err(|e| format!("header {name}: {e}"))?;
        map.append(name, value);
    }
    Ok(map)
}

struct Fixed {
    headers: HeaderMap,
    body: Bytes,
}

fn answer(fixed: &Fixed, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        let mut resp = Response::new(Full::new(Bytes::new()));
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return resp;
    }
    let mut resp = Response::new(Full::new(fixed.body.clone()));
    *resp.headers_mut() = fixed.headers.clone();
    resp
}

fn load(args: &Args) -> Result<Fixed, String> {
    let body =
        std::fs::read(&args.body_file).map_err(|e| format!("{}: {e}", args.body_file.display()))?;
    let headers = match &args.headers_file {
        Some(p) => parse_headers(
            &std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )?,
        None => {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h
        }
    };
    Ok(Fixed {
        headers,
        body: Bytes::from(body),
    })
}

async fn serve(listener: TcpListener, fixed: &'static Fixed) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = service_fn(move |req: Request<Incoming>| async move {
            Ok::<_, Infallible>(answer(fixed, &req))
        });
        tokio::spawn(async move {
            // A client closing mid-request is normal under load.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let fixed = match load(&args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ceiling: {e}");
            return ExitCode::from(64);
        }
    };
    // Leaked once: the server runs until killed, and every connection borrows it.
    let fixed: &'static Fixed = Box::leak(Box::new(fixed));
    // The same runtime flavour as the gateway's `main`.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ceiling: cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(async {
        match TcpListener::bind(args.listen).await {
            Ok(listener) => {
                serve(listener, fixed).await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ceiling: binding {}: {e}", args.listen);
                ExitCode::from(64)
            }
        }
    })
}
