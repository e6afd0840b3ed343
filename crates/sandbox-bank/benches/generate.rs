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
    let approve = control.clone();
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
    let _ = approve;
    let started = Instant::now();
    let (mut rows, mut bytes, mut page) = (0usize, 0usize, 1);
    loop {
        let text = http
            .get(format!(
                "{base}/accounts/{account}/transactions?page={page}&limit=100"
            ))
            .bearer_auth(&token)
            .header("x-requesting-bank", DEFAULT_TEAM_ID)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body");
        bytes += text.len();
        let body: Value = serde_json::from_str(&text).expect("json");
        rows += body["data"]["transaction"].as_array().map_or(0, Vec::len);
        if body["links"]["next"].is_null() {
            break;
        }
        page += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "serve {rows} rows of {account} in {page} pages of 100: {secs:.2} s ({:.0} rows/s, {:.1} MB/s, client parsing included)",
        rows as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    running.stop().await;
}
