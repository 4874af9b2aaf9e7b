//! Independent attack (round 21f) on issue 21's promise: every JSON leaf a client receives is
//! one the gateway wrote or verified. A hostile upstream on loopback, the shipped field policy,
//! HTTP/1.1 and h2c, GET (miss, hit) and HEAD (`read_everywhere`).
//!
//! Tests marked `#[ignore = "finding N: …"]` state a class that still reaches a client.

mod attack21g;
mod attack21h;
mod enforce;
mod keys_roles;
mod overmask;
mod readings;
