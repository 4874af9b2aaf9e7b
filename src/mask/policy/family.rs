//! Route families a field policy is chosen by: a closed set decided from [`Route`], so it
//! doubles as a metric label.

use crate::route::{Family, Route};

use super::Mode;

/// The family a response's field policy is chosen by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyFamily {
    /// `/api/v1/customer/customer/{id}` (the detail read, and the delete at the same path):
    /// a documented schema, `enforce` by default.
    CustomerDetail,
    /// `GET /api/v1/customer/customer-wallet-is-ready/{id}`: documented, `enforce` by default.
    WalletReady,
    /// Every other customer endpoint (list, create, update, enable, disable, future): the same
    /// customer object, `enforce` by default.
    Customer,
    Payin,
    Payout,
    Beneficiary,
    Checkout,
    Wallet,
    Transaction,
    MasterData,
    PaymentMethod,
    /// Any other `/api/v1/` endpoint.
    Other,
}

impl PolicyFamily {
    pub const ALL: [PolicyFamily; 12] = [
        PolicyFamily::CustomerDetail,
        PolicyFamily::WalletReady,
        PolicyFamily::Customer,
        PolicyFamily::Payin,
        PolicyFamily::Payout,
        PolicyFamily::Beneficiary,
        PolicyFamily::Checkout,
        PolicyFamily::Wallet,
        PolicyFamily::Transaction,
        PolicyFamily::MasterData,
        PolicyFamily::PaymentMethod,
        PolicyFamily::Other,
    ];

    /// The family of a routed request.
    pub fn of(route: &Route) -> PolicyFamily {
        match route {
            Route::CustomerDetail { .. } => PolicyFamily::CustomerDetail,
            Route::CustomerWalletReady { .. } => PolicyFamily::WalletReady,
            Route::CustomerList
            | Route::CustomerCreate
            | Route::CustomerUpdate
            | Route::CustomerEnable { .. }
            | Route::CustomerDisable { .. }
            | Route::CustomerDelete { .. } => PolicyFamily::Customer,
            Route::Passthrough { family } => match family {
                Family::Customer => PolicyFamily::Customer,
                Family::Payin => PolicyFamily::Payin,
                Family::Payout => PolicyFamily::Payout,
                Family::Beneficiary => PolicyFamily::Beneficiary,
                Family::Checkout => PolicyFamily::Checkout,
                Family::Transaction => PolicyFamily::Transaction,
                Family::Wallet => PolicyFamily::Wallet,
                Family::MasterData => PolicyFamily::MasterData,
                Family::PaymentMethod => PolicyFamily::PaymentMethod,
                Family::Other => PolicyFamily::Other,
            },
        }
    }

    /// The family whose policy masks an answer to `path`, **whatever the request's method**:
    /// the family of the route the path names for a read. A field policy belongs to a path
    /// pattern, so nothing a method can do — a `DELETE` of the detail's path, a `POST` whose
    /// body carries `_method=GET` for a framework that honours it — picks another policy than
    /// the one an answer at that path gets (`/customer/customer/{id}` is always
    /// `customer_detail`, whose declarations cover the detail and the delete answer).
    pub fn of_path(path: &str) -> PolicyFamily {
        PolicyFamily::of(&Route::classify(&http::Method::GET, path))
    }

    /// Configuration key, metric label and admin listing name.
    pub const fn label(self) -> &'static str {
        match self {
            PolicyFamily::CustomerDetail => "customer_detail",
            PolicyFamily::WalletReady => "wallet_ready",
            PolicyFamily::Customer => "customer",
            PolicyFamily::Payin => "payin",
            PolicyFamily::Payout => "payout",
            PolicyFamily::Beneficiary => "beneficiary",
            PolicyFamily::Checkout => "checkout",
            PolicyFamily::Wallet => "wallet",
            PolicyFamily::Transaction => "transaction",
            PolicyFamily::MasterData => "master_data",
            PolicyFamily::PaymentMethod => "payment_method",
            PolicyFamily::Other => "other",
        }
    }

    pub fn from_label(name: &str) -> Option<PolicyFamily> {
        PolicyFamily::ALL.into_iter().find(|f| f.label() == name)
    }

    /// `enforce` for the customer endpoints (a documented schema), `report` for the rest.
    pub const fn default_mode(self) -> Mode {
        match self {
            PolicyFamily::CustomerDetail | PolicyFamily::WalletReady | PolicyFamily::Customer => {
                Mode::Enforce
            }
            _ => Mode::Report,
        }
    }

    /// Position in [`PolicyFamily::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}
