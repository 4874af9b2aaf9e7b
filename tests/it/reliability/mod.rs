//! Upstream faults, retries and their budget, the circuit breaker, and restarts under load.
//!
//! What the tests share (the breaker overlay) lives here; each submodule holds the tests of one
//! concern.

use crate::common::*;

mod breaker;
mod faults;
mod restarts;
mod retries;

const BREAKER: &str = r#"
[upstream.circuit_breaker]
failure_threshold = 3
cool_down = "1s"
[upstream.retry]
max_retries = 0
[cache.routes.customer_detail]
ttl = "300ms"
"#;
