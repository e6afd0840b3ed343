//! One abusive user against everyone else (issue 15): the latency of a cheap query (`me`) of
//! an ordinary user while another user keeps `BENCH_ABUSERS` (default 100) expensive queries
//! in flight (analyses of ten clients each), with the admission controls off ("before": no
//! per-user cap, no shared places for expensive requests or analyses, no rate limit) and with
//! the defaults ("after"). Reports p50/p95/p99 of the cheap query unloaded and under load, and
//! how many of the abuser's requests ran or were refused.
//!
//! cargo bench -p crm-server --bench abuse                          # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo bench -p crm-server --bench abuse
//! Knobs: BENCH_ABUSERS (100), BENCH_SECONDS (10), BENCH_CLIENTS (20), BENCH_ROWS (800 per client).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use common::env_num;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use mimalloc::MiMalloc;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const HEAVY: &str = "{ clients(first: 10) { edges { node { insights { text } recurringPayments { merchant } offers { reason } income { employer } } } } }";

async fn post(http: &reqwest::Client, url: &str, cookie: &str, query: &str) -> Value {
    http.post(url)
        .header("cookie", cookie)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct Latency {
    p50: f64,
    p95: f64,
    p99: f64,
    n: usize,
}

/// `me` queries, 20 a second (a person's pace, within the default rate limit), for `seconds`.
async fn cheap(url: &str, cookie: &str, seconds: u64) -> Latency {
    let http = reqwest::Client::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut all = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < end {
        tick.tick().await;
        let t = Instant::now();
        let body = post(&http, url, cookie, "{ me { id } }").await;
        assert!(body.get("errors").is_none(), "{body}");
        all.push(t.elapsed());
    }
    all.sort();
    let ms = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    Latency {
        p50: ms(0.50),
        p95: ms(0.95),
        p99: ms(0.99),
        n: all.len(),
    }
}

async fn case(name: &str, vars: &[(&str, &str)]) {
    let abusers = env_num("BENCH_ABUSERS", 100) as usize;
    let seconds = env_num("BENCH_SECONDS", 10);
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    let mut all = vec![("GRAPHQL_CACHE_MS", "0")];
    all.extend_from_slice(vars);
    let server = TestServer::start(pg.as_deref(), &all).await.unwrap();
    crm_core::testing::seed_portfolio(
        server.core.db(),
        &crm_core::testing::SeedSpec {
            clients: env_num("BENCH_CLIENTS", 20) as usize,
            transactions_per_client: env_num("BENCH_ROWS", 800) as usize,
            months: 12,
        },
    )
    .await
    .unwrap();
    server
        .core
        .auth()
        .create_user(
            "ordinary",
            "an-ordinary-password",
            crm_core::domain::Role::Admin,
        )
        .await
        .unwrap();
    let abuser = common::session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let ordinary = common::session_cookie(&server, "ordinary", "an-ordinary-password").await;
    let url = server.url("/graphql");
    let unloaded = cheap(&url, &ordinary, seconds.min(3)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..abusers {
        let (stop, ran, refused) = (stop.clone(), ran.clone(), refused.clone());
        let (url, cookie) = (url.clone(), abuser.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let body = post(&http, &url, &cookie, HEAVY).await;
                if body.get("errors").is_none() {
                    ran.fetch_add(1, Ordering::Relaxed);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    // A well-behaved client would wait `retryAfter`; an abuser retries at once
                    // (a short pause keeps the load generator itself from spinning).
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = cheap(&url, &ordinary, seconds).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "  {name}: me unloaded p50 {:.1} ms p95 {:.1} ms ({} requests); under {abusers} expensive queries in flight: p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms ({} requests); the abuser's: {} ran, {} refused",
        unloaded.p50,
        unloaded.p95,
        unloaded.n,
        loaded.p50,
        loaded.p95,
        loaded.p99,
        loaded.n,
        ran.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    server.stop().await.unwrap();
}

#[tokio::main]
async fn main() {
    let backend = if std::env::var("BENCH_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("abuse bench on {backend} (pool 8, answer reuse off)");
    case(
        "before (admission controls off)",
        &[
            ("DATABASE_MAX_CONNECTIONS", "8"),
            ("QUERY_RATE_PER_MINUTE", "0"),
            ("QUERY_CONCURRENCY_PER_USER", "1000"),
            ("EXPENSIVE_QUERY_CONCURRENCY", "1000"),
            ("ANALYSIS_CONCURRENCY", "1000"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "256"),
        ],
    )
    .await;
    case(
        "after (defaults)",
        &[
            ("DATABASE_MAX_CONNECTIONS", "8"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "256"),
        ],
    )
    .await;
}
