//! The pipeline's phases that are not a component of their own, one file
//! each; `pipeline.rs` owns their order.

pub(super) mod admit;
pub(super) mod authorize;
pub(super) mod finish;
mod inspect;
pub(super) mod respond;
pub(super) mod route;
