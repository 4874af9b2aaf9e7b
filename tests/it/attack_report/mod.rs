//! Attack tests on the `report` field policy's newest layers: field names in values, role
//! words, renderer readings, token readings and byte-code arrays. A hostile upstream on
//! loopback, the shipped policy (`report` on every family but the customer ones),
//! HTTP/1.1 and h2c, GET (miss, then hit) and HEAD.
//!
//! A test still marked `#[ignore = "finding: …"]` is a class still open, named by the reason
//! (run them with `cargo test --test it attack_report -- --ignored`); the others are closed. Each seed is a piece of the
//! upstream value as written, so it reaches the client only if the value was copied.
//!
//! The imports the tests share live here; each submodule holds the tests of one concern.

mod labels;
mod readings;
mod roles;

use base64::Engine as _;
use http::Method;
use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::readings::assert_no_seed;
use crate::common::*;
