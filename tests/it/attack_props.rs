//! Attack tests, the held shapes as a bounded random property: documents
//! built from seeded values a detector or a rule claims (emails, phone and ID numbers in
//! several spellings, IBANs, cards) placed at random depths, under neutral and personal keys,
//! inside arrays and inside JSON-in-string, answered by a hostile upstream with a random
//! status on a `report` and an `enforce` route. No seed may reach the client over HTTP/1.1
//! or h2c, on a miss, a hit or HEAD. A fixed seed keeps it reproducible; 24 documents keep it
//! fast.

use serde_json::{json, Value};

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// A small deterministic generator (xorshift64*): the cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// A seeded value (as JSON) and the text that must never show.
fn seeded(rng: &mut Rng, n: u64) -> (Value, String) {
    let tail = 1000 + n % 9000;
    let shapes: [(Value, String); 9] = [
        (
            json!(format!("victim.p{n}@example.com")),
            format!("victim.p{n}"),
        ),
        (
            json!(format!("call +62 812 3456 {tail}")),
            format!("3456 {tail}"),
        ),
        (json!(format!("0812-3456-{tail}")), format!("3456-{tail}")),
        (
            json!(format!("NIK 317300000000{tail}")),
            format!("317300000000{tail}"),
        ),
        (
            json!(format!("wa 62812345{tail}")),
            format!("62812345{tail}"),
        ),
        (
            json!(format!("victim.p{n}%40example.com")),
            format!("victim.p{n}"),
        ),
        (json!("GB82 WEST 1234 5698 7654 32"), "5698 7654".to_owned()),
        (json!("4111-1111-1111-1111"), "1111-1111-1111".to_owned()),
        (
            json!(format!("62812345{tail}").parse::<u64>().unwrap_or(0)),
            format!("62812345{tail}"),
        ),
    ];
    rng.pick(&shapes).clone()
}

fn wrap(rng: &mut Rng, v: Value, depth: usize) -> Value {
    if depth == 0 {
        return v;
    }
    let inner = wrap(rng, v, depth - 1);
    match rng.next() % 5 {
        0 => json!([1, inner, "x"]),
        1 => json!({"note": inner, "amount": 1500}),
        2 => json!({"metadata": {"items": [inner]}}),
        3 => json!({"email": inner}),
        // JSON inside a string, as a lenient client decodes it.
        _ => Value::String(json!({"details": inner}).to_string()),
    }
}

#[tokio::test]
async fn seeded_values_at_random_places_never_reach_a_client() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let mut rng = Rng(0x21d0_5eed_cafe_f00d);
    for n in 0..24u64 {
        let mut seeds = Vec::new();
        let mut data = serde_json::Map::new();
        for k in 0..3 {
            let (v, seed) = seeded(&mut rng, n * 10 + k);
            let depth = (rng.next() % 4) as usize;
            data.insert(format!("field_{k}"), wrap(&mut rng, v, depth));
            seeds.push(seed);
        }
        let status = *rng.pick(&[
            "200 OK",
            "400 Bad Request",
            "404 Not Found",
            "503 Service Unavailable",
        ]);
        let body = json!({"status": status.starts_with('2'), "data": data}).to_string();
        let path = if n % 2 == 0 {
            format!("/api/v1/payout/attack-prop-{n}")
        } else {
            detail(&customer_id(0x21d_a00 + n))
        };
        let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
        read_everywhere(
            &app,
            &bodies,
            &path,
            status,
            &body,
            &seeds,
            &format!("case {n}: {body}"),
        )
        .await;
    }
    app.stop().await;
}

/// Held: a body of 64 KiB or more is masked on a blocking thread; the route's field policy
/// applies there as on the async path (enforce masks an undeclared note, report keeps it).
#[tokio::test]
async fn a_large_body_is_judged_under_its_route_policy() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let items: Vec<Value> = (0..6000).map(|i| json!({"n": i, "memo": "ok"})).collect();
    let body = json!({"status": true, "data": {
        "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "notes": "Alice Bigbodyname",
        "phone": "call 081234567654",
        "items": items,
    }})
    .to_string();
    assert!(body.len() > 128 * 1024);
    let enforce = read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_c01)),
        "200 OK",
        &body,
        &["Bigbodyname", "081234567654"],
        "large body, enforce",
    )
    .await;
    assert!(enforce.contains("customer_67d84b19d50b490a8fa75ab20bbf275a"));
    let report = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-large",
        "200 OK",
        &body,
        &["081234567654"],
        "large body, report",
    )
    .await;
    assert!(
        report.contains("\"memo\":\"ok\""),
        "report keeps neutral leaves"
    );
    app.stop().await;
}
