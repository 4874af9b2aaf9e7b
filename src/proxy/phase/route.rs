//! Route: method + path, classified once; every later phase reads the `Route`.

use http::Method;

use super::super::context::RequestContext;
use crate::error::GatewayError;
use crate::path::ValidPath;
use crate::route::{Route, API_PREFIX};

pub(in crate::proxy) fn route(
    method: &Method,
    path: ValidPath<'_>,
    ctx: &mut RequestContext,
) -> Result<Route, GatewayError> {
    let path = path.as_str();
    if !path.starts_with(API_PREFIX) {
        return Err(GatewayError::NotFound);
    }
    let route = Route::classify(method, path);
    if crate::route::differs_only_in_case(method, path, &route) {
        return Err(GatewayError::BadPath(
            "a fixed segment differs from a route's only in letter case; paths are case-sensitive: use the documented spelling",
        ));
    }
    ctx.route = route.label_kind();
    Ok(route)
}
