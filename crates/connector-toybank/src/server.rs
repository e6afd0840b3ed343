//! ToyBank's test server: the toy/1 dialect on a loopback port, over a small
//! fixed world, and [`ToyControl`], the conformance kit's `BankControl` for it. What it cannot do
//! (faults, tokens, paging, noise) its [`ToyControl::capabilities`] says, and the kit skips.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use crm_connector::conformance::{BankControl, Capabilities, TrueAccount, TrueTransaction};
use crm_connector::{Credentials, Direction};
use rust_decimal::Decimal;
use serde_json::json;

const CLIENT_ID: &str = "toy-team";
const SECRET: &str = "toy-secret-of-the-test-server";

#[derive(Clone)]
struct Account {
    id: String,
    client: String,
    balance_minor: i64,
}

#[derive(Clone)]
struct Row {
    id: String,
    account: String,
    at: i64,
    minor: i64,
    pending: bool,
}

#[derive(Clone)]
struct World {
    accounts: Vec<Account>,
    rows: Vec<Row>,
    /// consent id -> (client, active)
    consents: HashMap<String, (String, bool)>,
    next_id: u64,
}

impl World {
    /// Every client, in account order.
    fn clients(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.accounts.iter().map(|a| a.client.clone()).collect();
        ids.dedup();
        ids
    }
}

/// Three clients: `toy-1` with a busy account (250 rows over about a year) and a quiet one,
/// `toy-2` with one account, `toy-3` with an account that has no rows. Every 7th row is a
/// credit; times are whole seconds before `now`.
fn world(now: i64) -> World {
    let plan: [(&str, &str, usize); 4] = [
        ("toy-1", "toy-acc-1", 250),
        ("toy-1", "toy-acc-2", 12),
        ("toy-2", "toy-acc-3", 40),
        ("toy-3", "toy-acc-4", 0),
    ];
    let mut accounts = Vec::new();
    let mut rows = Vec::new();
    for (client, account, n) in plan {
        let mut balance = 0;
        for i in 0..n {
            let size = 100 + (i as i64 * 7_919) % 90_000;
            let minor = if i % 7 == 0 { size * 20 } else { -size };
            balance += minor;
            rows.push(Row {
                id: format!("{account}-r{i}"),
                account: account.to_owned(),
                at: now - 3_600 - i as i64 * 36 * 3_600,
                minor,
                pending: false,
            });
        }
        accounts.push(Account {
            id: account.to_owned(),
            client: client.to_owned(),
            balance_minor: balance,
        });
    }
    World {
        accounts,
        rows,
        consents: HashMap::new(),
        next_id: 1,
    }
}

#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
    start: Arc<World>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, World> {
        // A panicking handler cannot leave the world half-written: every change is one statement.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The toy bank, serving until dropped.
pub struct ToyBank {
    url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ToyBank {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ToyBank {
    /// Serves the toy world on a loopback port.
    pub async fn start() -> std::io::Result<ToyBank> {
        let start = Arc::new(world(Utc::now().timestamp()));
        let shared = Shared {
            world: Arc::new(Mutex::new((*start).clone())),
            start,
        };
        let app = Router::new()
            .route("/v1/clients/{client}/consents", post(new_consent))
            .route(
                "/v1/consents/{id}",
                get(consent_state).delete(revoke_consent),
            )
            .route("/v1/clients/{client}/accounts", get(accounts))
            .route("/v1/clients/{client}/accounts/{account}/rows", get(rows))
            .route("/v1/products", get(products))
            .layer(middleware::from_fn(api_key))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("toybank server ended: {e}");
            }
        });
        Ok(ToyBank { url, shared, task })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The credentials the toy bank accepts.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(CLIENT_ID, SECRET)
    }

    /// Every client of the bank.
    pub fn client_ids(&self) -> Vec<String> {
        self.shared.lock().clients()
    }

    /// Rows the bank holds now, in all accounts.
    pub fn row_count(&self) -> usize {
        self.shared.lock().rows.len()
    }

    pub fn control(&self) -> ToyControl {
        ToyControl {
            shared: self.shared.clone(),
        }
    }
}

/// Every call needs the API key: 401 without it.
async fn api_key(request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok());
    if key != Some(format!("{CLIENT_ID}:{SECRET}").as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(request).await
}

/// 403 unless `x-consent` is an active consent of `client`.
fn check(headers: &HeaderMap, world: &World, client: &str) -> Result<(), StatusCode> {
    let consent = headers.get("x-consent").and_then(|v| v.to_str().ok());
    match consent.and_then(|id| world.consents.get(id)) {
        Some((owner, true)) if owner == client => Ok(()),
        _ => Err(StatusCode::FORBIDDEN),
    }
}

async fn new_consent(State(shared): State<Shared>, Path(client): Path<String>) -> Response {
    let mut world = shared.lock();
    if !world.accounts.iter().any(|a| a.client == client) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let id = format!("toy-consent-{}", world.next_id);
    world.next_id += 1;
    world.consents.insert(id.clone(), (client, true));
    (StatusCode::CREATED, Json(json!({ "consent": id }))).into_response()
}

async fn consent_state(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let expires = Utc::now().timestamp() + 90 * 86_400;
    match shared.lock().consents.get(&id) {
        Some((_, active)) => Json(json!({ "active": active, "expires": expires })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn revoke_consent(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().consents.get_mut(&id) {
        Some(consent) => {
            consent.1 = false;
            StatusCode::NO_CONTENT.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn accounts(
    State(shared): State<Shared>,
    Path(client): Path<String>,
    headers: HeaderMap,
) -> Response {
    let world = shared.lock();
    if let Err(refused) = check(&headers, &world, &client) {
        return refused.into_response();
    }
    let list: Vec<_> = world
        .accounts
        .iter()
        .filter(|a| a.client == client)
        .map(|a| json!({ "id": a.id, "ccy": "RUB", "balance_minor": a.balance_minor }))
        .collect();
    Json(list).into_response()
}

async fn rows(
    State(shared): State<Shared>,
    Path((client, account)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let world = shared.lock();
    if let Err(refused) = check(&headers, &world, &client) {
        return refused.into_response();
    }
    if !world
        .accounts
        .iter()
        .any(|a| a.id == account && a.client == client)
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let rows: Vec<_> = world
        .rows
        .iter()
        .filter(|r| r.account == account)
        .map(|r| {
            json!({
                "id": r.id, "at": r.at, "minor": r.minor, "pending": r.pending,
                "text": if r.minor > 0 { "Toy salary" } else { "Toy shop" },
            })
        })
        .collect();
    Json(json!({ "ccy": "RUB", "rows": rows })).into_response()
}

async fn products() -> Response {
    Json(json!([
        { "id": "toy-deposit", "title": "Toy deposit" },
        { "id": "toy-card", "title": "Toy card" },
    ]))
    .into_response()
}

/// The kit's steering wheel for the toy bank.
#[derive(Clone)]
pub struct ToyControl {
    shared: Shared,
}

impl ToyControl {
    /// Consents authorized at once, late postings; no faults, tokens, paging or noise.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            consent_approval: false,
            bank_tokens: false,
            faults: false,
            unknown_fields: false,
            unstable_paging: false,
            late_postings: true,
            agreements: false,
            cards: false,
            closure: false,
        }
    }
}

fn truth(row: &Row) -> TrueTransaction {
    TrueTransaction {
        id: row.id.clone(),
        booked_at: DateTime::from_timestamp(row.at, 0).unwrap_or_default(),
        amount: Decimal::new(row.minor.abs(), 2),
        direction: if row.minor > 0 {
            Direction::Credit
        } else {
            Direction::Debit
        },
        pending: row.pending,
    }
}

#[async_trait]
impl BankControl for ToyControl {
    fn unknown_client(&self) -> String {
        "toy-404".to_owned()
    }

    async fn reset(&self) {
        *self.shared.lock() = (*self.shared.start).clone();
    }

    async fn clients(&self) -> Vec<String> {
        self.shared.lock().clients()
    }

    async fn busiest_account(&self) -> (String, String) {
        ("toy-1".to_owned(), "toy-acc-1".to_owned())
    }

    async fn empty_client(&self) -> String {
        "toy-3".to_owned()
    }

    async fn accounts(&self, client: &str) -> Vec<TrueAccount> {
        self.shared
            .lock()
            .accounts
            .iter()
            .filter(|a| a.client == client)
            .map(|a| TrueAccount {
                id: a.id.clone(),
                currency: "RUB".to_owned(),
                balance: Some(Decimal::new(a.balance_minor, 2)),
                kind: None,
            })
            .collect()
    }

    async fn transactions(&self, account_id: &str) -> Vec<TrueTransaction> {
        self.shared
            .lock()
            .rows
            .iter()
            .filter(|r| r.account == account_id)
            .map(truth)
            .collect()
    }

    async fn products(&self) -> Vec<String> {
        vec!["toy-deposit".to_owned(), "toy-card".to_owned()]
    }

    async fn approve(&self, _: &str) -> Result<(), String> {
        Err("the toy bank authorizes consents at once".to_owned())
    }

    async fn reject(&self, _: &str) -> Result<(), String> {
        Err("the toy bank authorizes consents at once".to_owned())
    }

    async fn revoke_all(&self, client: &str) {
        for (owner, active) in self.shared.lock().consents.values_mut() {
            if owner == client {
                *active = false;
            }
        }
    }

    // No fault injection, tokens, paging or noise: `capabilities` says so and the kit skips
    // the checks that would call these.
    async fn fail_next(&self, _: u32, _: u16) {}
    async fn rate_limit_next(&self, _: u32, _: Duration) {}
    async fn delay_next(&self, _: u32, _: Duration) {}
    async fn truncate_next(&self, _: u32) {}
    async fn malformed_next(&self, _: u32) {}
    async fn html_next(&self, _: u32) {}
    async fn pass_next(&self, _: u32) {}
    async fn expire_tokens(&self) {}
    async fn expire_tokens_after(&self, _: u32) {}
    async fn unstable_paging(&self, _: bool, _: Option<u32>) {}
    /// The toy bank never filters by date: the connector always does.
    async fn honour_date_filter(&self, _: bool) {}
    async fn noise(&self, _: bool) {}

    async fn add_transaction(&self, account_id: &str, pending: bool) -> String {
        let mut world = self.shared.lock();
        let id = format!("{account_id}-late{}", world.next_id);
        world.next_id += 1;
        world.rows.push(Row {
            id: id.clone(),
            account: account_id.to_owned(),
            at: Utc::now().timestamp(),
            minor: -4_990,
            pending,
        });
        id
    }

    async fn book(&self, transaction_id: &str) {
        if let Some(row) = self
            .shared
            .lock()
            .rows
            .iter_mut()
            .find(|r| r.id == transaction_id)
        {
            row.pending = false;
        }
    }

    async fn tokens_issued(&self) -> u64 {
        0
    }

    async fn calls_without_request_id(&self) -> u64 {
        0
    }
}
