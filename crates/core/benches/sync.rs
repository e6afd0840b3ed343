//! End-to-end sync throughput: transactions per second from the sandbox banks over loopback
//! HTTP, through the real connectors, into the database (categorised, with counters and
//! aggregates), next to a raw bulk-insert ceiling measured the same way — the same rows inserted
//! into a fresh database of the same schema with plain multi-row INSERTs, no HTTP, no
//! categorising, no counters. Also the second (idempotent) run, which reads the overlap window.
//!
//! cargo bench -p crm-core --bench sync
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p crm-core --bench sync
//! Knobs: BENCH_SYNC_ROWS (default 200000). With mimalloc, as the `ai-crm` binary runs.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::time::Instant;

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

use crm_core::connectors::{build_registry, BankConfig, Credentials};
use crm_core::entity::{accounts, bank_links, clients, transactions};
use crm_core::sync::{SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::{Core, CoreSettings};
use crm_sandbox_bank::{Approval, Sandbox, SandboxConfig, Volume};
use sea_orm::{EntityTrait, IntoActiveModel, QueryOrder};

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::var("BENCH_SYNC_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };

    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig::default().with_volume(Volume::Total(rows)))
        .await
        .unwrap();
    println!(
        "sandbox: {rows} transactions at {} banks generated in {:.2} s",
        sandbox.banks().len(),
        started.elapsed().as_secs_f64()
    );
    let credentials = Credentials::new(sandbox.team_id(), sandbox.team_secret());
    let banks: Vec<BankConfig> = sandbox
        .banks()
        .into_iter()
        .map(|b| {
            let approval = if b.approval == Approval::ByClient {
                "client"
            } else {
                "automatic"
            };
            BankConfig::new(&b.code, &b.url, credentials.clone())
                .with_name(&b.name)
                .with_option("APPROVAL", approval)
        })
        .collect();
    let registry = build_registry(&banks).unwrap();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let mut settings = CoreSettings::default();
    settings.sync.history_days = 3650;
    let core = Core::new(tdb.db.clone(), settings, registry).unwrap();
    // As the server runs it: on PostgreSQL every write transaction also tells the other
    // replicas (a NOTIFY before its commit).
    core.start_events().await.unwrap();

    // Link every person at every bank; the clients approve every consent that waits for them.
    let mut people: Vec<String> = sandbox
        .banks()
        .iter()
        .flat_map(|b| sandbox.client_ids(&b.code))
        .collect();
    people.sort();
    people.dedup();
    for id in &people {
        core.sync().link_external_client(id, None).await.unwrap();
    }
    for bank in sandbox.banks() {
        let control = sandbox.control(&bank.code).unwrap();
        for r in control.consent_requests() {
            if r.status == "pending" {
                control.approve(&r.request_id).unwrap();
            }
        }
    }

    let t = Instant::now();
    let run = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let sync_rate = f64::from(run.added) / secs;
    println!(
        "{backend}: first sync  {} rows ({} links, status {}) in {secs:.2} s = {sync_rate:.0} rows/s",
        run.added,
        people.len(),
        run.status.as_str()
    );
    let t = Instant::now();
    let again = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    println!(
        "{backend}: second sync {} added, {} unchanged (overlap window) in {:.2} s",
        again.added,
        again.unchanged,
        t.elapsed().as_secs_f64()
    );

    // The ceiling: the same rows into a fresh database, plain multi-row inserts in transactions
    // of 5000 rows (chunks of 400 rows per statement, as the sync writes them).
    let conn = tdb.db.conn();
    let stored: Vec<transactions::Model> = transactions::Entity::find()
        .order_by_asc(transactions::Column::Id)
        .all(conn)
        .await
        .unwrap();
    let ceiling_db = TestDatabase::create(pg.as_deref()).await.unwrap();
    let target = &ceiling_db.db;
    for m in clients::Entity::find().all(conn).await.unwrap() {
        clients::Entity::insert(m.into_active_model())
            .exec_without_returning(target.conn())
            .await
            .unwrap();
    }
    for m in bank_links::Entity::find().all(conn).await.unwrap() {
        bank_links::Entity::insert(m.into_active_model())
            .exec_without_returning(target.conn())
            .await
            .unwrap();
    }
    for m in accounts::Entity::find().all(conn).await.unwrap() {
        accounts::Entity::insert(m.into_active_model())
            .exec_without_returning(target.conn())
            .await
            .unwrap();
    }
    let t = Instant::now();
    for batch in stored.chunks(5000) {
        let txn = target.begin_write().await.unwrap();
        for chunk in batch.chunks(400) {
            let models: Vec<transactions::ActiveModel> = chunk
                .iter()
                .cloned()
                .map(|m| {
                    let mut a = m.into_active_model();
                    a.id = sea_orm::ActiveValue::NotSet;
                    a.replaced_by_id = sea_orm::ActiveValue::Set(None);
                    a
                })
                .collect();
            transactions::Entity::insert_many(models)
                .exec_without_returning(&*txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let ceiling = stored.len() as f64 / secs;
    println!(
        "{backend}: ceiling     {} rows inserted raw in {secs:.2} s = {ceiling:.0} rows/s",
        stored.len()
    );
    println!(
        "{backend}: end-to-end sync reaches {:.0}% of the raw insert ceiling",
        100.0 * sync_rate / ceiling
    );
    sandbox.stop().await;
    tdb.cleanup().await.unwrap();
    ceiling_db.cleanup().await.unwrap();
}
