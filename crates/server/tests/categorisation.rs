//! Category rules, background re-categorisation and the file exports, end to end through the
//! real server.
#![allow(clippy::unwrap_used, clippy::too_many_arguments)]

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::{code, create_client, download, start, Client};
use crm_core::domain::Role;
use serde_json::{json, Value};

async fn add_tx(
    c: &Client,
    client: &str,
    at: &str,
    amount: &str,
    direction: &str,
    description: &str,
    merchant: Option<&str>,
    mcc: Option<&str>,
) -> Value {
    c.ok(
        "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id category categorySource } }",
        json!({ "input": { "clientId": client, "bookedAt": at, "amount": amount, "currency": "RUB",
                            "direction": direction, "description": description,
                            "merchant": merchant, "mcc": mcc } }),
    )
    .await["createTransaction"]
        .clone()
}

async fn tx(c: &Client, id: &str) -> (String, String) {
    let data = c
        .ok(
            "query($c: ID!) { client(id: $c) { transactions(first: 100) { edges { node { id category categorySource } } } } }",
            json!({ "c": "1" }),
        )
        .await;
    let edges = data["client"]["transactions"]["edges"].as_array().unwrap();
    let node = edges
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["id"] == id)
        .unwrap();
    (
        node["category"].as_str().unwrap().to_owned(),
        node["categorySource"].as_str().unwrap().to_owned(),
    )
}

const CREATE_RULE: &str = "mutation($p: String!, $f: RuleField!, $c: Category!, $prio: Int) {
  createCategoryRule(pattern: $p, field: $f, category: $c, priority: $prio) {
    rule { id pattern field category priority createdBy createdAt }
    recategorisation { id status trigger ruleId }
  } }";

const RUN: &str = "query($id: ID) { recategorisation(id: $id) { id status rowsScanned rowsChanged trigger ruleId finishedAt } }";

#[tokio::test]
async fn rules_through_graphql_recategorise_in_the_background() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let client = create_client(&c, "Анна Смирнова").await;
    assert_eq!(client, "1");
    let cafe = add_tx(
        &c,
        &client,
        "2025-10-01T10:00:00Z",
        "450.00",
        "DEBIT",
        "Оплата: ООО Ромашка",
        Some("ООО Ромашка"),
        Some("5812"),
    )
    .await;
    assert_eq!(cafe["categorySource"], "MCC");
    let cafe_id = cafe["id"].as_str().unwrap().to_owned();
    let manual = add_tx(
        &c,
        &client,
        "2025-10-02T10:00:00Z",
        "100.00",
        "DEBIT",
        "Ромашка",
        None,
        None,
    )
    .await;
    let manual_id = manual["id"].as_str().unwrap().to_owned();
    c.ok(
        "mutation($id: ID!) { setTransactionCategory(id: $id, category: HEALTH) { id } }",
        json!({ "id": manual_id }),
    )
    .await;
    let refund = add_tx(
        &c,
        &client,
        "2025-10-03T10:00:00Z",
        "450.00",
        "CREDIT",
        "Возврат Ромашка",
        None,
        None,
    )
    .await;
    let refund_id = refund["id"].as_str().unwrap().to_owned();

    // Input errors and unknown ids carry their codes.
    let bad = c
        .gql(
            CREATE_RULE,
            json!({ "p": "  ", "f": "ANY", "c": "GROCERIES" }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let bad = c
        .gql(
            CREATE_RULE,
            json!({ "p": "5x", "f": "MCC", "c": "GROCERIES" }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let gone = c
        .gql(
            "mutation { deleteCategoryRule(id: \"999\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&gone), "NOT_FOUND", "{gone}");

    let created = c
        .ok(
            CREATE_RULE,
            json!({ "p": "ромашка", "f": "ANY", "c": "GROCERIES", "prio": 5 }),
        )
        .await;
    let payload = &created["createCategoryRule"];
    assert_eq!(payload["rule"]["createdBy"], "admin");
    assert_eq!(payload["rule"]["priority"], 5);
    assert_eq!(payload["recategorisation"]["trigger"], "RULE_CREATED");
    assert_eq!(payload["recategorisation"]["ruleId"], payload["rule"]["id"]);
    let run_id: i64 = payload["recategorisation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    server.core.wait_for_recategorisation(run_id).await.unwrap();
    let run = c.ok(RUN, json!({ "id": run_id.to_string() })).await;
    assert_eq!(run["recategorisation"]["status"], "FINISHED", "{run}");
    assert_eq!(run["recategorisation"]["rowsScanned"], 2);
    assert_eq!(run["recategorisation"]["rowsChanged"], 1);
    assert_eq!(tx(&c, &cafe_id).await, ("GROCERIES".into(), "RULE".into()));
    assert_eq!(tx(&c, &manual_id).await, ("HEALTH".into(), "MANUAL".into()));
    assert_eq!(tx(&c, &refund_id).await.0, "REFUNDS");
    let latest = c.ok(RUN, json!({ "id": null })).await;
    assert_eq!(latest["recategorisation"]["id"], run_id.to_string());

    let rules = c
        .ok(
            "{ categoryRules { id pattern field category priority } }",
            json!({}),
        )
        .await;
    assert_eq!(rules["categoryRules"].as_array().unwrap().len(), 1);
    assert_eq!(rules["categoryRules"][0]["field"], "ANY");

    // A viewer reads rules but may not change them.
    server
        .core
        .auth()
        .create_user("viewer", "viewer-password-123", Role::Viewer)
        .await
        .unwrap();
    let v = Client::new(&server);
    assert!(v
        .login("viewer", "viewer-password-123")
        .await
        .get("errors")
        .is_none());
    v.ok(
        "{ categoryRules { id } recategorisation { status } }",
        json!({}),
    )
    .await;
    let denied = v
        .gql(
            CREATE_RULE,
            json!({ "p": "такси", "f": "ANY", "c": "TRANSPORT" }),
        )
        .await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let rule_id = payload["rule"]["id"].as_str().unwrap();
    let denied = v
        .gql(
            &format!("mutation {{ deleteCategoryRule(id: \"{rule_id}\") {{ id }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");

    let deleted = c
        .ok(
            &format!("mutation {{ deleteCategoryRule(id: \"{rule_id}\") {{ id recategorisation {{ id trigger }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        deleted["deleteCategoryRule"]["recategorisation"]["trigger"],
        "RULE_DELETED"
    );
    let run_id: i64 = deleted["deleteCategoryRule"]["recategorisation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let done = server.core.wait_for_recategorisation(run_id).await.unwrap();
    assert_eq!(done.rows_changed, 1);
    assert_eq!(tx(&c, &cafe_id).await, ("RESTAURANTS".into(), "MCC".into()));
    assert_eq!(tx(&c, &manual_id).await, ("HEALTH".into(), "MANUAL".into()));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn exports_parse_back_to_the_data() {
    let server = start().await;
    let c = Client::new(&server);

    // Without a session: 401 with a JSON code, for every export.
    for path in [
        "/export/clients/1/transactions.csv",
        "/export/clients/1/transactions.xlsx",
        "/export/portfolio.xlsx",
    ] {
        let (status, ct, _, body) = download(&c, path).await;
        assert_eq!(status, 401, "{path}");
        assert!(ct.starts_with("application/json"));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(code(&v), "UNAUTHENTICATED");
    }

    c.login_admin().await;
    let client = create_client(&c, "Борис Ёлкин").await;
    add_tx(
        &c,
        &client,
        "2025-10-01T09:30:00Z",
        "1249.00",
        "DEBIT",
        "Оплата: Пятёрочка",
        Some("Пятёрочка"),
        Some("5411"),
    )
    .await;
    add_tx(
        &c,
        &client,
        "2025-10-05T12:00:00Z",
        "150000.50",
        "CREDIT",
        "Заработная плата",
        None,
        None,
    )
    .await;
    add_tx(
        &c,
        &client,
        "2025-11-02T18:15:00Z",
        "99.99",
        "DEBIT",
        "=HYPERLINK(\"http://evil\")",
        Some("@evil"),
        None,
    )
    .await;

    // Cross-site requests are refused like on /graphql.
    let res = c
        .http
        .get(format!(
            "{}/export/clients/{client}/transactions.csv",
            c.base
        ))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    let (status, _, _, body) = download(&c, "/export/clients/999/transactions.csv").await;
    assert_eq!(status, 404);
    assert_eq!(code(&serde_json::from_slice(&body).unwrap()), "NOT_FOUND");
    let (status, _, _, _) =
        download(&c, &format!("/export/clients/{client}/transactions.pdf")).await;
    assert_eq!(status, 404);
    let (status, _, _, body) = download(
        &c,
        &format!("/export/clients/{client}/transactions.csv?from=yesterday"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        code(&serde_json::from_slice(&body).unwrap()),
        "BAD_USER_INPUT"
    );

    // CSV: BOM, ';', decimal comma, oldest first, formulas neutralised.
    let (status, ct, cd, body) =
        download(&c, &format!("/export/clients/{client}/transactions.csv")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert_eq!(
        cd,
        format!(
            "attachment; filename=\"client-{client}-transactions-{}.csv\"",
            chrono::Utc::now().format("%Y%m%d")
        )
    );
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&body[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "Дата (UTC)");
    assert_eq!(&headers[6], "Категория");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][0], "2025-10-01 09:30:00");
    assert_eq!(&rows[0][2], "Ручной ввод");
    assert_eq!(&rows[0][3], "Списание");
    assert_eq!(&rows[0][4], "1249,00");
    assert_eq!(&rows[0][5], "RUB");
    assert_eq!(&rows[0][6], "Продукты");
    assert_eq!(&rows[0][7], "MERCHANT");
    assert_eq!(&rows[0][8], "Пятёрочка");
    assert_eq!(&rows[0][9], "5411");
    assert_eq!(&rows[1][3], "Поступление");
    assert_eq!(&rows[1][4], "150000,50");
    assert_eq!(&rows[1][6], "Зарплата");
    assert_eq!(&rows[2][10], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&rows[2][8], "'@evil");
    // A date range.
    let (_, _, _, body) = download(
        &c,
        &format!("/export/clients/{client}/transactions.csv?from=2025-10-02&to=2025-10-31"),
    )
    .await;
    let ranged: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&body[3..])
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ranged.len(), 1);
    assert_eq!(&ranged[0][6], "Зарплата");

    // XLSX: real date and number cells.
    let (status, ct, cd, body) =
        download(&c, &format!("/export/clients/{client}/transactions.xlsx")).await;
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    assert!(cd.ends_with(".xlsx\""), "{cd}");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(body)).unwrap();
    let sheet = book.worksheet_range("Операции").unwrap();
    assert_eq!(sheet.height(), 4);
    assert_eq!(sheet.get((0, 4)), Some(&Data::String("Сумма".into())));
    match sheet.get((1, 0)) {
        Some(Data::DateTime(d)) => {
            // 2025-10-01 09:30 UTC as an Excel serial date.
            let expected = 45931.0 + 9.5 / 24.0;
            assert!((d.as_f64() - expected).abs() < 1e-6, "{}", d.as_f64());
        }
        other => panic!("the date is not a date cell: {other:?}"),
    }
    assert_eq!(sheet.get((1, 4)), Some(&Data::Float(1249.0)));
    assert_eq!(sheet.get((2, 4)), Some(&Data::Float(150000.5)));
    assert_eq!(sheet.get((1, 6)), Some(&Data::String("Продукты".into())));
    assert_eq!(sheet.get((1, 9)), Some(&Data::String("5411".into())));
    assert_eq!(
        sheet.get((3, 10)),
        Some(&Data::String("=HYPERLINK(\"http://evil\")".into())),
        "text stays text in xlsx"
    );

    // Portfolio.
    let (status, _, cd, body) = download(&c, "/export/portfolio.xlsx").await;
    assert_eq!(status, 200);
    assert!(cd.starts_with("attachment; filename=\"portfolio-"), "{cd}");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(body)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["Клиенты", "Категории", "Банки", "Отчёт"]
    );
    let clients = book.worksheet_range("Клиенты").unwrap();
    assert_eq!(
        clients.get((1, 1)),
        Some(&Data::String("Борис Ёлкин".into()))
    );
    assert_eq!(clients.get((1, 6)), Some(&Data::Float(3.0)));
    assert_eq!(
        clients.get((0, 7)),
        Some(&Data::String("Баланс RUB".into()))
    );
    let balance = 150000.50 - 1249.00 - 99.99;
    match clients.get((1, 7)) {
        Some(Data::Float(v)) => assert!((v - balance).abs() < 1e-6, "{v}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(clients.get((1, 9)), Some(&Data::Float(1348.99)));
    let categories = book.worksheet_range("Категории").unwrap();
    let salary_row = (1..categories.height())
        .find(|r| categories.get((*r, 1)) == Some(&Data::String("SALARY".into())))
        .unwrap();
    assert_eq!(
        categories.get((salary_row, 5)),
        Some(&Data::Float(150000.5))
    );
    let banks = book.worksheet_range("Банки").unwrap();
    assert_eq!(banks.get((1, 0)), Some(&Data::String("Ручной ввод".into())));
    assert_eq!(banks.get((1, 3)), Some(&Data::Float(3.0)));

    let audit = server.core.audit().recent_audit(50).await.unwrap();
    let exports = audit.iter().filter(|a| a.action == "export").count();
    assert_eq!(exports, 4, "each export is recorded");
    server.stop().await.unwrap();
}
