//! Byte ranges on passthrough routes that opted into them (`ranges = true`).
//!
//! The gateway forwards only a `Range` whose answer it can check — one range,
//! `bytes=first-` or `bytes=first-last` — and writes the client's
//! `Content-Range` itself: the first byte is the one the client asked for,
//! the last follows from the bytes actually sent, and the complete length is
//! `*` (unknown). Upstream's `Content-Range` only has to agree; none of its
//! numbers is copied, so none can carry a phone or account number.

use http::header::{HeaderMap, HeaderValue, RANGE};

/// The one range a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: Option<u64>,
}

impl ByteRange {
    /// A request's `Range`, if it is one range the gateway can check. `Err`:
    /// a `Range` of another shape (suffix, several ranges, another unit),
    /// which is not forwarded.
    pub fn of_request(headers: &HeaderMap) -> Result<Option<ByteRange>, ()> {
        let mut values = headers.get_all(RANGE).iter();
        let Some(v) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(());
        }
        let spec = v.to_str().map_err(drop)?.trim();
        let (first, last) = spec
            .strip_prefix("bytes=")
            .and_then(|r| r.split_once('-'))
            .ok_or(())?;
        let first = number(first.trim()).ok_or(())?;
        let last = match last.trim() {
            "" => None,
            l => Some(number(l).filter(|l| *l >= first).ok_or(())?),
        };
        Ok(Some(ByteRange { first, last }))
    }

    /// The `Content-Range` for a 206 whose body holds `sent` bytes, if
    /// upstream's own `Content-Range` line agrees with what was asked and
    /// what is sent.
    pub fn content_range(&self, upstream: Option<&str>, sent: u64) -> Option<HeaderValue> {
        let rest = upstream?.trim().strip_prefix("bytes ")?;
        let (range, _total) = rest.split_once('/')?;
        let (a, b) = range.split_once('-')?;
        let (a, b) = (number(a.trim())?, number(b.trim())?);
        let expected_last = self.first.checked_add(sent)?.checked_sub(1)?;
        let agrees = sent > 0
            && a == self.first
            && b == expected_last
            && self.last.is_none_or(|last| b <= last);
        agrees
            .then(|| {
                HeaderValue::from_str(&format!("bytes {}-{}/*", self.first, expected_last)).ok()
            })
            .flatten()
    }
}

fn number(v: &str) -> Option<u64> {
    (!v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::map;

    #[test]
    fn only_one_checkable_range_is_forwarded() {
        let of = |v: &str| ByteRange::of_request(&map(&[("range", v)]));
        assert_eq!(
            of("bytes=0-99"),
            Ok(Some(ByteRange {
                first: 0,
                last: Some(99)
            }))
        );
        assert_eq!(
            of("bytes=100-"),
            Ok(Some(ByteRange {
                first: 100,
                last: None
            }))
        );
        for bad in [
            "bytes=-500",
            "bytes=0-1,5-9",
            "items=0-1",
            "bytes=9-1",
            "bytes=x-1",
        ] {
            assert_eq!(of(bad), Err(()), "{bad}");
        }
        assert_eq!(ByteRange::of_request(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn content_range_is_written_from_the_request_and_the_bytes_sent() {
        let r = ByteRange {
            first: 100,
            last: Some(199),
        };
        assert_eq!(
            r.content_range(Some("bytes 100-199/081234567890"), 100)
                .unwrap(),
            "bytes 100-199/*"
        );
        for (line, sent) in [
            (Some("bytes 100-199/5000"), 99),
            (Some("bytes 8123456-8123555/9000000"), 100),
            (Some("bytes 100-299/5000"), 200),
            (Some("bytes */5000"), 100),
            (None, 100),
            (Some("bytes 100-199/5000"), 0),
        ] {
            assert!(r.content_range(line, sent).is_none(), "{line:?} {sent}");
        }
    }
}
