//! Demo mode: with no bank configured the server runs the sandbox banks in-process, links the
//! demo clients and syncs them at start; a restart changes nothing. Also the bank entry points
//! over GraphQL against those banks: `banks` with status, `linkBank`, `syncNow`, `syncRuns`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

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
    assert_eq!(assert_only_consent_waits(&run), 2, "{run}");
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
    assert_eq!(assert_only_consent_waits(&again), 2, "{again}");
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

#[tokio::test]
async fn link_states_runs_per_link_and_asking_for_a_consent_again_over_graphql() {
    let server = start_with(&[("SANDBOX", "on")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    let run = startup_run(&c, 0).await;
    assert_only_consent_waits(&run);

    let data = c
        .ok(
            "{ clients(first: 100) { edges { node { id links { id bank { code } consentStatus state
                 failureCount nextAttemptAt consentRequestedAt lastError { code message at } } } } } }",
            json!({}),
        )
        .await;
    let nodes: Vec<&Value> = data["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let links: Vec<&Value> = nodes
        .iter()
        .flat_map(|n| n["links"].as_array().unwrap())
        .collect();
    let waiting: Vec<&&Value> = links
        .iter()
        .filter(|l| l["state"] == "CONSENT_WAITING")
        .collect();
    assert_eq!(waiting.len(), 2, "{links:?}");
    for l in &waiting {
        assert_eq!(l["bank"]["code"], "sbank");
        assert!(l["consentRequestedAt"].is_string(), "{l}");
        assert!(l["lastError"].is_null(), "{l}");
    }
    for l in links.iter().filter(|l| l["consentStatus"] == "AUTHORIZED") {
        assert_eq!(l["state"], "OK", "{l}");
        assert_eq!(l["failureCount"], 0);
        assert!(l["nextAttemptAt"].is_null());
    }
    // The bank's own ids of accounts and rows.
    let accounts = c
        .ok(
            "{ clients(first: 3) { edges { node { accounts { bankAccountId
                 transactions(first: 1) { edges { node { bankTransactionId } } } } } } } }",
            json!({}),
        )
        .await;
    let account = accounts["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["accounts"].as_array().unwrap())
        .find(|a| !a["transactions"]["edges"].as_array().unwrap().is_empty())
        .unwrap();
    assert!(
        account["bankAccountId"].as_str().unwrap().len() > 2,
        "{account}"
    );
    let row = &account["transactions"]["edges"][0]["node"];
    assert!(
        row["bankTransactionId"]
            .as_str()
            .unwrap()
            .starts_with("tx-"),
        "{row}"
    );

    // A request with no answer for longer than CONSENT_PENDING_MAX_DAYS says so.
    let link_id = waiting[0]["id"].as_str().unwrap().to_owned();
    {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let id: i64 = link_id.parse().unwrap();
        let mut m: crm_core::entity::bank_links::ActiveModel =
            crm_core::entity::bank_links::Entity::find_by_id(id)
                .one(server.core.db().conn())
                .await
                .unwrap()
                .unwrap()
                .into();
        m.consent_requested_at = Set(Some(chrono::Utc::now() - chrono::Duration::days(8)));
        m.update(server.core.db().conn()).await.unwrap();
    }
    let banks = c
        .ok(
            "{ banks { code status { health awaitingConsents unansweredConsents revokedConsents } } }",
            json!({}),
        )
        .await;
    let sbank = banks["banks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "sbank")
        .unwrap();
    assert_eq!(
        (
            &sbank["status"]["awaitingConsents"],
            &sbank["status"]["unansweredConsents"]
        ),
        (&json!(1), &json!(1)),
        "{sbank}"
    );

    // Asking again: a viewer may not, a manager may (audited), an authorised link needs none.
    let again =
        "mutation($id: ID!) { requestConsentAgain(linkId: $id) { id state consentRequestedAt } }";
    server
        .core
        .auth()
        .create_user(
            "viewer",
            "viewer-password-123",
            crm_core::domain::Role::Viewer,
        )
        .await
        .unwrap();
    let viewer = Client::new(&server);
    assert!(viewer
        .login("viewer", "viewer-password-123")
        .await
        .get("errors")
        .is_none());
    // Outside the viewer's book the link does not exist for them; inside it (shared), they
    // still may not ask.
    let refused = viewer.gql(again, json!({ "id": link_id })).await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");
    let link_client = {
        use sea_orm::EntityTrait;
        crm_core::entity::bank_links::Entity::find_by_id(link_id.parse::<i64>().unwrap())
            .one(server.core.db().conn())
            .await
            .unwrap()
            .unwrap()
            .client_id
    };
    let viewer_id = server
        .core
        .auth()
        .user_named("viewer")
        .await
        .unwrap()
        .unwrap()
        .id;
    c.ok(
        "mutation($c: ID!, $u: ID!) { shareClient(clientId: $c, userId: $u) { until } }",
        json!({ "c": link_client.to_string(), "u": viewer_id.to_string() }),
    )
    .await;
    let refused = viewer.gql(again, json!({ "id": link_id })).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let asked = c.ok(again, json!({ "id": link_id })).await;
    assert_eq!(
        asked["requestConsentAgain"]["state"], "CONSENT_WAITING",
        "{asked}"
    );
    let audit = server.core.audit().recent_audit(10).await.unwrap();
    assert!(
        audit.iter().any(|r| r.action == "bank.consent.request"),
        "{audit:?}"
    );
    let authorised = links
        .iter()
        .find(|l| l["consentStatus"] == "AUTHORIZED")
        .unwrap();
    let needless = c.gql(again, json!({ "id": authorised["id"] })).await;
    assert_eq!(code(&needless), "BAD_USER_INPUT", "{needless}");
    let missing = c.gql(again, json!({ "id": "999999" })).await;
    assert_eq!(code(&missing), "NOT_FOUND", "{missing}");

    // The run says per link what happened.
    let runs = c
        .ok(
            "{ syncRuns(first: 1) { status links { result code bank } } }",
            json!({}),
        )
        .await;
    assert!(!runs["syncRuns"][0]["links"].as_array().unwrap().is_empty());
    server.stop().await.unwrap();
}
