//! Objects of a payment's own values read joined: dates in the formats banks write them,
//! amounts with minor units, currency codes, statuses and statement periods come back whole,
//! however their members are ordered and nested.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::mask::policy::PolicyFamily;
use crate::mask::{default_settings, Masker};

/// `data.x` of `body` masked as a `report` family's answer.
fn masked_x(x: &Value) -> Value {
    let masker = Masker::new(&default_settings(), Some(b"joined-key")).expect("valid");
    let body = json!({"status": true, "data": {"x": x}}).to_string();
    let out = masker
        .mask_for(body.as_bytes(), PolicyFamily::Payout)
        .expect("maskable");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    v["data"]["x"].clone()
}

/// A date of `y`-`m`-`d` in the format numbered `f`.
fn date(f: u8, y: u32, m: u32, d: u32) -> String {
    match f % 7 {
        0 => format!("{y}-{m:02}-{d:02}"),
        1 => format!("{d:02}/{m:02}/{y}"),
        2 => format!("{d:02}.{m:02}.{y}"),
        3 => format!("{m:02}/{d:02}/{y}"),
        4 => format!("{d:02}-{m:02}-{y}"),
        5 => format!("{y}-{m:02}-{d:02}T{:02}:{:02}:00.000Z", d % 24, m * 4),
        _ => format!("{y}/{m:02}/{d:02} {:02}:{:02}", d % 24, m * 4),
    }
}

/// An amount of `units` and `cents` in the spelling numbered `f`.
fn amount(f: u8, units: u64, cents: u64) -> String {
    let grouped = |sep: char| {
        let digits = units.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    match f % 3 {
        0 => format!("{units}.{cents:02}"),
        1 => format!("{}.{cents:02}", grouped(',')),
        _ => format!("{},{cents:02}", grouped('.')),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A transfer row, a statement period and a list of rows: dates beside amounts, dates
    /// beside dates, in every member order.
    #[test]
    fn payment_objects_come_back_whole(
        (y, m, d) in (2000u32..2099, 1u32..=12, 1u32..=28),
        (f1, f2, fa) in (any::<u8>(), any::<u8>(), any::<u8>()),
        units in 1u64..10_000_000_000,
        cents in 0u64..100,
        status in "(PAID|SUCCESS|PENDING|FAILED|EXPIRED)",
        currency in "(IDR|SGD|USD|MYR|PHP)",
        reversed in any::<bool>(),
    ) {
        let (from, to) = (date(f1, y, m, 1), date(f2, y, m, d));
        let amount = amount(fa, units, cents);
        let mut rows = vec![
            json!({"transfer_date": from, "amount": amount, "currency": currency, "status": status}),
            json!({"tanggal_transaksi": to, "nominal": amount}),
            json!({"period": {"from": from, "to": to}, "total": amount}),
            json!({"items": [{"date": to, "amount": amount, "currency": currency},
                             {"date": from, "amount": amount, "currency": currency}]}),
            json!({"settled_at": to, "value_date": from, "fee": amount, "net": amount}),
        ];
        if reversed {
            rows.reverse();
        }
        for x in rows {
            prop_assert_eq!(masked_x(&x), x);
        }
    }
}
