//! Metric families whose label values come from closed sets.
//!
//! A family is filled only through [`Family::with`], which takes one
//! [`Label`] per label name. `str` and `String` do not implement [`Label`]:
//! the values are the gateway's own vocabulary (enums whose `as_str` is
//! their label), or names the validated configuration declares
//! ([`Configured`]), so nothing read from a request — a customer id, a path,
//! a header value — can become a label value and mint series. This module
//! imports nothing from the rest of the crate: any component can declare its
//! label enums next to itself and implement [`Label`] for them.

use std::fmt;
use std::sync::Arc;

use prometheus::core::{MetricVec, MetricVecBuilder};

/// A label value from a closed set.
pub trait Label {
    fn as_str(&self) -> &str;
}

/// A metric family with `N` labels, registered by name (the names are kept
/// as they were: dashboards, alerts and `deploy/grafana/metrics.txt` read them).
pub struct Family<V, const N: usize>(V);

impl<V: Clone, const N: usize> Clone for Family<V, N> {
    fn clone(&self) -> Self {
        Family(self.0.clone())
    }
}

impl<T: MetricVecBuilder, const N: usize> Family<MetricVec<T>, N> {
    /// Wraps a family already registered with `N` label names.
    pub(crate) fn new(vec: MetricVec<T>) -> Self {
        Family(vec)
    }

    /// The series for these label values, in the family's label order.
    pub fn with(&self, labels: [&dyn Label; N]) -> T::M {
        let values: [&str; N] = labels.map(|l| l.as_str());
        self.0.with_label_values(&values)
    }
}

/// A family is a collector like the vec it wraps: a family registered by a
/// collector of its own (read at scrape time) hands its `desc`/`collect` on.
impl<V: prometheus::core::Collector, const N: usize> prometheus::core::Collector for Family<V, N> {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.0.collect()
    }
}

/// A name the validated configuration declares: a client of the clients
/// file (or the fixed `anonymous`), a masking rule, a listed response header.
/// The set is fixed when the configuration is loaded, so such a name is a
/// closed label value; made only where the configuration is read.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Configured(Arc<str>);

impl Configured {
    /// `name` must come from validated configuration (or be a fixed word of
    /// the gateway's own): it becomes a label value.
    pub fn declared(name: impl Into<Arc<str>>) -> Configured {
        Configured(name.into())
    }

    /// The label of requests from no known client.
    pub fn anonymous() -> Configured {
        static ANONYMOUS: std::sync::LazyLock<Configured> =
            std::sync::LazyLock::new(|| Configured::declared("anonymous"));
        ANONYMOUS.clone()
    }

    /// The shared string, for keys that outlive a label (shares, breakers).
    pub fn shared(&self) -> &Arc<str> {
        &self.0
    }
}

impl std::ops::Deref for Configured {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Label for Configured {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// Declares a closed set of label values: the enum, `ALL` (for pre-creating
/// series) and its [`Label`] impl, from one table so they cannot drift apart.
#[macro_export]
macro_rules! label_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($variant:ident => $value:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($variant,)+
        }

        impl $name {
            #[allow(dead_code)]
            pub const ALL: [$name; [$($value),+].len()] = [$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }

        impl $crate::metrics::Label for $name {
            fn as_str(&self) -> &str {
                $name::as_str(*self)
            }
        }
    };
}

/// Makes an existing closed enum a label: its `label()` is its value.
#[macro_export]
macro_rules! label_by {
    ($($name:ty),+ $(,)?) => {
        $(impl $crate::metrics::Label for $name {
            fn as_str(&self) -> &str {
                self.label()
            }
        })+
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{IntCounterVec, Opts};

    crate::label_enum! {
        enum Colour {
            Red => "red",
            Blue => "blue",
        }
    }

    #[test]
    fn a_family_counts_under_the_labels_as_str() {
        let vec = IntCounterVec::new(Opts::new("t_total", "t"), &["colour", "who"]).unwrap();
        let family: Family<IntCounterVec, 2> = Family::new(vec.clone());
        let who = Configured::declared("svc");
        family.with([&Colour::Red, &who]).inc();
        family.with([&Colour::Red, &who]).inc();
        assert_eq!(vec.with_label_values(&["red", "svc"]).get(), 2);
        assert_eq!(vec.with_label_values(&["blue", "svc"]).get(), 0);
        assert_eq!(Colour::ALL.map(Colour::as_str), ["red", "blue"]);
    }

    /// The class, not the example: outside [`Family::with`] no code fills a
    /// label with a string, so every label value goes through [`Label`].
    #[test]
    fn no_component_fills_labels_with_strings() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        assert!(files.len() > 50, "found the sources");
        let this = src.join("metrics").join("family.rs");
        let offenders: Vec<_> = files
            .iter()
            .filter(|f| **f != this)
            .filter(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .contains(concat!("with_label", "_values"))
            })
            .collect();
        assert!(offenders.is_empty(), "{offenders:?}");
    }
}
