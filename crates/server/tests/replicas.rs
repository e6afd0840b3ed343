//! Two replicas of the server on one PostgreSQL database, as behind a load balancer: sync
//! progress, ended sessions and writes on one are seen on the other (the event bus), and the
//! scheduled sync runs once across both. PostgreSQL only (`TEST_DATABASE_URL`): SQLite has one
//! process per database file, so there is no second replica to test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{
    admin_cookie, gql_with_token, open_ws, postgres_url, ws_close_code, ws_next, ws_send, Client,
};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

/// Replica A (owns the database) and replica B, or `None` (with the reason printed) on SQLite.
async fn replicas(extra: &[(&str, &str)]) -> Option<(TestServer, TestServer)> {
    let Some(pg) = postgres_url() else {
        eprintln!("skipped: two replicas need PostgreSQL (set TEST_DATABASE_URL)");
        return None;
    };
    // Replicas share the key that session tokens are hashed with.
    let mut vars = vec![("SECRET_KEY", "replicas-share-this-secret-key-0123456789")];
    vars.extend_from_slice(extra);
    let a = TestServer::start(Some(&pg), &vars).await.unwrap();
    let b = a.start_replica().await.unwrap();
    Some((a, b))
}

async fn stop(a: TestServer, b: TestServer) {
    b.stop().await.unwrap();
    a.stop().await.unwrap();
}

fn token(cookie: &str) -> &str {
    cookie.trim_start_matches("crm_session=")
}

#[tokio::test]
async fn sync_progress_on_one_replica_shows_a_sync_started_on_the_other() {
    let Some((a, b)) = replicas(&[]).await else {
        return;
    };
    let mut ws = open_ws(&b, &admin_cookie(&b).await).await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "p", "payload": {
            "query": "subscription { syncProgress { kind runId links run { id status trigger } } }"
        } }),
    )
    .await;
    let on_a = Client::new(&a);
    on_a.login_admin().await;

    // The subscription listens once the server has started it, shortly after `subscribe`:
    // syncs are started on A until B's subscriber reports one of them.
    let mut started: Vec<String> = Vec::new();
    let mut seen: Option<Value> = None;
    for _ in 0..10 {
        let run = on_a.ok("mutation { syncNow { id } }", json!({})).await;
        started.push(run["syncNow"]["id"].as_str().unwrap().to_owned());
        if let Ok(msg) = tokio::time::timeout(Duration::from_secs(2), ws_next(&mut ws)).await {
            seen = msg;
            break;
        }
    }
    let first = seen.expect("B's subscriber saw a sync started on A");
    assert_eq!(first["type"], "next", "{first}");
    let progress = &first["payload"]["data"]["syncProgress"];
    let run_id = progress["runId"].as_str().unwrap().to_owned();
    assert!(started.contains(&run_id), "{first}");

    // The run's end arrives too, with the run as A recorded it (B reads it by id).
    let finished = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws_next(&mut ws))
            .await
            .expect("the run finishes")
            .expect("open");
        let p = msg["payload"]["data"]["syncProgress"].clone();
        if p["kind"] == "FINISHED" && p["runId"] == run_id.as_str() {
            break p;
        }
    };
    assert_eq!(finished["run"]["id"], run_id.as_str());
    assert_eq!(finished["run"]["trigger"], "MANUAL");
    assert_ne!(finished["run"]["status"], "RUNNING");
    stop(a, b).await;
}

#[tokio::test]
async fn a_logout_on_one_replica_closes_the_sessions_websockets_on_the_other() {
    let Some((a, b)) = replicas(&[]).await else {
        return;
    };
    let cookie = admin_cookie(&a).await;
    let mut ws = open_ws(&b, &cookie).await;
    let out = gql_with_token(&a, token(&cookie), "mutation { logout }").await;
    assert_eq!(out["data"]["logout"], true, "{out}");
    let code = tokio::time::timeout(Duration::from_secs(2), ws_close_code(&mut ws))
        .await
        .expect("B closes the socket within 2 s of the logout on A");
    assert_eq!(code, Some(4401));
    stop(a, b).await;
}

#[tokio::test]
async fn a_write_on_one_replica_is_seen_by_the_next_read_on_the_other() {
    let Some((a, b)) = replicas(&[("GRAPHQL_CACHE_MS", "400")]).await else {
        return;
    };
    let (on_a, on_b) = (Client::new(&a), Client::new(&b));
    on_a.login_admin().await;
    on_b.login_admin().await;
    let created = on_a
        .ok(
            "mutation { createClient(input: { displayName: \"Анна\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created["createClient"]["id"].clone();
    // Quiet for longer than the cache's time to live, so B keeps the answer it computes.
    tokio::time::sleep(Duration::from_millis(450)).await;
    // A list (opening one client would audit the view: a write).
    let read = "{ clients(first: 10) { edges { node { id displayName } } } }";
    let name = |v: &Value| v["clients"]["edges"][0]["node"]["displayName"].clone();
    let first = on_b.ok(read, json!({})).await;
    assert_eq!(first["clients"]["edges"][0]["node"]["id"], id);
    assert_eq!(name(&first), "Анна");
    // B answers again from its cache, and knows the session it checked a moment ago: not one
    // statement.
    let before = b.core.db().statement_count();
    assert_eq!(on_b.ok(read, json!({})).await, first);
    assert_eq!(b.core.db().statement_count() - before, 0);

    on_a.ok(
        "mutation($id: ID!) { updateClient(id: $id, input: { displayName: \"Борис\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let after = on_b.ok(read, json!({})).await;
    assert_eq!(name(&after), "Борис", "no stale answer on B: {after}");
    stop(a, b).await;
}

#[tokio::test]
async fn the_scheduled_sync_runs_once_across_replicas() {
    let Some((a, b)) = replicas(&[]).await else {
        return;
    };
    // Both replicas' schedulers wake for the same tick at once and queue it; one job goes in.
    let due = chrono::Utc::now();
    let (queued_a, queued_b) = tokio::join!(
        a.core.sync().enqueue_scheduled_sync(due),
        b.core.sync().enqueue_scheduled_sync(due)
    );
    let queued = [queued_a.unwrap(), queued_b.unwrap()];
    assert_eq!(
        queued.iter().filter(|q| **q).count(),
        1,
        "one replica queued the tick"
    );
    // Both replicas' job runners look for work; one claims the job and runs it.
    let scheduled_runs = || async {
        a.core
            .sync()
            .sync_runs(20)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.trigger == crm_core::sync::SyncTrigger::Schedule)
            .collect::<Vec<_>>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = scheduled_runs().await;
        if runs
            .iter()
            .any(|r| r.status != crm_core::sync::SyncRunStatus::Running)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scheduled run did not finish: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for the other runner's next polls: it finds nothing to run.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let scheduled = scheduled_runs().await.len();
    assert_eq!(scheduled, 1, "one SyncRun recorded");
    stop(a, b).await;
}

#[tokio::test]
async fn a_note_and_a_task_made_on_one_replica_reach_live_subscribers_on_the_other() {
    let Some((a, b)) = replicas(&[]).await else {
        return;
    };
    let on_a = Client::new(&a);
    on_a.login_admin().await;
    let client = on_a
        .ok(
            "mutation { createClient(input: { displayName: \"Клиент реплик\" }) { id } }",
            json!({}),
        )
        .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = open_ws(&b, &admin_cookie(&b).await).await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "events", "payload": {
            "query": "subscription($c: ID!) { clientEvents(clientId: $c) { kind summary } }",
            "variables": { "c": client },
        } }),
    )
    .await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "tasks", "payload": {
            "query": "subscription { myTasksChanged { title } }",
        } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    on_a.ok(
        "mutation($c: ID!) { addNote(clientId: $c, kind: NOTE, body: \"С реплики А\") { id } }",
        json!({ "c": client }),
    )
    .await;
    on_a.ok(
        "mutation($c: ID!) { createTask(input: { clientId: $c, title: \"Задача с реплики А\" }) { id } }",
        json!({ "c": client }),
    )
    .await;
    // Faster than the feed's 15-second poll: the bus carried them.
    let mut note = Value::Null;
    let mut task = Value::Null;
    tokio::time::timeout(Duration::from_secs(10), async {
        while note.is_null() || task.is_null() {
            let msg = ws_next(&mut ws).await.expect("open");
            match msg["id"].as_str() {
                Some("events") if msg["payload"]["data"]["clientEvents"]["kind"] == "NOTE" => {
                    note = msg["payload"]["data"]["clientEvents"].clone();
                }
                Some("tasks") => task = msg["payload"]["data"]["myTasksChanged"].clone(),
                _ => {}
            }
        }
    })
    .await
    .expect("both arrive on B");
    assert_eq!(note["summary"], "Заметка: С реплики А");
    assert_eq!(task["title"], "Задача с реплики А");
    stop(a, b).await;
}
