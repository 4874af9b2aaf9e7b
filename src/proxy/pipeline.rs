//! The order of the request pipeline. Each phase is a function (or a small struct of
//! what it reads) over one [`RequestContext`] the phases fill in, and receives only its
//! settings and components, never the `Proxy` (`tests/architecture` fails on a file of
//! `src/proxy/` other than this one and `mod.rs` naming it). `Proxy` is where the parts
//! are held and composed into each phase's (`mod.rs`); this file runs admit → route →
//! authorize, then picks the branch: a route the cache answers goes through the cache
//! decision (`cached.rs`), every other through the forward branch (`forward.rs`, a keyed
//! write first through `idempotent.rs`). A branch runs its later phases in its own
//! order, because the cache's `Decision` says which of them a read needs (a hit needs
//! none), and a fill runs them as a task of its own that every collapsed reader waits on.
//!
//! | phase | where | receives | why here |
//! |---|---|---|---|
//! | admit | `phase/admit.rs` | `AdmitLimits`, `TrustedPeers`, the tracer, the anonymous client | request id, span, timer first, so every answer carries and counts them; then header size and path hygiene, before anything is routed, logged or forwarded |
//! | route | `phase/route.rs` | nothing | method + path, once; everything after reads the `Route` |
//! | authorize | `phase/authorize.rs` | `Authorize`: the clients, cluster's shared limits, the clients' family | client auth, allowlist, rate limit, before the cache, so a hit never skips them |
//! | cache decision | `cached.rs` (`CachedRead`) → the cache's `Decision` | the lookup counters, where the replica stands (`Cluster::replica_for_read`), the request-body bounds, the `Fetch` parts | routes the cache answers (`Route::cached`): hit, stale while revalidating, or a single-flight fill |
//! | upstream | `phase/upstream.rs` (`prepare`, `permit`, `send`), from `cached.rs` (`Fetch`) and `forward.rs` (`Forward`) | the `Upstream`, the request-body bounds | the slot before anything is armed; a write's invalidation (`invalidate.rs`, `Invalidation`: the cache, cluster, the invalidation family) armed before it is sent and carried out as soon as upstream has answered, before the writer gets its answer |
//! | inspect | `phase/inspect.rs` | the `Inspector` | masking, header allowlist, secret guard: before caching and before the client (`inspect::response` states the rule) |
//! | store | `phase/store.rs` | the cache, its `uncacheable` family | only inspected bytes, through the cache's one entry point (`CustomerCache::offer`: what a cached answer may carry, whether it is storable, no write in between) |
//! | respond | `phase/respond.rs` | the context | the answer or the error's envelope, `X-Request-Id` |
//! | finish | `phase/finish.rs`, run by `settle.rs` when the context's guard is dropped | the `Finisher` (request families, access log) | metrics, access line, span end: after the body was sent, or whenever the request is abandoned or cut off |

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

use super::context::RequestContext;
use super::idempotent;
use super::phase::authorize::Authorize;
use super::phase::{admit, respond, route};
use super::settle::Settle;
use super::Proxy;
use crate::body::{GatewayBody, Watched};
use crate::error::GatewayError;
use crate::logging::access_log::Flag;
use crate::mask::policy::PolicyFamily;
use crate::outcome::ConnEnd;

impl Proxy {
    /// Serves one request. Never fails: every error becomes an envelope.
    /// `conn` says why the connection ended if the request is dropped unfinished.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        conn: ConnEnd,
    ) -> Response<GatewayBody> {
        let h2 = req.version() == http::Version::HTTP_2;
        // From here the request is finished exactly once, when `settle` is
        // dropped: with the response body, or with this future if hyper drops it.
        // It is boxed as it is made, in the box the response body will ride in
        // (`Watched::boxed`): this future then holds a pointer, not the context,
        // and hyper copies this future's whole state for every request.
        let mut settle = Watched::boxed(Settle::begin(
            self.finish.clone(),
            admit::begin(
                self.telemetry.as_deref(),
                &self.anonymous,
                &self.settings.trusted_proxies,
                &req,
                peer,
            ),
            conn,
            h2,
        ));
        let result = self.serve(req, &mut settle.watch_mut().ctx).await;
        let settled = settle.watch_mut();
        if let Err(e) = &result {
            settled.ctx.flags.set(Flag::of_error(e));
        }
        let resp = respond::respond(result, &settled.ctx);
        settled.answered(resp.status());
        resp.map(|body| body.watched_in(settle))
    }

    /// The phases between admission and the response, in order.
    async fn serve(
        self: Arc<Self>,
        req: Request<Incoming>,
        ctx: &mut RequestContext,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let path = admit::check(self.settings.admit, &req)?;
        let route = route::route(req.method(), path, ctx)?;
        let authorize = Authorize {
            auth: &self.auth,
            cluster: self.cluster.as_ref(),
            metrics: &self.metrics.clients,
            anonymous: &self.anonymous,
        };
        let caller = authorize.run(&req, path, ctx).await?;
        // The cache decision, then upstream, inspect and store, for the routes
        // the cache answers; upstream and inspect for every other.
        if let (Some((cached, customer_id)), Some(read)) = (route.cached(), &self.cached) {
            // Borrowed: a hit takes no reference count (the branches that spawn
            // work clone what they hand over).
            let family = PolicyFamily::of(&route);
            return read
                .serve(cached, family, customer_id, req, ctx, &caller)
                .await;
        }
        // Boxed: the forward path's state stays out of every request's future. A write
        // on a keyed route goes through the idempotency phase first (`idempotent.rs`).
        // The box is made in its own statement: a future built inside the awaited
        // expression is a temporary whose storage the compiler keeps in this
        // future's state until the statement ends, box or not, and every request
        // copies that state (see `boxed` in `cached.rs`).
        let write = Box::pin(idempotent::serve_write(
            self.idempotency.as_ref(),
            &self.forward,
            route,
            req,
            ctx,
            caller,
        ));
        write.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CachedRoute, CustomerCache};
    use crate::fair::Caller;
    use crate::mask::policy::PolicyFamily;
    use crate::proxy::cached::CachedRead;

    /// The size of the future `f` returns, without making one.
    fn future_size<A, B, C, D, F: std::future::Future>(_: impl FnOnce(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// hyper copies the request's whole future for every request (into the
    /// connection's slot for it), cache hits included: what the upstream
    /// branches hold must stay behind their boxes. Printed, for the profile
    /// notes in docs/benchmarks.md.
    #[test]
    fn request_futures_hold_only_the_hit_path() {
        let handle = future_size(Proxy::handle);
        let serve = {
            fn size<'a, F: std::future::Future>(
                _: impl FnOnce(Arc<Proxy>, Request<Incoming>, &'a mut RequestContext) -> F,
            ) -> usize {
                std::mem::size_of::<F>()
            }
            size(Proxy::serve)
        };
        let cached = {
            fn size<'a, F: std::future::Future>(
                _: impl FnOnce(
                    &'a CachedRead,
                    CachedRoute,
                    PolicyFamily,
                    &'a str,
                    Request<Incoming>,
                    &'a mut RequestContext,
                    &'a Caller,
                ) -> F,
            ) -> usize {
                std::mem::size_of::<F>()
            }
            size(CachedRead::serve)
        };
        let decide = {
            fn size<'a, F: std::future::Future>(
                _: impl FnOnce(
                    &'a CustomerCache,
                    CachedRoute,
                    &'a str,
                    Option<&'a str>,
                    &'a http::HeaderMap,
                    crate::cache::Replica,
                ) -> F,
            ) -> usize {
                std::mem::size_of::<F>()
            }
            size(CustomerCache::decide)
        };
        eprintln!("future sizes: handle {handle} B, serve {serve} B, serve_cached {cached} B (of which the cache's decision {decide} B), context {} B", std::mem::size_of::<RequestContext>());
    }
}
