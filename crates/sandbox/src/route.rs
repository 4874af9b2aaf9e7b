//! Which endpoint a request is for; also the names of the request counters.

use http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    CustomerDetail,
    CustomerWalletReady,
    CustomerList,
    CustomerCreate,
    CustomerUpdate,
    CustomerEnable,
    CustomerDisable,
    CustomerDelete,
    WalletCreate,
    PayinCreate,
    PayinRetrieve,
    PayinMemo,
    BeneficiaryList,
    Echo,
    SandboxAdmin,
    NotFound,
}

impl Route {
    pub(crate) const ALL: [Route; 16] = [
        Route::CustomerDetail,
        Route::CustomerWalletReady,
        Route::CustomerList,
        Route::CustomerCreate,
        Route::CustomerUpdate,
        Route::CustomerEnable,
        Route::CustomerDisable,
        Route::CustomerDelete,
        Route::WalletCreate,
        Route::PayinCreate,
        Route::PayinRetrieve,
        Route::PayinMemo,
        Route::BeneficiaryList,
        Route::Echo,
        Route::SandboxAdmin,
        Route::NotFound,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Route::CustomerDetail => "customer_detail",
            Route::CustomerWalletReady => "customer_wallet_ready",
            Route::CustomerList => "customer_list",
            Route::CustomerCreate => "customer_create",
            Route::CustomerUpdate => "customer_update",
            Route::CustomerEnable => "customer_enable",
            Route::CustomerDisable => "customer_disable",
            Route::CustomerDelete => "customer_delete",
            Route::WalletCreate => "wallet_create",
            Route::PayinCreate => "payin_create",
            Route::PayinRetrieve => "payin_retrieve",
            Route::PayinMemo => "payin_memo",
            Route::BeneficiaryList => "beneficiary_list",
            Route::Echo => "echo",
            Route::SandboxAdmin => "sandbox_admin",
            Route::NotFound => "not_found",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A classified request: the route and, for `…/{id}` endpoints, the raw id segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target<'p> {
    pub route: Route,
    pub id: Option<&'p str>,
}

pub(crate) const API_PREFIX: &str = "/api/v1/";
pub(crate) const ADMIN_PREFIX: &str = "/__sandbox/";

pub(crate) fn classify<'p>(method: &Method, path: &'p str) -> Target<'p> {
    let plain = |route| Target { route, id: None };
    if path.starts_with(ADMIN_PREFIX) {
        return plain(Route::SandboxAdmin);
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return plain(Route::NotFound);
    };
    let with_id = |route, id| Target {
        route,
        id: Some(id),
    };
    // `{id}` is one segment; anything deeper is some other endpoint and echoes.
    let single = |tail: &'p str| (!tail.contains('/')).then_some(tail);

    let m = method;
    if let Some(id) = rest.strip_prefix("customer/customer/").and_then(single) {
        if m == Method::GET {
            return with_id(Route::CustomerDetail, id);
        }
        if m == Method::DELETE {
            return with_id(Route::CustomerDelete, id);
        }
    }
    if let Some(id) = rest
        .strip_prefix("customer/customer-wallet-is-ready/")
        .and_then(single)
    {
        if m == Method::GET {
            return with_id(Route::CustomerWalletReady, id);
        }
    }
    if let Some(id) = rest.strip_prefix("customer/enable/").and_then(single) {
        if m == Method::PATCH {
            return with_id(Route::CustomerEnable, id);
        }
    }
    if let Some(id) = rest.strip_prefix("customer/disable/").and_then(single) {
        if m == Method::PATCH {
            return with_id(Route::CustomerDisable, id);
        }
    }
    if let Some(id) = rest.strip_prefix("payin/retrieve-payin/").and_then(single) {
        if m == Method::GET {
            return with_id(Route::PayinRetrieve, id);
        }
    }
    if let Some(id) = rest.strip_prefix("payin/memo/").and_then(single) {
        if m == Method::GET {
            return with_id(Route::PayinMemo, id);
        }
    }
    match (m, rest) {
        (&Method::GET, "customer/customer") => plain(Route::CustomerList),
        (&Method::POST, "customer/create") => plain(Route::CustomerCreate),
        (&Method::PATCH, "customer/update") => plain(Route::CustomerUpdate),
        (&Method::POST, "wallet/create") => plain(Route::WalletCreate),
        (&Method::POST, "payin/create") => plain(Route::PayinCreate),
        (&Method::GET, "payout/beneficiary") => plain(Route::BeneficiaryList),
        _ => plain(Route::Echo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

    #[test]
    fn routes_the_documented_table() {
        let cases = [
            (
                Method::GET,
                format!("/api/v1/customer/customer/{ID}"),
                Route::CustomerDetail,
                Some(ID),
            ),
            (
                Method::DELETE,
                format!("/api/v1/customer/customer/{ID}"),
                Route::CustomerDelete,
                Some(ID),
            ),
            (
                Method::GET,
                format!("/api/v1/customer/customer-wallet-is-ready/{ID}"),
                Route::CustomerWalletReady,
                Some(ID),
            ),
            (
                Method::PATCH,
                format!("/api/v1/customer/enable/{ID}"),
                Route::CustomerEnable,
                Some(ID),
            ),
            (
                Method::PATCH,
                format!("/api/v1/customer/disable/{ID}"),
                Route::CustomerDisable,
                Some(ID),
            ),
            (
                Method::GET,
                "/api/v1/customer/customer".into(),
                Route::CustomerList,
                None,
            ),
            (
                Method::POST,
                "/api/v1/customer/create".into(),
                Route::CustomerCreate,
                None,
            ),
            (
                Method::PATCH,
                "/api/v1/customer/update".into(),
                Route::CustomerUpdate,
                None,
            ),
            (
                Method::POST,
                "/api/v1/wallet/create".into(),
                Route::WalletCreate,
                None,
            ),
            (
                Method::POST,
                "/api/v1/payin/create".into(),
                Route::PayinCreate,
                None,
            ),
            (
                Method::GET,
                "/api/v1/payin/retrieve-payin/p1".into(),
                Route::PayinRetrieve,
                Some("p1"),
            ),
            (
                Method::GET,
                "/api/v1/payin/memo/p1".into(),
                Route::PayinMemo,
                Some("p1"),
            ),
            (
                Method::GET,
                "/api/v1/payout/beneficiary".into(),
                Route::BeneficiaryList,
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/customer/customer/{ID}"),
                Route::Echo,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/customer/customer/{ID}/extra"),
                Route::Echo,
                None,
            ),
            (
                Method::POST,
                "/api/v1/payout/create-payout".into(),
                Route::Echo,
                None,
            ),
            (
                Method::GET,
                "/__sandbox/counts".into(),
                Route::SandboxAdmin,
                None,
            ),
            (Method::GET, "/healthz".into(), Route::NotFound, None),
            (Method::GET, "/api/v1".into(), Route::NotFound, None),
        ];
        for (method, path, route, id) in cases {
            assert_eq!(
                classify(&method, &path),
                Target { route, id },
                "{method} {path}"
            );
        }
    }

    #[test]
    fn names_are_unique_and_indexes_match() {
        let mut names: Vec<&str> = Route::ALL.iter().map(|r| r.name()).collect();
        for (i, r) in Route::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Route::ALL.len());
    }
}
