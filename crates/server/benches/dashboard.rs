//! Throughput of the real router over loopback HTTP on 20 clients / 1M transactions (50 000
//! each over 12 months): the dashboard page (20 clients with ratings), a client's 50 latest
//! transactions, 90-day spending by category and a 12-month cashflow. Reports requests per
//! second, latency percentiles (p50/p95) and SQL statements per request, against the targets
//! of design.md (10×, 2× and 3× the best GraphQL-over-PostgreSQL server measured here).
//!
//! cargo bench -p crm-server --bench dashboard                        # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo bench -p crm-server --bench dashboard
//! Knobs: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (8), BENCH_TX_PER_CLIENT (50000),
//! BENCH_CACHE_MS (the server's GRAPHQL_CACHE_MS: default 1000; 0 measures every request
//! computed from the database).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use common::env_num;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_core::testing::{seed_portfolio, SeedSpec, TestDatabase};
use crm_server::app::App;
use crm_server::config::Config;
use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use mimalloc::MiMalloc;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const DASHBOARD: &str = "query Dashboard($after: String) {
  stats { clients { total active inactive } transactions { count income expense balance } banks }
  clients(first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id displayName status
      rating { grade score factors { name value impact } }
      totalBalance { amount currency }
      accounts { id name balance { amount currency } }
      links { bank { code name } externalClientId }
    } }
  }
}";

const LATEST: &str =
    "query Latest($id: ID!) { client(id: $id) { transactions(first: 50) { edges { node {
  id bookedAt amount currency direction description merchant mcc category } } } } }";

const CASHFLOW: &str = "query Cashflow($id: ID!) { client(id: $id) {
  cashflow(months: 12) { month income expense net } } }";

const SPENDING: &str =
    "query Spending($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) {
  spendingByCategory(from: $from, to: $to) { category amount count share } } }";

struct Outcome {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p95_ms: f64,
    statements_per_request: f64,
}

async fn load(
    server: &TestServer,
    cookie: &str,
    body: Value,
    seconds: u64,
    concurrency: u64,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url("/graphql");
    let body = Arc::new(serde_json::to_vec(&body).unwrap());
    let statements_before = server.core.db().statement_count();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (stop, url, body, cookie) =
            (stop.clone(), url.clone(), body.clone(), cookie.to_owned());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let res = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("cookie", &cookie)
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .unwrap();
                let bytes = res.bytes().await.unwrap();
                assert!(
                    !bytes.windows(8).any(|w| w == b"\"errors\""),
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let statements = server.core.db().statement_count() - statements_before;
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Outcome {
        requests: all.len() as u64,
        seconds: elapsed,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        statements_per_request: statements as f64 / all.len() as f64,
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_num("BENCH_SECONDS", 10);
    let concurrency = env_num("BENCH_CONCURRENCY", 8);
    let per_client = env_num("BENCH_TX_PER_CLIENT", 50_000) as usize;
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let backend = if tdb.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let seeded = Instant::now();
    let ids = seed_portfolio(
        &tdb.db,
        &SeedSpec {
            clients: 20,
            transactions_per_client: per_client,
            months: 12,
        },
    )
    .await
    .unwrap();
    println!(
        "{backend}: seeded 20 clients / {} transactions in {:.1} s",
        20 * per_client,
        seeded.elapsed().as_secs_f64()
    );

    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATABASE_URL".into(), tdb.url.clone());
    vars.insert("AUTH_USERNAME".into(), ADMIN.into());
    vars.insert("AUTH_PASSWORD".into(), ADMIN_PASSWORD.into());
    vars.insert("DATABASE_MAX_CONNECTIONS".into(), "8".into());
    let cache_ms = env_num("BENCH_CACHE_MS", 1000);
    vars.insert("GRAPHQL_CACHE_MS".into(), cache_ms.to_string());
    // A load generator is one user making thousands of requests: no per-user limits.
    vars.insert("QUERY_RATE_PER_MINUTE".into(), "0".into());
    vars.insert("QUERY_CONCURRENCY_PER_USER".into(), "1000".into());
    let config = Config::from_source(&vars).unwrap();
    let app = App::build(&config).await.unwrap();
    let server = TestServer::serve(app, None).await.unwrap();

    let login = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({ "query": format!("mutation {{ login(username: \"{ADMIN}\", password: \"{ADMIN_PASSWORD}\") {{ user {{ id }} }} }}") }))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let now = chrono::Utc::now();
    // (name, body, target req/s: 10×, 2×, 3× PostGraphile's ~570, ~3,000 and ~2,100; none for
    // cashflow, which was not measured there)
    let cases = [
        (
            "dashboard: stats + clients(first: 20) with rating, balances, accounts, links",
            json!({ "query": DASHBOARD }),
            Some(5_700.0),
        ),
        (
            "client: 50 latest transactions",
            json!({ "query": LATEST, "variables": { "id": ids[3].to_string() } }),
            Some(6_000.0),
        ),
        (
            "client: spendingByCategory over 90 days",
            json!({ "query": SPENDING, "variables": { "id": ids[3].to_string(),
                "from": (now - chrono::Duration::days(90)).to_rfc3339(), "to": now.to_rfc3339() } }),
            Some(6_300.0),
        ),
        (
            "client: cashflow(months: 12)",
            json!({ "query": CASHFLOW, "variables": { "id": ids[3].to_string() } }),
            None,
        ),
    ];
    println!(
        "{concurrency} concurrent connections, {seconds} s per case, mimalloc, loopback HTTP through the full router, response reuse {}",
        if cache_ms == 0 { "off".to_owned() } else { format!("on ({cache_ms} ms)") }
    );
    for (name, body, target) in cases {
        // One request to warm up (its first view of a client writes an audit row), then a quiet
        // moment so reuse, when on, starts from a settled state.
        reqwest::Client::new()
            .post(server.url("/graphql"))
            .header("content-type", "application/json")
            .header("cookie", &cookie)
            .body(serde_json::to_vec(&body).unwrap())
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(cache_ms.min(5_000) + 100)).await;
        let o = load(&server, &cookie, body, seconds, concurrency).await;
        let rate = o.requests as f64 / o.seconds;
        let versus = target.map_or(String::new(), |t: f64| {
            format!("   target {t:.0} req/s: {:.0}%", 100.0 * rate / t)
        });
        println!(
            "  {name}\n    {rate:.0} req/s   p50 {:.2} ms   p95 {:.2} ms   {:.2} SQL statements/request   ({} requests){versus}",
            o.p50_ms,
            o.p95_ms,
            o.statements_per_request,
            o.requests
        );
    }
    server.stop().await.unwrap();
    tdb.cleanup().await.unwrap();
}
