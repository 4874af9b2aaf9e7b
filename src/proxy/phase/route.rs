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
    ctx.route = route.label_kind();
    Ok(route)
}
