//! Books of clients and the timeline, measured (issue 12's targets):
//!
//! 1. The dashboard query of a manager whose book is 2 000 clients of a 100 000-client
//!    portfolio, against the same query of an administrator of a 2 000-client portfolio: the
//!    access filter must cost at most 1.2× (it uses indexes, not scans).
//! 2. The first page of a client's timeline with 10 000 entries: p95 under 10 ms on SQLite,
//!    through core and through the HTTP API.
//!
//! cargo bench -p crm-server --bench books                          # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo bench -p crm-server --bench books
//! Knobs: BENCH_REQUESTS (default 300 per case), BENCH_PORTFOLIO (100000), BENCH_BOOK (2000).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use common::env_num;
use std::time::{Duration, Instant};

use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use mimalloc::MiMalloc;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// The web app's dashboard: headline figures of the book and its first page of clients.
const DASHBOARD: &str = "query Dashboard {
  stats { clients { total active inactive } transactions { count income expense balance } banks }
  clients(first: 20) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id displayName status owner { username }
      rating { grade score }
      totalBalance { amount currency }
    } }
  }
}";

const TIMELINE: &str = "query T($c: ID!) { client(id: $c) { timeline(first: 20) {
  pageInfo { hasNextPage endCursor } edges { node { kind at summary actor { username } } } } } }";

const PASSWORD: &str = "a-long-bench-password";

async fn start() -> TestServer {
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    // Every answer computed, none reused from the response cache.
    TestServer::start(
        pg.as_deref(),
        &[("GRAPHQL_CACHE_MS", "0"), ("QUERY_RATE_PER_MINUTE", "0")],
    )
    .await
    .unwrap()
}

async fn gql(server: &TestServer, cookie: Option<&str>, query: &str, variables: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let body: Value = req.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Creates `count` managers in one team each (`m0`…), returns their ids.
async fn managers(server: &TestServer, admin: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..count {
        let user = gql(
            server,
            Some(admin),
            "mutation($u: String!, $p: String!) { createUser(input: { username: $u, password: $p, role: MANAGER }) { id } }",
            json!({ "u": format!("m{i}"), "p": PASSWORD }),
        )
        .await;
        let id = user["createUser"]["id"].as_str().unwrap().to_owned();
        gql(
            server,
            Some(admin),
            "mutation($n: String!, $l: ID) { createTeam(name: $n, leadId: $l) { id } }",
            json!({ "n": format!("team {i}"), "l": id }),
        )
        .await;
        ids.push(id.parse().unwrap());
    }
    ids
}

/// Inserts `count` clients, dealt in blocks of `book` to `owners` (their teams' ids equal to
/// their position + 1), 1 000 rows per statement.
async fn clients(server: &TestServer, count: usize, book: usize, owners: &[i64]) {
    let conn = server.core.db().conn();
    let now = chrono::Utc::now().to_rfc3339();
    let mut rows = Vec::with_capacity(1000);
    for i in 0..count {
        let owner = owners[(i / book).min(owners.len() - 1)];
        let team = (i / book).min(owners.len() - 1) + 1;
        let name = format!("Клиент {i:06}");
        rows.push(format!(
            "('{name}', NULL, NULL, 'ACTIVE', 'клиент {i:06}', 'клиент {i:06}', {owner}, {team}, '{now}', '{now}')"
        ));
        if rows.len() == 1000 || i + 1 == count {
            conn.execute_unprepared(&format!(
                "INSERT INTO clients (display_name, email, phone, status, search_text, sort_name, owner_id, team_id, created_at, updated_at) VALUES {}",
                rows.join(",")
            ))
            .await
            .unwrap();
            rows.clear();
        }
    }
}

struct Timing {
    p50: f64,
    p95: f64,
    mean: f64,
}

fn timing(mut all: Vec<Duration>) -> Timing {
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(all[((all.len() as f64 * p) as usize).min(all.len() - 1)]);
    Timing {
        p50: pct(0.50),
        p95: pct(0.95),
        mean: all.iter().map(|d| ms(*d)).sum::<f64>() / all.len() as f64,
    }
}

async fn measure(
    server: &TestServer,
    cookie: &str,
    query: &str,
    variables: Value,
    n: u64,
) -> Timing {
    for _ in 0..10 {
        gql(server, Some(cookie), query, variables.clone()).await;
    }
    let mut all = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        gql(server, Some(cookie), query, variables.clone()).await;
        all.push(t.elapsed());
    }
    timing(all)
}

#[tokio::main]
async fn main() {
    let n = env_num("BENCH_REQUESTS", 300);
    let portfolio = env_num("BENCH_PORTFOLIO", 100_000) as usize;
    let book = env_num("BENCH_BOOK", 2_000) as usize;
    let backend = if std::env::var("BENCH_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("books bench on {backend}: {n} sequential requests per case, response cache off");

    // An administrator of a 2 000-client portfolio.
    let small = start().await;
    let admin_small = common::session_cookie(&small, ADMIN, ADMIN_PASSWORD).await;
    let owners = managers(&small, &admin_small, 1).await;
    clients(&small, book, book, &owners).await;
    let admin_case = measure(&small, &admin_small, DASHBOARD, json!({}), n).await;
    small.stop().await.unwrap();

    // A manager whose book is 2 000 clients of a 100 000-client portfolio.
    let large = start().await;
    let admin_large = common::session_cookie(&large, ADMIN, ADMIN_PASSWORD).await;
    let owner_count = portfolio.div_ceil(book);
    let t = Instant::now();
    let owners = managers(&large, &admin_large, owner_count).await;
    clients(&large, portfolio, book, &owners).await;
    println!(
        "  seeded {portfolio} clients for {owner_count} managers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let manager = common::session_cookie(&large, "m7", PASSWORD).await;
    let total = gql(
        &large,
        Some(&manager),
        "{ clients { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        total["clients"]["totalCount"], book as u64,
        "the manager's book"
    );
    let manager_case = measure(&large, &manager, DASHBOARD, json!({}), n).await;
    let ratio = manager_case.mean / admin_case.mean;
    println!(
        "  dashboard, admin of {book}:             p50 {:.2} ms  p95 {:.2} ms  mean {:.2} ms",
        admin_case.p50, admin_case.p95, admin_case.mean
    );
    println!(
        "  dashboard, manager of {book} in {portfolio}: p50 {:.2} ms  p95 {:.2} ms  mean {:.2} ms",
        manager_case.p50, manager_case.p95, manager_case.mean
    );
    println!(
        "  ratio (mean) {ratio:.2}× (target ≤ 1.20×) {}",
        if ratio <= 1.2 { "ok" } else { "MISSED" }
    );

    // A client with 10 000 timeline entries (of kinds that name users, tasks and notes).
    let client: i64 = {
        let data = gql(
            &large,
            Some(&manager),
            "{ clients(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
        data["clients"]["edges"][0]["node"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let conn = large.core.db().conn();
    let start_at = chrono::Utc::now() - chrono::Duration::days(400);
    let mut rows = Vec::new();
    for i in 0..10_000i64 {
        let at = (start_at + chrono::Duration::minutes(i * 57)).to_rfc3339();
        let (kind, data) = match i % 3 {
            0 => (
                "SYNC_IMPORTED",
                r#"{"t":"sync","bank":"ABank","added":12,"out":[["RUB",358000]],"in":[]}"#,
            ),
            1 => ("CLIENT_EDITED", r#"{"t":"edited","fields":["phone"]}"#),
            _ => (
                "LARGE_TRANSACTION",
                r#"{"t":"large_transaction","minor":35000000,"currency":"RUB","credit":true,"description":"Зарплата"}"#,
            ),
        };
        rows.push(format!(
            "({client}, '{kind}', '{at}', '{at}', {}, NULL, NULL, '{data}')",
            owners[7]
        ));
        if rows.len() == 1000 {
            conn.execute_unprepared(&format!(
                "INSERT INTO client_events (client_id, kind, occurred_at, recorded_at, actor_id, object_type, object_id, data) VALUES {}",
                rows.join(",")
            ))
            .await
            .unwrap();
            rows.clear();
        }
    }
    let who = large.core.auth().user(owners[7]).await.unwrap();
    let actor = crm_core::auth::Actor {
        user_id: who.id,
        username: who.username.clone(),
        role: who.role,
        session_id: 0,
        password_change_required: false,
    };
    let mut direct = Vec::new();
    for i in 0..(n + 10) {
        let t = Instant::now();
        let page = large
            .core
            .timeline(&actor, client, 20, None, &[])
            .await
            .unwrap();
        if i >= 10 {
            direct.push(t.elapsed());
        }
        assert_eq!(page.entries.len(), 20);
    }
    let direct = timing(direct);
    let http = measure(
        &large,
        &manager,
        TIMELINE,
        json!({ "c": client.to_string() }),
        n,
    )
    .await;
    println!(
        "  timeline first page, 10 000 entries, core: p50 {:.2} ms  p95 {:.2} ms (target p95 < 10 ms) {}",
        direct.p50,
        direct.p95,
        if direct.p95 < 10.0 { "ok" } else { "MISSED" }
    );
    println!(
        "  timeline first page, 10 000 entries, HTTP: p50 {:.2} ms  p95 {:.2} ms",
        http.p50, http.p95
    );
    large.stop().await.unwrap();
}
