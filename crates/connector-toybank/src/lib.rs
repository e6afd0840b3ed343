//! ToyBank: a bank of another wire format than the HackAPI protocol, to prove that any bank plugs
//! into the registry through `crm-connector` alone — one crate, one line, one feature (`toybank`
//! of `crm-core`, off by default: this bank exists for tests).
//!
//! The dialect ("toy/1"), JSON over HTTP, every call with `X-Api-Key: <client id>:<secret>` (no
//! token to fetch or renew), no paging:
//! - `POST /v1/clients/{client}/consents` → `201 {"consent": id}` (authorized at once);
//! - `GET /v1/consents/{id}` → `{"active": bool, "expires": unix seconds}`;
//!   `DELETE /v1/consents/{id}` → 204;
//! - with `X-Consent: id`: `GET /v1/clients/{client}/accounts` →
//!   `[{"id", "ccy", "balance_minor"}]`, and `GET /v1/clients/{client}/accounts/{id}/rows` →
//!   `{"ccy", "rows": [{"id", "at": unix seconds, "minor": signed minor units, "pending", "text"}]}`;
//! - `GET /v1/products` → `[{"id", "title"}]`.
//!
//! Errors: 401 credentials, 403 consent, 404 unknown client or account, 429, 5xx.
//! [`server::ToyBank`] serves this dialect for tests, and [`server::ToyControl`] implements the
//! conformance kit's `BankControl` for it.

pub mod server;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_connector::{
    redact, Access, AccountData, AccountStatus, BalanceData, BalanceKind, BankConfig,
    BankConnector, BankIdentity, BookingStatus, ConfigError, ConnectorError, ConnectorResult,
    Consent, ConsentStatus, Direction, ProductData, ProductType, Registration, TransactionBatch,
    TransactionData,
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The code stored on links and accounts.
pub const CODE: &str = "toybank";
/// The name shown to managers.
pub const NAME: &str = "ToyBank";
/// `TIMEOUT_MS`: each call gives up after this long (default 10 s).
pub const OPTIONS: &[&str] = &["TIMEOUT_MS"];

/// This crate's line in core's registry table.
pub const REGISTRATION: Registration = Registration::Bank {
    code: CODE,
    name: NAME,
    options: OPTIONS,
    build,
};

/// How long the bank keeps a consent (it says so on every status answer).
const CONSENT_DAYS: i64 = 90;

/// A ready connector for ToyBank.
pub fn build(config: &BankConfig) -> Result<Arc<dyn BankConnector>, ConfigError> {
    config.only_options(OPTIONS)?;
    if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
        return Err(config.invalid(
            "URL",
            format!("must be an http(s) URL, got {:?}", config.url),
        ));
    }
    let timeout = config.number("TIMEOUT_MS", 100, 600_000)?.unwrap_or(10_000);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout))
        .build()
        .map_err(|e| ConfigError::Build {
            bank: config.code.clone(),
            message: e.to_string(),
        })?;
    Ok(Arc::new(ToyClient {
        identity: BankIdentity {
            code: config.code.clone(),
            name: config.name.clone(),
        },
        base: config.url.trim_end_matches('/').to_owned(),
        key: format!(
            "{}:{}",
            config.credentials.client_id,
            config.credentials.secret()
        ),
        http,
    }))
}

/// ToyBank as a [`BankConnector`]. No `Debug`: it holds the API key.
pub struct ToyClient {
    identity: BankIdentity,
    base: String,
    key: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct NewConsent {
    consent: String,
}

#[derive(Deserialize)]
struct ConsentState {
    active: bool,
    expires: i64,
}

#[derive(Deserialize)]
struct ToyAccount {
    id: String,
    ccy: String,
    balance_minor: i64,
}

#[derive(Deserialize)]
struct ToyRows {
    ccy: String,
    rows: Vec<ToyRow>,
}

#[derive(Deserialize)]
struct ToyRow {
    id: String,
    at: i64,
    minor: i64,
    pending: bool,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct ToyProduct {
    id: String,
    title: String,
}

impl ToyClient {
    fn bank(&self) -> String {
        self.identity.code.clone()
    }

    /// One call: the body of a successful answer, else its status as a `ConnectorError`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        consent: Option<&str>,
    ) -> ConnectorResult<Vec<u8>> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.key);
        if let Some(consent) = consent {
            request = request.header("x-consent", consent);
        }
        let response = request.send().await.map_err(|e| ConnectorError::Network {
            bank: self.bank(),
            detail: e.without_url().to_string(),
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ConnectorError::Network {
                bank: self.bank(),
                detail: e.without_url().to_string(),
            })?;
        tracing::debug!(bank = %self.identity.code, %path, status = status.as_u16(), bytes = body.len(), "toybank call");
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let bank = self.bank();
        let detail = format!("HTTP {}", status.as_u16());
        Err(match status {
            StatusCode::UNAUTHORIZED => ConnectorError::Unauthorized { bank, detail },
            StatusCode::FORBIDDEN => ConnectorError::ConsentRequired { bank, detail },
            StatusCode::NOT_FOUND => ConnectorError::NotFound { bank, detail },
            StatusCode::TOO_MANY_REQUESTS => ConnectorError::RateLimited {
                bank,
                retry_after: None,
            },
            s if s.is_server_error() => ConnectorError::Unavailable {
                bank,
                status: s.as_u16(),
            },
            s => ConnectorError::Rejected {
                bank,
                status: s.as_u16(),
                detail,
            },
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        consent: Option<&str>,
    ) -> ConnectorResult<T> {
        let body = self.call(method, path, consent).await?;
        serde_json::from_slice(&body).map_err(|e| ConnectorError::Malformed {
            bank: self.bank(),
            detail: format!("{path}: {e}"),
        })
    }

    async fn toy_accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<ToyAccount>> {
        let path = format!("/v1/clients/{}/accounts", access.client_id);
        self.json(Method::GET, &path, access.consent_id).await
    }
}

/// Minor units as a decimal of two places.
fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

#[async_trait]
impl BankConnector for ToyClient {
    fn identity(&self) -> &BankIdentity {
        &self.identity
    }

    async fn request_consent(&self, client_id: &str) -> ConnectorResult<Consent> {
        let path = format!("/v1/clients/{client_id}/consents");
        let new: NewConsent = self.json(Method::POST, &path, None).await?;
        tracing::debug!(bank = %self.identity.code, consent = %redact(&new.consent), "toybank consent");
        Ok(Consent {
            status: ConsentStatus::Authorized,
            consent_id: Some(new.consent),
            request_id: None,
            expires_at: Some(Utc::now() + chrono::Duration::days(CONSENT_DAYS)),
            message: None,
        })
    }

    async fn consent_status(&self, _: &str, consent: &Consent) -> ConnectorResult<Consent> {
        let Some(id) = consent.consent_id.as_deref() else {
            // This bank authorizes at once: a consent without an id was never given.
            return Ok(Consent {
                status: ConsentStatus::Revoked,
                ..consent.clone()
            });
        };
        let state: ConsentState = self
            .json(Method::GET, &format!("/v1/consents/{id}"), None)
            .await?;
        Ok(Consent {
            status: if state.active {
                ConsentStatus::Authorized
            } else {
                ConsentStatus::Revoked
            },
            expires_at: DateTime::from_timestamp(state.expires, 0),
            ..consent.clone()
        })
    }

    async fn revoke_consent(&self, consent_id: &str) -> ConnectorResult<()> {
        self.call(Method::DELETE, &format!("/v1/consents/{consent_id}"), None)
            .await
            .map(|_| ())
    }

    async fn accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        Ok(self
            .toy_accounts(access)
            .await?
            .into_iter()
            .map(|a| AccountData {
                id: a.id,
                status: AccountStatus::Enabled,
                currency: a.ccy,
                account_type: "Personal".to_owned(),
                account_subtype: None,
                kind: crm_connector::AccountKind::Current,
                nickname: None,
                number: None,
                holder_name: None,
                opened_on: None,
            })
            .collect())
    }

    async fn balances(
        &self,
        access: &Access<'_>,
        account_id: &str,
    ) -> ConnectorResult<Vec<BalanceData>> {
        let account = self
            .toy_accounts(access)
            .await?
            .into_iter()
            .find(|a| a.id == account_id)
            .ok_or_else(|| ConnectorError::NotFound {
                bank: self.bank(),
                detail: "no such account".to_owned(),
            })?;
        Ok(vec![BalanceData {
            kind: BalanceKind::InterimAvailable,
            amount: money(account.balance_minor),
            currency: account.ccy,
            at: None,
        }])
    }

    async fn transactions(
        &self,
        access: &Access<'_>,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        let path = format!(
            "/v1/clients/{}/accounts/{account_id}/rows",
            access.client_id
        );
        let page: ToyRows = self.json(Method::GET, &path, access.consent_id).await?;
        let mut batch = TransactionBatch {
            reported_total: Some(page.rows.len() as u64),
            ..TransactionBatch::default()
        };
        for row in page.rows {
            let Some(booked_at) = DateTime::from_timestamp(row.at, 0) else {
                batch
                    .rejected
                    .push(format!("{}: an impossible time", row.id));
                continue;
            };
            if row.minor == 0 {
                batch.rejected.push(format!("{}: a zero amount", row.id));
                continue;
            }
            if booked_at < from || booked_at > to {
                continue;
            }
            batch.transactions.push(TransactionData {
                id: row.id,
                account_id: account_id.to_owned(),
                amount: money(row.minor.abs()),
                currency: page.ccy.clone(),
                direction: if row.minor > 0 {
                    Direction::Credit
                } else {
                    Direction::Debit
                },
                status: if row.pending {
                    BookingStatus::Pending
                } else {
                    BookingStatus::Booked
                },
                raw_status: None,
                booked_at,
                value_at: None,
                description: row.text,
                bank_transaction_code: None,
                merchant: None,
                card_masked: None,
                card_id: None,
                counterparty: None,
                counterparty_account: None,
                counterparty_bank: None,
            });
        }
        Ok(batch)
    }

    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
        let products: Vec<ToyProduct> = self.json(Method::GET, "/v1/products", None).await?;
        Ok(products
            .into_iter()
            .map(|p| ProductData {
                id: p.id,
                product_type: ProductType::Other("toy".to_owned()),
                name: p.title,
                description: None,
                interest_rate: None,
                min_amount: None,
                max_amount: None,
                term_months: None,
            })
            .collect())
    }
}
