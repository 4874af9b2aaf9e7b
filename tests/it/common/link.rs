//! A loopback TCP relay between a gateway and Redis that the test steers: a delay on
//! every chunk each way (a slow link), a pause (a replica frozen: nothing it sends or is
//! sent moves), cutting every connection, and silencing the connections open now (a
//! conntrack drop or a failover: the sockets stay open and nothing moves on them, while
//! new connections work). Every task it starts ends when it is dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

#[derive(Default)]
struct State {
    delay_ms: AtomicU64,
    /// Added to what Redis sends down a subscribed connection only (a replica whose
    /// subscription lags while its commands are answered at once).
    pubsub_delay_ms: AtomicU64,
    paused: AtomicBool,
    /// Connections accepted so far; each is numbered in accept order.
    opened: AtomicU64,
    /// Connections numbered below this are silent for good.
    silent_below: AtomicU64,
}

pub struct Link {
    pub addr: SocketAddr,
    state: Arc<State>,
    /// Bumped to cut every connection open now.
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Link {
    /// Relays 127.0.0.1:<ephemeral> to `to`.
    pub async fn start(to: SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let (cut, _) = watch::channel(0u64);
        let (st, cuts) = (state.clone(), cut.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (st, rx) = (st.clone(), cuts.subscribe());
                let number = st.opened.fetch_add(1, Ordering::AcqRel);
                conns.spawn(async move {
                    let Ok(server) = TcpStream::connect(to).await else {
                        return;
                    };
                    relay(client, server, st, rx, number).await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Link {
            addr,
            state,
            cut,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as u64, Ordering::Release);
    }

    pub fn set_pubsub_delay(&self, d: Duration) {
        self.state
            .pubsub_delay_ms
            .store(d.as_millis() as u64, Ordering::Release);
    }

    pub fn pause(&self, paused: bool) {
        self.state.paused.store(paused, Ordering::Release);
    }

    /// Connections accepted so far.
    pub fn opened(&self) -> u64 {
        self.state.opened.load(Ordering::Acquire)
    }

    /// Every connection open now goes silent for good, its sockets left open (no FIN, no
    /// RST: what a peer sees after a conntrack drop or a failover to a new address); new
    /// connections are relayed as before.
    pub fn silence_open(&self) {
        let opened = self.state.opened.load(Ordering::Acquire);
        self.state.silent_below.store(opened, Ordering::Release);
    }

    /// Closes every connection through the link now (new ones are still accepted).
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    st: Arc<State>,
    mut cut: watch::Receiver<u64>,
    number: u64,
) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Set once the client sent SUBSCRIBE on this connection.
    let subscribed = Arc::new(AtomicBool::new(false));
    let up = pump(
        cr,
        sw,
        st.clone(),
        Direction::Up,
        subscribed.clone(),
        number,
    );
    let down = pump(sr, cw, st, Direction::Down, subscribed, number);
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = cut.changed() => {}
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

/// Copies `from` to `to`, each chunk held until its delay passed and while paused.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    st: Arc<State>,
    direction: Direction,
    subscribed: Arc<AtomicBool>,
    number: u64,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = {
        let st = st.clone();
        async move {
            while let Some((at, chunk)) = rx.recv().await {
                tokio::time::sleep_until(at).await;
                while st.paused.load(Ordering::Acquire)
                    || number < st.silent_below.load(Ordering::Acquire)
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if to.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
    };
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if direction == Direction::Up && buf[..n].windows(9).any(|w| w == b"SUBSCRIBE")
                    {
                        subscribed.store(true, Ordering::Release);
                    }
                    let mut ms = st.delay_ms.load(Ordering::Acquire);
                    if direction == Direction::Down && subscribed.load(Ordering::Acquire) {
                        ms += st.pubsub_delay_ms.load(Ordering::Acquire);
                    }
                    let delay = Duration::from_millis(ms);
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    // The writer drains what was read before the reader ended.
    tokio::join!(reader, writer);
}
