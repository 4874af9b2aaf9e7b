//! A real `redis-server` on an ephemeral loopback port, killed when dropped; it can be
//! killed and started again on the same port (a Redis restart, as replicas see it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    /// `--tls-*` arguments when the server speaks TLS only.
    tls: Vec<String>,
    /// Other arguments (`--requirepass`).
    extra: Vec<String>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_with(Vec::new())
    }

    /// TLS only (no plain port), with this PEM certificate and key; clients need no
    /// certificate of their own.
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> RedisServer {
        let path = |p: &std::path::Path| p.display().to_string();
        Self::start_with(vec![
            "--tls-cert-file".into(),
            path(cert),
            "--tls-key-file".into(),
            path(key),
            "--tls-ca-cert-file".into(),
            path(cert),
            "--tls-auth-clients".into(),
            "no".into(),
        ])
    }

    /// Plain, requiring this password (AUTH).
    pub fn start_with_password(password: &str) -> RedisServer {
        Self::start_args(Vec::new(), vec!["--requirepass".into(), password.into()])
    }

    /// Plain, accepting DEBUG commands (`DEBUG SLEEP`: Redis busy inside one command).
    pub fn start_debuggable() -> RedisServer {
        Self::start_args(
            Vec::new(),
            vec!["--enable-debug-command".into(), "yes".into()],
        )
    }

    fn start_with(tls: Vec<String>) -> RedisServer {
        Self::start_args(tls, Vec::new())
    }

    fn start_args(tls: Vec<String>, extra: Vec<String>) -> RedisServer {
        // The kernel picks a free port; redis-server binds it right after.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut server = RedisServer {
            port,
            child: None,
            tls,
            extra,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        if self.tls.is_empty() {
            format!("redis://127.0.0.1:{}/0", self.port)
        } else {
            format!("rediss://localhost:{}/0", self.port)
        }
    }

    /// Starts the server (again) on the same port and waits for it to answer PING.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let ports: [&str; 4] = if self.tls.is_empty() {
            ["--port", &port, "--tls-port", "0"]
        } else {
            ["--port", "0", "--tls-port", &port]
        };
        let child = Command::new("redis-server")
            .args(ports)
            .args(&self.tls)
            .args(&self.extra)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs the Debian package)");
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(
                Instant::now() < end,
                "redis-server did not answer PING in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// SIGKILL: no goodbye to clients, as when a pod dies.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A paused server still dies of SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP / SIGCONT: connections stay open but nothing answers (a hung Redis, a
    /// half-open connection), the failure only heartbeats reveal.
    pub fn pause(&self, paused: bool) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Plain: PING gets PONG. TLS: the port accepts connections (the handshake is the
    /// client's business).
    fn answers(&self) -> bool {
        if !self.tls.is_empty() {
            return TcpStream::connect(("127.0.0.1", self.port)).is_ok();
        }
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 7];
        // With a password, the refusal proves the server is up as well.
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut buf).is_ok()
            && (&buf == b"+PONG\r\n" || &buf == b"-NOAUTH")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
