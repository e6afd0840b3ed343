//! The web app in a real browser: each test starts the real server on a random port with a fresh
//! database, seeds data, and runs one suite of `web-tests/` (playwright-core driving Debian's
//! chromium, axe-core for accessibility). A suite's failure fails the test with its output.
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

const NAMES: [&str; 24] = [
    "Анна Смирнова",
    "Борис Кузнецов",
    "Вера Попова",
    "Глеб Васильев",
    "Дарья Соколова",
    "Евгений Михайлов",
    "Жанна Новикова",
    "Захар Фёдоров",
    "Ирина Морозова",
    "Иван Петров",
    "Кирилл Волков",
    "Лариса Алексеева",
    "Максим Лебедев",
    "Нина Семёнова",
    "Олег Егоров",
    "Полина Павлова",
    "Роман Козлов",
    "Светлана Степанова",
    "Тимур Николаев",
    "Ульяна Орлова",
    "Фёдор Андреев",
    "Юлия Макарова",
    "Яков Никитин",
    "Элла Захарова",
];

/// The demo portfolio the browser suites expect, described in the JSON they get as
/// `AICRM_SEED`. One function on purpose: when the server has a demo mode, this becomes "start
/// with demo mode and describe what it made" and the suites stay as they are.
async fn seed_demo(server: &TestServer) -> Value {
    let api = signed_in(server).await;
    let mut clients = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let email = format!("client{i}@example.ru");
        let id = create_client(&api, name, Some(&email)).await;
        // 22 rated (A, B, C in turn), the last two not yet.
        let grade = (i < 22).then(|| ["A", "B", "C"][i % 3]);
        if let Some(g) = grade {
            let score = match g {
                "A" => 82 + (i % 10) as i32,
                "B" => 58 + (i % 10) as i32,
                _ => 25 + (i % 10) as i32,
            };
            rate(server, &id, g, score).await;
        }
        clients.push(json!({ "id": id, "name": name, "grade": grade }));
    }

    // One client with a history long enough to page through: 10 months of salary and spending.
    let busy = clients[9]["id"].as_str().unwrap().to_owned();
    let now = Utc::now();
    let spending: [(&str, &str, &str, &str); 6] = [
        ("Оплата: Пятёрочка", "Пятёрочка", "5411", "1249.90"),
        ("Яндекс Такси, поездка", "Яндекс Такси", "4121", "489.00"),
        ("Кафе Шоколадница", "Шоколадница", "5814", "860.00"),
        ("МТС: мобильная связь", "МТС", "4814", "650.00"),
        ("Аптека Ригла", "Ригла", "5912", "1320.50"),
        ("OZON.ru заказ", "OZON", "5399", "3499.00"),
    ];
    let mut count = 0;
    for month in 0..10 {
        let base = now - Days::days(30 * month + 1);
        create_transaction(
            &api,
            &busy,
            base,
            "120000.00",
            "CREDIT",
            "Зарплата ООО Ромашка",
            None,
            None,
        )
        .await;
        count += 1;
        for (k, (desc, merchant, mcc, amount)) in spending.iter().enumerate() {
            let at = base - Days::hours(6 * (k as i64 + 1));
            create_transaction(
                &api,
                &busy,
                at,
                amount,
                "DEBIT",
                desc,
                Some(merchant),
                Some(mcc),
            )
            .await;
            count += 1;
        }
    }
    // A few for two more clients, so balances and counts differ.
    for (i, amount) in [(0usize, "56000.00"), (1, "18000.00")] {
        let id = clients[i]["id"].as_str().unwrap();
        create_transaction(
            &api,
            id,
            now - Days::days(3),
            amount,
            "CREDIT",
            "Перевод от клиента",
            None,
            None,
        )
        .await;
    }
    // Manual entries recompute their client's rating, so the grades the suites expect are the
    // ones the server holds now, not the ones stored above.
    for client in &mut clients {
        let id = client["id"].as_str().unwrap().to_owned();
        let data = api
            .ok(
                "query($id: ID!) { client(id: $id) { rating { grade } } }",
                json!({ "id": id }),
            )
            .await;
        client["grade"] = data["client"]["rating"]["grade"].clone();
    }
    json!({
        "clients": clients,
        "busy": { "id": busy, "name": NAMES[9], "transactions": count },
        "throttleUser": "nobody-here",
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
    let server = common::start_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let seed = seed_demo(&server).await;
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
