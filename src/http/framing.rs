//! How an upstream body is framed, read strictly. (The client's headers,
//! `Content-Type` included, are the header builder's: `inspect::headers`.)
//!
//! The headers that decide how a body is read (`Content-Type`,
//! `Content-Encoding`, `Transfer-Encoding`) must be unambiguous: two lines,
//! or a list where one value is expected, is refused rather than guessed at,
//! since a client may read them differently from us.

use http::header::{self, HeaderMap, HeaderName};
use http::StatusCode;

use super::coding::{self as decode, Encoding};

/// Why a response's framing was refused (the `gateway_mask_failures_total` reason).
pub const AMBIGUOUS: &str = "ambiguous_headers";

/// The upstream's framing, read strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    /// Lowercase media type essence (`application/pdf`), if a type was sent.
    pub essence: Option<String>,
    pub encoding: Encoding,
}

/// Exactly zero or one line, holding one value.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, &'static str> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AMBIGUOUS);
    }
    let v = first.to_str().map_err(|_| AMBIGUOUS)?;
    if v.contains(',') {
        return Err(AMBIGUOUS);
    }
    Ok(Some(v.trim()))
}

pub fn framing(headers: &HeaderMap) -> Result<Framing, &'static str> {
    let essence = single(headers, &header::CONTENT_TYPE)?.map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    // One line holding one value, then read by the one content-coding parser.
    single(headers, &header::CONTENT_ENCODING)?;
    let encoding = decode::parse_content_encoding(headers.get(header::CONTENT_ENCODING))
        .map_err(|e| e.reason())?;
    // hyper has undone `chunked`; any other transfer coding would leave the
    // body encoded with its label about to be dropped as hop-by-hop.
    for v in headers.get_all(header::TRANSFER_ENCODING) {
        let v = v.to_str().map_err(|_| AMBIGUOUS)?;
        if v.split(',')
            .any(|t| !t.trim().eq_ignore_ascii_case("chunked"))
        {
            return Err("bad_encoding");
        }
    }
    Ok(Framing { essence, encoding })
}

/// Statuses that never carry a body.
pub fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::map;

    #[test]
    fn framing_must_be_unambiguous() {
        let ok = framing(&map(&[("content-type", "Application/JSON; charset=utf-8")])).unwrap();
        assert_eq!(ok.essence.as_deref(), Some("application/json"));
        assert_eq!(ok.encoding, Encoding::Identity);
        let gz = framing(&map(&[
            ("content-encoding", "gzip"),
            ("transfer-encoding", "chunked"),
        ]));
        assert_eq!(gz.unwrap().encoding, Encoding::Gzip);
        for bad in [
            map(&[
                ("content-type", "application/json"),
                ("content-type", "text/plain"),
            ]),
            map(&[("content-type", "application/json, text/plain")]),
            map(&[
                ("content-encoding", "identity"),
                ("content-encoding", "gzip"),
            ]),
            map(&[("content-encoding", "gzip, gzip")]),
            map(&[("content-encoding", "zstd")]),
            map(&[("transfer-encoding", "gzip, chunked")]),
        ] {
            assert!(framing(&bad).is_err(), "{bad:?}");
        }
    }
}
