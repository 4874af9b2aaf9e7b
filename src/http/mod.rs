//! HTTP mechanics, the same for requests and responses: content-coding
//! ([`coding`]), how a body is framed ([`framing`]), hop-by-hop headers, the
//! request id and header size ([`headers`]), whose `X-Forwarded-For` chain
//! is believed ([`forwarded`]: one rule for the access log's client and the
//! chain sent upstream), and reading a client's body
//! within its limits ([`request_body`]). Policy (what is forwarded, masked
//! or cached) lives with its owner; this module only reads and writes the
//! protocol.

pub mod coding;
pub mod forwarded;
pub mod framing;
pub mod headers;
pub mod request_body;

pub use coding::{decode, Encoding};
pub use forwarded::TrustedProxies;
pub use request_body::read_body;

/// The TLS version a connection negotiated, for its requests' access lines
/// (`1.2`, `1.3`): a request extension, like the client certificate. Set by
/// the server's TLS acceptor, read by the pipeline's admit phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsVersion(pub &'static str);
