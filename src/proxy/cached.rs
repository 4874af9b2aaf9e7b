//! Cached customer reads: lookup, single-flight fill, stale-if-error,
//! stale-while-revalidate, client cache directives, `Cache-Status` and `Age`.
//!
//! A fill runs as its own task (inside `CustomerCache::fill`), so it finishes
//! and stores even if the client that started it disconnects, and every
//! concurrent reader of the same key waits on that one upstream call.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use prometheus::IntCounter;

use super::forward::{read_body, Outgoing};
use super::response::{Inspected, Processed};
use super::{Outcome, Proxy};
use crate::body::GatewayBody;
use crate::cache::status::age_value;
use crate::cache::{
    CacheKey, CacheStatus, CachedResponse, CachedRoute, FillError, Forward, Generation, Lookup,
    RequestMode, StoreOutcome,
};
use crate::error::GatewayError;
use crate::route::Route;

const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");

/// `gateway_cache_lookups_total` results, in the order of `lookup_counters`.
const LOOKUP_RESULTS: [&str; 5] = ["hit", "miss", "stale", "collapsed", "bypass"];
const HIT: usize = 0;
const MISS: usize = 1;
const STALE: usize = 2;
const COLLAPSED: usize = 3;
const BYPASS: usize = 4;

/// Counter handles by cached route and result, resolved once at start.
pub(super) fn lookup_counters(metrics: &crate::metrics::Metrics) -> [[IntCounter; 5]; 2] {
    CachedRoute::ALL.map(|route| {
        LOOKUP_RESULTS.map(|result| {
            metrics
                .cache_lookups
                .with_label_values(&[route.name(), result])
        })
    })
}

/// What one fill produced, shared by every request that waited on it.
pub struct Filled {
    pub response: Inspected,
    pub store: StoreOutcome,
}

type FillOutput = Result<Arc<Filled>, Arc<GatewayError>>;

/// Why an upstream answer on a cached route was not stored
/// (`gateway_cache_uncacheable_total` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
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
    fn label(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::CacheControl => "cache_control",
            Self::Envelope => "envelope",
            Self::Vary => "vary",
        }
    }

    fn store_outcome(self) -> StoreOutcome {
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
/// any request header.
fn cacheable(r: &Inspected) -> Result<(), Refusal> {
    let wanted = match r.status {
        StatusCode::OK => true,
        StatusCode::NOT_FOUND => false,
        _ => return Err(Refusal::Status),
    };
    let forbids = r.headers.get_all(header::CACHE_CONTROL).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|t| {
            // `private="set-cookie"` (the qualified form) forbids storing too.
            let name = t.split('=').next().unwrap_or("").trim();
            name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("private")
        })
    });
    if forbids {
        return Err(Refusal::CacheControl);
    }
    if varies(&r.headers) {
        return Err(Refusal::Vary);
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        status: bool,
    }
    match serde_json::from_slice::<Envelope>(&r.body) {
        Ok(Envelope { status }) if status == wanted => Ok(()),
        _ => Err(Refusal::Envelope),
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

/// Builds the client's response from stored (or just fetched) parts.
fn replay(
    status: StatusCode,
    headers: &HeaderMap,
    body: &bytes::Bytes,
    age: Duration,
    cache_status: &CacheStatus,
) -> Response<GatewayBody> {
    let mut resp = Response::new(GatewayBody::full(body.clone()));
    *resp.status_mut() = status;
    // One allocation, sized for the stored headers plus Age, Cache-Status and
    // X-Request-Id, so nothing regrows on the hit path.
    let h = resp.headers_mut();
    h.reserve(headers.len() + 3);
    for (name, value) in headers {
        h.append(name.clone(), value.clone());
    }
    h.insert(header::AGE, age_value(age));
    h.insert(CACHE_STATUS, cache_status.header_value());
    resp
}

/// A gateway error on a cached route still says how the cache took part.
fn error_response(
    e: &GatewayError,
    request_id: &HeaderValue,
    status: &CacheStatus,
) -> Response<GatewayBody> {
    let mut resp = e.to_response(request_id.to_str().unwrap_or(""));
    resp.headers_mut()
        .insert(header::AGE, age_value(Duration::ZERO));
    resp.headers_mut()
        .insert(CACHE_STATUS, status.header_value());
    resp
}

/// A fill's outcome that a request collapsed onto it must not take as its own: an answer
/// that varies on request headers, or a refusal by the filling client's own circuit.
fn not_for_others(result: &FillOutput) -> bool {
    match result {
        Ok(f) => f.store == StoreOutcome::Varies,
        Err(e) => matches!(**e, GatewayError::CircuitOpen { .. }),
    }
}

fn is_upstream_failure(e: &GatewayError) -> bool {
    e.is_upstream_failure()
}

impl Proxy {
    pub(super) async fn serve_cached(
        self: Arc<Self>,
        route: &Route,
        customer_id: &str,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &HeaderValue,
        outcome: &mut Outcome,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let cache = self.cache.clone().expect("serve_cached needs a cache");
        let cached_route = match route {
            Route::CustomerDetail { .. } => CachedRoute::CustomerDetail,
            _ => CachedRoute::CustomerWalletReady,
        };
        let label = route.label();
        let counters = &self.cache_lookups[cached_route.index()];
        // Counts the lookup and gives the label for the access log.
        let count = |result: usize| {
            counters[result].inc();
            LOOKUP_RESULTS[result]
        };
        let mode = cache.settings().request_mode(req.headers());
        let client = outcome.client.clone();

        let key = match (
            cache.key(cached_route, customer_id, req.uri().query()),
            mode,
        ) {
            (Ok(k), RequestMode::Normal | RequestMode::Refresh) => k,
            (bypassed, _) => {
                outcome.cache = count(BYPASS);
                let status = match bypassed {
                    Err(b) => CacheStatus::Bypass(b),
                    Ok(_) => CacheStatus::ClientNoStore,
                };
                // Boxed here and below: the hit path's future then holds only
                // pointers for the upstream branches, not their whole state.
                let out = Box::pin(self.outgoing_from(req, peer, request_id)).await?;
                let fetched = self.clone().fetch(Arc::new(out), label, client, None);
                return Ok(match Box::pin(fetched).await {
                    Ok(f) => {
                        let r = &f.response;
                        replay(r.status, &r.headers, &r.body, Duration::ZERO, &status)
                    }
                    Err(e) => error_response(&e, request_id, &status),
                });
            }
        };

        let lookup = if mode == RequestMode::Refresh {
            // The client asked for a fresh answer; a stored one still backs stale-if-error.
            match cache.lookup(&key).await {
                Lookup::Fresh { entry, age, .. } => Lookup::Stale {
                    entry,
                    age,
                    staleness: Duration::ZERO,
                    within_stale_if_error: true,
                    within_swr: false,
                },
                other => other,
            }
        } else {
            cache.lookup(&key).await
        };
        let forward = if mode == RequestMode::Refresh {
            Forward::Request
        } else {
            Forward::after(&lookup)
        };
        let fallback = match lookup {
            Lookup::Fresh {
                entry,
                age,
                remaining,
            } => {
                outcome.cache = count(HIT);
                let status = CacheStatus::Hit { remaining };
                return Ok(replay(
                    entry.status,
                    &entry.headers,
                    &entry.body,
                    age,
                    &status,
                ));
            }
            Lookup::Stale {
                entry,
                age,
                staleness,
                within_swr: true,
                ..
            } => {
                // Answer now from the expired entry; refresh it once in the background.
                outcome.cache = count(STALE);
                if let Ok(out) = Box::pin(self.outgoing_from(req, peer, request_id)).await {
                    let me = self.clone();
                    let fill_key = key.clone();
                    cache.refresh_in_background(key, move |gen| {
                        me.fetch(Arc::new(out), label, client, Some((fill_key, gen)))
                    });
                }
                let status = CacheStatus::StaleWhileRevalidate { staleness };
                return Ok(replay(
                    entry.status,
                    &entry.headers,
                    &entry.body,
                    age,
                    &status,
                ));
            }
            Lookup::Stale {
                entry,
                age,
                staleness,
                within_stale_if_error: true,
                ..
            } => Some((entry, age, staleness)),
            Lookup::Stale { .. } | Lookup::Miss => None,
        };

        let out = Arc::new(Box::pin(self.outgoing_from(req, peer, request_id)).await?);
        let me = self.clone();
        let fill_key = key.clone();
        let (fill_out, fill_client) = (out.clone(), client.clone());
        let (result, role) = Box::pin(cache.fill(key, move |gen| {
            me.fetch(fill_out, label, fill_client, Some((fill_key, gen)))
        }))
        .await;
        let mut collapsed = role.is_collapsed();
        let mut result: FillOutput = result.map_err(|e| match e {
            FillError::Failed(e) => e,
            FillError::Aborted => Arc::new(GatewayError::Internal),
        });
        if collapsed && not_for_others(&result) {
            // The fill was made with another client's request: its answer varies on
            // request headers, or that client's own circuit refused it. Ask for this one.
            result = Box::pin(self.clone().fetch(out, label, client, None)).await;
            collapsed = false;
        }

        // stale-if-error: upstream unreachable, timing out, or answering 5xx.
        let failed = match &result {
            Ok(f) if f.response.status.is_server_error() => Some(f.response.status),
            Ok(_) => None,
            Err(e) if is_upstream_failure(e) => Some(e.status()),
            Err(_) => None,
        };
        if let (Some(fwd_status), Some((entry, age, staleness))) = (failed, &fallback) {
            outcome.cache = count(STALE);
            let status = CacheStatus::StaleIfError {
                staleness: *staleness,
                fwd_status,
                collapsed,
            };
            return Ok(replay(
                entry.status,
                &entry.headers,
                &entry.body,
                *age,
                &status,
            ));
        }

        outcome.cache = count(if collapsed { COLLAPSED } else { MISS });
        match result {
            Ok(f) => {
                let status = CacheStatus::Forwarded {
                    reason: forward,
                    store: f.store,
                    collapsed,
                };
                let r = &f.response;
                Ok(replay(
                    r.status,
                    &r.headers,
                    &r.body,
                    Duration::ZERO,
                    &status,
                ))
            }
            Err(e) => {
                let status = CacheStatus::Forwarded {
                    reason: forward,
                    store: StoreOutcome::Uncacheable,
                    collapsed,
                };
                Ok(error_response(&e, request_id, &status))
            }
        }
    }

    async fn outgoing_from(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &HeaderValue,
    ) -> Result<Outgoing, GatewayError> {
        let (mut parts, body) = req.into_parts();
        // Cached routes are JSON routes: a range of their body is never asked for.
        parts.headers.remove(header::RANGE);
        parts.headers.remove(header::IF_RANGE);
        let body = read_body(
            body,
            &parts.headers,
            self.settings.server.max_request_body_bytes,
            self.settings.server.request_body_timeout,
        )
        .await?;
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        self.outgoing(parts.method, pq, parts.headers, body, peer.ip(), request_id)
    }

    /// One upstream read, read whole and masked; stored when cacheable and no
    /// write invalidated the customer since `gen` was taken.
    async fn fetch(
        self: Arc<Self>,
        out: Arc<Outgoing>,
        label: &'static str,
        client: Arc<str>,
        store: Option<(CacheKey, Generation)>,
    ) -> FillOutput {
        let deadline = tokio::time::Instant::now() + self.settings.upstream.timeout;
        let permit = self.upstream_permit(label)?;
        let resp = self.send(&out, label, &client, deadline).await?;
        // Cached routes are never passthrough: every body is inspected. The
        // buffer reservation ends with the fill; the stored bytes are then
        // bounded by `cache.max_bytes`.
        let Processed::Inspected(mut response, _reservation) = self
            .process_response(resp, permit, deadline, None, None)
            .await?
        else {
            return Err(Arc::new(GatewayError::Internal));
        };
        // A cookie is for one client; never replay it to another.
        response.headers.remove(header::SET_COOKIE);
        let mut outcome = StoreOutcome::Uncacheable;
        match cacheable(&response) {
            Err(refusal) => {
                outcome = refusal.store_outcome();
                if store.is_some() {
                    self.metrics
                        .cache_uncacheable
                        .with_label_values(&[label, refusal.label()])
                        .inc();
                }
            }
            Ok(()) => {
                if let (Some((key, gen)), Some(cache)) = (store, &self.cache) {
                    let entry = CachedResponse::new(
                        response.status,
                        response.headers.clone(),
                        response.body.clone(),
                    );
                    outcome = cache.store_if_current(&key, gen, entry).await;
                }
            }
        }
        Ok(Arc::new(Filled {
            response,
            store: outcome,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, cache_control: Option<&str>, body: &str) -> Inspected {
        let mut headers = HeaderMap::new();
        if let Some(v) = cache_control {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        Inspected {
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
