//! Everything about talking to paycombat: the client, header rules, signing.

pub mod breaker;
pub mod client;
pub mod headers;
pub mod retry;
pub mod sign;
pub mod trusted;
