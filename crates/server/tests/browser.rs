//! The web app in a real browser: each test starts the real server on a random port with a fresh
//! database, and runs one suite of `web-tests/` (playwright-core driving Debian's chromium,
//! axe-core for accessibility). The main flow runs against demo mode (the sandbox banks
//! in-process, the demo clients synced at start) and is told what the API says about them; the
//! hostile-text suite seeds its own data by hand. A suite's failure fails the test with its
//! output.
//!
//! Needs `/usr/bin/chromium` (or `CHROMIUM`), `node`, and `web-tests/node_modules`; without them
//! these tests FAIL with what to install (`scripts/test` installs all of it).
//! Screenshots land in `web-tests/screenshots/<suite>/`.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, Utc};
use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use serde_json::{json, Value};

/// A suite that runs longer than this is stopped and fails (it guards against a hung browser).
const SUITE_TIMEOUT: Duration = Duration::from_secs(240);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn web_tests() -> PathBuf {
    repo().join("web-tests")
}

fn chromium() -> PathBuf {
    std::env::var("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/bin/chromium"))
}

/// Fails (never skips) when the browser, node or the test packages are missing.
fn require_tools() {
    let how = "run `scripts/test` (installs chromium with apt when root, runs `npm ci --prefix web-tests`), \
               or by hand: `apt-get install -y chromium nodejs npm` and `npm ci --prefix web-tests`";
    let browser = chromium();
    assert!(
        browser.is_file(),
        "the browser tests need Debian's chromium at {} (or CHROMIUM=/path): {how}",
        browser.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the browser tests need `node` on PATH: {how}"
    );
    for package in ["playwright-core", "axe-core", "graphql"] {
        let dir = web_tests().join("node_modules").join(package);
        assert!(
            dir.join("package.json").is_file(),
            "web-tests/node_modules/{package} is missing: {how}"
        );
    }
}

/// Runs `node web-tests/<suite>.mjs` with the server's address and the seed in the environment;
/// panics with the suite's output when it fails.
async fn run_suite(suite: &str, server: Option<&TestServer>, seed: &Value) {
    require_tools();
    let script = web_tests().join(format!("{suite}.mjs"));
    assert!(script.is_file(), "{} is missing", script.display());
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .current_dir(web_tests())
        .env("AICRM_USERNAME", ADMIN)
        .env("AICRM_PASSWORD", ADMIN_PASSWORD)
        .env("AICRM_SEED", seed.to_string())
        .env("AICRM_SCHEMA", repo().join("schema.graphql"))
        .env("AICRM_WEB", repo().join("web"))
        .env("CHROMIUM", chromium())
        .env(
            "AICRM_SCREENSHOTS",
            web_tests().join("screenshots").join(suite),
        )
        .env("AICRM_TIMEOUT_MS", SUITE_TIMEOUT.as_millis().to_string());
    if let Some(server) = server {
        cmd.env("AICRM_BASE_URL", server.url(""));
    }
    let started = Instant::now();
    // The suite talks to the server running on this runtime: wait for it off the runtime.
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("node starts");
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "web-tests/{suite}.mjs failed ({}) after {:.1}s\n{text}",
        output.status,
        started.elapsed().as_secs_f64()
    );
    println!(
        "web-tests/{suite}.mjs passed in {:.1}s\n{text}",
        started.elapsed().as_secs_f64()
    );
}

async fn signed_in(server: &TestServer) -> common::Client {
    let api = common::Client::new(server);
    let body = api.login(ADMIN, ADMIN_PASSWORD).await;
    assert!(body.get("errors").is_none(), "login: {body}");
    api
}

async fn create_client(api: &common::Client, name: &str, email: Option<&str>) -> String {
    let data = api
        .ok(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({ "input": { "displayName": name, "email": email } }),
        )
        .await;
    data["createClient"]["id"].as_str().unwrap().to_owned()
}

#[allow(clippy::too_many_arguments)]
async fn create_transaction(
    api: &common::Client,
    client: &str,
    at: DateTime<Utc>,
    amount: &str,
    direction: &str,
    description: &str,
    merchant: Option<&str>,
    mcc: Option<&str>,
) -> String {
    let data = api
        .ok(
            "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }",
            json!({ "input": {
                "clientId": client, "bookedAt": at.to_rfc3339(), "amount": amount, "currency": "RUB",
                "direction": direction, "description": description, "merchant": merchant, "mcc": mcc,
            } }),
        )
        .await;
    data["createTransaction"]["id"].as_str().unwrap().to_owned()
}

/// Stores a rating directly, so the portfolio has every grade without months of data per client.
async fn rate(server: &TestServer, client: &str, grade: &str, score: i32) {
    use crm_core::entity::ratings;
    use sea_orm::{ActiveModelTrait, Set};
    let factors = json!([
        { "name": "Доля сбережений", "value": format!("{}%", score / 4), "impact": f64::from(score) / 5.0 },
        { "name": "Стабильность дохода", "value": "6 мес.", "impact": 8.5 },
        { "name": "Кредитная нагрузка", "value": "35%", "impact": -6.0 },
    ]);
    ratings::ActiveModel {
        client_id: Set(client.parse().unwrap()),
        grade: Set(grade.to_owned()),
        score: Set(score),
        factors: Set(factors.to_string()),
        computed_at: Set(Utc::now()),
    }
    .insert(server.core.db().conn())
    .await
    .expect("rating stored");
}

/// The demo's size in the browser flow: a few more people than the default 20, so the client
/// list has a second page.
const DEMO_CLIENTS: &str = "24";
/// The sandbox's world is generated from this seed.
const DEMO_SEED: &str = "20251106";

/// The demo portfolio as the server made it, read back over the API and described in the JSON
/// the flow gets as `AICRM_SEED`: the clients with their grades, the client with the most
/// transactions ("busy") with counts, a search term and what its analytics say, the portfolio's
/// grades and banks. The flow compares what the page shows with these.
async fn describe_demo(server: &TestServer) -> Value {
    let api = signed_in(server).await;
    let run = common::startup_run(&api, 0).await;
    common::assert_only_consent_waits(&run);

    let data = api
        .ok(
            "{ clients(first: 100) { edges { node { id displayName rating { grade score }
                transactions(first: 1) { totalCount } } } }
               byScore: clients(first: 20, orderBy: SCORE_DESC) { edges { node { displayName } } }
               portfolio { grades { grade count averageScore } banks { bank { code name status {
                 health linkedClients authorizedConsents awaitingConsents failingLinks } }
                 clients accounts transactions } } }",
            json!({}),
        )
        .await;
    let nodes: Vec<Value> = data["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let clients: Vec<Value> = nodes
        .iter()
        .map(|n| json!({ "id": n["id"], "name": n["displayName"], "grade": n["rating"]["grade"], "score": n["rating"]["score"] }))
        .collect();
    let busy = nodes
        .iter()
        .filter(|n| n["rating"].is_object())
        .max_by_key(|n| n["transactions"]["totalCount"].as_i64().unwrap())
        .expect("a rated demo client");
    let busy_id = busy["id"].as_str().unwrap().to_owned();
    let total = busy["transactions"]["totalCount"].as_i64().unwrap();
    assert!(
        total > 50,
        "the busiest demo client has more than a page: {busy}"
    );

    // A client whose SBank link waits for the client's approval (the page says so).
    let linked = api
        .ok(
            "{ clients(first: 100) { edges { node { id displayName links { id state } } } } }",
            json!({}),
        )
        .await;
    let waiting = linked["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find_map(|n| {
            n["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["state"] == "CONSENT_WAITING")
                .map(|l| json!({ "id": n["id"], "name": n["displayName"], "linkId": l["id"] }))
        })
        .expect("a demo client waiting for a consent");

    let from = (Utc::now() - Days::days(400)).to_rfc3339();
    let to = (Utc::now() + Days::days(1)).to_rfc3339();
    let detail = api
        .ok(
            "query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) {
                rating { grade score factors { code } }
                credits: transactions(first: 1, filter: { direction: CREDIT }) { totalCount }
                topMerchants(from: $from, to: $to, first: 10) { merchant count }
                insights(lang: RU) { kind text }
                recurringPayments { merchant }
                offers(lang: RU) { product { name } }
                income { monthlyAverageIncome { amount currency } salaryDetected employer }
             } }",
            json!({ "id": busy_id, "from": from, "to": to }),
        )
        .await;
    let c = &detail["client"];
    // A search term with a page's worth of results: the first top merchant with 2..=50 rows.
    let mut search = Value::Null;
    for m in c["topMerchants"].as_array().unwrap() {
        let text = m["merchant"].as_str().unwrap();
        let found = api
            .ok(
                "query($id: ID!, $q: String!) { client(id: $id) { transactions(first: 1, filter: { search: $q }) {
                    totalCount edges { node { id category } } } } }",
                json!({ "id": busy_id, "q": text }),
            )
            .await;
        let conn = &found["client"]["transactions"];
        let n = conn["totalCount"].as_i64().unwrap();
        if (2..=50).contains(&n) {
            search = json!({
                "text": text, "count": n,
                "firstId": conn["edges"][0]["node"]["id"], "firstCategory": conn["edges"][0]["node"]["category"],
            });
            break;
        }
    }
    assert!(
        search.is_object(),
        "a merchant of the busy client to search for: {c}"
    );
    let names = |v: &Value, pick: &dyn Fn(&Value) -> Value| -> Vec<Value> {
        v.as_array().unwrap().iter().map(pick).collect()
    };
    json!({
        "clients": clients,
        "byScore": names(&data["byScore"]["edges"], &|e| e["node"]["displayName"].clone()),
        "grades": data["portfolio"]["grades"],
        "banks": names(&data["portfolio"]["banks"], &|b| json!({
            "code": b["bank"]["code"], "name": b["bank"]["name"], "status": b["bank"]["status"],
            "clients": b["clients"], "accounts": b["accounts"], "transactions": b["transactions"],
        })),
        "busy": {
            "id": busy_id, "name": busy["displayName"], "transactions": total,
            "grade": c["rating"]["grade"], "score": c["rating"]["score"],
            "factors": c["rating"]["factors"].as_array().unwrap().len(),
            "credits": c["credits"]["totalCount"],
            "search": search,
            "insights": names(&c["insights"], &|i| i["text"].clone()),
            "recurring": names(&c["recurringPayments"], &|r| r["merchant"].clone()),
            "offers": names(&c["offers"], &|o| o["product"]["name"].clone()),
            "income": c["income"],
        },
        "throttleUser": "nobody-here",
        "waiting": waiting,
    })
}

/// Bank texts and names that try to become markup (the suite checks they stay text).
async fn seed_hostile(server: &TestServer) -> Value {
    let api = signed_in(server).await;
    let name =
        "<img src=x onerror=\"window.__xss='name'\">Мария <script>window.__xss='name2'</script>";
    let id = create_client(&api, name, Some("xss@example.ru")).await;
    rate(server, &id, "B", 61).await;
    let now = Utc::now();
    let rows = [
        (
            "<script>window.__xss='description'</script>Оплата",
            "<img src=x onerror=\"window.__xss='merchant'\">",
        ),
        (
            "<img src=x onerror=alert(1)> Перевод",
            "<svg onload=\"window.__xss='svg'\"></svg>",
        ),
        (
            "**не жирный** [ссылка](javascript:alert(1)) <b>b</b>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ),
    ];
    for (k, (desc, merchant)) in rows.iter().enumerate() {
        create_transaction(
            &api,
            &id,
            now - Days::days(k as i64 + 1),
            "100.00",
            "DEBIT",
            desc,
            Some(merchant),
            None,
        )
        .await;
    }
    json!({ "hostile": { "id": id, "name": name, "descriptions": rows.iter().map(|r| r.0).collect::<Vec<_>>(), "merchants": rows.iter().map(|r| r.1).collect::<Vec<_>>() } })
}

/// Login (wrong then right password, throttling), dashboard, grade filter, a client, paging
/// through transactions, recategorising one, the charts, sync now with live progress, the
/// assistant streaming, session expiry and logout, at desktop and phone widths, with axe-core
/// on every page and screenshots of each.
#[tokio::test]
async fn browser_flow() {
    require_tools();
    // Demo mode: the sandbox banks in-process, the demo clients linked and synced at start. The
    // world ends today (a fixed day for the run), so the recent-period charts have data.
    let anchor = Utc::now().format("%Y-%m-%d").to_string();
    let server = common::start_with(&[
        ("LOGIN_MAX_FAILURES", "3"),
        ("SANDBOX", "on"),
        ("SANDBOX_SEED", DEMO_SEED),
        ("SANDBOX_ANCHOR", &anchor),
        ("SANDBOX_CLIENTS", DEMO_CLIENTS),
    ])
    .await;
    let started = Instant::now();
    let seed = describe_demo(&server).await;
    println!(
        "demo ready and described in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    run_suite("flow", Some(&server), &seed).await;
    server.stop().await.unwrap();
}

/// Names, bank descriptions, merchants and assistant answers with `<script>`, `<img onerror>`,
/// `javascript:` links render as text.
#[tokio::test]
async fn browser_hostile_text() {
    require_tools();
    let server = common::start().await;
    let seed = seed_hostile(&server).await;
    run_suite("xss", Some(&server), &seed).await;
    server.stop().await.unwrap();
}

/// The app's own modules in the browser: the Markdown renderer, the graphql-transport-ws client
/// (against a scripted socket and against the real server), charts, formatting.
#[tokio::test]
async fn browser_units() {
    require_tools();
    let server = common::start().await;
    run_suite("units", Some(&server), &json!({})).await;
    server.stop().await.unwrap();
}

/// Every operation in web/queries.js validates against schema.graphql (no browser needed).
#[tokio::test]
async fn web_operations_validate() {
    run_suite("static", None, &json!({})).await;
}

#[test]
fn screenshots_folder_is_ignored() {
    let ignore = std::fs::read_to_string(repo().join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "/web-tests/screenshots"));
    assert!(Path::new(&web_tests()).join("package-lock.json").is_file());
}
