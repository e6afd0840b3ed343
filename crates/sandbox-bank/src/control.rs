//! Steering a running bank: as the client (approve or reject a consent request, revoke
//! consents), as chaos (faults, latency, unstable paging, token expiry) and as the bank's back
//! office (book a late transaction, tell the true counts). The same operations are offered on
//! the Rust handle [`BankHandle`] and over HTTP under `/sandbox` (see the crate docs).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Approval;
use crate::history::{Tx, CARD, CREDIT, PENDING};
use crate::render::Renderer;
use crate::state::{Bank, ConsentRec, ConsentState, CustomRow, Fault, Paging, RequestState};
use crate::world::{AccountKind, Profile};

/// Why a control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("unknown client {0}")]
    UnknownClient(String),
    #[error("unknown account {0}")]
    UnknownAccount(String),
    #[error("unknown consent request {0}")]
    UnknownRequest(String),
    #[error("consent request {0} is not pending")]
    NotPending(String),
    #[error("unknown transaction {0}")]
    UnknownTransaction(String),
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl ControlError {
    fn status(&self) -> StatusCode {
        match self {
            ControlError::NotPending(_) => StatusCode::CONFLICT,
            ControlError::Invalid(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({"error": self.to_string()}))).into_response()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Credit,
    Debit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub id: String,
    pub kind: AccountKind,
    pub currency: String,
    pub opened_on: NaiveDate,
    /// The true number of transactions the bank holds for it now.
    pub transactions: u64,
    /// Signed: a debit balance is negative.
    pub balance: Decimal,
    /// Closed through the control API: the bank no longer lists it (§9).
    pub closed: bool,
}

/// A card as the bank holds it (§11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardInfo {
    pub id: String,
    pub account_id: String,
    /// The last four digits of the number.
    pub last_four: String,
    /// `debit` or `credit`.
    pub kind: String,
    /// `active` or `blocked`.
    pub status: String,
    /// (month, year).
    pub expiry: (u32, i32),
}

/// A product agreement as the bank holds it (§10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementInfo {
    pub id: String,
    /// `deposit` or `loan`.
    pub kind: String,
    pub account_id: String,
    /// The principal at opening.
    pub amount: Decimal,
    /// `active`, or `closed` once its account was closed.
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// `team200-7`: the same person has the same id at every bank.
    pub id: String,
    /// Full Russian name, the same at every bank.
    pub name: String,
    pub profile: Profile,
    pub accounts: Vec<AccountInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequestInfo {
    pub request_id: String,
    pub client_id: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The consent approval created (the requester is not told).
    pub consent_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentInfo {
    pub consent_id: String,
    pub client_id: String,
    /// `Authorized`, `Revoked` or `Expired`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
}

/// A transaction to book now (or at `booked_at`), e.g. a late posting.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTransaction {
    /// Positive, at most two decimals.
    pub amount: Decimal,
    pub direction: Direction,
    pub description: String,
    /// Pending until [`BankHandle::book`].
    #[serde(default)]
    pub pending: bool,
    #[serde(default)]
    pub booked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub merchant: Option<NewMerchant>,
    #[serde(default)]
    pub counterparty: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMerchant {
    pub name: String,
    /// ISO 18245, four digits.
    pub mcc: String,
}

impl NewTransaction {
    /// A card payment of `amount` at a merchant, booked now.
    pub fn card_payment(amount: Decimal, merchant: &str, mcc: &str, pending: bool) -> Self {
        NewTransaction {
            amount,
            direction: Direction::Debit,
            description: format!("Оплата: {merchant}"),
            pending,
            booked_at: None,
            merchant: Some(NewMerchant {
                name: merchant.to_owned(),
                mcc: mcc.to_owned(),
            }),
            counterparty: Some(merchant.to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    pub id: String,
    pub booked_at: DateTime<Utc>,
    pub amount: Decimal,
    pub direction: Direction,
    pub pending: bool,
}

/// Counters since start (or the last reset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub calls: u64,
    pub calls_without_request_id: u64,
    pub tokens_issued: u64,
    pub transaction_page_requests: u64,
    pub queued_faults: usize,
}

/// One running bank, steered from Rust. Cheap to clone.
#[derive(Clone)]
pub struct BankHandle {
    pub(crate) bank: Arc<Bank>,
}

fn minor_units(amount: Decimal) -> Result<i64, ControlError> {
    let scaled = amount * Decimal::from(100);
    if amount <= Decimal::ZERO || !scaled.fract().is_zero() {
        return Err(ControlError::Invalid(
            "amount must be positive with at most two decimals".into(),
        ));
    }
    scaled
        .to_i64()
        .filter(|m| *m < 100_000_000_000_000)
        .ok_or_else(|| ControlError::Invalid("amount is too large".into()))
}

fn parse_tx_id(id: &str) -> Option<u64> {
    let hex = id.strip_prefix("tx-")?;
    (hex.len() == 12).then(|| u64::from_str_radix(hex, 16).ok())?
}

impl BankHandle {
    pub fn code(&self) -> &str {
        self.bank.code()
    }

    pub fn name(&self) -> &str {
        &self.bank.data().config.name
    }

    pub fn approval(&self) -> Approval {
        self.bank.approval()
    }

    fn account(&self, id: &str) -> Result<usize, ControlError> {
        self.bank
            .data()
            .by_id
            .get(id)
            .copied()
            .ok_or_else(|| ControlError::UnknownAccount(id.to_owned()))
    }

    /// The ids of every client of this bank (`team200-3`, ...), in order.
    pub fn client_ids(&self) -> Vec<String> {
        self.bank
            .data()
            .members
            .iter()
            .map(|&p| self.bank.world.persons[p].id.clone())
            .collect()
    }

    fn account_info(&self, index: usize) -> AccountInfo {
        let a = &self.bank.data().accounts[index];
        AccountInfo {
            id: a.id.clone(),
            kind: a.kind,
            currency: a.currency.to_owned(),
            opened_on: a.opened,
            transactions: self.bank.rows(index).0.len() as u64,
            balance: Decimal::new(self.bank.balance(index), 2),
            closed: self.bank.is_closed(index),
        }
    }

    pub fn client(&self, id: &str) -> Result<ClientInfo, ControlError> {
        let &p = self
            .bank
            .data()
            .member_of
            .get(id)
            .ok_or_else(|| ControlError::UnknownClient(id.to_owned()))?;
        let person = &self.bank.world.persons[p];
        let accounts = self
            .bank
            .data()
            .by_client
            .get(id)
            .map(|list| list.iter().map(|&i| self.account_info(i)).collect())
            .unwrap_or_default();
        Ok(ClientInfo {
            id: person.id.clone(),
            name: person.name.clone(),
            profile: person.profile,
            accounts,
        })
    }

    /// Every client with their accounts (generates every account's history).
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.client_ids()
            .iter()
            .filter_map(|id| self.client(id).ok())
            .collect()
    }

    /// A client who exists here with one account opened days ago and no transactions.
    pub fn empty_client(&self) -> Option<String> {
        self.bank
            .data()
            .newcomer
            .map(|p| self.bank.world.persons[p].id.clone())
    }

    /// The client and account with the most transactions.
    pub fn busiest_account(&self) -> Option<(String, String)> {
        let data = self.bank.data();
        (0..data.accounts.len())
            .max_by_key(|&i| (self.bank.rows(i).0.len(), std::cmp::Reverse(i)))
            .map(|i| {
                let a = &data.accounts[i];
                (self.bank.world.persons[a.owner].id.clone(), a.id.clone())
            })
    }

    pub fn consent_requests(&self) -> Vec<ConsentRequestInfo> {
        let rt = self.bank.rt();
        let mut list: Vec<ConsentRequestInfo> = rt
            .requests
            .iter()
            .map(|(id, r)| ConsentRequestInfo {
                request_id: id.clone(),
                client_id: r.client.clone(),
                status: match r.state {
                    RequestState::Pending => "pending",
                    RequestState::Approved(_) => "approved",
                    RequestState::Rejected => "rejected",
                }
                .to_owned(),
                consent_id: match &r.state {
                    RequestState::Approved(c) => Some(c.clone()),
                    _ => None,
                },
                created_at: r.created,
            })
            .collect();
        list.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.request_id.cmp(&b.request_id))
        });
        list
    }

    pub fn consents(&self) -> Vec<ConsentInfo> {
        let now = Utc::now();
        let rt = self.bank.rt();
        let mut list: Vec<ConsentInfo> = rt
            .consents
            .iter()
            .map(|(id, c)| ConsentInfo {
                consent_id: id.clone(),
                client_id: c.client.clone(),
                status: match c.state {
                    ConsentState::Revoked => "Revoked",
                    ConsentState::Authorized if c.expires <= now => "Expired",
                    ConsentState::Authorized => "Authorized",
                }
                .to_owned(),
                expires_at: c.expires,
            })
            .collect();
        list.sort_by(|a, b| a.consent_id.cmp(&b.consent_id));
        list
    }

    /// The client approves a pending request: a NEW consent id is created (90 days), which
    /// the requester is not told; asking for the request id still answers
    /// `AwaitingAuthorization`.
    pub fn approve(&self, request_id: &str) -> Result<String, ControlError> {
        let now = Utc::now();
        let mut rt = self.bank.rt();
        let (client, permissions) = match rt.requests.get(request_id) {
            None => return Err(ControlError::UnknownRequest(request_id.to_owned())),
            Some(r) if r.state != RequestState::Pending => {
                return Err(ControlError::NotPending(request_id.to_owned()))
            }
            Some(r) => (r.client.clone(), r.permissions.clone()),
        };
        let consent_id = self.bank.new_id(&mut rt, "consent");
        rt.consents.insert(
            consent_id.clone(),
            ConsentRec {
                client,
                state: ConsentState::Authorized,
                created: now,
                updated: now,
                expires: now + chrono::Duration::days(90),
                permissions,
            },
        );
        if let Some(r) = rt.requests.get_mut(request_id) {
            r.state = RequestState::Approved(consent_id.clone());
        }
        Ok(consent_id)
    }

    /// The client rejects a pending request.
    pub fn reject(&self, request_id: &str) -> Result<(), ControlError> {
        let mut rt = self.bank.rt();
        match rt.requests.get_mut(request_id) {
            None => Err(ControlError::UnknownRequest(request_id.to_owned())),
            Some(r) if r.state != RequestState::Pending => {
                Err(ControlError::NotPending(request_id.to_owned()))
            }
            Some(r) => {
                r.state = RequestState::Rejected;
                Ok(())
            }
        }
    }

    /// The client revokes every consent they gave (in the bank's app). Returns how many.
    pub fn revoke_consents(&self, client_id: &str) -> Result<usize, ControlError> {
        if !self.bank.data().member_of.contains_key(client_id) {
            return Err(ControlError::UnknownClient(client_id.to_owned()));
        }
        let now = Utc::now();
        let mut rt = self.bank.rt();
        let mut n = 0;
        for c in rt.consents.values_mut() {
            if c.client == client_id && c.state == ConsentState::Authorized {
                c.state = ConsentState::Revoked;
                c.updated = now;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The next `count` data calls (after whatever is queued already) get `fault`.
    pub fn inject(&self, fault: Fault, count: u32) {
        let mut rt = self.bank.rt();
        for _ in 0..count {
            rt.faults.push_back(Some(fault.clone()));
        }
    }

    /// The next `count` data calls (after whatever is queued) are served normally: queue this
    /// before a fault to hit a later call (a later page of a read).
    pub fn pass(&self, count: u32) {
        let mut rt = self.bank.rt();
        for _ in 0..count {
            rt.faults.push_back(None);
        }
    }

    /// Whether queued faults also hit the token calls (by default they skip them).
    pub fn set_faults_on_token_calls(&self, on: bool) {
        self.bank.rt().faults_on_token_calls = on;
    }

    pub fn clear_faults(&self) {
        self.bank.rt().faults.clear();
    }

    pub fn queued_faults(&self) -> usize {
        self.bank.rt().faults.len()
    }

    /// Every call (token calls too) waits this long first.
    pub fn set_latency(&self, latency: Duration) {
        self.bank.rt().latency = latency;
    }

    /// Every token issued so far is refused from now on (401).
    pub fn expire_tokens(&self) {
        self.bank.rt().epoch += 1;
    }

    pub fn set_paging(&self, paging: Paging) {
        self.bank.rt().paging = paging;
    }

    /// Override whether the date filter of transaction pages is honoured (`None`: the bank's
    /// quirk decides).
    pub fn set_date_filter(&self, honour: Option<bool>) {
        self.bank.rt().date_filter = honour;
    }

    /// Adds unknown fields (top-level and nested) to every answer.
    pub fn set_noise(&self, on: bool) {
        self.bank.rt().noise = on;
    }

    /// Books a transaction now (a late posting). Returns its id (`tx-...`).
    pub fn add_transaction(
        &self,
        account_id: &str,
        tx: NewTransaction,
    ) -> Result<String, ControlError> {
        let index = self.account(account_id)?;
        let amount = minor_units(tx.amount)?;
        if tx.description.trim().is_empty() || tx.description.len() > 500 {
            return Err(ControlError::Invalid(
                "description: 1..500 characters".into(),
            ));
        }
        if let Some(m) = &tx.merchant {
            if m.mcc.len() != 4 || !m.mcc.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ControlError::Invalid("merchant.mcc: four digits".into()));
            }
        }
        let at = tx.booked_at.unwrap_or_else(Utc::now);
        let mut flags = 0;
        if tx.direction == Direction::Credit {
            flags |= CREDIT;
        }
        if tx.pending {
            flags |= PENDING;
        }
        if tx.merchant.is_some() {
            flags |= CARD;
        }
        let row = Tx {
            at: at.timestamp(),
            amount,
            id: 0,
            micros: at.timestamp_subsec_micros(),
            value_offset: 0,
            template: crate::catalog::kind::CUSTOM,
            party: 0,
            flags,
        };
        let custom = CustomRow {
            description: tx.description,
            merchant: tx.merchant.map(|m| (m.name, m.mcc)),
            counterparty: tx.counterparty,
        };
        let id = self.bank.add_row(index, row, Some(custom));
        Ok(Renderer::transaction_id(id))
    }

    /// A pending transaction is booked (`pending` -> `completed`/`Booked`).
    /// The bank takes a row back: it vanishes from the listing (and the balance).
    pub fn withdraw(&self, transaction_id: &str) -> Result<(), ControlError> {
        let unknown = || ControlError::UnknownTransaction(transaction_id.to_owned());
        let id = parse_tx_id(transaction_id).ok_or_else(unknown)?;
        if self.bank.withdraw_row(id) {
            Ok(())
        } else {
            Err(unknown())
        }
    }

    pub fn book(&self, transaction_id: &str) -> Result<(), ControlError> {
        let unknown = || ControlError::UnknownTransaction(transaction_id.to_owned());
        let id = parse_tx_id(transaction_id).ok_or_else(unknown)?;
        if self.bank.book_row(id) {
            Ok(())
        } else {
            Err(unknown())
        }
    }

    /// The true number of transactions of an account now.
    pub fn transaction_count(&self, account_id: &str) -> Result<u64, ControlError> {
        let index = self.account(account_id)?;
        Ok(self.bank.rows(index).0.len() as u64)
    }

    /// Every transaction of an account now, newest first.
    pub fn transactions(&self, account_id: &str) -> Result<Vec<TransactionInfo>, ControlError> {
        let index = self.account(account_id)?;
        let fractional = self.bank.data().config.quirks.fractional_times;
        Ok(self
            .bank
            .rows(index)
            .0
            .iter()
            .map(|t| TransactionInfo {
                id: Renderer::transaction_id(t.id),
                // As precise as the bank says it on the wire.
                booked_at: crate::world::from_unix(t.at, if fractional { t.micros } else { 0 }),
                amount: Decimal::new(t.amount, 2),
                direction: if t.credit() {
                    Direction::Credit
                } else {
                    Direction::Debit
                },
                pending: t.pending(),
            })
            .collect())
    }

    /// The account's available balance (signed).
    pub fn balance(&self, account_id: &str) -> Result<Decimal, ControlError> {
        let index = self.account(account_id)?;
        Ok(Decimal::new(self.bank.balance(index), 2))
    }

    /// The accounts of a client.
    pub fn accounts(&self, client_id: &str) -> Result<Vec<AccountInfo>, ControlError> {
        self.client(client_id).map(|c| c.accounts)
    }

    /// Closes an account as `PUT /accounts/{id}/status {"status": "closed"}` does (§9): no
    /// money moves, the account drops out of `GET /accounts`, its balance and transactions are
    /// still served by id, its cards stay listed and its agreement reads `closed`.
    pub fn close_account(&self, account_id: &str) -> Result<(), ControlError> {
        let index = self.account(account_id)?;
        self.bank.rt().closed.insert(index);
        Ok(())
    }

    /// Reopens a closed account: it is listed again.
    pub fn reopen_account(&self, account_id: &str) -> Result<(), ControlError> {
        let index = self.account(account_id)?;
        self.bank.rt().closed.remove(&index);
        Ok(())
    }

    /// A consent granted now with exactly these permissions, as an older CRM would have asked
    /// for (e.g. without `ReadCards`). Returns its id.
    pub fn grant_consent(
        &self,
        client_id: &str,
        permissions: &[&str],
    ) -> Result<String, ControlError> {
        if !self.bank.data().member_of.contains_key(client_id) {
            return Err(ControlError::UnknownClient(client_id.to_owned()));
        }
        let now = Utc::now();
        let mut rt = self.bank.rt();
        let id = self.bank.new_id(&mut rt, "consent");
        rt.consents.insert(
            id.clone(),
            ConsentRec {
                client: client_id.to_owned(),
                state: ConsentState::Authorized,
                created: now,
                updated: now,
                expires: now + chrono::Duration::days(365),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            },
        );
        Ok(id)
    }

    /// A misbehaving bank: `GET /cards` sends whole card numbers in `cardNumber`.
    pub fn set_full_card_numbers(&self, on: bool) {
        self.bank.rt().full_card_numbers = on;
    }

    /// The client's cards.
    pub fn cards(&self, client_id: &str) -> Result<Vec<CardInfo>, ControlError> {
        let data = self.bank.data();
        let list = data
            .by_client
            .get(client_id)
            .ok_or_else(|| ControlError::UnknownClient(client_id.to_owned()))?;
        Ok(list
            .iter()
            .filter_map(|&i| {
                let a = &data.accounts[i];
                a.card.as_ref().map(|c| CardInfo {
                    id: c.id.clone(),
                    account_id: a.id.clone(),
                    last_four: c.masked.trim_start_matches('*').to_owned(),
                    kind: c.kind.to_owned(),
                    status: c.status.to_owned(),
                    expiry: c.expiry,
                })
            })
            .collect())
    }

    /// The client's deposit and loan agreements, closed ones included.
    pub fn agreements(&self, client_id: &str) -> Result<Vec<AgreementInfo>, ControlError> {
        let data = self.bank.data();
        let list = data
            .by_client
            .get(client_id)
            .ok_or_else(|| ControlError::UnknownClient(client_id.to_owned()))?;
        Ok(list
            .iter()
            .filter_map(|&i| {
                let a = &data.accounts[i];
                a.agreement.as_ref().map(|g| AgreementInfo {
                    id: g.id.clone(),
                    kind: g.kind.to_owned(),
                    account_id: a.id.clone(),
                    amount: Decimal::new(g.amount, 2),
                    status: if self.bank.is_closed(i) {
                        "closed".to_owned()
                    } else {
                        "active".to_owned()
                    },
                    starts_at: crate::world::from_unix(g.start, 0),
                    ends_at: g.end.map(|e| crate::world::from_unix(e, 0)),
                })
            })
            .collect())
    }

    pub fn product_ids(&self) -> Vec<String> {
        self.bank
            .data()
            .products
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let rt = self.bank.rt();
        Stats {
            calls: rt.calls,
            calls_without_request_id: rt.calls_without_request_id,
            tokens_issued: rt.tokens_issued,
            transaction_page_requests: rt.page_requests,
            queued_faults: rt.faults.len(),
        }
    }

    /// Back to the state just after start: consents, requests, faults, latency, paging,
    /// overrides, added rows and counters are forgotten. Issued tokens stay valid.
    pub fn reset(&self) {
        self.bank.reset();
    }

    /// Generates every account's history now (it is otherwise generated on first use).
    /// Returns the number of transactions.
    pub fn prewarm(&self) -> u64 {
        (0..self.bank.data().accounts.len())
            .map(|i| self.bank.base_rows(i).len() as u64)
            .sum()
    }
}

// ---- HTTP ----

pub(crate) fn routes(bank: Arc<Bank>) -> Router {
    let handle = BankHandle { bank: bank.clone() };
    Router::new()
        .route("/sandbox", get(summary))
        .route("/sandbox/stats", get(stats))
        .route("/sandbox/clients", get(clients))
        .route("/sandbox/clients/{id}", get(client))
        .route("/sandbox/clients/{id}/revoke-consents", post(revoke))
        .route("/sandbox/clients/{id}/consents", post(grant))
        .route("/sandbox/clients/{id}/cards", get(client_cards))
        .route("/sandbox/clients/{id}/agreements", get(client_agreements))
        .route("/sandbox/accounts/{id}/close", post(close))
        .route("/sandbox/accounts/{id}/reopen", post(reopen))
        .route("/sandbox/cards/full-numbers", put(full_numbers))
        .route("/sandbox/consent-requests", get(requests))
        .route("/sandbox/consent-requests/{id}/approve", post(approve))
        .route("/sandbox/consent-requests/{id}/reject", post(reject))
        .route("/sandbox/consents", get(consents))
        .route("/sandbox/faults", post(add_fault).delete(clear_faults))
        .route("/sandbox/faults/scope", put(fault_scope))
        .route("/sandbox/latency", put(latency))
        .route("/sandbox/tokens/expire", post(expire))
        .route("/sandbox/paging", put(paging))
        .route("/sandbox/date-filter", put(date_filter))
        .route("/sandbox/noise", put(noise))
        .route("/sandbox/accounts/{id}", get(account))
        .route(
            "/sandbox/accounts/{id}/transactions",
            get(account_transactions).post(add_transaction),
        )
        .route("/sandbox/transactions/{id}/book", post(book))
        .route("/sandbox/transactions/{id}/withdraw", post(withdraw))
        .route("/sandbox/reset", post(reset))
        .layer(axum::middleware::from_fn_with_state(bank, guard))
        .with_state(handle)
}

/// With a control token configured, every control call must carry it.
async fn guard(State(bank): State<Arc<Bank>>, req: Request, next: Next) -> Response {
    if let Some(expected) = &bank.control_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(expected.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "the control API needs its token"})),
            )
                .into_response();
        }
    }
    next.run(req).await
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ControlError> {
    b.map(|Json(v)| v)
        .map_err(|e| ControlError::Invalid(e.body_text()))
}

async fn summary(State(h): State<BankHandle>) -> Response {
    let busiest = h.busiest_account();
    Json(json!({
        "code": h.code(),
        "name": h.name(),
        "approval": h.approval(),
        "clients": h.client_ids(),
        "emptyClient": h.empty_client(),
        "busiest": busiest.map(|(c, a)| json!({"clientId": c, "accountId": a})),
        "products": h.product_ids(),
        "stats": h.stats(),
    }))
    .into_response()
}

async fn stats(State(h): State<BankHandle>) -> Response {
    Json(h.stats()).into_response()
}

async fn clients(State(h): State<BankHandle>) -> Response {
    Json(h.clients()).into_response()
}

async fn client(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.client(&id) {
        Ok(c) => Json(c).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn revoke(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.revoke_consents(&id) {
        Ok(n) => Json(json!({"revoked": n})).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct GrantBody {
    permissions: Vec<String>,
}

async fn grant(
    State(h): State<BankHandle>,
    Path(id): Path<String>,
    b: Result<Json<GrantBody>, JsonRejection>,
) -> Response {
    let b = match body(b) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let permissions: Vec<&str> = b.permissions.iter().map(String::as_str).collect();
    match h.grant_consent(&id, &permissions) {
        Ok(consent) => Json(json!({"consentId": consent})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn client_cards(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.cards(&id) {
        Ok(c) => Json(c).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn client_agreements(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.agreements(&id) {
        Ok(a) => Json(a).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn close(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.close_account(&id) {
        Ok(()) => Json(json!({"accountId": id, "status": "closed"})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn reopen(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.reopen_account(&id) {
        Ok(()) => Json(json!({"accountId": id, "status": "active"})).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct FullNumbersBody {
    enabled: bool,
}

async fn full_numbers(
    State(h): State<BankHandle>,
    b: Result<Json<FullNumbersBody>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(b) => {
            h.set_full_card_numbers(b.enabled);
            Json(json!({"enabled": b.enabled})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn requests(State(h): State<BankHandle>) -> Response {
    Json(h.consent_requests()).into_response()
}

async fn approve(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.approve(&id) {
        Ok(c) => Json(json!({"consentId": c})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn reject(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.reject(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn consents(State(h): State<BankHandle>) -> Response {
    Json(h.consents()).into_response()
}

#[derive(Deserialize)]
struct FaultRequest {
    fault: Fault,
    #[serde(default = "one")]
    count: u32,
    /// Serve this many calls normally first.
    #[serde(default)]
    after: u32,
}

fn one() -> u32 {
    1
}

async fn add_fault(
    State(h): State<BankHandle>,
    b: Result<Json<FaultRequest>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(r) if r.count > 10_000 || r.after > 10_000 => {
            ControlError::Invalid("count and after: at most 10000".into()).into_response()
        }
        Ok(r) => {
            h.pass(r.after);
            h.inject(r.fault, r.count);
            Json(json!({"queued": h.queued_faults()})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn clear_faults(State(h): State<BankHandle>) -> Response {
    h.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeRequest {
    token_calls: bool,
}

async fn fault_scope(
    State(h): State<BankHandle>,
    b: Result<Json<ScopeRequest>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(r) => {
            h.set_faults_on_token_calls(r.token_calls);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct LatencyRequest {
    millis: u64,
}

async fn latency(
    State(h): State<BankHandle>,
    b: Result<Json<LatencyRequest>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(r) if r.millis > 600_000 => {
            ControlError::Invalid("millis: at most 600000".into()).into_response()
        }
        Ok(r) => {
            h.set_latency(Duration::from_millis(r.millis));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn expire(State(h): State<BankHandle>) -> Response {
    h.expire_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn paging(State(h): State<BankHandle>, b: Result<Json<Paging>, JsonRejection>) -> Response {
    match body(b) {
        Ok(p) => {
            h.set_paging(p);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct DateFilterRequest {
    honour: Option<bool>,
}

async fn date_filter(
    State(h): State<BankHandle>,
    b: Result<Json<DateFilterRequest>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(r) => {
            h.set_date_filter(r.honour);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct NoiseRequest {
    enabled: bool,
}

async fn noise(
    State(h): State<BankHandle>,
    b: Result<Json<NoiseRequest>, JsonRejection>,
) -> Response {
    match body(b) {
        Ok(r) => {
            h.set_noise(r.enabled);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn account(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.account(&id) {
        Ok(i) => Json(h.account_info(i)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    /// Include the rows (newest first), not only the count.
    #[serde(default)]
    rows: bool,
}

async fn account_transactions(
    State(h): State<BankHandle>,
    Path(id): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let with_rows = q.map(|Query(q)| q.rows).unwrap_or(false);
    let count = match h.transaction_count(&id) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !with_rows {
        return Json(json!({"count": count})).into_response();
    }
    match h.transactions(&id) {
        Ok(rows) => Json(json!({"count": count, "transactions": rows})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn add_transaction(
    State(h): State<BankHandle>,
    Path(id): Path<String>,
    b: Result<Json<NewTransaction>, JsonRejection>,
) -> Response {
    match body(b).and_then(|tx| h.add_transaction(&id, tx)) {
        Ok(tx) => (StatusCode::CREATED, Json(json!({"transactionId": tx}))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn book(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.book(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn withdraw(State(h): State<BankHandle>, Path(id): Path<String>) -> Response {
    match h.withdraw(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn reset(State(h): State<BankHandle>) -> Response {
    h.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_ids_are_checked() {
        assert_eq!(minor_units("12.34".parse().expect("decimal")), Ok(1_234));
        assert!(minor_units("0.001".parse().expect("decimal")).is_err());
        assert!(minor_units("-5".parse().expect("decimal")).is_err());
        assert_eq!(parse_tx_id("tx-00000000000a"), Some(10));
        assert_eq!(parse_tx_id("tx-xyz"), None);
        assert_eq!(parse_tx_id("acc-1"), None);
    }
}
