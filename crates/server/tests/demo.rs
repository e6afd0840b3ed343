//! Demo mode: with no bank configured the server runs the sandbox banks in-process, links the
//! demo clients and syncs them at start; a restart changes nothing. Also the bank entry points
//! over GraphQL against those banks: `banks` with status, `linkBank`, `syncNow`, `syncRuns`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// Waits for the newest STARTUP run to end and returns it.
async fn startup_run(c: &Client, newer_than: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let runs = c
            .ok("{ syncRuns(first: 5) { id trigger status added updated unchanged errors message } }", json!({}))
            .await;
        let run = runs["syncRuns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["trigger"] == "STARTUP"
                    && r["id"].as_str().unwrap().parse::<i64>().unwrap() > newer_than
            })
            .cloned();
        if let Some(run) = run.filter(|r| r["status"] != "RUNNING") {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the startup sync did not finish: {runs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const OVERVIEW: &str = "{
  stats { clients { total } transactions { count } banks }
  banks { code name status { health linkedClients authorizedConsents awaitingConsents failingLinks lastSyncedAt } }
  clients(first: 100) { totalCount edges { node { id displayName
    links { bank { code } externalClientId consentStatus statusMessage }
    accounts { bank { code } currency balance { amount currency } }
    totalBalance { amount currency } } } }
}";

#[tokio::test]
async fn a_first_start_shows_the_demo_clients_and_a_restart_changes_nothing() {
    let server = start_with(&[("SANDBOX", "on")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    let run = startup_run(&c, 0).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let added = run["added"].as_u64().unwrap();
    assert!(added > 5_000, "thousands of transactions: {run}");

    let data = c.ok(OVERVIEW, json!({})).await;
    assert_eq!(data["stats"]["clients"]["total"], 20, "{data}");
    assert_eq!(data["stats"]["banks"], 3);
    assert_eq!(
        data["stats"]["transactions"]["count"].as_u64().unwrap(),
        added
    );
    let banks = data["banks"].as_array().unwrap();
    let codes: Vec<&str> = banks.iter().map(|b| b["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["abank", "vbank", "sbank"]);
    let sbank = &banks[2]["status"];
    assert_eq!(
        sbank["awaitingConsents"], 2,
        "two SBank clients have not approved: {sbank}"
    );
    for b in banks {
        assert_eq!(b["status"]["failingLinks"], 0, "{b}");
        assert!(b["status"]["lastSyncedAt"].is_string());
    }

    // One person is one CRM client with a link per bank, and their accounts add up.
    let clients = data["clients"]["edges"].as_array().unwrap();
    let multi = clients
        .iter()
        .map(|e| &e["node"])
        .find(|n| {
            n["links"].as_array().unwrap().len() >= 2
                && n["links"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|l| l["consentStatus"] == "AUTHORIZED")
        })
        .expect("a client at two or more banks");
    let banks_of_accounts: std::collections::BTreeSet<&str> = multi["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["bank"]["code"].as_str().unwrap())
        .collect();
    assert!(banks_of_accounts.len() >= 2, "{multi}");
    let rub: rust_decimal::Decimal = multi["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["currency"] == "RUB")
        .map(|a| {
            a["balance"]["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    let total = multi["totalBalance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["currency"] == "RUB")
        .map(|m| {
            m["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .unwrap();
    assert_eq!(
        total, rub,
        "the total balance is the sum of the banks' balances"
    );
    // A waiting link says what to do.
    let waiting = clients
        .iter()
        .flat_map(|e| e["node"]["links"].as_array().unwrap().iter())
        .find(|l| l["consentStatus"] == "AWAITING_AUTHORIZATION")
        .unwrap();
    assert!(
        waiting["statusMessage"]
            .as_str()
            .unwrap()
            .contains("approve"),
        "{waiting}"
    );

    // A restart: the sandbox forgot its consents, the CRM asks again, and nothing changes.
    let first_id: i64 = run["id"].as_str().unwrap().parse().unwrap();
    let server = server.restart().await.unwrap();
    let c = Client::new(&server);
    c.login_admin().await;
    let again = startup_run(&c, first_id).await;
    assert_eq!(again["status"], "SUCCEEDED", "{again}");
    assert_eq!(
        (again["added"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
    let after = c.ok(OVERVIEW, json!({})).await;
    assert_eq!(after["stats"], data["stats"]);
    assert_eq!(after["banks"][2]["status"]["awaitingConsents"], 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn link_bank_and_sync_now_over_graphql() {
    let server = start_with(&[("SANDBOX", "on")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    let run = startup_run(&c, 0).await;
    let first_id: i64 = run["id"].as_str().unwrap().parse().unwrap();

    let created = c
        .ok(
            "mutation { createClient(input: { displayName: \"Новый клиент\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created["createClient"]["id"].as_str().unwrap().to_owned();
    let link = "mutation($id: ID!, $bank: String!, $ext: String!) { linkBank(clientId: $id, bank: $bank, externalClientId: $ext) { bank { code } externalClientId consentStatus statusMessage } }";
    // Another client's bank id, an unknown bank, an id the bank does not know.
    let taken = c
        .gql(
            link,
            json!({ "id": id, "bank": "abank", "ext": "team200-1" }),
        )
        .await;
    assert_eq!(code(&taken), "BAD_USER_INPUT", "{taken}");
    assert!(taken["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("already linked"));
    let unknown_bank = c
        .gql(
            link,
            json!({ "id": id, "bank": "xbank", "ext": "team200-1" }),
        )
        .await;
    assert_eq!(code(&unknown_bank), "BAD_USER_INPUT", "{unknown_bank}");
    assert!(unknown_bank["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("known banks"));
    let unknown_client = c
        .gql(
            link,
            json!({ "id": id, "bank": "abank", "ext": "team200-999" }),
        )
        .await;
    assert_eq!(code(&unknown_client), "BAD_USER_INPUT", "{unknown_client}");
    let links = c
        .ok(
            "query($id: ID!) { client(id: $id) { links { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        links["client"]["links"],
        json!([]),
        "a refused link is not kept"
    );

    // syncNow answers at once with the run; the run ends with nothing new.
    let started = c
        .ok(
            "mutation { syncNow(bank: \"abank\") { id status trigger bank } }",
            json!({}),
        )
        .await;
    assert_eq!(started["syncNow"]["trigger"], "MANUAL");
    assert_eq!(started["syncNow"]["bank"], "abank");
    let run_id = started["syncNow"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let runs = c
            .ok(
                "{ syncRuns(first: 10) { id status added accounts } }",
                json!({}),
            )
            .await;
        let run = runs["syncRuns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == run_id.as_str())
            .cloned()
            .unwrap();
        if run["status"] != "RUNNING" {
            break run;
        }
        assert!(Instant::now() < deadline, "{runs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["status"], "SUCCEEDED", "{finished}");
    assert_eq!(finished["added"], 0);
    assert!(finished["accounts"].as_u64().unwrap() > 10);
    assert!(run_id.parse::<i64>().unwrap() > first_id);

    let bad = c
        .gql("mutation { syncNow(bank: \"nobank\") { id } }", json!({}))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    server.stop().await.unwrap();
}
