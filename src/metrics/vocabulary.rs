//! [`Label`] for the route and request-outcome vocabulary (leaves below the
//! registry, which cannot name `Label` themselves): implemented here, for
//! every component's families. A component's own label types implement it
//! next to themselves (the cache's eviction causes and refusals in `cache`).

use super::Label;
use crate::outcome::{Cause, LookupResult, Phase};
use crate::route::{CachedRoute, RouteLabel};

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

crate::label_by!(LookupResult, Cause, Phase);
