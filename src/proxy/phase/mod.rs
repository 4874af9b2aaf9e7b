//! The pipeline's phases that are not a component of their own, one file
//! each; `pipeline.rs` owns their order. Each is a function (or a small struct
//! of what it reads) over the request's context, receiving only its settings and
//! components, never the whole `Proxy` (`tests/architecture` checks it).

pub(super) mod admit;
pub(super) mod authorize;
pub(super) mod finish;
pub(super) mod inspect;
pub(super) mod respond;
pub(super) mod route;
pub(super) mod store;
pub(super) mod upstream;
