//! The reader on its own: problems built where found, several in one read.

use std::cell::Cell;
use std::time::Duration;

use serde::Deserialize;

use super::read;

fn value(toml: &str) -> config::Value {
    config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .build()
        .unwrap()
        .cache
}

thread_local! {
    /// How many times `Probe` was deserialized on this thread.
    static READS: Cell<usize> = const { Cell::new(0) };
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Probe {
    count: u32,
    size: usize,
    on: bool,
    ratio: f64,
    letter: char,
    #[serde(with = "crate::duration_text")]
    wait: Duration,
    names: Vec<String>,
    mode: Mode,
    inner: Inner,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inner {
    depth: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    weight: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Fast,
    Slow,
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        READS.with(|r| r.set(r.get() + 1));
        crate::problems::choice(d, &[("fast", Mode::Fast), ("slow", Mode::Slow)])
    }
}

const SHIPPED: &str = r#"
count = 1
size = 2
on = true
ratio = 0.5
letter = "*"
wait = "1s"
names = ["a"]
mode = "fast"
[inner]
depth = 3
"#;

fn problems(toml: &str) -> Vec<String> {
    read::<Probe>(&value(toml), Some(&value(SHIPPED)), "probe")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_shipped_values_read_clean() {
    let given = value(&format!("{SHIPPED}\n[[items]]\nname = \"a\"\nweight = 4\n"));
    let read = read::<Probe>(&given, Some(&value(SHIPPED)), "probe");
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let probe = read.value.unwrap();
    assert_eq!(probe.names, ["a"]);
    assert_eq!(
        (probe.items[0].name.as_str(), probe.items[0].weight),
        ("a", 4)
    );
    assert_eq!((probe.count, probe.size, probe.inner.depth), (1, 2, 3));
    assert_eq!(probe.wait, Duration::from_secs(1));
    assert_eq!(probe.mode, Mode::Fast);
}

/// Every wrong value of one struct is named in one read: the struct (and the
/// enum inside it) is deserialized once, each wrong value handed its default.
#[test]
fn several_problems_in_one_struct_are_found_in_one_read() {
    READS.with(|r| r.set(0));
    let read = read::<Probe>(
        &value(
            r#"
            count = -1
            size = "many"
            on = "yes"
            ratio = "x"
            letter = "ab"
            wait = "soon"
            names = "a,b"
            mode = "medium"
            typo = 1
            [inner]
            depth = 300
            "#,
        ),
        Some(&value(SHIPPED)),
        "probe",
    );
    assert_eq!(READS.with(Cell::get), 1, "read once");
    let got: Vec<String> = read.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "`probe.count`: -1 is not a whole number from 0 to 4294967295",
            r#"`probe.size`: "many" is not a whole number, 0 or more"#,
            r#"`probe.on`: "yes" is not true or false"#,
            r#"`probe.ratio`: "x" is not a number"#,
            r#"`probe.letter`: "ab" is not a single character"#,
            r#"`probe.wait`: "soon" is not a duration like "250ms", "10s" or "5m""#,
            r#"`probe.names`: "a,b" is not a list"#,
            r#"`probe.mode`: "medium" is not one of "fast", "slow""#,
            "`probe.inner.depth`: 300 is not a whole number from 0 to 255",
            "`probe.typo`: unknown key (expected one of `count`, `size`, `on`, `ratio`, \
             `letter`, `wait`, `names`, `mode`, `inner`, `items`)",
        ]
    );
    // Read, with the shipped values standing in: checked, never to be used.
    let probe = read.value.expect("stand-ins keep the read going");
    assert_eq!((probe.count, probe.inner.depth), (1, 3));
    assert_eq!(probe.mode, Mode::Fast);
    let mut replaced = read.replaced.clone();
    replaced.sort();
    assert_eq!(
        replaced,
        [
            "count",
            "inner.depth",
            "letter",
            "mode",
            "names",
            "on",
            "ratio",
            "size",
            "wait"
        ]
    );
}

/// The environment's values are strings: numbers, booleans, durations and
/// names are read from them as from TOML's own types.
#[test]
fn strings_convert_to_the_type_asked_for() {
    let read = read::<Probe>(
        &value(
            r#"
            count = "7"
            size = "8"
            on = "FALSE"
            ratio = "0.25"
            letter = "+"
            wait = "250ms"
            names = ["x", "y"]
            mode = "slow"
            [inner]
            depth = "9"
            "#,
        ),
        None,
        "",
    );
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let p = read.value.unwrap();
    assert_eq!(
        (p.count, p.size, p.on, p.ratio, p.letter),
        (7, 8, false, 0.25, '+')
    );
    assert_eq!(p.wait, Duration::from_millis(250));
    assert_eq!((p.mode, p.inner.depth), (Mode::Slow, 9));
    assert_eq!(p.names, ["x", "y"]);
}

/// A list element has no shipped default: a wrong leaf in it gets a neutral
/// stand-in, named under its index, and the other elements are still read;
/// what a type refuses itself (a missing key) is named where it surfaced.
#[test]
fn list_elements_are_named_by_index() {
    let got = problems(&format!(
        "{SHIPPED}\n[[items]]\nname = \"a\"\nweight = -2\n[[items]]\nname = 5\nweight = 1\ncolour = 1\n\
         [[items]]\nname = \"c\"\nweight = \"heavy\"\n"
    ));
    assert_eq!(
        got,
        [
            "`probe.items[0].weight`: -2 is not a whole number, 0 or more",
            "`probe.items[1].colour`: unknown key (expected one of `name`, `weight`)",
            r#"`probe.items[2].weight`: "heavy" is not a whole number, 0 or more"#,
        ]
    );
    let got = problems(&format!("{SHIPPED}\n[[items]]\nname = \"a\"\n"));
    assert_eq!(got, ["`probe.items[0].weight`: is required"]);
}

#[test]
fn a_table_where_a_value_is_asked_and_the_reverse_are_named() {
    let got = problems(&format!("{SHIPPED}\ninner = 5\n").replace("[inner]\ndepth = 3\n", ""));
    assert_eq!(got, ["`probe.inner`: 5 is not a table"]);
    let got = problems(&SHIPPED.replace("count = 1", "count = { a = 1 }"));
    assert_eq!(
        got,
        ["`probe.count`: a table is not a whole number from 0 to 4294967295"]
    );
}

/// The wording never comes from serde's English: no Rust type names.
#[test]
fn no_rust_type_names_reach_a_problem() {
    for toml in [
        SHIPPED.replace("count = 1", "count = 1.5"),
        SHIPPED.replace("ratio = 0.5", "ratio = [1]"),
        SHIPPED.replace("on = true", "on = 1"),
        SHIPPED.replace("mode = \"fast\"", "mode = 3"),
        SHIPPED.replace("wait = \"1s\"", "wait = 10"),
    ] {
        let got = problems(&toml);
        assert_eq!(got.len(), 1, "{toml}: {got:?}");
        for rust in [
            "u32",
            "u64",
            "usize",
            "f64",
            "bool",
            "enum",
            "variant",
            "invalid type",
        ] {
            assert!(!got[0].contains(rust), "{got:?}");
        }
    }
}

/// An element that is not a table is read as the shipped list's first table,
/// so the elements after it are read in the same pass.
#[test]
fn an_element_that_is_not_a_table_does_not_hide_the_next() {
    let shipped = value(&format!(
        "items = [{{ name = \"s\", weight = 1 }}]\n{SHIPPED}"
    ));
    let given = value(&format!(
        "items = [5, \"x\", {{ name = \"c\", weight = \"heavy\" }}]\n{SHIPPED}"
    ));
    let read = read::<Probe>(&given, Some(&shipped), "probe");
    let got: Vec<String> = read.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "`probe.items[0]`: 5 is not a table",
            r#"`probe.items[1]`: "x" is not a table"#,
            r#"`probe.items[2].weight`: "heavy" is not a whole number, 0 or more"#,
        ]
    );
    // Stand-ins: checked, never used; the list is what was replaced.
    assert!(
        read.replaced.iter().all(|k| k.starts_with("items[")),
        "{:?}",
        read.replaced
    );
}

/// A duration longer than a year is named (serve would otherwise start and
/// panic, a cache refusing the lifetime, after check-config passed), and the
/// read goes on; a year itself is taken.
#[test]
fn a_duration_longer_than_a_year_is_named_and_a_year_is_taken() {
    let got = problems(&SHIPPED.replace("wait = \"1s\"", "wait = \"99999999999h\""));
    assert_eq!(
        got,
        [
            r#"`probe.wait`: "99999999999h" is longer than 8760h, the longest duration the gateway takes"#
        ]
    );
    assert!(problems(&SHIPPED.replace("wait = \"1s\"", "wait = \"8760h\"")).is_empty());
    assert!(!problems(&SHIPPED.replace("wait = \"1s\"", "wait = \"8761h\"")).is_empty());
    assert_eq!(super::LONGEST_DURATION, crate::duration_text::LONGEST);
    assert_eq!(
        crate::duration_text::format(super::LONGEST_DURATION),
        "8760h"
    );
}
