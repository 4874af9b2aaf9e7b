//! Property tests for exempt shapes (attack21f finding 13): times, versions, IPv4 addresses
//! and dates are exempt from the digit detectors only within their real bounds; a component
//! of more than [`super::digits::MAX_COMPONENT_DIGITS`] digits is a digit run.

use proptest::prelude::*;

use super::Detectors;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A phone or identity number as any component of an exempt shape fires.
    #[test]
    fn identifiers_as_components_of_exempt_shapes_fire(
        id in prop_oneof!["0[1-9][0-9]{9,11}", "62[1-9][0-9]{9,10}", "[1-9][0-9]{15}"],
        h in 0u32..24, m in 0u32..60, s in 0u32..60,
        y in 2000u32..2030, mo in 1u32..=12, d in 1u32..=28,
        sep in "[.,]",
        shape in 0usize..11,
    ) {
        let text = match shape {
            0 => format!("{h:02}:{m:02}:{s:02}{sep}{id}"),
            1 => format!("{y}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{id}Z"),
            2 => format!("{y}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}{sep}{id}"),
            3 => format!("v{mo}.{id}"),
            4 => format!("{mo}.{d}.{id}"),
            5 => format!("{id}.{mo}.{d}.1"),
            6 => format!("192.168.{id}"),
            7 => format!("{mo}.{d}.3-{id}"),
            8 => format!("{y}-W{mo:02}-{id}"),
            9 => format!("PT{id}S"),
            _ => format!("{d:02}/{mo:02}/{id}"),
        };
        prop_assert!(Detectors::default().scan(&text).is_some(), "{text}");
    }

    /// The other side: times with a fraction of up to 9 digits, versions, IPv4 addresses,
    /// dates and amounts of up to 10 integer digits never fire.
    #[test]
    fn exempt_shapes_within_their_bounds_never_fire(
        frac in "[0-9]{1,9}",
        h in 0u32..24, m in 0u32..60, s in 0u32..60,
        y in 2000u32..2030, mo in 1u32..=12, d in 1u32..=28,
        v in proptest::collection::vec(0u32..1_000_000, 2..5),
        // The last octet below 100: `10.100.110.100` is also thousands grouping, a long
        // integer in an amount's spelling, which the grouped reading judges as one.
        ip in proptest::collection::vec(0u32..=255, 3),
        last in 0u32..100,
        amount in 1u64..10_000_000_000, cents in 0u32..100,
    ) {
        let version = v.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let ip = format!(
            "{}.{last}",
            ip.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
        );
        for text in [
            format!("{h:02}:{m:02}:{s:02}.{frac}"),
            format!("{y}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{frac}Z"),
            format!("{y}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02},{frac}"),
            format!("v{version}"),
            ip,
            format!("{d:02}/{mo:02}/{y}"),
            format!("{amount}.{cents:02}"),
            format!("{}.{}.{}-rc.{d}", v[0], v[1], mo),
            format!("{y}-W{mo:02}-{}", d % 7 + 1),
            format!("PT{h}H{m}M{s}S"),
            format!("INV-{y}{mo:02}{d:02}001234"),
        ] {
            prop_assert!(Detectors::default().scan(&text).is_none(), "{text}");
        }
    }
}
