//! The labelled evaluation set, in two halves of two kinds each:
//!
//! - `dev.csv` / `holdout.csv`: clean rows, most with a merchant field and an MCC, as the sandbox
//!   banks send them;
//! - `hard_dev.csv` / `hard_holdout.csv`: lines as real banks print them (issue #18): acquirer
//!   strings with city and country glued on, MCCs inside the descriptor, SBP and card-to-card
//!   transfers, fines, taxes, ЕПД, з/п, deposits; almost none with an MCC or a merchant field.
//!
//! The dev halves are what the dictionary and keywords are tuned against; the held-out halves
//! were written before any tuning and are never inspected row by row: only their totals and
//! per-category figures (with the categories the misses went to) are printed. Fails below 99 %
//! on either clean half, below 98 % on the hard dev half and below 95 % on the hard held-out
//! half.
//!
//! cargo test -p crm-core --test categorisation_eval -- --nocapture
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use crm_core::categorize::{Categorizer, TransactionFacts};
use crm_core::domain::{Category, Direction};

struct Row {
    direction: Direction,
    description: String,
    merchant: Option<String>,
    mcc: Option<String>,
    expected: Category,
}

fn load(name: &str) -> Vec<Row> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/categorisation")
        .join(name);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 5, "{name}: {r:?}");
            Row {
                direction: Direction::parse(&r[0]).unwrap(),
                description: r[1].to_owned(),
                merchant: opt(&r[2]),
                mcc: opt(&r[3]),
                expected: Category::parse(&r[4]).unwrap(),
            }
        })
        .collect()
}

/// One category's figures: rows right, rows in all, and where the misses went.
#[derive(Default)]
struct Tally {
    ok: u32,
    n: u32,
    confused_with: BTreeMap<&'static str, u32>,
}

/// Scores one half; prints per-category accuracy and the categories misses went to (and, when
/// `show_misses`, the missed rows themselves).
fn evaluate(name: &str, show_misses: bool) -> f64 {
    let rows = load(name);
    let categorizer = Categorizer::new();
    let mut per: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut hits = 0u32;
    for row in &rows {
        assert!(
            row.expected.fits(row.direction),
            "{name}: a label of the other direction: {}",
            row.description
        );
        let (got, source) = categorizer.categorize(&TransactionFacts {
            direction: row.direction,
            description: &row.description,
            merchant: row.merchant.as_deref(),
            mcc: row.mcc.as_deref(),
            counterparty: None,
        });
        let tally = per.entry(row.expected.as_str()).or_default();
        tally.n += 1;
        if got == row.expected {
            tally.ok += 1;
            hits += 1;
        } else {
            *tally.confused_with.entry(got.as_str()).or_default() += 1;
            if show_misses {
                println!(
                    "  miss: {:?} / {:?} / {:?} expected {} got {} ({})",
                    row.description, row.merchant, row.mcc, row.expected, got, source
                );
            }
        }
    }
    let overall = f64::from(hits) / rows.len() as f64;
    println!(
        "{name}: {hits}/{} = {:.1} % overall",
        rows.len(),
        overall * 100.0
    );
    for (category, t) in &per {
        let confused: Vec<String> = t
            .confused_with
            .iter()
            .map(|(c, k)| format!("{c} {k}"))
            .collect();
        println!(
            "  {category:<14} {:>3}/{:<3} {:>5.1} %  {}",
            t.ok,
            t.n,
            f64::from(t.ok) * 100.0 / f64::from(t.n),
            confused.join(", ")
        );
    }
    overall
}

#[test]
fn the_evaluation_set_is_big_and_covers_every_category() {
    for (dev, holdout) in [
        ("dev.csv", "holdout.csv"),
        ("hard_dev.csv", "hard_holdout.csv"),
    ] {
        let dev = load(dev);
        let holdout = load(holdout);
        assert!(dev.len() >= 300 && holdout.len() >= 300);
        for half in [&dev, &holdout] {
            for c in Category::ALL.iter().filter(|c| c.is_flow()) {
                assert!(
                    half.iter().filter(|r| r.expected == *c).count() >= 5,
                    "{c} has fewer than five rows"
                );
            }
        }
    }
}

#[test]
fn the_hard_halves_are_lines_as_banks_print_them() {
    for name in ["hard_dev.csv", "hard_holdout.csv"] {
        let rows = load(name);
        let without_mcc = rows.iter().filter(|r| r.mcc.is_none()).count();
        let without_merchant = rows.iter().filter(|r| r.merchant.is_none()).count();
        assert!(without_mcc * 10 >= rows.len() * 7, "{name}: too many MCCs");
        assert!(
            without_merchant * 10 >= rows.len() * 7,
            "{name}: too many merchant fields"
        );
    }
}

/// Scores a half and fails below `bar` (a share, 0.99 for 99 %).
fn accuracy_at_least(name: &str, show_misses: bool, bar: f64) {
    let overall = evaluate(name, show_misses);
    assert!(
        overall >= bar,
        "{name}: accuracy {:.1} % is below {:.0} %",
        overall * 100.0,
        bar * 100.0
    );
}

#[test]
fn dev_half_accuracy_is_at_least_99_percent() {
    accuracy_at_least("dev.csv", true, 0.99);
}

#[test]
fn holdout_half_accuracy_is_at_least_99_percent() {
    accuracy_at_least("holdout.csv", false, 0.99);
}

#[test]
fn hard_dev_half_accuracy_is_at_least_98_percent() {
    accuracy_at_least("hard_dev.csv", true, 0.98);
}

#[test]
fn hard_holdout_half_accuracy_is_at_least_95_percent() {
    accuracy_at_least("hard_holdout.csv", false, 0.95);
}
