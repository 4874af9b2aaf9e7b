//! The one reader of Prometheus text scrapes the tests use: series with their labels
//! unescaped, and lookups that tell an absent series from a zero one.

use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

/// One sample line of a Prometheus text scrape: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

fn parse_labels(s: &str) -> Labels {
    let mut out = Labels::new();
    let mut chars = s.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let key = key.trim_start_matches(',').trim().to_owned();
        if key.is_empty() {
            return out;
        }
        assert_eq!(chars.next(), Some('"'), "label {key} in {s}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        out.insert(key, value);
    }
}

pub fn parse(scrape: &str) -> Vec<Series> {
    scrape
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("sample line: {l}"));
            let value = value
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("value in {l}: {e}"));
            match series.split_once('{') {
                Some((name, rest)) => Series {
                    name: name.to_owned(),
                    labels: parse_labels(
                        rest.strip_suffix('}')
                            .unwrap_or_else(|| panic!("labels in {l}")),
                    ),
                    value,
                },
                None => Series {
                    name: series.to_owned(),
                    labels: Labels::new(),
                    value,
                },
            }
        })
        .collect()
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The value of the series with exactly these labels; `None` when there is none.
pub fn exact(scrape: &str, name: &str, pairs: &[(&str, &str)]) -> Option<f64> {
    let want = labels(pairs);
    parse(scrape)
        .into_iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
}

/// As [`exact`], for a series that must be there.
#[track_caller]
pub fn exact_value(scrape: &str, name: &str, pairs: &[(&str, &str)]) -> f64 {
    exact(scrape, name, pairs)
        .unwrap_or_else(|| panic!("no series {name} with exactly {pairs:?} in the scrape"))
}

impl Series {
    /// Whether every one of `pairs` is among this series' labels.
    pub fn has(&self, pairs: &[(&str, &str)]) -> bool {
        pairs
            .iter()
            .all(|(k, v)| self.labels.get(*k).is_some_and(|mine| mine == v))
    }
}

/// How far a counter moved between a scrape `before` and one `after`: a series absent
/// before counts from zero (a counter's series appears at its first increment); `None`
/// when it is absent from both (it never moved, or is misspelt: never claimed as 0).
#[track_caller]
pub fn moved(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    match (before, after) {
        (None, None) => None,
        (before, Some(after)) => Some(after - before.unwrap_or(0.0)),
        (Some(before), None) => panic!("a counter series at {before} disappeared"),
    }
}
