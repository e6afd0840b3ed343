//! Throughput of the real router over loopback HTTP on 20 clients / 1M transactions (50 000
//! each over 12 months): the book's page as a frontend asks for it (20 clients with accounts,
//! balances, rating and transaction count), the dashboard page (headline figures and 20 clients
//! with ratings, balances, accounts and links), a client's 50 latest transactions, 90-day
//! spending by category and a 12-month cashflow. Reports requests per second, latency
//! percentiles (p50/p95/p99), SQL statements per request and the server's CPU time per request
//! (the process's CPU less the load generator's threads), with answer reuse off and on.
//!
//! cargo bench -p crm-server --bench dashboard                        # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test?sslmode=disable cargo bench -p crm-server --bench dashboard
//! Knobs: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (8), BENCH_TX_PER_CLIENT (50000),
//! BENCH_CACHE_MS (a comma-separated list of the server's GRAPHQL_CACHE_MS to measure, default
//! `0,1000`: 0 computes every answer from the database), BENCH_CASES (a comma-separated list of
//! case names to run: book, dashboard, latest, spending, cashflow; all by default).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use common::{env_num, session_cookie};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_core::testing::{seed_portfolio, SeedSpec, TestDatabase};
use crm_server::app::App;
use crm_server::config::Config;
use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD, BOOK_PAGE};
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
    p99_ms: f64,
    statements_per_request: f64,
    server_cpu_ms_per_request: f64,
}

/// Name of the load generator's threads: their CPU time is not the server's.
const LOADGEN: &str = "loadgen";

/// CPU time (user + system, in clock ticks) of this process, and of its load-generator threads.
fn cpu_ticks() -> (u64, u64) {
    fn fields(stat: &str) -> Option<(String, u64)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Fields 14 and 15 of proc(5) (utime, stime); `rest` starts at field 3.
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((comm, ticks))
    }
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| fields(&s))
        .map_or(0, |(_, t)| t);
    let mut loadgen = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            if let Some((comm, ticks)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| fields(&s))
            {
                if comm.starts_with(LOADGEN) {
                    loadgen += ticks;
                }
            }
        }
    }
    (process, loadgen)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

async fn load(
    server: &TestServer,
    clients: &tokio::runtime::Handle,
    cookie: &str,
    body: Value,
    seconds: u64,
    concurrency: u64,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url("/graphql");
    let body = Arc::new(serde_json::to_vec(&body).unwrap());
    let statements_before = server.core.db().statement_count();
    let cpu_before = cpu_ticks();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (stop, url, body, cookie) =
            (stop.clone(), url.clone(), body.clone(), cookie.to_owned());
        workers.push(clients.spawn(async move {
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
    let cpu_after = cpu_ticks();
    let server_ticks = (cpu_after.0 - cpu_before.0).saturating_sub(cpu_after.1 - cpu_before.1);
    let statements = server.core.db().statement_count() - statements_before;
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Outcome {
        requests: all.len() as u64,
        seconds: elapsed,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        statements_per_request: statements as f64 / all.len() as f64,
        server_cpu_ms_per_request: server_ticks as f64 / TICKS_PER_SECOND * 1000.0
            / all.len() as f64,
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

    let caches: Vec<u64> = std::env::var("BENCH_CACHE_MS")
        .unwrap_or_else(|_| "0,1000".into())
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .expect("BENCH_CACHE_MS: whole milliseconds, comma-separated")
        })
        .collect();
    let only: Option<Vec<String>> = std::env::var("BENCH_CASES")
        .ok()
        .map(|v| v.split(',').map(|c| c.trim().to_owned()).collect());
    // The load generator runs on its own threads, so the server's CPU time can be told apart.
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(LOADGEN)
        .enable_all()
        .build()
        .unwrap();

    let now = chrono::Utc::now();
    // (name, what it is, body, target req/s: 10×, 2× and 3× PostGraphile's ~570, ~3,000 and
    // ~2,100 for the dashboard, latest and spending of design.md; none for the book's page and
    // cashflow, which were not measured there)
    let cases = [
        (
            "book",
            "book page: clients(first: 20) with accounts, balances, rating, transaction count",
            json!({ "query": BOOK_PAGE, "variables": { "first": 20 } }),
            None,
        ),
        (
            "dashboard",
            "dashboard: stats + clients(first: 20) with rating, balances, accounts, links",
            json!({ "query": DASHBOARD }),
            Some(5_700.0),
        ),
        (
            "latest",
            "client: 50 latest transactions",
            json!({ "query": LATEST, "variables": { "id": ids[3].to_string() } }),
            Some(6_000.0),
        ),
        (
            "spending",
            "client: spendingByCategory over 90 days",
            json!({ "query": SPENDING, "variables": { "id": ids[3].to_string(),
                "from": (now - chrono::Duration::days(90)).to_rfc3339(), "to": now.to_rfc3339() } }),
            Some(6_300.0),
        ),
        (
            "cashflow",
            "client: cashflow(months: 12)",
            json!({ "query": CASHFLOW, "variables": { "id": ids[3].to_string() } }),
            None,
        ),
    ];
    for cache_ms in caches {
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("DATABASE_URL".into(), tdb.url.clone());
        vars.insert("AUTH_USERNAME".into(), ADMIN.into());
        vars.insert("AUTH_PASSWORD".into(), ADMIN_PASSWORD.into());
        vars.insert("DATABASE_MAX_CONNECTIONS".into(), "8".into());
        vars.insert("GRAPHQL_CACHE_MS".into(), cache_ms.to_string());
        // A load generator is one user making thousands of requests: no per-user limits.
        vars.insert("QUERY_RATE_PER_MINUTE".into(), "0".into());
        vars.insert("QUERY_CONCURRENCY_PER_USER".into(), "1000".into());
        let config = Config::from_source(&vars).unwrap();
        let app = App::build(&config).await.unwrap();
        let server = TestServer::serve(app, None).await.unwrap();
        let cookie = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
        println!(
            "{concurrency} concurrent connections, {seconds} s per case, mimalloc, loopback HTTP through the full router, answer reuse {}",
            if cache_ms == 0 { "off".to_owned() } else { format!("on ({cache_ms} ms)") }
        );
        for (key, name, body, target) in &cases {
            if only.as_ref().is_some_and(|o| !o.iter().any(|c| c == key)) {
                continue;
            }
            // One request to warm up (its first view of a client writes an audit row), then a
            // quiet moment so reuse, when on, starts from a settled state.
            reqwest::Client::new()
                .post(server.url("/graphql"))
                .header("content-type", "application/json")
                .header("cookie", &cookie)
                .body(serde_json::to_vec(body).unwrap())
                .send()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(cache_ms.min(5_000) + 100)).await;
            let o = load(
                &server,
                clients.handle(),
                &cookie,
                body.clone(),
                seconds,
                concurrency,
            )
            .await;
            let rate = o.requests as f64 / o.seconds;
            let versus = target.map_or(String::new(), |t: f64| {
                format!("   target {t:.0} req/s: {:.0}%", 100.0 * rate / t)
            });
            println!(
                "  {name}\n    {rate:.0} req/s   p50 {:.2} ms   p95 {:.2} ms   p99 {:.2} ms   {:.2} SQL statements/request   server CPU {:.3} ms/request   ({} requests){versus}",
                o.p50_ms,
                o.p95_ms,
                o.p99_ms,
                o.statements_per_request,
                o.server_cpu_ms_per_request,
                o.requests
            );
        }
        server.stop().await.unwrap();
    }
    clients.shutdown_background();
    tdb.cleanup().await.unwrap();
}
