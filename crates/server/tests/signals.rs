//! Signals over GraphQL against the real server: computed on request for a client one may
//! change, listed for one's book only (another book's signal is `NOT_FOUND`), live over
//! `signalRaised` for one's own clients only, with figures, evidence and the owner's task;
//! a dismissal needs a reason; completing the task closes the signal.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code, open_ws, start, ws_next, ws_send, Client};
use crm_core::testing::{add_bank_account, BankAccountSpec};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

async fn cookie_of(server: &TestServer, name: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }",
            "variables": { "u": name, "p": PASSWORD },
        }))
        .send()
        .await
        .unwrap();
    let set = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// An overdrawn account of `client` at a bank.
async fn overdrawn(server: &TestServer, client: &str, number: &str) {
    add_bank_account(
        server.core.db(),
        &BankAccountSpec {
            client_id: client.parse().unwrap(),
            bank_code: "vbank",
            external_client_id: &format!("vbank-{client}-{number}"),
            number,
            name: "Текущий",
            balance_minor: -250_000,
            currency: "RUB",
        },
    )
    .await
    .unwrap();
}

const SIGNALS: &str = "query { signals(first: 10) { totalCount edges { node {
    id kind title(lang: EN) severity state summary(lang: EN) figures(lang: EN) { name text money { amount currency } }
    evidence { kind id } client { id } task { id status assignee { username } signal { id } } } } } }";

async fn next_of(ws: &mut common::Ws, id: &str) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let msg = ws_next(ws).await.expect("the socket stays open");
            if msg["id"] == id {
                return msg;
            }
        }
    })
    .await
    .expect("an event in time")
}

#[tokio::test]
async fn signals_are_the_books_live_with_evidence_and_closed_by_their_task() {
    let server = start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    for name in ["masha", "lev"] {
        common::create_user(&admin, name, "MANAGER", PASSWORD).await;
    }
    common::create_user(&admin, "vera", "VIEWER", PASSWORD).await;
    let masha = common::signed_in_as(&server, "masha", PASSWORD).await;
    let lev = common::signed_in_as(&server, "lev", PASSWORD).await;
    let vera = common::signed_in_as(&server, "vera", PASSWORD).await;
    let mine = common::create_client(&masha, "Клиент Маши").await;
    let theirs = common::create_client(&lev, "Клиент Льва").await;
    overdrawn(&server, &mine, "40817810000000000011").await;
    overdrawn(&server, &theirs, "40817810000000000012").await;
    overdrawn(&server, &theirs, "40817810000000000013").await;

    // masha listens; lev's signal is raised first, hers second: the first event she hears is
    // hers.
    let mut ws = open_ws(&server, &cookie_of(&server, "masha").await).await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "raised", "payload": {
            "query": "subscription { signalRaised { kind client { id } } }",
        } }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let refresh = "mutation($c: ID!) { refreshSignals(clientId: $c) { id kind } }";
    let lev_signals = lev.ok(refresh, json!({ "c": theirs })).await["refreshSignals"].clone();
    assert_eq!(lev_signals[0]["kind"], "OVERDRAFT", "{lev_signals}");
    let raised = masha.ok(refresh, json!({ "c": mine })).await;
    assert_eq!(raised["refreshSignals"][0]["kind"], "OVERDRAFT", "{raised}");
    let heard = next_of(&mut ws, "raised").await;
    assert_eq!(
        heard["payload"]["data"]["signalRaised"]["client"]["id"], mine,
        "{heard}"
    );
    // Computing another's client is refused as if it did not exist.
    assert_eq!(
        code(&masha.gql(refresh, json!({ "c": theirs })).await),
        "NOT_FOUND"
    );

    // Her book: one signal, with its figures, its account and her task.
    let list = masha.ok(SIGNALS, json!({})).await["signals"].clone();
    assert_eq!(list["totalCount"], 1, "{list}");
    let node = &list["edges"][0]["node"];
    assert_eq!(node["client"]["id"], mine);
    assert_eq!(node["title"], "Overdraft");
    assert_eq!(node["severity"], "CRITICAL");
    assert!(
        node["summary"].as_str().unwrap().contains("2,500"),
        "{node}"
    );
    let balance = node["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "balance")
        .unwrap();
    assert_eq!(balance["money"]["amount"], "-2500.00", "{balance}");
    assert_eq!(node["evidence"][0]["kind"], "account");
    assert_eq!(node["task"]["assignee"]["username"], "masha");
    assert_eq!(node["task"]["status"], "OPEN");
    assert_eq!(node["task"]["signal"]["id"], node["id"]);
    let id = node["id"].as_str().unwrap().to_owned();
    let task = node["task"]["id"].as_str().unwrap().to_owned();

    // Other books: nothing listed, the signal does not exist for them.
    assert_eq!(
        lev.ok(SIGNALS, json!({})).await["signals"]["totalCount"],
        2,
        "lev has his own: one per overdrawn account"
    );
    // A page of signals with their clients and tasks costs the same statements for one
    // signal as for two (the least of three readings: background jobs only add).
    let page = "query($n: Int!) { signals(first: $n) { totalCount edges { node { id summary client { displayName } task { id status signal { id } } } } } }";
    let mut costs = Vec::new();
    for n in [1, 2] {
        let mut least = u64::MAX;
        for _ in 0..3 {
            let before = server.core.db().statement_count();
            let got = lev.ok(page, json!({ "n": n })).await;
            least = least.min(server.core.db().statement_count() - before);
            assert_eq!(
                got["signals"]["edges"].as_array().unwrap().len(),
                n as usize
            );
        }
        costs.push(least);
    }
    assert_eq!(
        costs[0], costs[1],
        "statements for 1 and 2 signals: {costs:?}"
    );
    assert!(costs[1] <= 6, "statements for a page of signals: {costs:?}");
    assert_eq!(
        vera.ok(SIGNALS, json!({})).await["signals"]["totalCount"],
        0
    );
    let one = "query($id: ID!) { signal(id: $id) { state resolution dismissReason } }";
    assert_eq!(code(&lev.gql(one, json!({ "id": id })).await), "NOT_FOUND");
    let dismiss =
        "mutation($id: ID!, $r: String!) { dismissSignal(id: $id, reason: $r) { state } }";
    assert_eq!(
        code(
            &vera
                .gql(dismiss, json!({ "id": id, "r": "не нужно" }))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&masha.gql(dismiss, json!({ "id": id, "r": "  " })).await),
        "BAD_USER_INPUT"
    );

    // Acknowledged, then done by its task.
    let ack = masha
        .ok(
            "mutation($id: ID!) { acknowledgeSignal(id: $id) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(ack["acknowledgeSignal"]["state"], "ACKNOWLEDGED");
    masha
        .ok(
            "mutation($id: ID!) { completeTask(id: $id) { status } }",
            json!({ "id": task }),
        )
        .await;
    let done = masha.ok(one, json!({ "id": id })).await;
    assert_eq!(done["signal"]["state"], "DONE", "{done}");
    assert_eq!(done["signal"]["resolution"], "TASK_DONE");
    assert_eq!(
        masha.ok(SIGNALS, json!({})).await["signals"]["totalCount"],
        0
    );
    let all = masha
        .ok(
            "query { signals(filter: { states: [DONE] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all["signals"]["totalCount"], 1);
    // On the timeline of the client: raised and closed.
    let timeline = masha
        .ok(
            "query($c: ID!) { client(id: $c) { timeline(first: 20, kinds: [SIGNAL_RAISED, SIGNAL_CLOSED]) { edges { node { kind summary(lang: EN) } } } } }",
            json!({ "c": mine }),
        )
        .await;
    let kinds: Vec<&str> = timeline["client"]["timeline"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["SIGNAL_CLOSED", "SIGNAL_RAISED"], "{timeline}");
    server.stop().await.unwrap();
}
