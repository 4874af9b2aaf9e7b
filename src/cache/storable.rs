//! Whether an upstream answer on a cached route may be stored.

use http::header::{self, HeaderMap};
use http::StatusCode;

use super::directives::UpstreamDirectives;
use super::{CacheKey, CachedResponse, CustomerCache, Generation, StoreOutcome};

/// Why an upstream answer on a cached route was not stored
/// (`gateway_cache_uncacheable_total` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Neither 200 nor 404.
    Status,
    /// Upstream said `no-store` or `private`.
    CacheControl,
    /// Not the JSON envelope the status calls for.
    Envelope,
    /// The answer varies on a request header: it belongs to the client that asked.
    Vary,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::CacheControl => "cache_control",
            Self::Envelope => "envelope",
            Self::Vary => "vary",
        }
    }

    pub fn store_outcome(self) -> StoreOutcome {
        match self {
            Self::Vary => StoreOutcome::Varies,
            _ => StoreOutcome::Uncacheable,
        }
    }
}

/// May this upstream answer be stored? A 200 JSON success envelope
/// (`"status": true`), or a 404 JSON failure envelope ("customer not found";
/// the cache keeps it only when the route's `negative_ttl` is set), that
/// upstream did not mark `no-store` or `private` and that does not vary on
/// any request header. `directives`: what upstream's `Cache-Control` said, as the header
/// builder read it (`headers` are the client's, built from upstream's).
pub fn storable(
    status: StatusCode,
    headers: &HeaderMap,
    directives: UpstreamDirectives,
    body: &[u8],
) -> Result<(), Refusal> {
    let wanted = match status {
        StatusCode::OK => true,
        StatusCode::NOT_FOUND => false,
        _ => return Err(Refusal::Status),
    };
    if directives.forbids_storing() {
        return Err(Refusal::CacheControl);
    }
    if varies(headers) {
        return Err(Refusal::Vary);
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        status: bool,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { status }) if status == wanted => Ok(()),
        _ => Err(Refusal::Envelope),
    }
}

impl CustomerCache {
    /// A cached route's inspected answer, offered to the cache: the one entry point for
    /// what such an answer may carry and whether it is stored.
    ///
    /// First it is made fit to be replayed to any client: a `Set-Cookie` is for one
    /// client, and a cached route's answer may be replayed to others, so it never
    /// carries one (the filling client's own answer included: it is the same answer).
    /// Then, with a `target` (a fill: its key and the generation read when it began),
    /// it is stored when [`storable`] and no write overtook the fill
    /// ([`CustomerCache::store_if_current`]); `Err` says why it may not be stored at all
    /// (`gateway_cache_uncacheable_total`; [`Refusal::store_outcome`] is its outcome).
    /// Without one (a bypass, or a collapsed request asking for itself) nothing is
    /// stored, but the outcome still says why it could not have been, for `Cache-Status`.
    pub async fn offer(
        &self,
        target: Option<(&CacheKey, Generation)>,
        status: StatusCode,
        headers: &mut HeaderMap,
        directives: UpstreamDirectives,
        body: &bytes::Bytes,
    ) -> Result<StoreOutcome, Refusal> {
        headers.remove(header::SET_COOKIE);
        let judged = storable(status, headers, directives, body);
        let Some((key, gen)) = target else {
            return Ok(judged
                .err()
                .map_or(StoreOutcome::Uncacheable, Refusal::store_outcome));
        };
        judged?;
        let entry = self.response(status, headers.clone(), body.clone());
        Ok(self.store_if_current(key, gen, entry).await)
    }

    /// A response received from upstream now, by the cache's clock.
    pub fn response(
        &self,
        status: StatusCode,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> CachedResponse {
        CachedResponse::received_at(status, headers, body, self.now())
    }
}

/// Does the answer depend on a request header the cache key does not hold? The key holds
/// none, so any `Vary` member counts (`*` included) except `Accept-Encoding`: the gateway
/// always asks upstream for `identity`, so that one is the same for every client. Values
/// that are not text count as varying.
fn varies(headers: &HeaderMap) -> bool {
    headers.get_all(header::VARY).iter().any(|v| {
        let Ok(v) = v.to_str() else { return true };
        v.split(',')
            .map(|m| m.trim_matches([' ', '\t']))
            .any(|m| !m.is_empty() && !m.eq_ignore_ascii_case("accept-encoding"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    struct Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: bytes::Bytes,
    }

    fn cacheable(a: &Answer) -> Result<(), Refusal> {
        storable(
            a.status,
            &a.headers,
            UpstreamDirectives::read(&a.headers),
            &a.body,
        )
    }

    fn answer(status: u16, cache_control: Option<&str>, body: &str) -> Answer {
        let mut headers = HeaderMap::new();
        if let Some(v) = cache_control {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        Answer {
            status: StatusCode::from_u16(status).expect("status"),
            headers,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn only_success_and_not_found_envelopes_without_upstream_refusal_are_storable() {
        let ok = r#"{"status":true,"message":"OK","data":{}}"#;
        let failed = r#"{"status":false,"message":"customer not found","data":null}"#;
        assert!(cacheable(&answer(200, None, ok)).is_ok());
        assert!(cacheable(&answer(200, Some("max-age=30"), ok)).is_ok());
        assert!(cacheable(&answer(404, None, failed)).is_ok());
        for refused in [
            answer(200, None, failed),
            answer(200, None, "not json"),
            answer(404, None, ok),
            answer(404, None, "<html>"),
            answer(400, None, failed),
            answer(500, None, failed),
            answer(503, None, failed),
            answer(200, Some("no-store"), ok),
            answer(200, Some("max-age=30, Private"), ok),
            answer(200, Some(r#"private="set-cookie""#), ok),
            answer(404, Some("no-store"), failed),
        ] {
            assert!(
                cacheable(&refused).is_err(),
                "{} {:?}",
                refused.status,
                refused.headers
            );
        }
    }

    #[test]
    fn any_vary_member_but_accept_encoding_refuses_storing() {
        let ok = r#"{"status":true,"message":"OK","data":{}}"#;
        let with_vary = |values: &[&[u8]]| {
            let mut a = answer(200, None, ok);
            for v in values {
                a.headers
                    .append(header::VARY, HeaderValue::from_bytes(v).expect("value"));
            }
            cacheable(&a)
        };
        let fine: [&[&[u8]]; 7] = [
            &[],
            &[b"Accept-Encoding"],
            &[b"accept-encoding"],
            &[b" ACCEPT-ENCODING ,\taccept-encoding"],
            &[b""],
            &[b" , "],
            &[b"Accept-Encoding", b"accept-encoding"],
        ];
        for fine in fine {
            assert_eq!(with_vary(fine), Ok(()), "{fine:?}");
        }
        let varying: [&[&[u8]]; 8] = [
            &[b"X-Tenant"],
            &[b"*"],
            &[b" * "],
            &[b"Accept-Encoding, x-tenant"],
            &[b"accept-encoding", b"Authorization"],
            &[b"accept-encoding,\tCookie"],
            &[b"Accept-Language"],
            &[b"Accept-Encoding\xff"],
        ];
        for varies in varying {
            assert_eq!(with_vary(varies), Err(Refusal::Vary), "{varies:?}");
        }
    }
}
