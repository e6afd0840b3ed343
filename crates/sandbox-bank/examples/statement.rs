//! Prints the clients of a sandbox bank, or one client's accounts and latest transactions as
//! the bank serves them: `cargo run -p crm-sandbox-bank --example statement -- abank [team200-3] [rows]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crm_sandbox_bank::{Sandbox, SandboxConfig, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET};
use serde_json::Value;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = args.first().map_or("abank", String::as_str);
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let control = sandbox.control(code).expect("no such bank");
    let Some(client) = args.get(1) else {
        for c in control.clients() {
            let total: u64 = c.accounts.iter().map(|a| a.transactions).sum();
            let kinds: Vec<String> = c
                .accounts
                .iter()
                .map(|a| format!("{:?} {} {}", a.kind, a.currency, a.balance))
                .collect();
            println!(
                "{:<11} {:<38} {:<10} {:>5} tx  {}",
                c.id,
                c.name,
                format!("{:?}", c.profile),
                total,
                kinds.join(", ")
            );
        }
        return;
    };
    let rows: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(60);
    for r in control.consent_requests() {
        let _ = control.approve(&r.request_id);
    }
    let base = sandbox.url(code).unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/auth/bank-token"))
        .query(&[
            ("client_id", DEFAULT_TEAM_ID),
            ("client_secret", DEFAULT_TEAM_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let get = |path: String| {
        let http = http.clone();
        let token = token.clone();
        async move {
            http.get(path)
                .bearer_auth(token)
                .header("x-requesting-bank", DEFAULT_TEAM_ID)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    http.post(format!("{base}/account-consents/request"))
        .bearer_auth(&token)
        .header("x-requesting-bank", DEFAULT_TEAM_ID)
        .json(&serde_json::json!({"client_id": client, "permissions": ["ReadAccountsDetail"]}))
        .send()
        .await
        .unwrap();
    for r in control.consent_requests() {
        let _ = control.approve(&r.request_id);
    }
    let accounts = get(format!("{base}/accounts?client_id={client}")).await;
    for a in accounts["data"]["account"].as_array().unwrap() {
        let id = a["accountId"].as_str().unwrap();
        let balance = get(format!("{base}/accounts/{id}/balances")).await;
        let b = &balance["data"]["balance"][0];
        println!(
            "\n{id} {} {} {} — {} {} {}",
            a["accountSubType"],
            a["currency"],
            a["nickname"],
            b["creditDebitIndicator"],
            b["amount"]["amount"],
            a["account"][0]["name"]
        );
        let page = get(format!(
            "{base}/accounts/{id}/transactions?page=1&limit={}",
            rows.min(100)
        ))
        .await;
        println!("  {} transactions", page["meta"]["totalRecords"]);
        for t in page["data"]["transaction"].as_array().unwrap() {
            println!(
                "  {} {:>6} {:>10} {:<9} {:<45} {:<6} {}",
                t["bookingDateTime"].as_str().unwrap_or(""),
                t["creditDebitIndicator"].as_str().unwrap_or(""),
                t["amount"]["amount"].to_string().trim_matches('"'),
                t["status"].as_str().unwrap_or(""),
                t["transactionInformation"].as_str().unwrap_or(""),
                t["merchant"]["mccCode"].as_str().unwrap_or(""),
                t["counterparty"].as_str().unwrap_or(""),
            );
        }
    }
}
