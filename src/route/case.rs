//! Letter case in the route table's fixed segments.
//!
//! The gateway routes on the exact spelling, but a server that routes case-insensitively
//! (Express's default, ASP.NET Core, IIS) serves `/api/v1/Customer/customer/{id}` as the
//! customer detail. Forwarded as another family's passthrough, that answer would be
//! cached, authorised and masked under the wrong route's rules (the customer detail's
//! `enforce` policy became a passthrough's `report`). So a path whose fixed segments
//! differ from a route only in ASCII letter case is refused; ids keep their case, and a
//! path that is no route in any case is routed as before. Raw non-ASCII never reaches
//! here (path rules), and percent-encoded letters are refused there too, so ASCII case
//! is the only other spelling a router can fold.

use http::Method;

use super::{Route, API_PREFIX};

/// Fixed segments compared: the family and the endpoint (`customer/customer-wallet-is-ready`);
/// what follows is ids and sub-paths the table does not name.
const FIXED: usize = 2;

/// Whether `path` (after the path rules, starting with `/api/v1/`) names another route
/// than `route` once its fixed segments are lower-cased.
pub fn differs_only_in_case(method: &Method, path: &str, route: &Route) -> bool {
    // Every route of the table is named only for its exact lower-case spelling of the
    // fixed segments (`Route::classify` compares them byte for byte), so folding such a
    // path changes nothing: only a passthrough can be a case variant of something else.
    // This is every cache hit's answer, told without looking at the path.
    if !matches!(route, Route::Passthrough { .. }) {
        return false;
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return false;
    };
    // Every request is routed (cache hits included): the exact spelling, the common case,
    // is told by one scan of the fixed segments, with nothing allocated.
    let fixed_len = rest
        .match_indices('/')
        .nth(FIXED - 1)
        .map_or(rest.len(), |(i, _)| i);
    let (fixed, tail) = rest.split_at(fixed_len);
    if !fixed.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let folded = format!("{API_PREFIX}{}{tail}", fixed.to_ascii_lowercase());
    Route::classify(method, &folded) != *route
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The answer without the table routes' shortcut: fold, classify again, compare.
    fn by_folding(method: &Method, path: &str, route: &Route) -> bool {
        let Some(rest) = path.strip_prefix(API_PREFIX) else {
            return false;
        };
        let fixed_len = rest
            .match_indices('/')
            .nth(FIXED - 1)
            .map_or(rest.len(), |(i, _)| i);
        let (fixed, tail) = rest.split_at(fixed_len);
        let folded = format!("{API_PREFIX}{}{tail}", fixed.to_ascii_lowercase());
        Route::classify(method, &folded) != *route
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The shortcut for table routes gives the full check's answer, for paths made
        /// of the table's own segments in any case, ids and unknown segments.
        #[test]
        fn the_shortcut_agrees_with_folding(
            method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PATCH), Just(Method::DELETE)],
            segs in prop::collection::vec(
                prop_oneof![
                    Just("customer"), Just("Customer"), Just("CUSTOMER"), Just("customer-wallet-is-ready"),
                    Just("Customer-Wallet-Is-Ready"), Just("create"), Just("Create"), Just("update"),
                    Just("enable"), Just("Disable"), Just("payin"), Just("Payout"), Just("beneficiary"),
                    Just("customer_AbC"), Just("x"),
                ],
                0..5,
            ),
        ) {
            let path = format!("{API_PREFIX}{}", segs.join("/"));
            let route = Route::classify(&method, &path);
            prop_assert_eq!(
                differs_only_in_case(&method, &path, &route),
                by_folding(&method, &path, &route),
                "{} {}", method, path
            );
        }
    }

    fn refused(method: Method, path: &str) -> bool {
        differs_only_in_case(&method, path, &Route::classify(&method, path))
    }

    #[test]
    fn a_case_variant_of_a_route_or_family_is_refused() {
        for path in [
            "/api/v1/Customer/customer/customer_abc",
            "/api/v1/customer/Customer/customer_abc",
            "/api/v1/CUSTOMER/CUSTOMER-WALLET-IS-READY/customer_abc",
            "/api/v1/customer/Customer",
            "/api/v1/Payin/anything",
            "/api/v1/payout/Beneficiary/list",
        ] {
            assert!(refused(Method::GET, path), "{path}");
        }
        assert!(refused(Method::PATCH, "/api/v1/customer/Update"));
        assert!(refused(
            Method::PATCH,
            "/api/v1/Customer/enable/customer_abc"
        ));
    }

    #[test]
    fn exact_spellings_ids_and_unknown_paths_pass() {
        for path in [
            "/api/v1/customer/customer/Customer_ABC",
            "/api/v1/customer/customer-wallet-is-ready/AbC",
            "/api/v1/payin/Create",
            "/api/v1/payin/x/Y/Z",
            "/api/v1/Unknown/Thing",
            "/api/v1/other",
        ] {
            assert!(!refused(Method::GET, path), "{path}");
        }
    }

    /// Property (the class): no spelling of a route's fixed segments in another case is
    /// routed differently from the route without being refused, and no exact spelling
    /// is refused.
    #[test]
    fn no_case_variant_is_routed_as_something_else() {
        let routes = [
            (Method::GET, "/api/v1/customer/customer/Customer_Id"),
            (Method::GET, "/api/v1/customer/customer-wallet-is-ready/Id"),
            (Method::GET, "/api/v1/customer/customer"),
            (Method::POST, "/api/v1/customer/create"),
            (Method::PATCH, "/api/v1/customer/update"),
            (Method::PATCH, "/api/v1/customer/enable/Id"),
            (Method::PATCH, "/api/v1/customer/disable/Id"),
            (Method::DELETE, "/api/v1/customer/customer/Id"),
            (Method::POST, "/api/v1/payin/create"),
            (Method::GET, "/api/v1/payout/beneficiary/list"),
            (Method::POST, "/api/v1/payout-beneficiary/create"),
            (Method::GET, "/api/v1/checkout/Id"),
            (Method::GET, "/api/v1/transaction/list"),
            (Method::GET, "/api/v1/wallet/balance"),
            (Method::GET, "/api/v1/master-data/banks"),
            (Method::GET, "/api/v1/payment-method/list"),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut coin = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % 3 == 0
        };
        for (method, path) in routes {
            assert!(!refused(method.clone(), path), "{method} {path}");
            let exact = Route::classify(&method, path);
            let rest = path.strip_prefix(API_PREFIX).unwrap();
            for _ in 0..200 {
                let variant: Vec<String> = rest
                    .splitn(FIXED + 1, '/')
                    .enumerate()
                    .map(|(n, seg)| {
                        if n < FIXED {
                            seg.chars()
                                .map(|c| if coin() { c.to_ascii_uppercase() } else { c })
                                .collect()
                        } else {
                            seg.to_owned()
                        }
                    })
                    .collect();
                let variant = format!("{API_PREFIX}{}", variant.join("/"));
                assert!(
                    refused(method.clone(), &variant)
                        || Route::classify(&method, &variant) == exact,
                    "{method} {variant} is routed as another route than {path}"
                );
            }
        }
    }
}
