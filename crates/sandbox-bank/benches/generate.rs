//! How big the default world is, how fast benchmark volumes are generated, and how fast a bank
//! serves pages. `cargo bench -p crm-sandbox-bank --bench generate` (prints, asserts nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use crm_sandbox_bank::{Sandbox, SandboxConfig, Volume, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET};
use serde_json::Value;

fn main() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("default config");
    println!("default world (seed {}):", sandbox.config().seed);
    for bank in &sandbox.config().banks {
        let h = sandbox.control(&bank.code).expect("bank");
        let clients = h.clients();
        let accounts: usize = clients.iter().map(|c| c.accounts.len()).sum();
        let txs: u64 = clients
            .iter()
            .flat_map(|c| &c.accounts)
            .map(|a| a.transactions)
            .sum();
        let busiest = clients
            .iter()
            .flat_map(|c| &c.accounts)
            .map(|a| a.transactions)
            .max()
            .unwrap_or(0);
        println!(
            "  {}: {} clients, {} accounts, {} transactions (busiest account {})",
            bank.code,
            clients.len(),
            accounts,
            txs,
            busiest
        );
    }

    for total in [100_000u64, 1_000_000] {
        let started = Instant::now();
        let sandbox = Sandbox::new(SandboxConfig::default().with_volume(Volume::Total(total)))
            .expect("config");
        let rows: u64 = sandbox
            .config()
            .banks
            .iter()
            .map(|b| sandbox.control(&b.code).expect("bank").prewarm())
            .sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "generate {rows} transactions: {secs:.2} s ({:.1} M rows/s, ~{} MiB of rows)",
            rows as f64 / secs / 1e6,
            rows * 40 / (1 << 20)
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(serve_pages());
}

/// Reads the busiest account of a million-transaction ABank page by page over HTTP.
async fn serve_pages() {
    let running = Sandbox::start(SandboxConfig::default().with_volume(Volume::Total(1_000_000)))
        .await
        .expect("start");
    let control = running.control("abank").expect("abank");
    control.prewarm();
    let (client, account) = control.busiest_account().expect("an account");
    let base = running.url("abank").expect("url");
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/auth/bank-token"))
        .query(&[
            ("client_id", DEFAULT_TEAM_ID),
            ("client_secret", DEFAULT_TEAM_SECRET),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_owned();
    http.post(format!("{base}/account-consents/request"))
        .bearer_auth(&token)
        .header("x-requesting-bank", DEFAULT_TEAM_ID)
        .json(&serde_json::json!({"client_id": client, "permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail"]}))
        .send()
        .await
        .expect("consent");
    let prefix = format!("{base}/accounts/{account}/transactions");
    let page_url = move |page: u64| format!("{prefix}?page={page}&limit=100");
    let first: Value = http
        .get(page_url(1))
        .bearer_auth(&token)
        .header("x-requesting-bank", DEFAULT_TEAM_ID)
        .send()
        .await
        .expect("page")
        .json()
        .await
        .expect("json");
    let pages = first["meta"]["totalPages"].as_u64().expect("pages");
    let rows = first["meta"]["totalRecords"].as_u64().expect("rows");
    for concurrency in [1u64, 4] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for lane in 0..concurrency {
            let (http, token, page_url) = (http.clone(), token.clone(), page_url.clone());
            tasks.push(tokio::spawn(async move {
                let mut bytes = 0usize;
                let mut page = 1 + lane;
                while page <= pages {
                    let text = http
                        .get(page_url(page))
                        .bearer_auth(&token)
                        .header("x-requesting-bank", DEFAULT_TEAM_ID)
                        .send()
                        .await
                        .expect("page")
                        .text()
                        .await
                        .expect("body");
                    bytes += text.len();
                    page += concurrency;
                }
                bytes
            }));
        }
        let mut bytes = 0;
        for t in tasks {
            bytes += t.await.expect("task");
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "serve {rows} rows of {account} in {pages} pages of 100, {concurrency} at a time: {secs:.2} s ({:.0} rows/s, {:.1} MB/s, bodies not parsed)",
            rows as f64 / secs,
            bytes as f64 / secs / 1e6
        );
    }
    running.stop().await;
}
