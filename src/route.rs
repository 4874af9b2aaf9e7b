//! The route table: which paycombat endpoint a request is, decided once from
//! method and path. Everything downstream (cache, invalidation, metrics labels,
//! access log) reads the `Route`, never the raw path. It is vocabulary: it
//! imports nothing of the gateway.

use http::Method;

mod case;
pub use case::differs_only_in_case;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    CustomerDetail {
        customer_id: String,
    },
    CustomerWalletReady {
        customer_id: String,
    },
    CustomerList,
    CustomerCreate,
    CustomerUpdate,
    CustomerEnable {
        customer_id: String,
    },
    CustomerDisable {
        customer_id: String,
    },
    CustomerDelete {
        customer_id: String,
    },
    /// Any other `/api/v1/` endpoint: forwarded untouched (credentials and masking aside).
    Passthrough {
        family: Family,
    },
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

/// Declares [`RouteLabel`] from one table of variant => label, so the enum,
/// its [`RouteLabel::ALL`] order and its names cannot drift apart.
macro_rules! route_labels {
    ($($variant:ident => $name:literal,)+) => {
        /// Every value the `route` metric label can take: one per route, one per
        /// family for the endpoints the table does not name (other customer
        /// endpoints, e.g. future ones, are `customer_other`), and `rejected` for
        /// requests refused before they were routed. Its discriminant indexes
        /// per-route metric handles resolved once, so the hot path hashes no labels.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum RouteLabel {
            $($variant,)+
        }

        impl RouteLabel {
            pub const ALL: [RouteLabel; [$($name),+].len()] = [$(Self::$variant),+];

            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }
    };
}

route_labels! {
    CustomerDetail => "customer_detail",
    CustomerWalletReady => "customer_wallet_ready",
    CustomerList => "customer_list",
    CustomerCreate => "customer_create",
    CustomerUpdate => "customer_update",
    CustomerEnable => "customer_enable",
    CustomerDisable => "customer_disable",
    CustomerDelete => "customer_delete",
    CustomerOther => "customer_other",
    Payin => "payin",
    Payout => "payout",
    Beneficiary => "beneficiary",
    Checkout => "checkout",
    Transaction => "transaction",
    Wallet => "wallet",
    MasterData => "master_data",
    PaymentMethod => "payment_method",
    Other => "other",
    Rejected => "rejected",
}

impl RouteLabel {
    /// Position in [`RouteLabel::ALL`] and [`ROUTE_LABELS`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// [`RouteLabel::name`] of every label, in [`RouteLabel::ALL`] order.
pub const ROUTE_LABELS: [&str; RouteLabel::ALL.len()] = {
    let mut names = [""; RouteLabel::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = RouteLabel::ALL[i].name();
        i += 1;
    }
    names
};

impl Route {
    /// Classifies a request whose path already passed `path::validate` and
    /// starts with `/api/v1/`.
    pub fn classify(method: &Method, path: &str) -> Route {
        let rest = path.strip_prefix(API_PREFIX).unwrap_or("");
        // The two cached reads are most of the traffic and every cache hit:
        // two prefix comparisons instead of splitting the path. The table
        // below gives the same answer (a property test holds them equal).
        if method == Method::GET {
            let last = |id: &str| !id.is_empty() && !id.contains('/');
            if let Some(cid) = rest
                .strip_prefix("customer/customer/")
                .filter(|id| last(id))
            {
                return Route::CustomerDetail {
                    customer_id: cid.to_owned(),
                };
            }
            if let Some(cid) = rest
                .strip_prefix("customer/customer-wallet-is-ready/")
                .filter(|id| last(id))
            {
                return Route::CustomerWalletReady {
                    customer_id: cid.to_owned(),
                };
            }
        }
        Self::by_segments(method, rest)
    }

    /// The route table over the segments after `/api/v1/`.
    fn by_segments(method: &Method, rest: &str) -> Route {
        // At most four segments matter; a fifth makes the path a passthrough.
        // A stack array, not a Vec: this runs on every request.
        let mut buf = [""; 5];
        let mut n = 0;
        for seg in rest.splitn(5, '/') {
            buf[n] = seg;
            n += 1;
        }
        let segs = &buf[..n];
        let id = |s: &str| s.to_owned();
        match (method, segs) {
            (&Method::GET, ["customer", "customer", cid]) if !cid.is_empty() => {
                Route::CustomerDetail {
                    customer_id: id(cid),
                }
            }
            (&Method::GET, ["customer", "customer-wallet-is-ready", cid]) if !cid.is_empty() => {
                Route::CustomerWalletReady {
                    customer_id: id(cid),
                }
            }
            (&Method::GET, ["customer", "customer"]) => Route::CustomerList,
            (&Method::POST, ["customer", "create"]) => Route::CustomerCreate,
            (&Method::PATCH, ["customer", "update"]) => Route::CustomerUpdate,
            (&Method::PATCH, ["customer", "enable", cid]) if !cid.is_empty() => {
                Route::CustomerEnable {
                    customer_id: id(cid),
                }
            }
            (&Method::PATCH, ["customer", "disable", cid]) if !cid.is_empty() => {
                Route::CustomerDisable {
                    customer_id: id(cid),
                }
            }
            (&Method::DELETE, ["customer", "customer", cid]) if !cid.is_empty() => {
                Route::CustomerDelete {
                    customer_id: id(cid),
                }
            }
            _ => Route::Passthrough {
                family: Family::of(segs.first().copied().unwrap_or(""), segs.get(1).copied()),
            },
        }
    }

    /// The metric label and access-log route: a template name, never an id.
    pub fn label(&self) -> &'static str {
        self.label_kind().name()
    }

    pub fn label_kind(&self) -> RouteLabel {
        match self {
            Route::CustomerDetail { .. } => RouteLabel::CustomerDetail,
            Route::CustomerWalletReady { .. } => RouteLabel::CustomerWalletReady,
            Route::CustomerList => RouteLabel::CustomerList,
            Route::CustomerCreate => RouteLabel::CustomerCreate,
            Route::CustomerUpdate => RouteLabel::CustomerUpdate,
            Route::CustomerEnable { .. } => RouteLabel::CustomerEnable,
            Route::CustomerDisable { .. } => RouteLabel::CustomerDisable,
            Route::CustomerDelete { .. } => RouteLabel::CustomerDelete,
            Route::Passthrough { family } => family.route_label(),
        }
    }

    /// The cached route this is, with its customer id; None for every route
    /// the cache never answers.
    pub fn cached(&self) -> Option<(CachedRoute, &str)> {
        match self {
            Route::CustomerDetail { customer_id } => {
                Some((CachedRoute::CustomerDetail, customer_id))
            }
            Route::CustomerWalletReady { customer_id } => {
                Some((CachedRoute::CustomerWalletReady, customer_id))
            }
            _ => None,
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
        self.route_label().name()
    }

    pub fn route_label(self) -> RouteLabel {
        match self {
            Family::Customer => RouteLabel::CustomerOther,
            Family::Payin => RouteLabel::Payin,
            Family::Payout => RouteLabel::Payout,
            Family::Beneficiary => RouteLabel::Beneficiary,
            Family::Checkout => RouteLabel::Checkout,
            Family::Transaction => RouteLabel::Transaction,
            Family::Wallet => RouteLabel::Wallet,
            Family::MasterData => RouteLabel::MasterData,
            Family::PaymentMethod => RouteLabel::PaymentMethod,
            Family::Other => RouteLabel::Other,
        }
    }
}

/// A route whose responses may be cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CachedRoute {
    /// `GET /api/v1/customer/customer/{customer_id}`
    CustomerDetail,
    /// `GET /api/v1/customer/customer-wallet-is-ready/{customer_id}`
    CustomerWalletReady,
}

impl CachedRoute {
    pub const ALL: [CachedRoute; 2] = [Self::CustomerDetail, Self::CustomerWalletReady];

    /// Stable name: config table name and metric label value.
    pub fn name(self) -> &'static str {
        match self {
            Self::CustomerDetail => "customer_detail",
            Self::CustomerWalletReady => "customer_wallet_ready",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Self::CustomerDetail => 0,
            Self::CustomerWalletReady => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every label a routed request may get: all of them but `rejected`,
    /// which only requests refused before routing carry.
    const LABELS: &[&str] = ROUTE_LABELS.split_at(RouteLabel::Rejected.index()).0;

    fn method() -> impl Strategy<Value = Method> {
        prop_oneof![
            Just(Method::GET),
            Just(Method::POST),
            Just(Method::PATCH),
            Just(Method::PUT),
            Just(Method::DELETE),
            Just(Method::HEAD),
            Just(Method::OPTIONS),
        ]
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("customer".to_owned()),
            Just("customer-wallet-is-ready".to_owned()),
            Just("create".to_owned()),
            Just("update".to_owned()),
            Just("enable".to_owned()),
            Just("disable".to_owned()),
            Just("payout".to_owned()),
            Just("beneficiary".to_owned()),
            Just(String::new()),
            "customer_[0-9a-f]{32}",
            "[a-z%0-9._-]{0,12}",
            any::<String>(),
        ]
    }

    fn check(method: &Method, path: &str) {
        let route = Route::classify(method, path);
        assert!(
            LABELS.contains(&route.label()),
            "{path:?} -> {}",
            route.label()
        );
        let id = match &route {
            Route::CustomerDetail { customer_id }
            | Route::CustomerWalletReady { customer_id }
            | Route::CustomerEnable { customer_id }
            | Route::CustomerDisable { customer_id }
            | Route::CustomerDelete { customer_id } => Some(customer_id.as_str()),
            _ => None,
        };
        if let Some(id) = id {
            // The id is exactly the last segment: never empty, never spanning segments.
            assert!(!id.is_empty() && !id.contains('/'), "{path:?}");
            assert!(path.ends_with(&format!("/{id}")), "{path:?}");
            assert_eq!(path.matches('/').count(), 5, "{path:?}");
        }
        // Only the two cached reads are the cache's, with the id the route holds.
        let cached = route.cached();
        assert_eq!(
            cached.is_some(),
            matches!(
                route,
                Route::CustomerDetail { .. } | Route::CustomerWalletReady { .. }
            ),
            "{path:?}"
        );
        if let Some((_, cached_id)) = cached {
            assert_eq!(Some(cached_id), id, "{path:?}");
        }
        let writes = matches!(
            route,
            Route::CustomerEnable { .. }
                | Route::CustomerDisable { .. }
                | Route::CustomerDelete { .. }
        );
        assert_eq!(route.written_customer().is_some(), writes);
        if matches!(
            route,
            Route::CustomerDetail { .. } | Route::CustomerWalletReady { .. }
        ) {
            assert_eq!(method, Method::GET, "only GETs are cached reads");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn classify_never_panics_and_labels_are_bounded(
            m in method(),
            segs in prop::collection::vec(segment(), 0..6),
        ) {
            check(&m, &format!("{API_PREFIX}{}", segs.join("/")));
        }

        /// The quick match of the cached reads agrees with the route table.
        #[test]
        fn quick_match_agrees_with_the_table(
            m in method(),
            segs in prop::collection::vec(segment(), 0..6),
        ) {
            let rest = segs.join("/");
            prop_assert_eq!(
                Route::classify(&m, &format!("{API_PREFIX}{rest}")),
                Route::by_segments(&m, &rest)
            );
        }

        #[test]
        fn classify_takes_any_string(m in method(), path in any::<String>()) {
            // Only validated /api/v1/ paths reach classify, but it must not panic on others.
            let route = Route::classify(&m, &path);
            prop_assert!(LABELS.contains(&route.label()));
        }
    }

    const ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

    #[test]
    fn customer_routes() {
        let p = format!("/api/v1/customer/customer/{ID}");
        assert_eq!(
            Route::classify(&Method::GET, &p),
            Route::CustomerDetail {
                customer_id: ID.into()
            }
        );
        assert_eq!(
            Route::classify(&Method::DELETE, &p).written_customer(),
            Some(ID)
        );
        let w = format!("/api/v1/customer/customer-wallet-is-ready/{ID}");
        assert_eq!(
            Route::classify(&Method::GET, &w).label(),
            "customer_wallet_ready"
        );
        let d = format!("/api/v1/customer/disable/{ID}");
        assert_eq!(
            Route::classify(&Method::PATCH, &d).written_customer(),
            Some(ID)
        );
        assert_eq!(
            Route::classify(&Method::GET, &p).cached(),
            Some((CachedRoute::CustomerDetail, ID))
        );
        assert_eq!(
            Route::classify(&Method::GET, &w).cached(),
            Some((CachedRoute::CustomerWalletReady, ID))
        );
        assert_eq!(Route::classify(&Method::DELETE, &p).cached(), None);
        // The same path with another method is not a cached read.
        assert_eq!(Route::classify(&Method::POST, &p).label(), "customer_other");
        assert_eq!(
            Route::classify(&Method::GET, "/api/v1/customer/customer").label(),
            "customer_list"
        );
    }

    #[test]
    fn label_table_is_consistent() {
        assert_eq!(ROUTE_LABELS[RouteLabel::Rejected.index()], "rejected");
        for (i, label) in RouteLabel::ALL.iter().enumerate() {
            assert_eq!(label.index(), i, "ALL is in declaration order");
        }
        let mut seen = std::collections::HashSet::new();
        assert!(
            ROUTE_LABELS.iter().all(|l| seen.insert(*l)),
            "labels are distinct"
        );
        assert_eq!(Family::Other.label(), "other");
        assert_eq!(Family::Customer.label(), "customer_other");
        assert_eq!(Family::PaymentMethod.label(), "payment_method");
    }

    #[test]
    fn families_are_bounded() {
        assert_eq!(
            Route::classify(&Method::POST, "/api/v1/payin/create").label(),
            "payin"
        );
        assert_eq!(
            Route::classify(&Method::GET, "/api/v1/payout/beneficiary").label(),
            "beneficiary"
        );
        assert_eq!(
            Route::classify(&Method::GET, "/api/v1/zzz-new/thing").label(),
            "other"
        );
        assert_eq!(Route::classify(&Method::GET, "/api/v1/").label(), "other");
    }
}
