//! Hand-written HTTP/2 (h2c prior knowledge) frames, for clients that behave
//! the way no client library would (never opening their flow-control window,
//! idling forever while answering PINGs).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;

pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn hpack_str(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 127);
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// A GET with END_STREAM, carrying the given extra headers (HPACK literals, no Huffman).
pub fn get_headers(stream: u32, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut block = vec![0x82, 0x86]; // :method GET, :scheme http
    block.push(0x04); // :path, literal value
    hpack_str(&mut block, path);
    block.push(0x01); // :authority
    hpack_str(&mut block, "gateway");
    for (name, value) in headers {
        block.push(0x00);
        hpack_str(&mut block, name);
        hpack_str(&mut block, value);
    }
    frame(HEADERS, 0x5, stream, &block) // END_STREAM | END_HEADERS
}

pub async fn read_frame(s: &mut TcpStream) -> Option<Frame> {
    let mut head = [0u8; 9];
    s.read_exact(&mut head).await.ok()?;
    let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.ok()?;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    Some(Frame {
        kind: head[3],
        flags: head[4],
        stream,
        payload,
    })
}

/// Connects, exchanges SETTINGS, and returns the socket ready for streams.
/// The client's windows stay at the protocol default (64 KiB): it never
/// sends WINDOW_UPDATE.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    s.write_all(&hello).await.unwrap();
    loop {
        let f = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s))
            .await
            .unwrap()
            .expect("server settings");
        if f.kind == SETTINGS && f.flags & 0x1 == 0 {
            s.write_all(&frame(SETTINGS, 0x1, 0, &[])).await.unwrap();
            return s;
        }
    }
}
