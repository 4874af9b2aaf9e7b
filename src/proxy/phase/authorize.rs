//! Authorize: client auth, allowlist and rate limit — before the cache, so a
//! hit never skips them (in cluster mode the bucket is shared through Redis:
//! one round trip). Gives back whose share of upstream slots and buffers the
//! request draws on.

use std::sync::Arc;

use http::Request;
use hyper::body::Incoming;

use super::super::context::RequestContext;
use super::admit::Anonymous;
use crate::access::{AuthMode, Presented};
use crate::auth::ClientMetrics;
use crate::cluster::Cluster;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::path::ValidPath;

/// What the authorize phase needs: the clients and how they are checked.
pub(in crate::proxy) struct Authorize<'a> {
    pub auth: &'a AuthMode,
    /// Cluster mode: rate limits shared through Redis.
    pub cluster: Option<&'a Arc<Cluster>>,
    pub metrics: &'a ClientMetrics,
    pub anonymous: &'a Anonymous,
}

impl Authorize<'_> {
    pub(in crate::proxy) async fn run(
        &self,
        req: &Request<Incoming>,
        path: ValidPath<'_>,
        ctx: &mut RequestContext,
    ) -> Result<Caller, GatewayError> {
        let mut client = None;
        let presented = Presented {
            headers: req.headers(),
            certificate: req
                .extensions()
                .get::<Arc<crate::auth::ClientCertificate>>()
                .map(|c| &**c),
            method: req.method(),
            path,
        };
        let checked = match self.cluster {
            None => self
                .auth
                .check(&presented, self.metrics, &mut client, &mut ctx.rate),
            Some(cluster) => {
                // Boxed as it is made, in a statement of its own: a future held
                // unboxed in a local (or a temporary of the awaited expression)
                // keeps its storage in this future's state, which every request,
                // cache hits included, carries and copies.
                let shared = Box::pin(self.auth.check_shared(
                    cluster,
                    &presented,
                    self.metrics,
                    &mut client,
                    &mut ctx.rate,
                ));
                shared.await
            }
        };
        if let Some(client) = &client {
            ctx.client = client.name.clone();
            ctx.requests = client.requests.clone();
        }
        checked?;
        Ok(Caller::new(
            client.as_ref().map(|c| &c.name),
            ctx.peer.ip(),
            &self.anonymous.name,
        ))
    }
}
