//! The event bus across two pools on one PostgreSQL schema (two replicas): events published on
//! one arrive on the other exactly once, a process never hears its own events twice, a write
//! transaction announces itself, and a lost listening connection is noticed and recovered.
//! PostgreSQL only (`TEST_DATABASE_URL`); on SQLite the bus is in-process and there is nothing
//! to share.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crm_core::db::{Database, DbSettings};
use crm_core::events::{Event, EventBus};
use crm_core::sync::SyncEvent;
use crm_core::testing::{test_database_url, TestDatabase};
use sea_orm::ConnectionTrait;
use tokio::sync::broadcast::Receiver;

fn started(run_id: i64) -> Event {
    Event::Sync(SyncEvent::Started { run_id, links: 1 })
}

async fn next_run(rx: &mut Receiver<SyncEvent>) -> i64 {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event in time")
        .expect("open")
    {
        SyncEvent::Started { run_id, .. } => run_id,
        other => panic!("{other:?}"),
    }
}

/// Waits (at most ten seconds) for `check` to hold.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn events_cross_replicas_once_and_survive_a_lost_connection() {
    let Some(pg) = test_database_url() else {
        eprintln!(
            "skipped: the event bus crosses replicas on PostgreSQL only (set TEST_DATABASE_URL)"
        );
        return;
    };
    let tdb = TestDatabase::create(Some(&pg)).await.unwrap();
    let a_db = tdb.db.clone();
    let b_db = Database::connect(&DbSettings {
        url: tdb.url.clone(),
        max_connections: 2,
    })
    .await
    .unwrap();
    let (a, b) = (EventBus::new(&a_db), EventBus::new(&b_db));
    a.start(&a_db).await.unwrap();
    b.start(&b_db).await.unwrap();
    assert!(a.is_shared() && b.is_shared());
    let (mut at_a, mut at_b) = (a.sync_events(), b.sync_events());

    // A's events reach B; A's own subscriber gets them once (locally), never their echo: when
    // B's answer arrives at A, A's echoes (sent earlier) would have arrived before it.
    a.publish(started(1));
    a.publish(started(2));
    assert_eq!(next_run(&mut at_b).await, 1);
    assert_eq!(next_run(&mut at_b).await, 2);
    b.publish(started(3));
    assert_eq!(next_run(&mut at_b).await, 3, "B hears itself once");
    for want in [1, 2, 3] {
        assert_eq!(next_run(&mut at_a).await, want);
    }
    assert!(at_a.try_recv().is_err() && at_b.try_recv().is_err());

    // A committed write transaction moves the other replica's write clock.
    a_db.conn()
        .execute_unprepared("CREATE TABLE bus_probe (v INT)")
        .await
        .unwrap();
    let before = b_db.writes().count();
    let txn = a_db.begin_write().await.unwrap();
    txn.execute_unprepared("INSERT INTO bus_probe VALUES (1)")
        .await
        .unwrap();
    txn.commit().await.unwrap();
    eventually("B saw A's write", || b_db.writes().count() > before).await;

    // Sessions ended on B reach A's watchers.
    let mut sessions_at_a = a.session_changes(1);
    b.publish(Event::SessionsEnded { user_id: 1 });
    tokio::time::timeout(Duration::from_secs(10), sessions_at_a.changed())
        .await
        .expect("in time")
        .unwrap();

    // B's listening connection dies: B assumes anything happened (sessions are re-checked,
    // its write clock moves) and listens again.
    let mut sessions_at_b = b.session_changes(2);
    let killed = tdb
        .db
        .conn()
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN %' \
             AND query LIKE '%' || current_schema() || '%'",
        )
        .await
        .unwrap();
    assert_eq!(killed.rows_affected(), 2, "both replicas' listeners");
    tokio::time::timeout(Duration::from_secs(10), sessions_at_b.changed())
        .await
        .expect("sessions re-checked after the gap")
        .unwrap();
    // Listening again: A's next event arrives (published until it does, as the new
    // connection's LISTEN may still be on its way).
    for run in 10.. {
        a.publish(started(run));
        match tokio::time::timeout(Duration::from_millis(500), at_b.recv()).await {
            Ok(Ok(SyncEvent::Started { run_id, .. })) if run_id >= 10 => break,
            _ => assert!(run < 40, "B does not hear A again"),
        }
    }
    drop((a, b));
    b_db.close().await.unwrap();
    tdb.cleanup().await.unwrap();
}
