//! Computing signals for a whole portfolio: `BENCH_SIGNAL_CLIENTS` clients (10 000 by default)
//! seeded straight through the ledger (two accounts each, a salary and spending over six months,
//! a third of them overdrawn), all owned by one manager, then one `compute_signals` over every
//! client as the daily run does: the first run raises the signals and their tasks, the second
//! finds them all stored.
//!
//! cargo bench -p crm-core --bench signals
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p crm-core --bench signals
//! Knobs: BENCH_SIGNAL_CLIENTS (10000), BENCH_SIGNAL_ROWS per client (60).
//! Measured 2026-12-07 (2 cores, another build running): SQLite 6.5 s first, 6.1 s second;
//! PostgreSQL 8.2 s and 6.1 s (before the chunk-wide row reads: 13.5-15.7 s and 10.7-13.3 s).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::time::Instant;

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

use chrono::Utc;
use crm_core::banks::BankRegistry;
use crm_core::entity::{clients, signals, users};
use crm_core::testing::{seed_portfolio, SeedSpec, TestDatabase};
use crm_core::{Core, CoreSettings};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

#[tokio::main]
async fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = env("BENCH_SIGNAL_CLIENTS", 10_000);
    let rows = env("BENCH_SIGNAL_ROWS", 60);
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let t = TestDatabase::create(pg.as_deref()).await.unwrap();

    let started = Instant::now();
    seed_portfolio(
        &t.db,
        &SeedSpec {
            clients: n,
            transactions_per_client: rows,
            months: 6,
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    let manager = users::ActiveModel {
        username: Set("bench-manager".into()),
        password_hash: Set("x".into()),
        role: Set("MANAGER".into()),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(t.db.conn())
    .await
    .unwrap();
    clients::Entity::update_many()
        .col_expr(clients::Column::OwnerId, Expr::value(manager.id))
        .exec(t.db.conn())
        .await
        .unwrap();
    println!(
        "{backend}: {n} clients with {rows} transactions each seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let core = Core::new(
        t.db.clone(),
        CoreSettings::default(),
        BankRegistry::new(vec![]),
    )
    .unwrap();
    for run in ["first", "second"] {
        let started = Instant::now();
        let report = core.compute_signals(None, Utc::now()).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{backend}: {run} computation over {} clients: {secs:.2} s ({:.0} clients/s); raised {}, tasks {}, escalated {}, closed {}",
            report.clients,
            report.clients as f64 / secs,
            report.raised,
            report.tasks,
            report.escalated,
            report.closed
        );
    }
    let stored = signals::Entity::find().count(t.db.conn()).await.unwrap();
    println!("{backend}: {stored} signals stored");
    t.cleanup().await.unwrap();
}
