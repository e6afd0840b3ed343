//! Categorisations per second on one core: the evaluation set's rows (the two clean halves)
//! categorised over and over on this thread, with no rules, with 50 user rules, and on long
//! descriptions; then the two hard halves (lines as banks print them, issue #18).
//! The rate is given per second of this thread's CPU time (from /proc/thread-self/stat, so a
//! shared, busy machine does not halve it) and per second of wall time.
//!
//! cargo bench -p crm-core --bench categorize
//! Knobs: BENCH_SECONDS (default 3 per case).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crm_core::categorize::{Categorizer, RuleField, RuleSet, RuleSpec, TransactionFacts};
use crm_core::domain::{Category, Direction};

struct Row {
    direction: Direction,
    description: String,
    merchant: Option<String>,
    mcc: Option<String>,
}

fn load(names: &[&str]) -> Vec<Row> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/categorisation");
    let mut rows = Vec::new();
    for name in names {
        let mut reader = csv::Reader::from_path(dir.join(name)).unwrap();
        for r in reader.records() {
            let r = r.unwrap();
            let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
            rows.push(Row {
                direction: Direction::parse(&r[0]).unwrap(),
                description: r[1].to_owned(),
                merchant: opt(&r[2]),
                mcc: opt(&r[3]),
            });
        }
    }
    rows
}

/// This thread's CPU time (user + system) in seconds, where Linux tells it.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux build we run on.
    Some((utime + stime) / 100.0)
}

fn run(name: &str, rows: &[Row], seconds: f64, call: impl Fn(&TransactionFacts<'_>) -> Category) {
    let facts: Vec<TransactionFacts<'_>> = rows
        .iter()
        .map(|r| TransactionFacts {
            direction: r.direction,
            description: &r.description,
            merchant: r.merchant.as_deref(),
            mcc: r.mcc.as_deref(),
            counterparty: None,
        })
        .collect();
    // Warm up (thread-local buffers, caches).
    for f in &facts {
        black_box(call(f));
    }
    let budget = Duration::from_secs_f64(seconds);
    let cpu_started = thread_cpu_seconds();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget {
        for f in &facts {
            black_box(call(black_box(f)));
        }
        n += facts.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = match (cpu_started, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => secs,
    };
    println!(
        "{name:<40} {:>10.0}/s per CPU-second ({:.0} ns each) | {:>10.0}/s wall | {n} calls",
        n as f64 / cpu,
        cpu * 1e9 / n as f64,
        n as f64 / secs,
    );
}

fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let built = Instant::now();
    let categorizer = Categorizer::new();
    println!(
        "categoriser built in {:?}: {categorizer:?}",
        built.elapsed()
    );
    let rows = load(&["dev.csv", "holdout.csv"]);
    println!("{} rows from the evaluation set, one thread", rows.len());

    run("built-in layers", &rows, seconds, |f| {
        categorizer.categorize(f).0
    });

    let specs: Vec<RuleSpec> = (0..50)
        .map(|i| RuleSpec {
            id: i,
            pattern: format!("ООО Поставщик {i}"),
            field: if i % 2 == 0 {
                RuleField::Any
            } else {
                RuleField::Merchant
            },
            category: Category::ALL[i as usize % Category::ALL.len()],
            priority: (i % 5) as i32,
        })
        .collect();
    let built = Instant::now();
    let rules = RuleSet::new(&specs);
    println!("50 rules compiled in {:?}", built.elapsed());
    run("built-in layers + 50 user rules", &rows, seconds, |f| {
        categorizer.categorize_with(&rules, f).0
    });

    let long: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            direction: r.direction,
            description: format!(
                "{} по карте ****4821 ТЕРМИНАЛ 10293847 г. Москва, ул. Тверская, д. 7, стр. 1",
                r.description
            ),
            merchant: r.merchant.clone(),
            mcc: r.mcc.clone(),
        })
        .collect();
    run(
        "long descriptions (~110 chars) + rules",
        &long,
        seconds,
        |f| categorizer.categorize_with(&rules, f).0,
    );

    let hard = load(&["hard_dev.csv", "hard_holdout.csv"]);
    println!("{} rows as banks print them", hard.len());
    run("bank-printed lines + rules", &hard, seconds, |f| {
        categorizer.categorize_with(&rules, f).0
    });
}
