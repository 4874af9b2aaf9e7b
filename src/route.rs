//! The route table: which paycombat endpoint a request is, decided once from
//! method and path. Everything downstream (cache, invalidation, metrics labels,
//! access log) reads the `Route`, never the raw path.

use http::Method;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    CustomerDetail { customer_id: String },
    CustomerWalletReady { customer_id: String },
    CustomerList,
    CustomerCreate,
    CustomerUpdate,
    CustomerEnable { customer_id: String },
    CustomerDisable { customer_id: String },
    CustomerDelete { customer_id: String },
    /// Any other `/api/v1/` endpoint: forwarded untouched (credentials and masking aside).
    Passthrough { family: Family },
}

/// Endpoint families, for metric labels. A bounded set: an unknown first
/// segment is `Other`, so a client cannot mint label values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Customer,
    Payin,
    Payout,
    Beneficiary,
    Checkout,
    Transaction,
    Wallet,
    MasterData,
    PaymentMethod,
    Other,
}

pub const API_PREFIX: &str = "/api/v1/";

impl Route {
    /// Classifies a request whose path already passed `path::validate` and
    /// starts with `/api/v1/`.
    pub fn classify(method: &Method, path: &str) -> Route {
        let rest = path.strip_prefix(API_PREFIX).unwrap_or("");
        let segs: Vec<&str> = rest.split('/').collect();
        let id = |s: &str| s.to_owned();
        match (method, segs.as_slice()) {
            (&Method::GET, ["customer", "customer", cid]) if !cid.is_empty() => {
                Route::CustomerDetail { customer_id: id(cid) }
            }
            (&Method::GET, ["customer", "customer-wallet-is-ready", cid]) if !cid.is_empty() => {
                Route::CustomerWalletReady { customer_id: id(cid) }
            }
            (&Method::GET, ["customer", "customer"]) => Route::CustomerList,
            (&Method::POST, ["customer", "create"]) => Route::CustomerCreate,
            (&Method::PATCH, ["customer", "update"]) => Route::CustomerUpdate,
            (&Method::PATCH, ["customer", "enable", cid]) if !cid.is_empty() => {
                Route::CustomerEnable { customer_id: id(cid) }
            }
            (&Method::PATCH, ["customer", "disable", cid]) if !cid.is_empty() => {
                Route::CustomerDisable { customer_id: id(cid) }
            }
            (&Method::DELETE, ["customer", "customer", cid]) if !cid.is_empty() => {
                Route::CustomerDelete { customer_id: id(cid) }
            }
            _ => Route::Passthrough {
                family: Family::of(segs.first().copied().unwrap_or(""), segs.get(1).copied()),
            },
        }
    }

    /// The metric label and access-log route: a template name, never an id.
    pub fn label(&self) -> &'static str {
        match self {
            Route::CustomerDetail { .. } => "customer_detail",
            Route::CustomerWalletReady { .. } => "customer_wallet_ready",
            Route::CustomerList => "customer_list",
            Route::CustomerCreate => "customer_create",
            Route::CustomerUpdate => "customer_update",
            Route::CustomerEnable { .. } => "customer_enable",
            Route::CustomerDisable { .. } => "customer_disable",
            Route::CustomerDelete { .. } => "customer_delete",
            Route::Passthrough { family } => family.label(),
        }
    }

    /// The customer a write names in its path (enable, disable, delete).
    pub fn written_customer(&self) -> Option<&str> {
        match self {
            Route::CustomerEnable { customer_id }
            | Route::CustomerDisable { customer_id }
            | Route::CustomerDelete { customer_id } => Some(customer_id),
            _ => None,
        }
    }
}

impl Family {
    fn of(first: &str, second: Option<&str>) -> Family {
        match first {
            "customer" => Family::Customer,
            "payin" => Family::Payin,
            "payout" if second.is_some_and(|s| s.contains("beneficiary")) => Family::Beneficiary,
            "payout" => Family::Payout,
            "beneficiary" | "payout-beneficiary" => Family::Beneficiary,
            "checkout" => Family::Checkout,
            "transaction" => Family::Transaction,
            "wallet" => Family::Wallet,
            "master-data" | "master_data" | "masterdata" => Family::MasterData,
            "payment-method" | "payment_method" => Family::PaymentMethod,
            _ => Family::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            // Other customer endpoints (e.g. future ones) still get their family.
            Family::Customer => "customer_other",
            Family::Payin => "payin",
            Family::Payout => "payout",
            Family::Beneficiary => "beneficiary",
            Family::Checkout => "checkout",
            Family::Transaction => "transaction",
            Family::Wallet => "wallet",
            Family::MasterData => "master_data",
            Family::PaymentMethod => "payment_method",
            Family::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

    #[test]
    fn customer_routes() {
        let p = format!("/api/v1/customer/customer/{ID}");
        assert_eq!(
            Route::classify(&Method::GET, &p),
            Route::CustomerDetail { customer_id: ID.into() }
        );
        assert_eq!(
            Route::classify(&Method::DELETE, &p).written_customer(),
            Some(ID)
        );
        let w = format!("/api/v1/customer/customer-wallet-is-ready/{ID}");
        assert_eq!(Route::classify(&Method::GET, &w).label(), "customer_wallet_ready");
        let d = format!("/api/v1/customer/disable/{ID}");
        assert_eq!(Route::classify(&Method::PATCH, &d).written_customer(), Some(ID));
        // The same path with another method is not a cached read.
        assert_eq!(Route::classify(&Method::POST, &p).label(), "customer_other");
        assert_eq!(Route::classify(&Method::GET, "/api/v1/customer/customer").label(), "customer_list");
    }

    #[test]
    fn families_are_bounded() {
        assert_eq!(Route::classify(&Method::POST, "/api/v1/payin/create").label(), "payin");
        assert_eq!(Route::classify(&Method::GET, "/api/v1/payout/beneficiary").label(), "beneficiary");
        assert_eq!(Route::classify(&Method::GET, "/api/v1/zzz-new/thing").label(), "other");
        assert_eq!(Route::classify(&Method::GET, "/api/v1/").label(), "other");
    }
}
