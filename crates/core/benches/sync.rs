//! End-to-end sync throughput: transactions per second from the sandbox banks over loopback
//! HTTP, through the real connectors, into the database (categorised, with counters and
//! aggregates), next to a ceiling measured the same way — the same rows upserted into a fresh
//! database of the same schema, no HTTP, no categorising, no counters. Also the second
//! (idempotent) run, which reads the overlap window. The ceiling is the same shape of write as
//! the sync's: an idempotent upsert (`ON CONFLICT DO NOTHING` on the account's external id)
//! into a table with all our indexes, done the fastest way found for each database.
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

    // The same-shape ceiling: the same rows into a fresh database of the same schema (all our
    // indexes), written the fastest idempotent way this machine allows (no HTTP, no
    // categorising, no counters): see `ceiling`.
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
    ceiling(target, &stored).await;
    let secs = t.elapsed().as_secs_f64();
    let ceiling = stored.len() as f64 / secs;
    println!(
        "{backend}: same-shape ceiling {} rows upserted in {secs:.2} s = {ceiling:.0} rows/s",
        stored.len()
    );
    println!(
        "{backend}: end-to-end sync reaches {:.0}% of the same-shape ceiling",
        100.0 * sync_rate / ceiling
    );
    sandbox.stop().await;
    tdb.cleanup().await.unwrap();
    ceiling_db.cleanup().await.unwrap();
}

/// The columns the ceiling writes: every column of `transactions` but its id.
const COLUMNS: &str = "client_id, account_id, external_id, booked_at, booked_month, value_at, \
    amount_minor, currency, direction, status, raw_status, description, merchant, mcc, \
    bank_tx_code, counterparty, card_masked, search_text, category, category_source, \
    replaced_by_id, transfer_peer_id, counterparty_account, created_at, updated_at";

/// The fastest idempotent upsert of `rows` found for each database, in transactions of 5000
/// rows: on SQLite multi-row `INSERT … ON CONFLICT DO NOTHING` of 400 rows with bound values
/// (each statement is one trip to sqlx's SQLite thread); on PostgreSQL one
/// `INSERT … SELECT FROM UNNEST(arrays) ON CONFLICT DO NOTHING` per 5000 rows (one prepared
/// statement, one round trip).
async fn ceiling(db: &crm_core::db::Database, rows: &[transactions::Model]) {
    use sea_orm::sqlx;
    let conn = db.conn();
    if db.backend() == sea_orm::DatabaseBackend::Sqlite {
        let pool = conn.get_sqlite_connection_pool();
        for batch in rows.chunks(5000) {
            let mut tx = pool.begin().await.unwrap();
            for chunk in batch.chunks(400) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                    "INSERT INTO transactions ({COLUMNS}) "
                ));
                q.push_values(chunk, |mut b, m| {
                    b.push_bind(m.client_id)
                        .push_bind(m.account_id)
                        .push_bind(&m.external_id)
                        .push_bind(m.booked_at)
                        .push_bind(m.booked_month)
                        .push_bind(m.value_at)
                        .push_bind(m.amount_minor)
                        .push_bind(&m.currency)
                        .push_bind(&m.direction)
                        .push_bind(&m.status)
                        .push_bind(&m.raw_status)
                        .push_bind(&m.description)
                        .push_bind(&m.merchant)
                        .push_bind(&m.mcc)
                        .push_bind(&m.bank_tx_code)
                        .push_bind(&m.counterparty)
                        .push_bind(&m.card_masked)
                        .push_bind(&m.search_text)
                        .push_bind(&m.category)
                        .push_bind(&m.category_source)
                        .push_bind(None::<i64>)
                        .push_bind(m.transfer_peer_id)
                        .push_bind(&m.counterparty_account)
                        .push_bind(m.created_at)
                        .push_bind(m.updated_at);
                });
                q.push(" ON CONFLICT (account_id, external_id) DO NOTHING");
                q.build().execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        return;
    }
    let pool = conn.get_postgres_connection_pool();
    let sql = format!(
        "INSERT INTO transactions ({COLUMNS}) SELECT * FROM UNNEST($1::int8[], $2::int8[], \
         $3::text[], $4::timestamptz[], $5::int4[], $6::timestamptz[], $7::int8[], $8::text[], \
         $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], \
         $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], \
         $21::int8[], $22::int8[], $23::text[], $24::timestamptz[], $25::timestamptz[]) \
         ON CONFLICT (account_id, external_id) DO NOTHING"
    );
    for batch in rows.chunks(5000) {
        let col = |f: fn(&transactions::Model) -> String| batch.iter().map(f).collect::<Vec<_>>();
        let opt =
            |f: fn(&transactions::Model) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&sql)
            .bind(batch.iter().map(|m| m.client_id).collect::<Vec<_>>())
            .bind(batch.iter().map(|m| m.account_id).collect::<Vec<_>>())
            .bind(col(|m| m.external_id.clone()))
            .bind(batch.iter().map(|m| m.booked_at).collect::<Vec<_>>())
            .bind(batch.iter().map(|m| m.booked_month).collect::<Vec<_>>())
            .bind(batch.iter().map(|m| m.value_at).collect::<Vec<_>>())
            .bind(batch.iter().map(|m| m.amount_minor).collect::<Vec<_>>())
            .bind(col(|m| m.currency.clone()))
            .bind(col(|m| m.direction.clone()))
            .bind(col(|m| m.status.clone()))
            .bind(opt(|m| m.raw_status.clone()))
            .bind(col(|m| m.description.clone()))
            .bind(opt(|m| m.merchant.clone()))
            .bind(opt(|m| m.mcc.clone()))
            .bind(opt(|m| m.bank_tx_code.clone()))
            .bind(opt(|m| m.counterparty.clone()))
            .bind(opt(|m| m.card_masked.clone()))
            .bind(col(|m| m.search_text.clone()))
            .bind(col(|m| m.category.clone()))
            .bind(col(|m| m.category_source.clone()))
            .bind(vec![None::<i64>; batch.len()])
            .bind(batch.iter().map(|m| m.transfer_peer_id).collect::<Vec<_>>())
            .bind(opt(|m| m.counterparty_account.clone()))
            .bind(batch.iter().map(|m| m.created_at).collect::<Vec<_>>())
            .bind(batch.iter().map(|m| m.updated_at).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}
