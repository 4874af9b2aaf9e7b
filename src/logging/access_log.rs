//! The access log: one line per request, however it ended, formatted by hand into a
//! per-thread buffer (numbers through `itoa`, no allocation per field) and
//! handed to a [`LineQueue`], so writing it never waits on the sink.
//!
//! A line holds: time, `request_id`, `trace_id` (when the request carried a
//! valid `traceparent`), method, route template, status, cache result, client
//! name, `upstream_status`, `upstream_us` and `upstream_addr` (when this request
//! called paycombat), `duration_us`, `bytes_in`, `bytes_out` (body bytes handed to
//! the connection; absent when no answer was sent), the peer's IP, `client_ip`
//! (from a trusted proxy's `X-Forwarded-For`, when it differs from the peer),
//! `proto` (`h1`, `h2`), `tls` (the version, on a TLS listener), `flags` (what
//! went wrong: `logging::flags`, `-` when nothing) and — only for a request that
//! ended without its whole answer — `reason`
//! (`client_closed`, `stream_reset`, `write_timeout`, `drain_deadline`,
//! `body_error`, `panicked`; see `proxy::settle`), and `idempotency` for a write
//! that carried an `Idempotency-Key` (see `crate::idempotency`). Never a body, a header value other than the checked request id and
//! trace id, a key or token, a path or query (so never a customer id), nor any
//! personal value: the route template stands for the path.

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;

use super::config::{AccessOutput, LogFormat, LogSettings};
use super::escape::{escape_human, escape_json, needs_quoting};
pub use super::flags::{Flag, Flags};
use super::queue::LineQueue;
use super::trace_id::TraceId;
use super::ACCESS_DROPPED;

/// What the upstream call made for this request answered, and how long it took
/// to its response head (retries included).
#[derive(Debug, Clone, Copy)]
pub struct UpstreamCall {
    pub status: u16,
    pub elapsed: Duration,
    /// paycombat's address the answer came from, when the connection said.
    pub addr: Option<SocketAddr>,
}

/// One request, as the access log sees it.
pub struct AccessRecord<'a> {
    pub request_id: &'a str,
    pub trace_id: Option<&'a TraceId>,
    pub method: &'a Method,
    pub route: &'static str,
    pub status: u16,
    pub cache: &'static str,
    pub client: &'a str,
    pub upstream: Option<UpstreamCall>,
    pub duration: Duration,
    pub bytes_in: u64,
    pub bytes_out: Option<u64>,
    pub peer: IpAddr,
    /// The client behind a trusted proxy (`server.trusted_proxies`), when not the peer.
    pub client_ip: Option<IpAddr>,
    /// `h1` or `h2`.
    pub proto: &'static str,
    /// The TLS version, on a TLS listener.
    pub tls: Option<&'static str>,
    pub flags: Flags,
    /// Why the request ended without its whole answer (`crate::outcome::Cause`);
    /// None when it was answered whole.
    pub ended: Option<&'static str>,
    /// What its `Idempotency-Key` did (`crate::idempotency` results: first, replayed,
    /// in_flight, mismatch, outcome_unknown, missing_key, bad_key, refused).
    pub idempotency: Option<&'static str>,
}

enum Sink {
    Off,
    /// The process's stdout or stderr queue, shared with the other log lines.
    Shared(&'static LineQueue),
    /// A file of this gateway's own.
    Own(LineQueue),
}

pub struct AccessLog {
    sink: Sink,
    /// `log.format`, a live key: a configuration reload sets it ([`Self::set_format`]), so
    /// the access lines change format with the process's other lines.
    json: std::sync::atomic::AtomicBool,
}

impl AccessLog {
    pub fn open(settings: &LogSettings) -> std::io::Result<AccessLog> {
        let sink = match &settings.access.output {
            AccessOutput::Off => Sink::Off,
            AccessOutput::Stdout => Sink::Shared(super::stdout_queue()),
            AccessOutput::Stderr => Sink::Shared(super::stderr_queue()),
            AccessOutput::File(path) => Sink::Own(open_file(path, settings.queue_bytes)?),
        };
        Ok(AccessLog {
            sink,
            json: std::sync::atomic::AtomicBool::new(settings.format == LogFormat::Json),
        })
    }

    /// The format of the lines written from now on (a reload of `log.format`).
    pub fn set_format(&self, format: LogFormat) {
        self.json.store(
            format == LogFormat::Json,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn format(&self) -> LogFormat {
        if self.json.load(std::sync::atomic::Ordering::Relaxed) {
            LogFormat::Json
        } else {
            LogFormat::Human
        }
    }

    pub fn is_on(&self) -> bool {
        !matches!(self.sink, Sink::Off)
    }

    pub fn write(&self, record: &AccessRecord<'_>) {
        let queue = match &self.sink {
            Sink::Off => return,
            Sink::Shared(q) => *q,
            Sink::Own(q) => q,
        };
        thread_local! {
            static LINE: RefCell<Line> = RefCell::new(Line::default());
        }
        LINE.with(|line| {
            let Ok(mut line) = line.try_borrow_mut() else {
                return;
            };
            line.format(self.format(), record, SystemTime::now());
            queue.push(&line.buf, &ACCESS_DROPPED);
        });
    }

    /// Writes what is queued (bounded by `timeout`) and, for a file, stops its writer.
    pub fn close(&self, timeout: Duration) {
        match &self.sink {
            Sink::Off => {}
            Sink::Shared(q) => {
                q.flush(timeout);
            }
            Sink::Own(q) => q.close(timeout),
        }
    }
}

fn open_file(path: &Path, capacity: usize) -> std::io::Result<LineQueue> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    LineQueue::spawn("access", Box::new(file), capacity)
}

/// A reused line buffer and the formatted second it last wrote.
#[derive(Default)]
struct Line {
    buf: Vec<u8>,
    second: u64,
    /// `YYYY-MM-DDTHH:MM:SS` of `second`.
    stamp: Vec<u8>,
}

impl Line {
    fn format(&mut self, format: LogFormat, r: &AccessRecord<'_>, now: SystemTime) {
        self.buf.clear();
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        if since.as_secs() != self.second || self.stamp.is_empty() {
            self.second = since.as_secs();
            self.stamp.clear();
            let _ = write!(
                self.stamp,
                "{}",
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(self.second))
            );
            self.stamp.pop(); // the `Z`
        }
        let mut w = Writer {
            buf: &mut self.buf,
            json: format == LogFormat::Json,
        };
        w.start(&self.stamp, since.subsec_micros());
        // `http::headers::request_id` admits only `[A-Za-z0-9._:-]`, or makes a uuid.
        w.safe(key!("request_id"), r.request_id);
        if let Some(t) = r.trace_id {
            w.safe(key!("trace_id"), t.as_str());
        }
        // A method is an HTTP token (the `http` crate refuses anything else):
        // no quote, backslash, space, `=` or control character.
        w.safe(key!("method"), r.method.as_str());
        w.safe(key!("route"), r.route);
        w.num(key!("status"), r.status.into());
        w.safe(key!("cache"), r.cache);
        w.str(key!("client"), r.client);
        if let Some(u) = r.upstream {
            w.num(key!("upstream_status"), u.status.into());
            w.num(key!("upstream_us"), micros(u.elapsed));
            if let Some(addr) = u.addr {
                w.addr(key!("upstream_addr"), addr);
            }
        }
        w.num(key!("duration_us"), micros(r.duration));
        w.num(key!("bytes_in"), r.bytes_in);
        if let Some(b) = r.bytes_out {
            w.num(key!("bytes_out"), b);
        }
        w.ip(key!("peer"), r.peer);
        if let Some(ip) = r.client_ip {
            w.ip(key!("client_ip"), ip);
        }
        w.safe(key!("proto"), r.proto);
        if let Some(v) = r.tls {
            w.safe(key!("tls"), v);
        }
        w.flags(key!("flags"), r.flags);
        if let Some(reason) = r.ended {
            w.safe(key!("reason"), reason);
        }
        if let Some(idempotency) = r.idempotency {
            w.safe(key!("idempotency"), idempotency);
        }
        w.end();
    }
}

/// One reused line formatter, as each thread of `AccessLog::write` holds:
/// for `benches/access_log.rs`, which measures the line's cost.
#[doc(hidden)]
#[derive(Default)]
pub struct BenchLine(Line);

impl BenchLine {
    /// Formats `record` as `write` would, returning the line's length.
    pub fn format(&mut self, json: bool, record: &AccessRecord<'_>, now: SystemTime) -> usize {
        let format = if json {
            LogFormat::Json
        } else {
            LogFormat::Human
        };
        self.0.format(format, record, now);
        self.0.buf.len()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A field's name as each format writes it before the value, built at compile
/// time: `,"name":` (every JSON field follows `target`) and ` name=`.
struct Key {
    json: &'static [u8],
    human: &'static [u8],
}

macro_rules! key {
    ($name:literal) => {
        Key {
            json: concat!(",\"", $name, "\":").as_bytes(),
            human: concat!(" ", $name, "=").as_bytes(),
        }
    };
}
use key;

/// Appends fields as JSON (`"k":v`) or as the human format (`k=v`).
struct Writer<'a> {
    buf: &'a mut Vec<u8>,
    json: bool,
}

impl Writer<'_> {
    /// The time (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), level and target, as `tracing` writes them.
    fn start(&mut self, stamp: &[u8], micros: u32) {
        if self.json {
            self.buf.extend_from_slice(b"{\"timestamp\":\"");
        }
        self.buf.extend_from_slice(stamp);
        self.buf.push(b'.');
        let mut frac = itoa::Buffer::new();
        let frac = frac.format(micros);
        for _ in frac.len()..6 {
            self.buf.push(b'0');
        }
        self.buf.extend_from_slice(frac.as_bytes());
        if self.json {
            self.buf
                .extend_from_slice(b"Z\",\"level\":\"INFO\",\"target\":\"access\"");
        } else {
            self.buf.extend_from_slice(b"Z  INFO access:");
        }
    }

    fn key(&mut self, key: Key) {
        self.buf
            .extend_from_slice(if self.json { key.json } else { key.human });
    }

    /// A value from outside (request id, client name): escaped as needed.
    fn str(&mut self, key: Key, value: &str) {
        self.key(key);
        if self.json {
            self.buf.push(b'"');
            escape_json(self.buf, value);
            self.buf.push(b'"');
        } else {
            escape_human(self.buf, value);
        }
    }

    /// A value that never needs escaping in either format: a label from a
    /// closed set, hex digits, an HTTP token.
    fn safe(&mut self, key: Key, value: &str) {
        debug_assert!(!value.is_empty() && !needs_quoting(value), "{value:?}");
        self.key(key);
        if self.json {
            self.buf.push(b'"');
            self.buf.extend_from_slice(value.as_bytes());
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(value.as_bytes());
        }
    }

    fn num(&mut self, key: Key, value: u64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// Flag codes (`A-Z`, `,`) or `-`: never need escaping.
    fn flags(&mut self, key: Key, flags: Flags) {
        self.key(key);
        if self.json {
            self.buf.push(b'"');
        }
        flags.write(self.buf);
        if self.json {
            self.buf.push(b'"');
        }
    }

    /// `ip:port` (`[v6]:port`).
    fn addr(&mut self, key: Key, addr: SocketAddr) {
        self.key(key);
        if self.json {
            self.buf.push(b'"');
        }
        match addr.ip() {
            IpAddr::V4(v4) => self.ip_text(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                self.buf.push(b'[');
                self.ip_text(IpAddr::V6(v6));
                self.buf.push(b']');
            }
        }
        self.buf.push(b':');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(addr.port()).as_bytes());
        if self.json {
            self.buf.push(b'"');
        }
    }

    fn ip(&mut self, key: Key, ip: IpAddr) {
        self.key(key);
        if self.json {
            self.buf.push(b'"');
        }
        self.ip_text(ip);
        if self.json {
            self.buf.push(b'"');
        }
    }

    fn ip_text(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b'.');
                    }
                    self.buf
                        .extend_from_slice(itoa::Buffer::new().format(*octet).as_bytes());
                }
            }
            IpAddr::V6(v6) => {
                let _ = write!(self.buf, "{v6}");
            }
        }
    }

    fn end(&mut self) {
        if self.json {
            self.buf.push(b'}');
        }
        self.buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record<'a>(client: &'a str, trace: Option<&'a TraceId>) -> AccessRecord<'a> {
        AccessRecord {
            request_id: "req-1",
            trace_id: trace,
            method: &Method::GET,
            route: "customer_detail",
            status: 200,
            cache: "miss",
            client,
            upstream: Some(UpstreamCall {
                status: 200,
                elapsed: Duration::from_micros(1234),
                addr: Some("203.0.113.10:443".parse().unwrap()),
            }),
            duration: Duration::from_micros(2345),
            bytes_in: 0,
            bytes_out: Some(1644),
            peer: "10.1.2.3".parse().unwrap(),
            client_ip: Some("198.51.100.7".parse().unwrap()),
            proto: "h2",
            tls: Some("1.3"),
            flags: Flags::default(),
            ended: None,
            idempotency: None,
        }
    }

    fn line(format: LogFormat, r: &AccessRecord<'_>, at: SystemTime) -> String {
        let mut l = Line::default();
        l.format(format, r, at);
        String::from_utf8(l.buf).unwrap()
    }

    #[test]
    fn json_line_has_every_field() {
        let trace = TraceId::from_traceparent(&http::HeaderValue::from_static(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ))
        .unwrap();
        let at = UNIX_EPOCH + Duration::from_micros(1_764_586_800_000_042);
        let text = line(LogFormat::Json, &record("svc", Some(&trace)), at);
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "timestamp": "2025-12-01T11:00:00.000042Z",
                "level": "INFO",
                "target": "access",
                "request_id": "req-1",
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "method": "GET",
                "route": "customer_detail",
                "status": 200,
                "cache": "miss",
                "client": "svc",
                "upstream_status": 200,
                "upstream_us": 1234,
                "upstream_addr": "203.0.113.10:443",
                "duration_us": 2345,
                "bytes_in": 0,
                "bytes_out": 1644,
                "peer": "10.1.2.3",
                "client_ip": "198.51.100.7",
                "proto": "h2",
                "tls": "1.3",
                "flags": "-",
            })
        );
    }

    #[test]
    fn human_line_is_key_value() {
        let mut r = record("svc", None);
        r.upstream = None;
        r.bytes_out = None;
        r.client_ip = None;
        r.tls = None;
        r.proto = "h1";
        r.flags.set(Flag::DownstreamClosed);
        r.flags.set(Flag::UpstreamTimeout);
        r.peer = "2001:db8::1".parse().unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_764_586_800);
        assert_eq!(
            line(LogFormat::Human, &r, at),
            "2025-12-01T11:00:00.000000Z  INFO access: request_id=req-1 method=GET \
             route=customer_detail status=200 cache=miss client=svc duration_us=2345 \
             bytes_in=0 peer=2001:db8::1 proto=h1 flags=UT,DC\n"
        );
        r.upstream = Some(UpstreamCall {
            status: 504,
            elapsed: Duration::from_micros(7),
            addr: Some("[2001:db8::2]:8443".parse().unwrap()),
        });
        assert!(line(LogFormat::Human, &r, at).contains(" upstream_addr=[2001:db8::2]:8443 "));
    }

    #[test]
    fn the_buffer_is_reused_across_lines_and_seconds() {
        let mut l = Line::default();
        let r = record("svc", None);
        for s in 0..3 {
            l.format(LogFormat::Json, &r, UNIX_EPOCH + Duration::from_secs(s));
            let v: serde_json::Value = serde_json::from_slice(&l.buf).unwrap();
            assert_eq!(v["timestamp"], format!("1970-01-01T00:00:0{s}.000000Z"));
        }
    }

    proptest! {
        /// Whatever a client name or request id holds, a JSON line is one line
        /// of valid JSON that gives the value back.
        #[test]
        fn any_value_stays_inside_its_field(client in "\\PC{0,20}|[\\x00-\\x7f]{0,20}") {
            let at = UNIX_EPOCH;
            let text = line(LogFormat::Json, &record(&client, None), at);
            prop_assert_eq!(text.matches('\n').count(), 1);
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(v["client"].as_str(), Some(client.as_str()));
            let human = line(LogFormat::Human, &record(&client, None), at);
            prop_assert_eq!(human.matches('\n').count(), 1);
            prop_assert!(human.contains(" duration_us=2345 "));
        }
    }
}
