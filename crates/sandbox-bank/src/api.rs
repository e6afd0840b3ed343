//! The bank's protocol endpoints, exactly as `../shared/openbanking-ru.md` describes them:
//! paths, headers, shapes, status codes and error bodies. Faults and latency are layered around
//! them (`faults.rs`); the control API lives apart (`control.rs`).

// Handlers refuse early with the complete HTTP answer; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Duration as Span, NaiveDateTime, Utc};
use rand::seq::SliceRandom;
use serde_json::{json, Value};

use crate::config::Approval;
use crate::history::{Tx, CARD};
use crate::render::Renderer;
use crate::state::{
    Bank, ConsentRec, ConsentState, RequestRec, RequestState, TokenRec, SHRUNK_ROWS,
};
use crate::world::{rng, tag};

pub(crate) type Shared = Arc<Bank>;

pub(crate) fn routes(bank: Shared) -> Router {
    Router::new()
        .route("/auth/bank-token", post(bank_token))
        .route("/oauth2/token", post(oauth2_token))
        .route("/account-consents/request", post(request_consent))
        .route(
            "/account-consents/{id}",
            get(get_consent).delete(delete_consent),
        )
        .route("/accounts", get(accounts))
        .route("/accounts/{id}/balances", get(balances))
        .route("/accounts/{id}/transactions", get(transactions))
        .route("/cards", get(cards))
        .route("/cards/{id}", get(card))
        .route("/product-agreements", get(agreements))
        .route("/product-agreements/{id}", get(agreement))
        .route("/products", get(products))
        .route("/products/{id}", get(product))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            bank.clone(),
            crate::faults::inject,
        ))
        .layer(axum::middleware::from_fn_with_state(
            bank.clone(),
            crate::faults::observe,
        ))
        .with_state(bank)
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

pub(crate) fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

/// Days a new consent of `client` lasts: a year, or six for a scenario's client.
pub(crate) fn consent_days(bank: &Bank, client: &str) -> i64 {
    if bank.data().short_consent.as_deref() == Some(client) {
        6
    } else {
        365
    }
}

fn consent_required() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({"detail": {
            "error": "CONSENT_REQUIRED",
            "message": "Требуется согласие клиента на доступ к данным счёта",
            "consent_request_url": "/account-consents/request"
        }})),
    )
        .into_response()
}

/// A FastAPI-style validation error: `422 {"detail": [{"type", "loc", "msg", "input"}]}`.
fn invalid(loc: &[&str], kind: &str, msg: &str, input: Option<&str>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": [{"type": kind, "loc": loc, "msg": msg, "input": input}]})),
    )
        .into_response()
}

async fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

fn params(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> HashMap<String, String> {
    query
        .map(|Query(pairs)| pairs.into_iter().collect())
        .unwrap_or_default()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn issue_token(bank: &Bank) -> (String, u64) {
    let mut rt = bank.rt();
    let now = Utc::now();
    rt.tokens.retain(|_, t| t.expires > now);
    rt.tokens_issued += 1;
    let ttl = bank.token_ttl.as_secs().max(1);
    let header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"sub": bank.team_id, "iss": bank.code(), "exp": now.timestamp() + ttl as i64, "jti": rt.tokens_issued})
            .to_string(),
    );
    let signature = bank.new_id(&mut rt, "sig");
    let token = format!("{header}.{payload}.{}", &signature[4..]);
    let epoch = rt.epoch;
    rt.tokens.insert(
        token.clone(),
        TokenRec {
            expires: now + Span::seconds(ttl as i64),
            epoch,
        },
    );
    (token, ttl)
}

/// `POST /auth/bank-token?client_id=...&client_secret=...` (no body).
async fn bank_token(
    State(bank): State<Shared>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let q = params(query);
    let Some(client_id) = q.get("client_id") else {
        return invalid(&["query", "client_id"], "missing", "Field required", None);
    };
    let Some(secret) = q.get("client_secret") else {
        return invalid(
            &["query", "client_secret"],
            "missing",
            "Field required",
            None,
        );
    };
    if client_id != &bank.team_id {
        return detail(StatusCode::UNAUTHORIZED, "Invalid client_id");
    }
    if !same(secret, &bank.team_secret) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid client_secret");
    }
    let (token, ttl) = issue_token(&bank);
    tracing::debug!(bank = bank.code(), "bank token issued");
    Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "client_id": bank.team_id,
        "algorithm": "HS256",
        "expires_in": ttl
    }))
    .into_response()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut res = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sandbox-bank\""),
        );
    }
    res
}

/// `POST /oauth2/token`: a standard RFC 6749 client-credentials endpoint (banks with the
/// `oauth2_token_endpoint` quirk). Credentials in HTTP Basic or in the form body.
async fn oauth2_token(State(bank): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if !bank.data().config.quirks.oauth2_token_endpoint {
        return not_found().await;
    }
    let form: HashMap<String, String> = body
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (percent_decode(u), percent_decode(p)))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(i), Some(s)) => (i.clone(), s.clone()),
            _ => {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client authentication is required",
                )
            }
        },
    };
    if id != bank.team_id || !same(&secret, &bank.team_secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let (token, ttl) = issue_token(&bank);
    let mut res = Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl}))
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `Authorization: Bearer <token>`: 403 `Not authenticated` without one, 401 for a bad or
/// expired one.
fn authenticate(bank: &Bank, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(detail(StatusCode::FORBIDDEN, "Not authenticated"));
    };
    let rt = bank.rt();
    match rt.tokens.get(token) {
        None => Err(detail(StatusCode::UNAUTHORIZED, "Invalid token")),
        Some(t) if t.epoch != rt.epoch || t.expires <= Utc::now() => {
            Err(detail(StatusCode::UNAUTHORIZED, "Token expired"))
        }
        Some(_) => Ok(()),
    }
}

/// Data calls come from a requesting bank: ours.
fn requesting_bank(bank: &Bank, headers: &HeaderMap) -> Result<(), Response> {
    match headers
        .get("x-requesting-bank")
        .and_then(|v| v.to_str().ok())
    {
        None => Err(detail(
            StatusCode::BAD_REQUEST,
            "x-requesting-bank header is required for inter-bank requests",
        )),
        Some(team) if team != bank.team_id => {
            Err(detail(StatusCode::FORBIDDEN, "Unknown requesting bank"))
        }
        Some(_) => Ok(()),
    }
}

/// Whether the client has a consent good for data now: the given one, or (without a header) any
/// active one. `grace`: also a consent revoked within the bank's grace period (quirk).
fn has_consent(bank: &Bank, client: &str, headers: &HeaderMap, grace: bool) -> bool {
    has_consent_for(bank, client, headers, grace, None)
}

/// [`has_consent`], and the consent must hold `permission` when one is named.
fn has_consent_for(
    bank: &Bank,
    client: &str,
    headers: &HeaderMap,
    grace: bool,
    permission: Option<&str>,
) -> bool {
    let wanted = headers.get("x-consent-id").and_then(|v| v.to_str().ok());
    let now = Utc::now();
    let window = bank
        .data()
        .config
        .quirks
        .account_calls_after_revocation
        .filter(|_| grace)
        .and_then(|d| Span::from_std(d).ok());
    let rt = bank.rt();
    let good = |c: &ConsentRec| {
        c.client == client
            && c.expires > now
            && permission.is_none_or(|p| c.permissions.iter().any(|h| h == p))
            && match c.state {
                ConsentState::Authorized => true,
                ConsentState::Revoked => window.is_some_and(|w| c.updated + w > now),
            }
    };
    match wanted {
        Some(id) => rt.consents.get(id).is_some_and(good),
        None => rt.consents.values().any(good),
    }
}

fn naive_micros(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn zulu_micros(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `POST /account-consents/request`.
async fn request_consent(
    State(bank): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let has_token = headers.contains_key(header::AUTHORIZATION);
    if has_token || !bank.data().config.quirks.consent_request_without_token {
        if let Err(e) = authenticate(&bank, &headers) {
            return e;
        }
    }
    let Ok(Json(body)) = body else {
        return invalid(&["body"], "json_invalid", "JSON decode error", None);
    };
    let Some(client) = body.get("client_id").and_then(Value::as_str) else {
        return invalid(&["body", "client_id"], "missing", "Field required", None);
    };
    let permissions: Vec<String> = match body.get("permissions").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => return invalid(&["body", "permissions"], "missing", "Field required", None),
    };
    let requester = headers
        .get("x-requesting-bank")
        .and_then(|v| v.to_str().ok())
        .or_else(|| body.get("requesting_bank").and_then(Value::as_str));
    if requester != Some(bank.team_id.as_str()) {
        return detail(StatusCode::FORBIDDEN, "Unknown requesting bank");
    }
    if !bank.data().member_of.contains_key(client) {
        return detail(StatusCode::NOT_FOUND, &format!("Client {client} not found"));
    }
    let now = Utc::now();
    let mut rt = bank.rt();
    let request_id = bank.new_id(&mut rt, "req");
    match bank.approval() {
        Approval::Automatic => {
            let consent_id = bank.new_id(&mut rt, "consent");
            rt.consents.insert(
                consent_id.clone(),
                ConsentRec {
                    client: client.to_owned(),
                    state: ConsentState::Authorized,
                    created: now,
                    updated: now,
                    expires: now + Span::days(consent_days(&bank, client)),
                    permissions: permissions.clone(),
                },
            );
            rt.requests.insert(
                request_id.clone(),
                RequestRec {
                    client: client.to_owned(),
                    state: RequestState::Approved(consent_id.clone()),
                    created: now,
                    permissions,
                },
            );
            Json(json!({
                "request_id": request_id,
                "consent_id": consent_id,
                "status": "approved",
                "message": "Согласие одобрено автоматически",
                "created_at": naive_micros(now),
                "auto_approved": true
            }))
            .into_response()
        }
        Approval::ByClient => {
            rt.requests.insert(
                request_id.clone(),
                RequestRec {
                    client: client.to_owned(),
                    state: RequestState::Pending,
                    created: now,
                    permissions,
                },
            );
            Json(json!({
                "request_id": request_id,
                "status": "pending",
                "message": "Запрос отправлен на одобрение",
                "created_at": naive_micros(now),
                "auto_approved": false
            }))
            .into_response()
        }
    }
}

fn consent_body(
    id: &str,
    status: &str,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    permissions: &[String],
) -> Response {
    Json(json!({
        "data": {
            "consentId": id,
            "status": status,
            "creationDateTime": zulu_micros(created),
            "statusUpdateDateTime": zulu_micros(updated),
            "permissions": permissions,
            "expirationDateTime": expires.map(zulu_micros),
        },
        "links": {"self": format!("/account-consents/{id}")},
        "meta": {}
    }))
    .into_response()
}

/// `GET /account-consents/{id}`: a consent, or a request id (which answers
/// `AwaitingAuthorization` even after approval: approval made a new consent id).
async fn get_consent(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = authenticate(&bank, &headers) {
        return e;
    }
    let now = Utc::now();
    let rt = bank.rt();
    if let Some(c) = rt.consents.get(&id) {
        let status = match c.state {
            ConsentState::Revoked => "Revoked",
            ConsentState::Authorized if c.expires <= now => "Expired",
            ConsentState::Authorized => "Authorized",
        };
        return consent_body(
            &id,
            status,
            c.created,
            c.updated,
            Some(c.expires),
            &c.permissions,
        );
    }
    if let Some(r) = rt.requests.get(&id) {
        let status = match r.state {
            RequestState::Pending | RequestState::Approved(_) => "AwaitingAuthorization",
            RequestState::Rejected => "Rejected",
        };
        return consent_body(&id, status, r.created, r.created, None, &r.permissions);
    }
    detail(StatusCode::NOT_FOUND, "Consent not found")
}

/// `DELETE /account-consents/{consent_id}`: 204, the consent becomes `Revoked`.
async fn delete_consent(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = authenticate(&bank, &headers) {
        return e;
    }
    let mut rt = bank.rt();
    match rt.consents.get_mut(&id) {
        Some(c) => {
            if c.state != ConsentState::Revoked {
                c.state = ConsentState::Revoked;
                c.updated = Utc::now();
            }
            StatusCode::NO_CONTENT.into_response()
        }
        None => detail(StatusCode::NOT_FOUND, "Consent not found"),
    }
}

/// `GET /accounts?client_id=...`.
async fn accounts(
    State(bank): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    if let Err(e) = authenticate(&bank, &headers).and_then(|_| requesting_bank(&bank, &headers)) {
        return e;
    }
    let q = params(query);
    let Some(client) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return detail(
            StatusCode::BAD_REQUEST,
            "client_id is required for inter-bank requests",
        );
    };
    if !bank.data().member_of.contains_key(client.as_str()) {
        return detail(StatusCode::NOT_FOUND, &format!("Client {client} not found"));
    }
    if !has_consent(&bank, client, &headers, false) {
        return consent_required();
    }
    let mut accounts = bank
        .data()
        .by_client
        .get(client.as_str())
        .cloned()
        .unwrap_or_default();
    // A closed account simply drops out of the list (§9).
    accounts.retain(|&i| !bank.is_closed(i));
    let noise = bank.rt().noise;
    let r = Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    };
    json_response(StatusCode::OK, r.accounts(&accounts))
}

fn valid_account_id(id: &str) -> bool {
    id.len() <= 64
        && id.starts_with("acc-")
        && id.len() > 4
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The account behind an account-level call, after the auth and consent checks.
fn account_for(bank: &Bank, headers: &HeaderMap, id: &str) -> Result<usize, Response> {
    authenticate(bank, headers)?;
    requesting_bank(bank, headers)?;
    if !valid_account_id(id) {
        return Err(detail(StatusCode::BAD_REQUEST, "Invalid account id"));
    }
    let Some(&index) = bank.data().by_id.get(id) else {
        return Err(detail(StatusCode::NOT_FOUND, "Account not found"));
    };
    let owner = &bank.world.persons[bank.data().accounts[index].owner].id;
    if !has_consent(bank, owner, headers, true) {
        return Err(consent_required());
    }
    Ok(index)
}

/// `GET /accounts/{id}/balances`.
async fn balances(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let index = match account_for(&bank, &headers, &id) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let (rows, _) = bank.rows(index);
    let pending: i64 = rows
        .iter()
        .take_while(|t| t.at >= bank.world.anchor.timestamp() - 3 * 86_400)
        .filter(|t| t.pending())
        .map(Tx::signed)
        .sum();
    let at = rows
        .first()
        .map_or(bank.world.anchor.timestamp(), |t| t.at)
        .max(bank.world.anchor.timestamp());
    let available = bank.balance(index);
    let noise = bank.rt().noise;
    let r = Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    };
    let account = &bank.data().accounts[index];
    json_response(StatusCode::OK, r.balances(account, available, pending, at))
}

/// ISO 8601 with or without zone and fraction, or a bare date.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
) -> Result<u64, Response> {
    let Some(text) = q.get(name) else {
        return Ok(default);
    };
    let Ok(n) = text.parse::<i64>() else {
        return Err(invalid(
            &["query", name],
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
            Some(text),
        ));
    };
    if n < 1 {
        return Err(invalid(
            &["query", name],
            "greater_than_equal",
            "Input should be greater than or equal to 1",
            Some(text),
        ));
    }
    if n as u64 > max {
        return Err(invalid(
            &["query", name],
            "less_than_equal",
            &format!("Input should be less than or equal to {max}"),
            Some(text),
        ));
    }
    Ok(n as u64)
}

/// `GET /accounts/{id}/transactions?page&limit[&from_booking_date_time&to_booking_date_time]`:
/// newest first, offset paging.
async fn transactions(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    revoke_when_due(&bank, &headers);
    let index = match account_for(&bank, &headers, &id) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let q = params(query);
    let page = match int_param(&q, "page", 1, u64::from(u32::MAX)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let limit = match int_param(&q, "limit", 50, 100) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut range = (i64::MIN, i64::MAX);
    for (name, slot) in [
        ("from_booking_date_time", 0usize),
        ("to_booking_date_time", 1),
    ] {
        if let Some(text) = q.get(name) {
            match parse_time(text) {
                Some(t) if slot == 0 => range.0 = t.timestamp(),
                Some(t) => range.1 = t.timestamp(),
                None => {
                    return invalid(
                        &["query", name],
                        "datetime_parsing",
                        "Input should be a valid datetime",
                        Some(text),
                    )
                }
            }
        }
    }
    let (shuffle, insert_now, hidden, request_no, noise) = {
        let mut rt = bank.rt();
        rt.page_requests += 1;
        let insert = countdown(&mut rt.paging.insert_after);
        // A read started afresh (page 1) sees the whole list again.
        if page == 1 {
            rt.shrunk = false;
        }
        if countdown(&mut rt.paging.shrink_after) {
            rt.shrunk = true;
        }
        let shrunk = rt.shrunk || (rt.paging.shrink_every_read && page > 1);
        let hidden = if shrunk { SHRUNK_ROWS } else { 0 };
        (
            rt.paging.shuffle_ties,
            insert,
            hidden,
            rt.page_requests,
            rt.noise,
        )
    };
    if insert_now {
        late_posting(&bank, index);
    }
    let (rows, custom) = bank.rows(index);
    let slice: &[Tx] = if bank.honours_date_filter() {
        let start = rows.partition_point(|t| t.at > range.1);
        let end = rows.partition_point(|t| t.at >= range.0).max(start);
        &rows[start..end]
    } else {
        &rows
    };
    let slice = &slice[hidden.min(slice.len())..];
    let total = slice.len() as u64;
    let offset = (page - 1).saturating_mul(limit).min(total) as usize;
    let end = (offset + limit as usize).min(slice.len());
    // Malformed rows go on a read's last page: its oldest rows.
    let garble = if end == slice.len() && end > offset {
        bank.rt().paging.garble_rows.take()
    } else {
        None
    };
    let page_rows: Vec<Tx> = if shuffle {
        shuffled_page(slice, offset, end, bank.world.seed ^ request_no)
    } else {
        slice[offset..end].to_vec()
    };
    let r = Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    };
    let account = &bank.data().accounts[index];
    let body = r.transactions_page(account, &page_rows, custom.as_deref(), page, limit, total);
    json_response(StatusCode::OK, garbled(body, garble))
}

/// `Paging::garble_rows`: the last page's last `rows` rows get a `bookingDateTime` that is no
/// date.
fn garbled(body: Vec<u8>, rows: Option<u32>) -> Vec<u8> {
    let Some(rows) = rows else { return body };
    let Ok(mut page) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    if let Some(list) = page
        .pointer_mut("/data/transaction")
        .and_then(serde_json::Value::as_array_mut)
    {
        let skip = list.len().saturating_sub(rows as usize);
        for row in list.iter_mut().skip(skip) {
            row["bookingDateTime"] = serde_json::Value::from("вчера");
        }
    }
    serde_json::to_vec(&page).unwrap_or(body)
}

/// `Paging::revoke_after`: on the request it names, the consent that request came with is
/// revoked by the client before the bank answers.
fn revoke_when_due(bank: &Bank, headers: &HeaderMap) {
    let mut rt = bank.rt();
    if !countdown(&mut rt.paging.revoke_after) {
        return;
    }
    let consent = headers.get("x-consent-id").and_then(|v| v.to_str().ok());
    if let Some(c) = consent.and_then(|id| rt.consents.get_mut(id)) {
        c.state = ConsentState::Revoked;
        c.updated = Utc::now();
    }
}

/// Counts a paging knob down by one request: true (and the knob cleared) on the request it
/// names.
fn countdown(knob: &mut Option<u32>) -> bool {
    match *knob {
        Some(n) if n <= 1 => {
            *knob = None;
            true
        }
        Some(n) => {
            *knob = Some(n - 1);
            false
        }
        None => false,
    }
}

/// Rows `offset..end` when rows of equal booking time come back in an order of their own on
/// each query.
fn shuffled_page(slice: &[Tx], offset: usize, end: usize, salt: u64) -> Vec<Tx> {
    let mut out = Vec::with_capacity(end - offset);
    let mut i = offset;
    while i < end {
        let at = slice[i].at;
        let mut gs = i;
        while gs > 0 && slice[gs - 1].at == at {
            gs -= 1;
        }
        let mut ge = i + 1;
        while ge < slice.len() && slice[ge].at == at {
            ge += 1;
        }
        if ge - gs == 1 {
            out.push(slice[i]);
            i += 1;
            continue;
        }
        let mut order: Vec<usize> = (gs..ge).collect();
        order.shuffle(&mut rng(salt, &[tag::RUNTIME, gs as u64]));
        let stop = ge.min(end);
        for j in i..stop {
            out.push(slice[order[j - gs]]);
        }
        i = stop;
    }
    out
}

/// A card payment booked right now (unstable paging's shifting row).
pub(crate) fn late_posting(bank: &Bank, index: usize) -> u64 {
    let taxi = crate::catalog::MERCHANTS
        .iter()
        .position(|m| m.name == "Яндекс Go")
        .unwrap_or(0);
    let row = Tx {
        at: Utc::now().timestamp(),
        amount: 38_700,
        id: 0,
        micros: 0,
        value_offset: 0,
        template: crate::catalog::MERCHANT_BASE + taxi as u16,
        party: 0,
        flags: CARD,
    };
    bank.add_row(index, row, None)
}

fn cards_consent_required() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({"detail": {
            "error": "CONSENT_REQUIRED",
            "message": "Valid consent with 'ReadCards' permission required",
            "how_to_get_consent": "POST /account-consents with permissions: ['ReadCards']"
        }})),
    )
        .into_response()
}

/// The client of a card call (§11): with `x-requesting-bank` the consent rule (a consent holding
/// `ReadCards`), without it the ownership rule (the team owns its clients).
fn card_client(
    bank: &Bank,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<String, Response> {
    authenticate(bank, headers)?;
    let interbank = headers.contains_key("x-requesting-bank");
    let Some(client) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(if interbank {
            detail(
                StatusCode::BAD_REQUEST,
                "client_id required for interbank requests",
            )
        } else {
            detail(StatusCode::FORBIDDEN, "Access denied")
        });
    };
    if interbank {
        requesting_bank(bank, headers)?;
    }
    if !bank.data().member_of.contains_key(client.as_str()) {
        return Err(if interbank {
            cards_consent_required()
        } else {
            detail(StatusCode::FORBIDDEN, "Access denied")
        });
    }
    if interbank && !has_consent_for(bank, client, headers, false, Some("ReadCards")) {
        return Err(cards_consent_required());
    }
    Ok(client.clone())
}

fn render_cards(bank: &Bank, client: &str, only: Option<&str>) -> Option<Vec<u8>> {
    let accounts = bank
        .data()
        .by_client
        .get(client)
        .cloned()
        .unwrap_or_default();
    let balances: Vec<i64> = accounts.iter().map(|&i| bank.balance(i)).collect();
    let (noise, full) = {
        let rt = bank.rt();
        (rt.noise, rt.full_card_numbers)
    };
    Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    }
    .cards(&accounts, &balances, only, full)
}

/// `GET /cards?client_id=` (§11): cards stay listed after their account closed.
async fn cards(
    State(bank): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let q = params(query);
    let client = match card_client(&bank, &headers, &q) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match render_cards(&bank, &client, None) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// `GET /cards/{cardId}?client_id=`.
async fn card(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let q = params(query);
    let client = match card_client(&bank, &headers, &q) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match render_cards(&bank, &client, Some(&id)) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::NOT_FOUND, "Card not found"),
    }
}

/// The client of an agreement call (§10): any valid token, `client_id` required; no consent
/// and no other header is read.
fn agreement_client(
    bank: &Bank,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<String, Response> {
    authenticate(bank, headers)?;
    let Some(client) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "client_id required (query param or client token)",
        ));
    };
    if !bank.data().member_of.contains_key(client.as_str()) {
        return Err(detail(StatusCode::NOT_FOUND, "Client not found"));
    }
    Ok(client.clone())
}

fn render_agreements(bank: &Bank, client: &str, only: Option<&str>) -> Option<Vec<u8>> {
    let accounts: Vec<(usize, bool, i64)> = bank
        .data()
        .by_client
        .get(client)
        .map(|list| {
            list.iter()
                .map(|&i| (i, bank.is_closed(i), bank.balance(i)))
                .collect()
        })
        .unwrap_or_default();
    let noise = bank.rt().noise;
    Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    }
    .agreements(&accounts, only)
}

/// `GET /product-agreements?client_id=` (§10): every agreement, closed ones included.
async fn agreements(
    State(bank): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let q = params(query);
    let client = match agreement_client(&bank, &headers, &q) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match render_agreements(&bank, &client, None) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// `GET /product-agreements/{agreementId}?client_id=`: adds `interest_rate` and
/// `account_balance`.
async fn agreement(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let q = params(query);
    let client = match agreement_client(&bank, &headers, &q) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match render_agreements(&bank, &client, Some(&id)) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::NOT_FOUND, "Agreement not found"),
    }
}

/// `GET /products[?product_type=...]` (bank token).
async fn products(
    State(bank): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    if let Err(e) = authenticate(&bank, &headers) {
        return e;
    }
    let q = params(query);
    let noise = bank.rt().noise;
    let r = Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise,
    };
    match r.products(q.get("product_type").map(String::as_str), None) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// `GET /products/{id}`: a detail call, where absent numbers are the string `"None"`.
async fn product(
    State(bank): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = authenticate(&bank, &headers) {
        return e;
    }
    let r = Renderer {
        world: &bank.world,
        bank: bank.data(),
        noise: false,
    };
    match r.products(None, Some(&id)) {
        Some(body) => json_response(StatusCode::OK, body),
        None => detail(StatusCode::NOT_FOUND, "Product not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_decoded() {
        assert_eq!(percent_decode("team%20200+x"), "team 200 x");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%42"), "AB");
    }

    #[test]
    fn account_ids_are_checked_for_shape() {
        assert!(valid_account_id("acc-1010"));
        assert!(!valid_account_id("acc-"));
        assert!(!valid_account_id("1010"));
        assert!(!valid_account_id("acc-10;drop"));
    }
}
