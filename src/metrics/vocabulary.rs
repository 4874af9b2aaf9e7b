//! [`Label`] for the route, cache and request-outcome vocabulary the
//! registry already names (it pre-creates their series): implemented here,
//! not in those modules, so they need not import the registry back.

use super::Label;
use crate::cache::{CachedRoute, EvictionCause, LookupResult, Refusal};
use crate::outcome::{Cause, Phase};
use crate::route::RouteLabel;

impl Label for RouteLabel {
    fn as_str(&self) -> &str {
        self.name()
    }
}

impl Label for CachedRoute {
    fn as_str(&self) -> &str {
        self.name()
    }
}

crate::label_by!(LookupResult, EvictionCause, Refusal, Cause, Phase);
