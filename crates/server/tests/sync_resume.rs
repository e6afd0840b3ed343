//! A sync killed at any point and run again ends with exactly the bank's data. The real binary
//! (`ai-crm sync`, with the sandbox banks in-process) is killed with SIGKILL while it imports,
//! then run again to the end; its database must then hold exactly what one uninterrupted run
//! stores in a fresh database: the same rows, counters and aggregates, nothing twice, nothing
//! missing. On SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crm_core::db::{Database, DbSettings};
use crm_core::testing::TestDatabase;
use sea_orm::{ConnectionTrait, Statement};

/// A fixed last day of the sandbox's history, so both databases see the same world whatever
/// the time of day.
const ANCHOR: &str = "2026-11-30";

fn sync_command(url: &str, workdir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ai-crm"));
    cmd.arg("sync")
        .current_dir(workdir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("SANDBOX", "on")
        .env("SANDBOX_ANCHOR", ANCHOR)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn open(url: &str) -> Database {
    Database::connect(&DbSettings {
        url: url.to_owned(),
        max_connections: 1,
    })
    .await
    .unwrap()
}

async fn rows(db: &Database, sql: &str) -> Vec<String> {
    db.conn()
        .query_all(Statement::from_string(db.backend(), sql.to_owned()))
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            // Every column is read as text, whatever its type, so the fingerprints compare.
            let n = r.column_names().len();
            (0..n)
                .map(|i| {
                    r.try_get_by_index::<Option<String>>(i)
                        .or_else(|_| {
                            r.try_get_by_index::<Option<i64>>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .or_else(|_| {
                            r.try_get_by_index::<Option<i32>>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .unwrap_or(None)
                        .unwrap_or_else(|| "∅".into())
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn transaction_count(db: &Database) -> i64 {
    rows(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM transactions")
        .await
        .first()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Everything a sync stores that must not depend on how often it ran or where it stopped.
async fn fingerprint(db: &Database) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(
        rows(
            db,
            "SELECT a.bank_code, a.external_id, t.external_id, CAST(t.amount_minor AS BIGINT), t.direction, t.status, t.category, t.category_source, \
             CASE WHEN t.replaced_by_id IS NULL THEN 'live' ELSE 'replaced' END \
             FROM transactions t JOIN accounts a ON a.id = t.account_id \
             ORDER BY a.bank_code, a.external_id, t.external_id",
        )
        .await,
    );
    out.extend(
        rows(
            db,
            "SELECT l.bank_code, l.external_client_id, a.external_id, a.currency, CAST(a.balance_minor AS BIGINT) \
             FROM accounts a JOIN bank_links l ON l.id = a.link_id ORDER BY l.bank_code, a.external_id",
        )
        .await,
    );
    out.extend(
        rows(
            db,
            "SELECT c.display_name, t.currency, CAST(t.tx_count AS BIGINT), CAST(t.income_minor AS BIGINT), CAST(t.expense_minor AS BIGINT) \
             FROM client_totals t JOIN clients c ON c.id = t.client_id ORDER BY c.display_name, t.currency",
        )
        .await,
    );
    out.extend(
        rows(
            db,
            "SELECT c.display_name, m.currency, m.direction, m.category, CAST(SUM(m.amount_minor) AS BIGINT), CAST(SUM(m.tx_count) AS BIGINT) \
             FROM client_month_totals m JOIN clients c ON c.id = m.client_id \
             GROUP BY c.display_name, m.currency, m.direction, m.category \
             ORDER BY c.display_name, m.currency, m.direction, m.category",
        )
        .await,
    );
    out
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ai-crm sync failed:\n{text}");
    text
}

/// Runs `ai-crm sync` until `kill_at` rows are stored, then kills it. Returns the rows stored
/// when it died.
async fn kill_during_sync(url: &str, workdir: &std::path::Path, kill_at: i64) -> i64 {
    let mut child = sync_command(url, workdir).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    // The binary creates the schema itself; wait for it before looking at rows.
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sync ended ({status}) before it could be killed at {kill_at} rows");
        }
        assert!(
            Instant::now() < deadline,
            "the sync never reached {kill_at} rows"
        );
        let db = Database::connect(&DbSettings {
            url: url.to_owned(),
            max_connections: 1,
        })
        .await;
        if let Ok(db) = db {
            let stored = db
                .conn()
                .query_one(Statement::from_string(
                    db.backend(),
                    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM transactions".to_owned(),
                ))
                .await
                .ok()
                .flatten()
                .and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0);
            db.close().await.ok();
            if stored >= kill_at {
                child.kill().unwrap();
                child.wait().unwrap();
                return stored;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_run_and_run_again_ends_with_exactly_the_banks_data() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let work = std::env::temp_dir().join(format!("ai-crm-resume-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();

    // The reference: one uninterrupted run into a fresh database.
    let clean = TestDatabase::create(pg.as_deref()).await.unwrap();
    let out = finish(sync_command(&clean.url, &work).spawn().unwrap());
    let reference_db = open(&clean.url).await;
    let reference = fingerprint(&reference_db).await;
    let total = transaction_count(&reference_db).await;
    assert!(
        total > 5_000,
        "the sandbox world is big enough to kill a run in: {total}\n{out}"
    );

    // Killed early, killed late, then run to the end.
    let resumed = TestDatabase::create(pg.as_deref()).await.unwrap();
    let first = kill_during_sync(&resumed.url, &work, 1).await;
    let second = kill_during_sync(&resumed.url, &work, first + total / 2).await;
    assert!(
        second < total,
        "the second kill happened mid-run ({second} of {total} rows)"
    );
    eprintln!("killed at {first} and {second} of {total} rows");
    finish(sync_command(&resumed.url, &work).spawn().unwrap());
    let resumed_db = open(&resumed.url).await;
    let got = fingerprint(&resumed_db).await;
    assert_eq!(
        transaction_count(&resumed_db).await,
        total,
        "nothing twice, nothing missing"
    );
    let diff: Vec<_> = reference
        .iter()
        .zip(got.iter())
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert!(
        got == reference,
        "the resumed database differs from one clean run ({} vs {} lines; first differences: {diff:?})",
        got.len(),
        reference.len()
    );

    // And a further run changes nothing.
    let again = finish(sync_command(&resumed.url, &work).spawn().unwrap());
    assert!(again.contains(" 0 added"), "{again}");
    assert_eq!(fingerprint(&resumed_db).await, reference);

    reference_db.close().await.ok();
    resumed_db.close().await.ok();
    clean.cleanup().await.unwrap();
    resumed.cleanup().await.unwrap();
    std::fs::remove_dir_all(&work).ok();
}
