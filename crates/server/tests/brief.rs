//! Meeting briefs against the real server: `generateBrief` for a client of one's book (a
//! viewer may not, another manager does not see it), listed on the client and on its timeline,
//! and `GET /clients/{id}/brief/{briefId}.pdf` as a PDF with the Cyrillic font embedded, behind
//! the session (401) and the book (404). With a model configured, its rewording is kept only
//! when it says every figure of the analyst's text; otherwise the analyst's text is kept.
#![allow(clippy::unwrap_used)]
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{code, download, start, start_with, Client};
use crm_core::testing::add_rub_account;
use crm_server::testkit::fake_llm::{FakeLlm, Reply};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

const GENERATE: &str = "mutation($c: ID!, $l: Lang!) { generateBrief(clientId: $c, lang: $l) {
    id clientId createdAt since author lang text polished openTasks openSignals talkingPoints pdfUrl
    balances { then { amount currency } now { amount currency } }
    spending { days period { amount } before { amount } } rating { then now score } } }";

async fn account(server: &TestServer, client: &str, number: &str, balance_minor: i64) {
    add_rub_account(
        server.core.db(),
        client.parse().unwrap(),
        "vbank",
        number,
        balance_minor,
    )
    .await
    .unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_brief_is_written_for_the_book_listed_and_downloads_as_a_pdf() {
    let server = start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let mut people = Vec::new();
    for (name, role) in [("masha", "MANAGER"), ("lev", "MANAGER"), ("vera", "VIEWER")] {
        common::create_user(&admin, name, role, PASSWORD).await;
        people.push(common::signed_in_as(&server, name, PASSWORD).await);
    }
    let [masha, lev, vera]: [Client; 3] = people.try_into().ok().unwrap();
    let client = common::create_client(&masha, "Клиент Маши").await;
    account(&server, &client, "40817810000000000021", 1_234_567_89).await;

    let started = std::time::Instant::now();
    let brief =
        masha.ok(GENERATE, json!({ "c": client, "l": "RU" })).await["generateBrief"].clone();
    eprintln!("generateBrief answered in {:?}", started.elapsed());
    let id = brief["id"].as_str().unwrap().to_owned();
    assert_eq!(brief["clientId"], client);
    assert_eq!(brief["author"], "masha");
    assert_eq!(brief["lang"], "RU");
    assert_eq!(brief["polished"], false, "no model is configured");
    let text = brief["text"].as_str().unwrap();
    assert!(text.starts_with("# Бриф к встрече"), "{text}");
    assert!(
        text.contains("стало 1\u{a0}234\u{a0}567,89\u{a0}₽"),
        "the stored balance: {text}"
    );
    assert_eq!(brief["talkingPoints"].as_array().unwrap().len(), 3);
    // The figures as data, the same as the text's.
    assert_eq!(
        brief["balances"],
        json!([{ "then": { "amount": "1234567.89", "currency": "RUB" },
                 "now": { "amount": "1234567.89", "currency": "RUB" } }])
    );
    assert_eq!(
        brief["spending"],
        json!({ "days": 30, "period": { "amount": "0.00" }, "before": { "amount": "0.00" } })
    );
    assert_eq!(brief["rating"], Value::Null, "not rated yet");
    assert_eq!(brief["openTasks"], 0);
    assert_eq!(
        brief["pdfUrl"],
        format!("/clients/{client}/brief/{id}.pdf"),
        "{brief}"
    );

    // Listed on the client (newest first) and on its timeline.
    let data = masha
        .ok(
            "query($c: ID!) { client(id: $c) { briefs(first: 5) { id }
                timeline(first: 5, kinds: [BRIEF_GENERATED]) { edges { node { kind summary(lang: EN) } } } } }",
            json!({ "c": client }),
        )
        .await;
    assert_eq!(data["client"]["briefs"][0]["id"], id.as_str());
    let entries = data["client"]["timeline"]["edges"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{data}");
    assert_eq!(entries[0]["node"]["summary"], "Meeting brief prepared");

    // The PDF.
    let started = std::time::Instant::now();
    let (status, kind, disposition, pdf) =
        download(&masha, &format!("/clients/{client}/brief/{id}.pdf")).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(kind, "application/pdf");
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"brief-{client}-{id}-{}.pdf\"",
            chrono::Utc::now().format("%Y%m%d")
        )
    );
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        contains(&pdf, b"DejaVuSans"),
        "the Cyrillic font is embedded"
    );
    assert!(contains(&pdf, b"/FontFile2"), "as a TrueType font program");
    eprintln!("brief PDF: {} bytes in {took:?}", pdf.len());

    // Another manager, a viewer outside the book, and no session: not theirs.
    let path = format!("/clients/{client}/brief/{id}.pdf");
    for other in [&lev, &vera] {
        assert_eq!(download(other, &path).await.0, 404);
        let body = other.gql(GENERATE, json!({ "c": client, "l": "EN" })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
        let body = other
            .gql(
                "query($b: ID!) { brief(id: $b) { id } }",
                json!({ "b": id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
    }
    assert_eq!(download(&Client::new(&server), &path).await.0, 401);
    // The brief of another client's path, and names that are not a brief's.
    let mine_too = common::create_client(&masha, "Второй клиент").await;
    for bad in [
        format!("/clients/{mine_too}/brief/{id}.pdf"),
        format!("/clients/{client}/brief/{id}.txt"),
        format!("/clients/{client}/brief/x.pdf"),
        format!("/clients/0/brief/{id}.pdf"),
    ] {
        assert_eq!(download(&masha, &bad).await.0, 404, "{bad}");
    }
}

async fn start_llm(fake: &FakeLlm) -> TestServer {
    let url = fake.url();
    start_with(&[
        ("AI_API_URL", url.as_str()),
        ("AI_API_KEY", "sk-test-key-0123456789"),
        ("AI_MODEL", "test/model"),
        ("AI_TIMEOUT", "10"),
    ])
    .await
}

fn last_user_message(fake: &FakeLlm) -> String {
    let requests = fake.requests();
    let last = requests.last().expect("the model was asked");
    let messages: &Vec<Value> = last.json["messages"].as_array().unwrap();
    let user = messages.iter().rev().find(|m| m["role"] == "user").unwrap();
    user["content"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_models_wording_is_kept_only_when_every_figure_is() {
    let fake = FakeLlm::start().await.unwrap();
    let server = start_llm(&fake).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let client = common::create_client(&admin, "Аглая Модестова").await;
    account(&server, &client, "40817810000000000031", 50_000_00).await;

    // A rewording that changes a figure: the analyst's text is kept.
    fake.push(Reply::text(&["# Бриф\n- Деньги, RUB: было 1 ₽, стало 2 ₽"]));
    let first =
        admin.ok(GENERATE, json!({ "c": client, "l": "RU" })).await["generateBrief"].clone();
    assert_eq!(first["polished"], false);
    let analyst = first["text"].as_str().unwrap().to_owned();
    assert!(analyst.starts_with("# Бриф к встрече"), "{analyst}");
    let sent = last_user_message(&fake);
    assert_eq!(sent, analyst, "the model is sent the analyst's text");
    assert!(!sent.contains("Аглая Модестова") && !sent.contains("40817810000000000031"));

    // A rewording that keeps every figure (in another order and spelling) is kept.
    let reworded = format!(
        "{}\n\n_Подготовлено для встречи._",
        analyst
            .replace("Что изменилось", "Изменения с прошлого контакта")
            .replace('\u{a0}', " ")
    );
    fake.push(Reply::text(&[reworded.as_str()]));
    let second =
        admin.ok(GENERATE, json!({ "c": client, "l": "RU" })).await["generateBrief"].clone();
    assert_eq!(second["polished"], true, "{second}");
    assert_eq!(second["text"], reworded.trim());

    // A failing model leaves the analyst's text too.
    fake.push(Reply::status(500, "upstream down"));
    fake.push(Reply::status(500, "upstream down"));
    let third =
        admin.ok(GENERATE, json!({ "c": client, "l": "RU" })).await["generateBrief"].clone();
    assert_eq!(third["polished"], false);
    assert_eq!(third["text"], analyst.as_str());
}
