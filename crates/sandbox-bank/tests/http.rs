//! The sandbox bank over HTTP, as a client sees it: determinism, tokens, consents, accounts,
//! paging, the date filter, faults, the control API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crm_sandbox_bank::{
    BankConfig, Paging, RunningSandbox, Sandbox, SandboxConfig, DEFAULT_TEAM_ID,
    DEFAULT_TEAM_SECRET,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn anchor() -> chrono::DateTime<chrono::Utc> {
    "2025-11-06T00:00:00Z".parse().unwrap()
}

async fn start() -> RunningSandbox {
    Sandbox::start(SandboxConfig::default().with_anchor(anchor()))
        .await
        .unwrap()
}

struct Bank {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Bank {
    async fn new(sandbox: &RunningSandbox, code: &str) -> Bank {
        let http = reqwest::Client::new();
        let base = sandbox.url(code).unwrap();
        let res = http
            .post(format!("{base}/auth/bank-token"))
            .query(&[
                ("client_id", DEFAULT_TEAM_ID),
                ("client_secret", DEFAULT_TEAM_SECRET),
            ])
            .header("x-fapi-interaction-id", "t-1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        Bank {
            http,
            base,
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-requesting-bank", DEFAULT_TEAM_ID)
            .header("x-fapi-interaction-id", "t-2")
    }

    async fn get(&self, path: &str, consent: Option<&str>) -> (StatusCode, String) {
        let mut r = self.req(reqwest::Method::GET, path);
        if let Some(c) = consent {
            r = r.header("x-consent-id", c);
        }
        let res = r.send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }

    async fn json(&self, path: &str, consent: Option<&str>) -> Value {
        let (status, text) = self.get(path, consent).await;
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn consent(&self, client: &str) -> Value {
        let res = self
            .req(reqwest::Method::POST, "/account-consents/request")
            .json(&json!({"client_id": client,
                "permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail"],
                "reason": "test", "requesting_bank": DEFAULT_TEAM_ID, "requesting_bank_name": "AI-CRM"}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/sandbox{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every row of an account across pages of `limit`.
    async fn all_rows(&self, account: &str, limit: u32) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut page = 1;
        loop {
            let body = self
                .json(
                    &format!("/accounts/{account}/transactions?page={page}&limit={limit}"),
                    None,
                )
                .await;
            rows.extend(
                body["data"]["transaction"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .cloned(),
            );
            if body["links"]["next"].is_null() {
                return rows;
            }
            page += 1;
        }
    }
}

#[tokio::test]
async fn the_same_seed_serves_byte_identical_data_and_another_seed_does_not() {
    let (a, b) = (start().await, start().await);
    let other = Sandbox::start(SandboxConfig::default().with_anchor(anchor()).with_seed(7))
        .await
        .unwrap();
    for code in ["abank", "vbank", "sbank"] {
        assert_eq!(a.client_ids(code), b.client_ids(code));
        let (ba, bb, bo) = (
            Bank::new(&a, code).await,
            Bank::new(&b, code).await,
            Bank::new(&other, code).await,
        );
        let mut differs = false;
        for client in a.client_ids(code).iter().take(6) {
            for (bank, sandbox) in [(&ba, &a), (&bb, &b), (&bo, &other)] {
                if !sandbox.client_ids(code).contains(client) {
                    continue;
                }
                bank.consent(client).await;
                let requests = sandbox.control(code).unwrap().consent_requests();
                for r in requests.iter().filter(|r| r.status == "pending") {
                    sandbox
                        .control(code)
                        .unwrap()
                        .approve(&r.request_id)
                        .unwrap();
                }
            }
            let path = format!("/accounts?client_id={client}");
            let (x, y) = (ba.get(&path, None).await.1, bb.get(&path, None).await.1);
            assert_eq!(x, y);
            differs |= bo.get(&path, None).await.1 != x;
            let accounts: Value = serde_json::from_str(&x).unwrap();
            for acc in accounts["data"]["account"].as_array().unwrap() {
                let id = acc["accountId"].as_str().unwrap();
                let page = format!("/accounts/{id}/transactions?page=1&limit=100");
                assert_eq!(ba.get(&page, None).await.1, bb.get(&page, None).await.1);
                let bal = format!("/accounts/{id}/balances");
                assert_eq!(ba.get(&bal, None).await.1, bb.get(&bal, None).await.1);
            }
        }
        assert!(differs, "{code}: another seed gives other data");
        assert_eq!(
            ba.get("/products", None).await.1,
            bb.get("/products", None).await.1
        );
    }
}

#[tokio::test]
async fn tokens_are_refused_as_documented_and_expire() {
    let sandbox = Sandbox::start(SandboxConfig {
        token_ttl: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let base = sandbox.url("abank").unwrap();
    let http = reqwest::Client::new();
    let token = |id: &str, secret: &str| {
        http.post(format!("{base}/auth/bank-token"))
            .query(&[("client_id", id), ("client_secret", secret)])
            .send()
    };
    let res = token("team999", DEFAULT_TEAM_SECRET).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid client_id"})
    );
    let res = token(DEFAULT_TEAM_ID, "wrong").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid client_secret"})
    );
    let res = http
        .post(format!("{base}/auth/bank-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = token(DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET).await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["client_id"], DEFAULT_TEAM_ID);
    assert_eq!(body["expires_in"], 1);
    assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));

    let bank = Bank::new(&sandbox, "abank").await;
    assert_eq!(bank.get("/products", None).await.0, StatusCode::OK);
    let (status, text) = bank
        .http
        .get(format!("{base}/products"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        text.json::<Value>().await.unwrap(),
        json!({"detail": "Not authenticated"})
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        bank.get("/products", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A token of one bank is worthless at another.
    let other = Bank::new(&sandbox, "vbank").await;
    let (status, _) = bank
        .http
        .get(format!("{base}/products"))
        .bearer_auth(&other.token)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn auto_approved_consents_work_until_revoked() {
    let sandbox = start().await;
    let bank = Bank::new(&sandbox, "abank").await;
    let client = sandbox.client_ids("abank")[0].clone();
    let path = format!("/accounts?client_id={client}");
    let (status, text) = bank.get(&path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["detail"]["error"], "CONSENT_REQUIRED");
    assert_eq!(
        body["detail"]["consent_request_url"],
        "/account-consents/request"
    );

    let answer = bank.consent(&client).await;
    assert_eq!(answer["status"], "approved");
    assert_eq!(answer["auto_approved"], true);
    let consent = answer["consent_id"].as_str().unwrap().to_owned();
    assert!(consent.starts_with("consent-"));
    assert!(answer["request_id"].as_str().unwrap().starts_with("req-"));
    let detail = bank
        .json(&format!("/account-consents/{consent}"), None)
        .await;
    assert_eq!(detail["data"]["status"], "Authorized");
    assert_eq!(detail["data"]["consentId"], consent.as_str());
    assert!(detail["data"]["expirationDateTime"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    assert_eq!(bank.get(&path, Some(&consent)).await.0, StatusCode::OK);
    assert_eq!(
        bank.get(&path, None).await.0,
        StatusCode::OK,
        "any active consent"
    );
    assert_eq!(
        bank.get(&path, Some("consent-000000000000")).await.0,
        StatusCode::FORBIDDEN
    );

    let res = bank
        .req(
            reqwest::Method::DELETE,
            &format!("/account-consents/{consent}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let detail = bank
        .json(&format!("/account-consents/{consent}"), None)
        .await;
    assert_eq!(detail["data"]["status"], "Revoked");
    assert_eq!(
        bank.get(&path, Some(&consent)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(bank.get(&path, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        bank.get("/account-consents/consent-nope", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn approval_banks_keep_requests_pending_until_the_client_decides() {
    let sandbox = start().await;
    let bank = Bank::new(&sandbox, "sbank").await;
    let clients = sandbox.client_ids("sbank");
    let client = clients[0].clone();
    let answer = bank.consent(&client).await;
    assert_eq!(answer["status"], "pending");
    assert_eq!(answer["auto_approved"], false);
    assert!(answer.get("consent_id").is_none());
    let request = answer["request_id"].as_str().unwrap().to_owned();
    let path = format!("/accounts?client_id={client}");
    assert_eq!(bank.get(&path, None).await.0, StatusCode::FORBIDDEN);
    let pending = bank
        .json(&format!("/account-consents/{request}"), None)
        .await;
    assert_eq!(pending["data"]["status"], "AwaitingAuthorization");

    let (status, list) = bank
        .control(reqwest::Method::GET, "/consent-requests", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["status"], "pending");
    let (status, approved) = bank
        .control(
            reqwest::Method::POST,
            &format!("/consent-requests/{request}/approve"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_id = approved["consentId"].as_str().unwrap();
    assert_ne!(new_id, request);
    // The request id keeps answering "awaiting"; a data call tells the truth.
    let still = bank
        .json(&format!("/account-consents/{request}"), None)
        .await;
    assert_eq!(still["data"]["status"], "AwaitingAuthorization");
    assert_eq!(bank.get(&path, None).await.0, StatusCode::OK);
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/consent-requests/{request}/approve"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Rejected.
    let other = clients[1].clone();
    let request = bank.consent(&other).await["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/consent-requests/{request}/reject"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let rejected = bank
        .json(&format!("/account-consents/{request}"), None)
        .await;
    assert_eq!(rejected["data"]["status"], "Rejected");
    assert_eq!(
        bank.get(&format!("/accounts?client_id={other}"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The client revokes in the bank's app.
    let (status, body) = bank
        .control(
            reqwest::Method::POST,
            &format!("/clients/{client}/revoke-consents"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revoked"], 1);
    assert_eq!(bank.get(&path, None).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_clients_and_accounts_and_missing_parameters() {
    let sandbox = start().await;
    let bank = Bank::new(&sandbox, "abank").await;
    let res = bank
        .req(reqwest::Method::POST, "/account-consents/request")
        .json(&json!({"client_id": "team200-99", "permissions": ["ReadAccountsDetail"], "requesting_bank": DEFAULT_TEAM_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Client team200-99 not found"})
    );
    assert_eq!(
        bank.get("/accounts?client_id=team200-99", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(bank.get("/accounts", None).await.0, StatusCode::BAD_REQUEST);
    let (status, text) = bank.get("/accounts/acc-999999/balances", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"detail": "Account not found"})
    );
    assert_eq!(
        bank.get("/accounts/nonsense!/balances", None).await.0,
        StatusCode::BAD_REQUEST
    );
    let res = bank
        .http
        .get(format!("{}/accounts?client_id=team200-1", bank.base))
        .bearer_auth(&bank.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "no x-requesting-bank"
    );
}

async fn authorized(sandbox: &RunningSandbox, code: &str, client: &str) -> Bank {
    let bank = Bank::new(sandbox, code).await;
    bank.consent(client).await;
    let control = sandbox.control(code).unwrap();
    for r in control.consent_requests() {
        if r.status == "pending" {
            control.approve(&r.request_id).unwrap();
        }
    }
    bank
}

#[tokio::test]
async fn paging_is_exact_newest_first_and_links_drop_extra_parameters() {
    let sandbox = start().await;
    let control = sandbox.control("abank").unwrap();
    let (client, account) = control.busiest_account().unwrap();
    let truth = control.transactions(&account).unwrap();
    assert!(truth.len() >= 300, "{}", truth.len());
    let bank = authorized(&sandbox, "abank", &client).await;
    let body = bank
        .json(&format!("/accounts/{account}/transactions?page=1&limit=100&from_booking_date_time=2000-01-01T00:00:00Z"), None)
        .await;
    let total = truth.len() as u64;
    assert_eq!(body["meta"]["totalRecords"], total);
    assert_eq!(body["meta"]["totalPages"], total.div_ceil(100));
    assert_eq!(body["meta"]["currentPage"], 1);
    assert_eq!(body["meta"]["pageSize"], 100);
    assert_eq!(
        body["links"]["next"],
        format!("/accounts/{account}/transactions?page=2&limit=100")
    );
    assert_eq!(body["data"]["transaction"].as_array().unwrap().len(), 100);

    for limit in [100, 37, 1] {
        let rows = bank.all_rows(&account, limit).await;
        let ids: Vec<&str> = rows
            .iter()
            .map(|r| r["transactionId"].as_str().unwrap())
            .collect();
        let distinct: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), truth.len(), "limit {limit}");
        assert_eq!(distinct.len(), truth.len());
        let expected: Vec<&str> = truth.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, expected, "newest first, in the bank's order");
        if limit == 1 {
            break;
        }
    }
    let last = total.div_ceil(100);
    let body = bank
        .json(
            &format!("/accounts/{account}/transactions?page={last}&limit=100"),
            None,
        )
        .await;
    assert!(body["links"].get("next").is_none());
    let beyond = bank
        .json(
            &format!(
                "/accounts/{account}/transactions?page={}&limit=100",
                last + 1
            ),
            None,
        )
        .await;
    assert!(beyond["data"]["transaction"].as_array().unwrap().is_empty());

    for bad in [
        "limit=101",
        "limit=0",
        "page=0",
        "page=abc",
        "from_booking_date_time=yesterday",
    ] {
        let (status, text) = bank
            .get(&format!("/accounts/{account}/transactions?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert!(body["detail"][0]["loc"].is_array(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_date_filter_is_honoured_or_ignored_per_bank() {
    let sandbox = start().await;
    for (code, honours) in [("abank", true), ("vbank", false)] {
        let control = sandbox.control(code).unwrap();
        let (client, account) = control.busiest_account().unwrap();
        let bank = authorized(&sandbox, code, &client).await;
        let truth = control.transactions(&account).unwrap();
        let from = anchor() - chrono::Duration::days(30);
        let in_range = truth.iter().filter(|t| t.booked_at >= from).count() as u64;
        let body = bank
            .json(
                &format!(
                    "/accounts/{account}/transactions?page=1&limit=10&from_booking_date_time={}",
                    from.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                None,
            )
            .await;
        let expected = if honours {
            in_range
        } else {
            truth.len() as u64
        };
        assert_eq!(body["meta"]["totalRecords"], expected, "{code}");
    }
}

#[tokio::test]
async fn wire_variety_is_there() {
    let sandbox = start().await;
    let mut seen = HashSet::new();
    for code in ["abank", "vbank", "sbank"] {
        let control = sandbox.control(code).unwrap();
        let (client, account) = control.busiest_account().unwrap();
        let bank = authorized(&sandbox, code, &client).await;
        for row in bank.all_rows(&account, 100).await {
            if row["amount"]["amount"].is_number() {
                seen.insert("number amount");
            }
            let t = row["bookingDateTime"].as_str().unwrap();
            seen.insert(if t.ends_with('Z') { "zulu" } else { "naive" });
            if t.contains('.') {
                seen.insert("fraction");
            }
            seen.insert(match row["status"].as_str().unwrap() {
                "completed" => "completed",
                "pending" => "pending",
                "Booked" => "Booked",
                "Pending" => "Pending",
                _ => "other",
            });
            if row.get("merchant").is_some_and(Value::is_null) {
                seen.insert("null merchant");
            }
            if row.get("merchant").is_none() {
                seen.insert("absent merchant");
            }
            if row.get("statementReference").is_some() || row.get("bankFee").is_some() {
                seen.insert("unknown field");
            }
            if let Some(mcc) = row["merchant"]["mccCode"].as_str() {
                assert_eq!(mcc.len(), 4);
                seen.insert("mcc");
            }
            assert!(
                row["amount"]["amount"].is_number()
                    || row["amount"]["amount"].as_str().unwrap().contains('.')
            );
        }
    }
    for want in [
        "number amount",
        "zulu",
        "naive",
        "fraction",
        "completed",
        "pending",
        "Booked",
        "Pending",
        "null merchant",
        "absent merchant",
        "unknown field",
        "mcc",
    ] {
        assert!(seen.contains(want), "{want}: {seen:?}");
    }
}

#[tokio::test]
async fn balances_products_and_negative_balances() {
    let sandbox = start().await;
    let control = sandbox.control("abank").unwrap();
    let mut debit_seen = false;
    for client in control.clients() {
        let bank = authorized(&sandbox, "abank", &client.id).await;
        for account in &client.accounts {
            let body = bank
                .json(&format!("/accounts/{}/balances", account.id), None)
                .await;
            let list = body["data"]["balance"].as_array().unwrap();
            assert_eq!(list[0]["type"], "InterimAvailable");
            let amount: rust_decimal::Decimal = list[0]["amount"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(!amount.is_sign_negative(), "amounts are non-negative");
            let signed = if list[0]["creditDebitIndicator"] == "Debit" {
                -amount
            } else {
                amount
            };
            debit_seen |= signed.is_sign_negative() && !signed.is_zero();
            assert_eq!(signed, account.balance);
        }
    }
    assert!(debit_seen, "some accounts are overdrawn");
    let bank = Bank::new(&sandbox, "abank").await;
    let products = bank.json("/products", None).await;
    let list = products["data"]["product"].as_array().unwrap();
    assert_eq!(list.len(), control.product_ids().len());
    let loans = bank.json("/products?product_type=loan", None).await;
    assert!(loans["data"]["product"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["productType"] == "loan"));
    let card = list.iter().find(|p| p["productType"] == "card").unwrap();
    let detail = bank
        .json(
            &format!("/products/{}", card["productId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(detail["data"]["interestRate"], "None");
    assert_eq!(
        bank.get("/products/prod-nope", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_fault_knob_over_http() {
    let sandbox = start().await;
    let control = sandbox.control("abank").unwrap();
    let client = control.client_ids()[0].clone();
    let bank = authorized(&sandbox, "abank", &client).await;
    let path = format!("/accounts?client_id={client}");
    let fault = |f: Value, count: u32, after: u32| {
        let bank = &bank;
        async move {
            let (status, _) = bank
                .control(
                    reqwest::Method::POST,
                    "/faults",
                    Some(json!({"fault": f, "count": count, "after": after})),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
    };
    fault(json!({"type": "status", "status": 503}), 2, 0).await;
    for _ in 0..2 {
        let (status, text) = bank.get(&path, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(text.contains("detail"));
    }
    assert_eq!(bank.get(&path, None).await.0, StatusCode::OK);

    fault(json!({"type": "status", "status": 502}), 1, 1).await;
    assert_eq!(
        bank.get(&path, None).await.0,
        StatusCode::OK,
        "after: served normally first"
    );
    let (status, text) = bank.get(&path, None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(text.contains("<html>"));

    fault(json!({"type": "rateLimit", "seconds": 3}), 1, 0).await;
    let res = bank.req(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "3");

    fault(json!({"type": "delay", "millis": 300}), 1, 0).await;
    let started = Instant::now();
    assert_eq!(bank.get(&path, None).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let (_, whole) = bank.get(&path, None).await;
    fault(json!({"type": "truncate"}), 1, 0).await;
    let (status, cut) = bank.get(&path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(cut.len() < whole.len() && whole.starts_with(&cut));
    assert!(serde_json::from_str::<Value>(&cut).is_err());

    fault(json!({"type": "wrongShape"}), 1, 0).await;
    let (status, text) = bank.get(&path, None).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body["data"]["account"].as_array().is_none());

    fault(json!({"type": "html"}), 1, 0).await;
    let res = bank.req(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    fault(json!({"type": "expireTokens"}), 1, 0).await;
    assert_eq!(bank.get(&path, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bank.get(&path, None).await.0,
        StatusCode::UNAUTHORIZED,
        "expired for good"
    );

    let bank = Bank::new(&sandbox, "abank").await;
    let (status, _) = bank
        .control(
            reqwest::Method::PUT,
            "/latency",
            Some(json!({"millis": 150})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let started = Instant::now();
    bank.get(&path, None).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    bank.control(reqwest::Method::PUT, "/latency", Some(json!({"millis": 0})))
        .await;

    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            "/faults",
            Some(json!({"fault": {"type": "bogus"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stats = control.stats();
    assert!(stats.calls > 10);
    assert_eq!(stats.calls_without_request_id, 0);
}

#[tokio::test]
async fn unstable_paging_shuffles_ties_and_shifts_pages() {
    let sandbox = start().await;
    let control = sandbox.control("abank").unwrap();
    let (client, account) = control.busiest_account().unwrap();
    let bank = authorized(&sandbox, "abank", &client).await;
    let before = control.transaction_count(&account).unwrap();
    control.set_paging(Paging {
        shuffle_ties: true,
        insert_after: Some(2),
        ..Paging::default()
    });
    let page = format!("/accounts/{account}/transactions?page=1&limit=100");
    let first = bank.json(&page, None).await;
    assert_eq!(first["meta"]["totalRecords"], before);
    let second = bank.json(&page, None).await;
    assert_eq!(
        second["meta"]["totalRecords"],
        before + 1,
        "a row was booked while paging"
    );
    assert_eq!(control.transaction_count(&account).unwrap(), before + 1);
    // With ties shuffled, many reads of the same pages do not all agree on the order.
    let mut orders = HashSet::new();
    for _ in 0..12 {
        let rows = bank.all_rows(&account, 100).await;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r["transactionId"].as_str().unwrap().to_owned())
            .collect();
        orders.insert(ids);
    }
    assert!(orders.len() > 1, "ties come back in different orders");
    control.set_paging(Paging::default());
    let a = bank.all_rows(&account, 100).await;
    let b = bank.all_rows(&account, 100).await;
    assert_eq!(a, b, "stable again");
}

#[tokio::test]
async fn late_postings_appear_pending_then_booked() {
    let sandbox = start().await;
    let control = sandbox.control("sbank").unwrap();
    let (client, account) = control.busiest_account().unwrap();
    let bank = authorized(&sandbox, "sbank", &client).await;
    let balance = control.balance(&account).unwrap();
    let (status, created) = bank
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{account}/transactions"),
            Some(json!({"amount": "1234.50", "direction": "debit", "description": "Оплата: Пятёрочка", "pending": true,
                        "merchant": {"name": "Пятёрочка", "mcc": "5411"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["transactionId"].as_str().unwrap().to_owned();
    let page = bank
        .json(
            &format!("/accounts/{account}/transactions?page=1&limit=5"),
            None,
        )
        .await;
    let row = &page["data"]["transaction"][0];
    assert_eq!(row["transactionId"], id.as_str());
    assert_eq!(row["status"], "Pending");
    assert_eq!(row["amount"]["amount"], "1234.50");
    assert_eq!(row["merchant"]["mccCode"], "5411");
    assert_eq!(
        control.balance(&account).unwrap(),
        balance - rust_decimal::Decimal::new(123_450, 2)
    );
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/transactions/{id}/book"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let page = bank
        .json(
            &format!("/accounts/{account}/transactions?page=1&limit=5"),
            None,
        )
        .await;
    assert_eq!(page["data"]["transaction"][0]["status"], "Booked");
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            "/transactions/tx-000000000000/book",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{account}/transactions"),
            Some(json!({"amount": "1.001", "direction": "debit", "description": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, counted) = bank
        .control(
            reqwest::Method::GET,
            &format!("/accounts/{account}/transactions"),
            None,
        )
        .await;
    assert_eq!(
        counted["count"],
        control.transaction_count(&account).unwrap()
    );
    bank.control(reqwest::Method::POST, "/reset", None).await;
    assert!(
        control
            .transactions(&account)
            .unwrap()
            .iter()
            .all(|t| t.id != id),
        "reset drops added rows"
    );
}

#[tokio::test]
async fn a_grace_period_after_revocation_covers_account_calls_only() {
    let sandbox = start().await;
    let control = sandbox.control("vbank").unwrap();
    let (client, account) = control.busiest_account().unwrap();
    let bank = authorized(&sandbox, "vbank", &client).await;
    control.revoke_consents(&client).unwrap();
    assert_eq!(
        bank.get(&format!("/accounts?client_id={client}"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bank.get(&format!("/accounts/{account}/balances"), None)
            .await
            .0,
        StatusCode::OK
    );
    let abank = sandbox.control("abank").unwrap();
    let (client, account) = abank.busiest_account().unwrap();
    let bank = authorized(&sandbox, "abank", &client).await;
    abank.revoke_consents(&client).unwrap();
    assert_eq!(
        bank.get(&format!("/accounts/{account}/balances"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_rfc_6749_token_endpoint_when_configured() {
    let mut b = BankConfig::abank();
    b.quirks.oauth2_token_endpoint = true;
    let sandbox = Sandbox::start(SandboxConfig::default().with_banks(vec![b, BankConfig::vbank()]))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/oauth2/token", sandbox.url("abank").unwrap());
    let res = http
        .post(&url)
        .basic_auth(DEFAULT_TEAM_ID, Some(DEFAULT_TEAM_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let res = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={DEFAULT_TEAM_ID}&client_secret=nope"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = http
        .post(&url)
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let other = format!("{}/oauth2/token", sandbox.url("vbank").unwrap());
    assert_eq!(
        http.post(&other)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_control_api_can_require_a_token_and_the_sandbox_stops() {
    let sandbox = Sandbox::start(SandboxConfig {
        control_token: Some("let-me-in".into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/sandbox", sandbox.url("sbank").unwrap());
    assert_eq!(
        http.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let res = http
        .get(&url)
        .bearer_auth("let-me-in")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["approval"], "byClient");
    assert!(body["clients"].as_array().unwrap().len() >= 10);
    let empty = body["emptyClient"].as_str().unwrap();
    let res = http
        .get(format!("{url}/clients/{empty}"))
        .bearer_auth("let-me-in")
        .send()
        .await
        .unwrap();
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["accounts"][0]["transactions"], 0);
    let addr = sandbox.addr("sbank").unwrap();
    sandbox.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn cards_agreements_closure_and_revocation_as_sections_8_to_11_say() {
    let sandbox = start().await;
    let bank = Bank::new(&sandbox, "abank").await;
    let control = sandbox.control("abank").unwrap();
    // A client with a deposit (the world gives every bank at least one).
    let client = sandbox
        .client_ids("abank")
        .into_iter()
        .find(|c| {
            control
                .agreements(c)
                .unwrap()
                .iter()
                .any(|a| a.kind == "deposit")
        })
        .expect("a client with a deposit");

    // Agreements: no consent needed (§10), a bare list, snake_case, numbers, no zone.
    let list = bank
        .json(&format!("/product-agreements?client_id={client}"), None)
        .await;
    let items = list["data"].as_array().unwrap();
    assert_eq!(list["meta"]["total"], items.len());
    let deposit = items
        .iter()
        .find(|a| a["product_type"] == "deposit")
        .unwrap();
    assert!(deposit["amount"].is_number(), "{deposit}");
    assert!(!deposit["start_date"].as_str().unwrap().ends_with('Z'));
    assert!(deposit["end_date"].as_str().unwrap() > deposit["start_date"].as_str().unwrap());
    assert!(
        deposit.get("interest_rate").is_none(),
        "the list has no rate"
    );
    let id = deposit["agreement_id"].as_str().unwrap();
    let detail = bank
        .json(
            &format!("/product-agreements/{id}?client_id={client}"),
            None,
        )
        .await;
    assert!(detail["data"]["interest_rate"].is_number(), "{detail}");
    assert_eq!(
        bank.get("/product-agreements", None).await.0,
        StatusCode::BAD_REQUEST
    );
    // The deposit's account is listed, and its opening names the funding account (§12).
    let number = deposit["account_number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("423"));
    let consent = bank.consent(&client).await["consent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let accounts = bank
        .json(&format!("/accounts?client_id={client}"), Some(&consent))
        .await;
    let listed = accounts["data"]["account"].as_array().unwrap().clone();
    let account = listed
        .iter()
        .find(|a| a["account"][0]["identification"] == number.as_str())
        .unwrap();
    assert_eq!(account["accountSubType"], "Deposit");
    let account_id = account["accountId"].as_str().unwrap().to_owned();

    // Cards need a consent holding ReadCards (ours has only the three account permissions).
    let cards_path = format!("/cards?client_id={client}");
    let (status, text) = bank.get(&cards_path, Some(&consent)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("ReadCards"));
    let with_cards = control
        .grant_consent(&client, &["ReadAccountsDetail", "ReadCards"])
        .unwrap();
    let cards = bank.json(&cards_path, Some(&with_cards)).await;
    let list = cards["data"]["cards"].as_array().unwrap();
    assert_eq!(cards["data"]["total"], list.len());
    assert!(!list.is_empty());
    for c in list {
        let number = c["cardNumber"].as_str().unwrap();
        assert!(number.starts_with("**** **** **** "), "{number}");
        assert!(c["cardNumberFull"].is_null());
        assert!(c["expiryYear"].as_i64().unwrap() > 2025);
    }

    // Closure: the account drops out of the list, is still served by id, its agreement closes.
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{account_id}/close"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = bank
        .json(&format!("/accounts?client_id={client}"), Some(&consent))
        .await;
    let after = after["data"]["account"].as_array().unwrap();
    assert_eq!(after.len() + 1, listed.len());
    assert!(after.iter().all(|a| a["accountId"] != account_id.as_str()));
    bank.json(&format!("/accounts/{account_id}/balances"), Some(&consent))
        .await;
    let list = bank
        .json(&format!("/product-agreements?client_id={client}"), None)
        .await;
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["agreement_id"] == id && a["status"] == "closed"));

    // Revocation (§8): DELETE twice is 204 twice; then accounts and cards refuse; a request id
    // or an unknown id is 404.
    for _ in 0..2 {
        let res = bank
            .req(
                reqwest::Method::DELETE,
                &format!("/account-consents/{with_cards}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        bank.get(&cards_path, Some(&with_cards)).await.0,
        StatusCode::FORBIDDEN
    );
    let res = bank
        .req(
            reqwest::Method::DELETE,
            "/account-consents/req-000000000000",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn own_transfers_between_banks_name_the_other_account_and_land_within_two_days() {
    let sandbox = start().await;
    let time = |row: &Value| -> chrono::DateTime<chrono::Utc> {
        let t = row["bookingDateTime"]
            .as_str()
            .unwrap()
            .trim_end_matches('Z');
        format!("{t}Z").parse().unwrap()
    };
    let amount = |row: &Value| -> rust_decimal::Decimal {
        row["amount"]["amount"]
            .to_string()
            .trim_matches('"')
            .parse()
            .unwrap()
    };
    // (bank, client, account number, row) for every row of every bank.
    let mut rows: Vec<(String, String, String, Value)> = Vec::new();
    for code in ["abank", "vbank", "sbank"] {
        let bank = Bank::new(&sandbox, code).await;
        let control = sandbox.control(code).unwrap();
        for client in sandbox.client_ids(code) {
            let consent = control
                .grant_consent(&client, &["ReadAccountsDetail", "ReadTransactionsDetail"])
                .unwrap();
            let accounts = bank
                .json(&format!("/accounts?client_id={client}"), Some(&consent))
                .await;
            for a in accounts["data"]["account"].as_array().unwrap() {
                let number = a["account"][0]["identification"].as_str().unwrap();
                for row in bank.all_rows(a["accountId"].as_str().unwrap(), 100).await {
                    rows.push((code.into(), client.clone(), number.into(), row));
                }
            }
        }
    }
    let (mut pairs, mut lagged) = (0, 0);
    for (code, client, number, row) in &rows {
        let text = row["transactionInformation"].as_str().unwrap_or_default();
        let Some(rest) = text.strip_prefix("Входящий перевод из ") else {
            continue;
        };
        let payer = rest.split(':').next().unwrap();
        assert_ne!(payer, code);
        assert_eq!(row["creditDebitIndicator"], "Credit");
        let wanted = format!("Межбанковский перевод в {code} на счет {number}: ");
        let legs: Vec<&Value> = rows
            .iter()
            .filter(|(b, c, _, r)| {
                b == payer
                    && c == client
                    && r["creditDebitIndicator"] == "Debit"
                    && r["transactionInformation"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(&wanted))
                    && amount(r) == amount(row)
                    && (chrono::Duration::zero()..=chrono::Duration::days(2))
                        .contains(&(time(row) - time(r)))
            })
            .map(|(_, _, _, r)| r)
            .collect();
        assert!(!legs.is_empty(), "{code} {client}: no debit leg for {text}");
        pairs += 1;
        if legs.iter().all(|r| time(r) != time(row)) {
            lagged += 1;
        }
    }
    assert!(pairs > 10 && lagged > 0, "pairs {pairs}, lagged {lagged}");
}

#[tokio::test]
async fn a_withdrawn_booking_vanishes_from_the_listing_and_the_balance() {
    let sandbox = start().await;
    let control = sandbox.control("abank").unwrap();
    let (client, account) = control.busiest_account().unwrap();
    let bank = authorized(&sandbox, "abank", &client).await;
    let before = control.transaction_count(&account).unwrap();
    let balance = control.balance(&account).unwrap();
    let row = control.transactions(&account).unwrap()[3].clone();
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/transactions/{}/withdraw", row.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(control.transaction_count(&account).unwrap(), before - 1);
    let listed = bank.all_rows(&account, 100).await;
    assert_eq!(listed.len() as u64, before - 1);
    assert!(listed
        .iter()
        .all(|r| r["transactionId"].as_str() != Some(row.id.as_str())));
    let signed = match row.direction {
        crm_sandbox_bank::Direction::Credit => row.amount,
        crm_sandbox_bank::Direction::Debit => -row.amount,
    };
    assert_eq!(control.balance(&account).unwrap(), balance - signed);
    let (status, _) = bank
        .control(
            reqwest::Method::POST,
            &format!("/transactions/{}/withdraw", row.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone already");
}
