//! The built-in analyst through the real server: its answers carry exactly the figures of
//! `spendingByCategory`, `cashflow`, `rating` and the balances (parsed out of the text and
//! compared), in the language of the question; it streams like a model; it keeps the
//! conversation; and the checks around it (input, roles, rate limit, audit) hold.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "support/assistant.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use common::{admin_token, code, start, start_with, Client};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use support::*;

async fn ask(c: &Client, question: &str, client_id: Option<&str>) -> Value {
    let data = c
        .ok(ASK, json!({ "question": question, "clientId": client_id }))
        .await;
    data["askAssistant"].clone()
}

fn answer_text(a: &Value) -> String {
    a["answer"].as_str().unwrap().to_owned()
}

async fn spending(
    c: &Client,
    id: &str,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> Vec<Value> {
    let data = c
        .ok(
            "query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) { spendingByCategory(from: $from, to: $to) { category amount count share } } }",
            json!({ "id": id, "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
        )
        .await;
    data["client"]["spendingByCategory"]
        .as_array()
        .unwrap()
        .clone()
}

async fn cashflow(c: &Client, id: &str, months: i32) -> Vec<Value> {
    let data = c
        .ok(
            "query($id: ID!, $m: Int!) { client(id: $id) { cashflow(months: $m) { month income expense net } } }",
            json!({ "id": id, "m": months }),
        )
        .await;
    data["client"]["cashflow"].as_array().unwrap().clone()
}

fn sum(rows: &[Value], key: &str) -> Decimal {
    rows.iter().map(|r| dec(&r[key])).sum()
}

/// Asserts every figure in `text` is one of `allowed`, and that `required` all appear.
fn check_figures(text: &str, allowed: &BTreeSet<Decimal>, required: &[Decimal]) {
    let found = money_figures(text);
    assert!(!found.is_empty(), "no figures in: {text}");
    for f in &found {
        assert!(
            allowed.contains(f) || allowed.contains(&-*f),
            "figure {f} is not a figure of the database; allowed {allowed:?}\n{text}"
        );
    }
    for r in required {
        assert!(found.contains(r), "figure {r} missing from: {text}");
    }
}

fn set(values: impl IntoIterator<Item = Decimal>) -> BTreeSet<Decimal> {
    values.into_iter().map(|d| d.normalize()).collect()
}

fn n(values: &[Decimal]) -> Vec<Decimal> {
    values.iter().map(|d| d.normalize()).collect()
}

#[tokio::test]
async fn analyst_answers_carry_the_databases_figures_in_both_languages() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let now = Utc::now();
    let s = seed(&server, &c, now).await;
    let id = s.client_id.as_str();

    // Spending structure over the default window (the last 90 days).
    let (from, to) = last_90_days(now);
    let rows = spending(&c, id, from, to).await;
    let total = sum(&rows, "amount");
    let mut allowed = set(rows.iter().map(|r| dec(&r["amount"])));
    allowed.insert(total.normalize());
    // The answer lists the top merchants too, with the figures of topMerchants.
    let merchants = c
        .ok(
            "query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) { topMerchants(from: $from, to: $to, first: 5) { amount { amount } } } }",
            json!({ "id": id, "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
        )
        .await["client"]["topMerchants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| dec(&m["amount"]["amount"]))
        .collect::<Vec<_>>();
    assert!(!merchants.is_empty());
    allowed.extend(set(merchants.iter().copied()));
    for q in [
        "Проанализируй расходы клиента",
        "Analyse this client's spending",
    ] {
        let a = ask(&c, q, Some(id)).await;
        let text = answer_text(&a);
        assert_eq!(a["model"], "builtin-analyst");
        assert_eq!(a["hasContext"], true);
        let mut required = vec![total];
        required.extend(rows.iter().map(|r| dec(&r["amount"])));
        required.extend(merchants.iter().copied());
        check_figures(&text, &allowed, &n(&required));
    }
    let ru = answer_text(&ask(&c, "Проанализируй расходы клиента", Some(id)).await);
    assert!(
        ru.contains("Структура расходов") && ru.contains("«Кафе и рестораны»"),
        "{ru}"
    );
    assert!(
        ru.contains("\u{a0}₽"),
        "money is written with a no-break space: {ru}"
    );
    let english = answer_text(&ask(&c, "Analyse this client's spending", Some(id)).await);
    assert!(
        english.contains("By category") && english.contains("“Restaurants”"),
        "{english}"
    );

    // One category in a named month.
    let pm = spending(&c, id, month_start(s.pm), month_end(s.pm)).await;
    let restaurants = pm.iter().find(|r| r["category"] == "RESTAURANTS").unwrap();
    let pm_total = sum(&pm, "amount");
    let mut allowed = set([dec(&restaurants["amount"]), pm_total]);
    allowed.extend(set([Decimal::new(420_000, 2), Decimal::new(185_050, 2)]));
    for q in [
        format!("Сколько клиент потратил на рестораны в {}?", ru_in(s.pm)),
        format!(
            "How much did the client spend on restaurants in {}?",
            en(s.pm)
        ),
    ] {
        let text = answer_text(&ask(&c, &q, Some(id)).await);
        check_figures(
            &text,
            &allowed,
            &n(&[dec(&restaurants["amount"]), pm_total]),
        );
        assert!(text.contains("2 "), "the count of transactions: {text}");
    }
    // A category without spending in the month says so, with the month's total.
    let text = answer_text(
        &ask(
            &c,
            &format!("Сколько ушло на путешествия в {}?", ru_in(s.pm)),
            Some(id),
        )
        .await,
    );
    assert!(text.contains("не было"), "{text}");
    check_figures(&text, &set([pm_total]), &n(&[pm_total]));

    // Income and its regularity, from cashflow: over the complete months since the client's
    // first movement (two here), so the answer calls it regular.
    let flow = cashflow(&c, id, 6).await;
    let complete = &flow[3..5];
    let income_sum = sum(complete, "income");
    let average = (income_sum / Decimal::from(2))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let mut allowed = set(flow.iter().map(|m| dec(&m["income"])));
    allowed.extend(set([income_sum, average, Decimal::new(125_000, 0)]));
    for q in [
        "Насколько регулярен доход клиента?",
        "How regular is the client's income?",
    ] {
        let text = answer_text(&ask(&c, q, Some(id)).await);
        check_figures(
            &text,
            &allowed,
            &n(&[
                income_sum,
                average,
                Decimal::new(120_000, 0),
                Decimal::new(125_000, 0),
            ]),
        );
        assert!(
            text.contains("регулярный и стабильный") || text.contains("regular and steady"),
            "{text}"
        );
    }

    // Cashflow month by month.
    let mut allowed = BTreeSet::new();
    for m in &flow {
        allowed.extend(set([dec(&m["income"]), dec(&m["expense"]), dec(&m["net"])]));
    }
    let (ti, te) = (sum(&flow, "income"), sum(&flow, "expense"));
    allowed.extend(set([ti, te, ti - te]));
    for q in [
        "Доходы и расходы по месяцам",
        "Income and spending by month",
    ] {
        let text = answer_text(&ask(&c, q, Some(id)).await);
        let mut required: Vec<Decimal> = flow.iter().map(|m| dec(&m["expense"])).collect();
        required.extend([ti, te]);
        check_figures(&text, &allowed, &n(&required));
    }

    // Month against month, with the category movers.
    let ppm_rows = spending(&c, id, month_start(s.ppm), month_end(s.ppm)).await;
    let month = |ym: (i32, u32)| {
        flow.iter()
            .find(|m| m["month"] == format!("{:04}-{:02}", ym.0, ym.1))
            .unwrap()
            .clone()
    };
    let (a, b) = (month(s.ppm), month(s.pm));
    let mut allowed = BTreeSet::new();
    for k in ["income", "expense", "net"] {
        allowed.extend(set([dec(&a[k]), dec(&b[k]), dec(&b[k]) - dec(&a[k])]));
    }
    let amount_of = |rows: &[Value], cat: &str| {
        rows.iter()
            .find(|r| r["category"] == cat)
            .map(|r| dec(&r["amount"]))
            .unwrap_or_default()
    };
    for cat in ["RESTAURANTS", "GROCERIES", "TRANSPORT", "TRANSFERS_OUT"] {
        let (x, y) = (amount_of(&ppm_rows, cat), amount_of(&pm, cat));
        allowed.extend(set([x, y, y - x]));
    }
    for q in [
        format!("Сравни расходы за {} и {}", ru_nom(s.ppm), ru_nom(s.pm)),
        format!("Compare spending in {} and {}", en(s.ppm), en(s.pm)),
    ] {
        let text = answer_text(&ask(&c, &q, Some(id)).await);
        check_figures(
            &text,
            &allowed,
            &n(&[
                dec(&a["expense"]),
                dec(&b["expense"]),
                dec(&b["expense"]) - dec(&a["expense"]),
            ]),
        );
    }

    // The rating and its factors.
    let rating = c
        .ok("query($id: ID!) { client(id: $id) { rating { grade score factors { name value impact } } } }", json!({ "id": id }))
        .await["client"]["rating"]
        .clone();
    let ru = answer_text(&ask(&c, "Почему у клиента рейтинг B?", Some(id)).await);
    let english = answer_text(&ask(&c, "Why is the client's rating C?", Some(id)).await);
    for (text, points) in [
        (&ru, ["+12,5", "+8", "-6,5"]),
        (&english, ["+12.5", "+8", "-6.5"]),
    ] {
        assert!(
            text.contains(&format!("— {} (", rating["grade"].as_str().unwrap()))
                || text.contains(&format!("is {} (", rating["grade"].as_str().unwrap())),
            "{text}"
        );
        assert!(text.contains(&format!("{}", rating["score"])), "{text}");
        for f in rating["factors"].as_array().unwrap() {
            assert!(text.contains(f["value"].as_str().unwrap()), "{text}");
            assert!(
                text.contains(&f["name"].as_str().unwrap().replace('_', " ")),
                "{text}"
            );
        }
        for p in points {
            assert!(text.contains(p), "impact {p} missing: {text}");
        }
    }
    assert!(
        english.contains("not C"),
        "the analyst corrects a wrong grade: {english}"
    );

    // Balances and savings.
    let balances = c
        .ok("query($id: ID!) { client(id: $id) { totalBalance { amount } accounts { balance { amount } } } }", json!({ "id": id }))
        .await["client"]
        .clone();
    let flow4 = cashflow(&c, id, 4).await;
    let (i3, e3) = (sum(&flow4[..3], "income"), sum(&flow4[..3], "expense"));
    let mut allowed = set([dec(&balances["totalBalance"][0]["amount"]), i3, e3, i3 - e3]);
    allowed.extend(set(balances["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| dec(&a["balance"]["amount"]))));
    for q in [
        "Какие остатки на счетах и сколько клиент откладывает?",
        "What are the balances and how much does the client save?",
    ] {
        let text = answer_text(&ask(&c, q, Some(id)).await);
        check_figures(
            &text,
            &allowed,
            &n(&[dec(&balances["totalBalance"][0]["amount"]), i3, e3]),
        );
    }

    // Offers: the products Client.offers chooses, each with its reason, in the question's
    // language; every figure of the answer is a figure of those reasons.
    for (q, lang) in [
        ("Что можно предложить клиенту?", "RU"),
        ("What can we offer this client?", "EN"),
    ] {
        let offers = c
            .ok(
                "query($id: ID!, $lang: Lang) { client(id: $id) { offers(lang: $lang) { product { name } reasonCode reason } } }",
                json!({ "id": id, "lang": lang }),
            )
            .await["client"]["offers"]
            .clone();
        let offers = offers.as_array().unwrap();
        assert!(
            offers
                .iter()
                .any(|o| o["reasonCode"] == "IDLE_BALANCE"
                    && o["product"]["name"] == "Вклад Надёжный"),
            "an idle balance gets the deposit: {offers:?}"
        );
        let text = answer_text(&ask(&c, q, Some(id)).await);
        let mut reasons = String::new();
        for o in offers {
            let reason = o["reason"].as_str().unwrap();
            assert!(
                text.contains(o["product"]["name"].as_str().unwrap()),
                "{text}"
            );
            assert!(text.contains(reason), "reason {reason:?} missing: {text}");
            reasons.push_str(reason);
            reasons.push('\n');
        }
        let allowed = set(money_figures(&reasons));
        check_figures(
            &text,
            &allowed,
            &money_figures(&reasons)
                .iter()
                .map(|d| d.normalize())
                .collect::<Vec<_>>(),
        );
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_analyst_is_honest_when_it_does_not_understand() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let s = seed(&server, &c, Utc::now()).await;
    let ru = answer_text(&ask(&c, "Какая завтра погода?", Some(&s.client_id)).await);
    assert!(ru.starts_with("Я не понял вопрос"), "{ru}");
    assert!(
        ru.contains("Проанализируй расходы клиента")
            && ru.contains("Что можно предложить клиенту?"),
        "{ru}"
    );
    let english =
        answer_text(&ask(&c, "What's the weather like tomorrow?", Some(&s.client_id)).await);
    assert!(english.starts_with("I did not understand"), "{english}");
    assert!(
        money_figures(&english).is_empty(),
        "no invented figures: {english}"
    );

    // Without a client: the portfolio, from stats.
    let stats = c
        .ok(
            "{ stats { clients { total } transactions { income expense } } }",
            json!({}),
        )
        .await;
    let text = answer_text(&ask(&c, "Проанализируй расходы", None).await);
    assert!(text.contains("Клиент не выбран"), "{text}");
    let income = dec(&stats["stats"]["transactions"]["income"]);
    let expense = dec(&stats["stats"]["transactions"]["expense"]);
    check_figures(
        &text,
        &set([
            income,
            expense,
            income - expense,
            Decimal::new(15_240_050, 2),
        ]),
        &n(&[income, expense]),
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn suggestions_fit_the_client_and_the_analyst_answers_each() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let s = seed(&server, &c, Utc::now()).await;
    for lang in ["RU", "EN"] {
        let data = c
            .ok(
                "query($id: ID, $l: AssistantLanguage) { assistantSuggestions(clientId: $id, language: $l) }",
                json!({ "id": s.client_id, "l": lang }),
            )
            .await;
        let suggestions: Vec<String> = data["assistantSuggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(suggestions.len() >= 6, "{suggestions:?}");
        assert!(
            suggestions.iter().any(|q| q.contains(" B?")),
            "the rating's grade: {suggestions:?}"
        );
        for q in &suggestions {
            let text = answer_text(&ask(&c, q, Some(&s.client_id)).await);
            assert!(
                !text.starts_with("Я не понял") && !text.starts_with("I did not understand"),
                "suggestion {q:?} is not understood: {text}"
            );
        }
    }
    // The contract's operation: without a client.
    let data = c
        .ok(
            "query Suggestions($clientId: ID) { assistantSuggestions(clientId: $clientId) }",
            json!({}),
        )
        .await;
    assert!(!data["assistantSuggestions"].as_array().unwrap().is_empty());
    let unknown = c
        .gql("{ assistantSuggestions(clientId: \"999999\") }", json!({}))
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_subscription_streams_the_same_answer_in_chunks() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let s = seed(&server, &c, Utc::now()).await;
    let question = "Проанализируй расходы клиента";
    let whole = answer_text(&ask(&c, question, Some(&s.client_id)).await);

    let token = admin_token(&server, None).await;
    let mut ws = ws_connect(&server, &token).await;
    ws_subscribe(
        &mut ws,
        "1",
        ASK_STREAM,
        json!({ "question": question, "clientId": s.client_id }),
    )
    .await;
    let got = ws_collect(&mut ws, "1", Duration::from_secs(10)).await;
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert!(got.deltas.len() > 5, "streamed in chunks: {:?}", got.deltas);
    assert_eq!(got.text(), whole);
    let last = got.last.expect("a last event with done: true");
    assert_eq!(last["model"], "builtin-analyst");
    assert_eq!(last["hasContext"], true);
    assert_eq!(last["usage"]["estimated"], true);
    assert!(last["conversationId"].is_string() && last["id"].is_string());

    // Refusals arrive as errors with their code, and the socket stays usable.
    ws_subscribe(
        &mut ws,
        "2",
        ASK_STREAM,
        json!({ "question": "", "clientId": s.client_id }),
    )
    .await;
    let refused = ws_collect(&mut ws, "2", Duration::from_secs(5)).await;
    assert_eq!(refused.errors.len(), 1, "{refused:?}");
    assert_eq!(refused.errors[0]["extensions"]["code"], "BAD_USER_INPUT");
    ws_subscribe(
        &mut ws,
        "3",
        ASK_STREAM,
        json!({ "question": question, "clientId": "424242" }),
    )
    .await;
    let missing = ws_collect(&mut ws, "3", Duration::from_secs(5)).await;
    assert_eq!(missing.errors[0]["extensions"]["code"], "NOT_FOUND");
    ws_subscribe(
        &mut ws,
        "4",
        ASK_STREAM,
        json!({ "question": question, "clientId": s.client_id }),
    )
    .await;
    assert_eq!(
        ws_collect(&mut ws, "4", Duration::from_secs(10))
            .await
            .text(),
        whole
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn conversations_keep_the_history_and_follow_ups_see_it() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let s = seed(&server, &c, Utc::now()).await;
    let first = ask(
        &c,
        &format!("Сколько клиент потратил на рестораны в {}?", ru_in(s.pm)),
        Some(&s.client_id),
    )
    .await;
    let conversation = first["conversationId"].as_str().unwrap().to_owned();
    let follow = c
        .ok(ASK, json!({ "question": format!("А в {}?", ru_in(s.ppm)), "clientId": s.client_id, "conversationId": conversation }))
        .await["askAssistant"]
        .clone();
    assert_eq!(follow["conversationId"], conversation.as_str());
    let ppm = spending(&c, &s.client_id, month_start(s.ppm), month_end(s.ppm)).await;
    let restaurants = ppm.iter().find(|r| r["category"] == "RESTAURANTS").unwrap();
    let text = answer_text(&follow);
    assert!(
        text.contains("«Кафе и рестораны»"),
        "the follow-up keeps the category: {text}"
    );
    assert!(
        money_figures(&text).contains(&dec(&restaurants["amount"])),
        "{text}"
    );

    let data = c
        .ok(
            "query($id: ID!, $c: ID!) {
               client(id: $id) { conversations { id title turns { question } } }
               conversation(id: $c) { id title user { username } client { id }
                 turns { id question answer model askedAt answeredAt usage { promptTokens completionTokens estimated } } }
             }",
            json!({ "id": s.client_id, "c": conversation }),
        )
        .await;
    let listed = data["client"]["conversations"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    let conv = &data["conversation"];
    assert_eq!(conv["user"]["username"], "admin");
    assert_eq!(conv["client"]["id"], s.client_id.as_str());
    assert!(conv["title"]
        .as_str()
        .unwrap()
        .starts_with("Сколько клиент потратил"));
    let turns = conv["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["answer"], first["answer"]);
    assert_eq!(turns[0]["id"], first["id"]);
    assert_eq!(turns[1]["question"], format!("А в {}?", ru_in(s.ppm)));
    assert_eq!(turns[1]["model"], "builtin-analyst");
    assert_eq!(turns[1]["usage"]["estimated"], true);
    assert!(turns[1]["usage"]["completionTokens"].as_u64().unwrap() > 0);

    // A conversation about another client cannot be continued with this one.
    let other = c
        .ok(
            "mutation { createClient(input: { displayName: \"Другой\" }) { id } }",
            json!({}),
        )
        .await;
    let wrong = c
        .gql(ASK, json!({ "question": "А в марте?", "clientId": other["createClient"]["id"], "conversationId": conversation }))
        .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn roles_input_rate_limit_and_audit() {
    let server = start_with(&[("AI_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let s = seed(&server, &admin, Utc::now()).await;

    // Input.
    let empty = admin
        .gql(ASK, json!({ "question": "   ", "clientId": s.client_id }))
        .await;
    assert_eq!(code(&empty), "BAD_USER_INPUT");
    let long = admin
        .gql(
            ASK,
            json!({ "question": "я".repeat(2001), "clientId": s.client_id }),
        )
        .await;
    assert_eq!(code(&long), "BAD_USER_INPUT");
    let missing = admin
        .gql(
            ASK,
            json!({ "question": "Почему рейтинг B?", "clientId": "999999" }),
        )
        .await;
    assert_eq!(code(&missing), "NOT_FOUND");
    let anonymous = Client::new(&server)
        .gql(ASK, json!({ "question": "Почему рейтинг B?" }))
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    // A viewer may ask; conversations are private to their user (administrators read all).
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
    let signed_in = viewer.login("viewer", "viewer-password-123").await;
    assert!(signed_in.get("errors").is_none());
    // Outside the viewer's book the client does not exist for the assistant either.
    let outside = viewer
        .gql(
            ASK,
            json!({ "question": "Почему у клиента рейтинг B?", "clientId": s.client_id }),
        )
        .await;
    assert_eq!(code(&outside), "NOT_FOUND", "{outside}");
    admin
        .ok(
            "mutation($c: ID!, $u: ID!) { shareClient(clientId: $c, userId: $u) { until } }",
            json!({ "c": s.client_id, "u": signed_in["data"]["login"]["user"]["id"] }),
        )
        .await;
    let mine = ask(&viewer, "Почему у клиента рейтинг B?", Some(&s.client_id)).await;
    let conversation = mine["conversationId"].as_str().unwrap();
    let admins = ask(&admin, "Почему у клиента рейтинг B?", Some(&s.client_id)).await;
    let hidden = viewer
        .gql(
            "query($c: ID!) { conversation(id: $c) { id } }",
            json!({ "c": admins["conversationId"] }),
        )
        .await;
    assert_eq!(code(&hidden), "NOT_FOUND");
    let listed = viewer
        .ok(
            "query($id: ID!) { client(id: $id) { conversations { id } } }",
            json!({ "id": s.client_id }),
        )
        .await;
    assert_eq!(
        listed["client"]["conversations"].as_array().unwrap().len(),
        1
    );
    let read = admin
        .ok(
            "query($c: ID!) { conversation(id: $c) { user { username } } }",
            json!({ "c": conversation }),
        )
        .await;
    assert_eq!(read["conversation"]["user"]["username"], "viewer");
    let continued = admin
        .gql(ASK, json!({ "question": "А почему?", "clientId": s.client_id, "conversationId": conversation }))
        .await;
    assert_eq!(code(&continued), "FORBIDDEN");

    // The rate limit: three questions a minute per user (refused ones do not count).
    ask(&admin, "Проанализируй расходы клиента", Some(&s.client_id)).await;
    ask(&admin, "Доходы и расходы по месяцам", Some(&s.client_id)).await;
    let limited = admin
        .gql(
            ASK,
            json!({ "question": "Что можно предложить клиенту?", "clientId": s.client_id }),
        )
        .await;
    assert_eq!(code(&limited), "RATE_LIMITED", "{limited}");
    let retry = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry), "{limited}");
    // Other users have their own quota.
    ask(&viewer, "Проанализируй расходы клиента", Some(&s.client_id)).await;

    // Every question and answer is in the audit log: the question in full, the answer as its
    // length and hash (the text itself stays in the conversation, not in the append-only log).
    let rows = server.core.audit().recent_audit(200).await.unwrap();
    let asks: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "assistant.ask")
        .collect();
    let answers: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "assistant.answer")
        .collect();
    assert_eq!(asks.len(), 5, "{asks:?}");
    assert_eq!(answers.len(), 5);
    let viewer_answer = answer_text(&mine);
    let logged: Value = serde_json::from_str(
        &answers
            .iter()
            .rev()
            .find(|r| r.username.as_deref() == Some("viewer"))
            .unwrap()
            .details,
    )
    .unwrap();
    assert_eq!(logged["outcome"], "answered");
    assert_eq!(logged["answer_chars"], viewer_answer.chars().count());
    assert_eq!(logged["answer_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(logged["model"], "builtin-analyst");
    assert!(
        !answers
            .iter()
            .any(|r| r.details.contains("Из чего он сложился")),
        "no answer text in the audit log"
    );
    let asked: Value = serde_json::from_str(
        &asks
            .iter()
            .rev()
            .find(|r| r.username.as_deref() == Some("viewer"))
            .unwrap()
            .details,
    )
    .unwrap();
    assert_eq!(asked["question"], "Почему у клиента рейтинг B?");
    let chain = server.core.audit().verify_audit_chain().await.unwrap();
    assert_eq!(chain.first_broken, None);
    server.stop().await.unwrap();
}
