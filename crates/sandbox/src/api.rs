//! `/api/v1/…`: authentication, then the endpoint.

use http::request::Parts;
use http::StatusCode;

use super::auth;
use super::customer_api;
use super::envelope::Reply;
use super::families;
use super::route::{Route, Target};
use super::state::SandboxState;

pub(crate) fn dispatch(
    state: &SandboxState,
    target: &Target<'_>,
    parts: &Parts,
    body: &[u8],
) -> Reply {
    if target.route == Route::NotFound {
        return Reply::error(StatusCode::NOT_FOUND, "not found");
    }
    if let Err(reply) = auth::check(
        &parts.method,
        &parts.headers,
        body,
        &state.token(),
        &state.signature_key(),
    ) {
        return reply.into();
    }
    let store = &state.customers;
    let id = target.id.unwrap_or_default();
    let query = parts.uri.query();
    match target.route {
        Route::CustomerDetail => customer_api::detail(store, id),
        Route::CustomerWalletReady => customer_api::wallet_ready(store, id),
        Route::CustomerList => customer_api::list(store, query),
        Route::CustomerCreate => customer_api::create(store, body),
        Route::CustomerUpdate => customer_api::update(store, body),
        Route::CustomerEnable => customer_api::set_active(store, id, true),
        Route::CustomerDisable => customer_api::set_active(store, id, false),
        Route::CustomerDelete => customer_api::delete(store, id),
        Route::WalletCreate => customer_api::create_wallet(store, body),
        Route::PayinCreate => families::payin_create(body),
        Route::PayinRetrieve => families::payin_retrieve(id),
        Route::PayinMemo => families::payin_memo(id, query),
        Route::BeneficiaryList => families::beneficiary_list(query),
        Route::Echo => families::echo(parts, body),
        // Handled before faults and authentication.
        Route::SandboxAdmin | Route::NotFound => Reply::error(StatusCode::NOT_FOUND, "not found"),
    }
}
