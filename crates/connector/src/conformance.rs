//! The conformance kit: one suite every connector crate runs in its own tests, against a bank
//! server it controls (the sandbox bank, `crm-sandbox-bank` with its `conformance` feature, or a
//! test server of its own wire format). A connector is done when [`run_all`] reports no failure
//! for the [`Capabilities`] of its bank. The server is driven through [`BankControl`], so the kit
//! knows no particular server and no HTTP; every check is a public function of its own.
//!
//! The checks: identity, unknown client, happy path (every client, account, balance,
//! transaction and product exactly as the bank holds them), paging across many pages, a date
//! range (with the bank's filter honoured and ignored), an empty client, consent pending then
//! authorized, rejected, revoked, token caching and request ids, token expiry in the middle of
//! a read, 429 with `Retry-After`, 5xx bursts, timeouts, cut-off / wrong-shaped / HTML bodies,
//! unknown fields, unstable paging, a late posting that goes from pending to booked; product
//! agreements and cards exactly as the bank holds them (card numbers masked, also when the bank
//! sends whole ones), a consent without the card permission, revocation stopping every
//! consent-checked call (and revoking twice), and an account the bank stops listing.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration as Span, Utc};
use rust_decimal::Decimal;

use crate::{
    Access, AccountKind, AccountStatus, AgreementKind, AgreementStatus, BankConnector,
    BookingStatus, CardStatus, ConnectorError, ConsentStatus, Direction, TransactionBatch,
};

/// One transaction as the bank under test holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueTransaction {
    pub id: String,
    pub booked_at: DateTime<Utc>,
    /// Positive.
    pub amount: Decimal,
    pub direction: Direction,
    pub pending: bool,
}

/// One account as the bank under test holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueAccount {
    pub id: String,
    pub currency: String,
    /// The signed available balance, when the bank reports one.
    pub balance: Option<Decimal>,
    /// Its kind, when the control knows it (checked against `AccountData::kind`).
    pub kind: Option<AccountKind>,
}

/// One product agreement as the bank under test holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueAgreement {
    pub id: String,
    pub kind: AgreementKind,
    pub amount: Decimal,
    pub status: AgreementStatus,
    pub ends_at: Option<DateTime<Utc>>,
}

/// One card as the bank under test holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueCard {
    pub id: String,
    /// The last four digits of its number.
    pub last_four: String,
    pub status: CardStatus,
}

/// What the kit must know of the connector under test.
#[derive(Clone, Debug)]
pub struct KitSettings {
    /// The connector's per-request timeout: the kit delays answers beyond it.
    pub request_timeout: Duration,
    /// The `Retry-After` the kit asks the bank to send (keep it short: one second).
    pub retry_after: Duration,
}

impl Default for KitSettings {
    fn default() -> Self {
        KitSettings {
            request_timeout: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
        }
    }
}

impl KitSettings {
    /// The options the kit builds a connector with (`docs/connector-spec.md`; a builder reads
    /// those that apply to it): `TIMEOUT_MS`, the request timeout; `RETRY_DELAY_MS`, a short
    /// first backoff so the kit runs in seconds; `PAGE_SIZE` 50, so a busy account spans many
    /// pages.
    pub fn options(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TIMEOUT_MS", self.request_timeout.as_millis().to_string()),
            ("RETRY_DELAY_MS", "20".to_owned()),
            ("PAGE_SIZE", "50".to_owned()),
        ]
    }
}

/// What the bank under test (and its control) can do. A check that needs something missing
/// passes without running: it does not apply to this bank. [`Capabilities::ALL`] runs every
/// check (the sandbox bank can do everything; only `consent_approval` differs per bank).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Consents wait for the client's approval (pending, then authorized or rejected); when
    /// false, a new consent is authorized at once.
    pub consent_approval: bool,
    /// The bank issues expiring tokens, and the control expires them and counts tokens and
    /// calls without a request id (`tokens_and_request_ids`, `token_expiry_mid_read`).
    pub bank_tokens: bool,
    /// The control injects faults into data calls (5xx, 429, slow answers, bad bodies), which
    /// the connector retries or reports (`rate_limited`, `server_errors`, `timeouts`,
    /// `malformed_bodies`).
    pub faults: bool,
    /// The control adds unknown fields to every answer (`unknown_fields`).
    pub unknown_fields: bool,
    /// The bank pages transactions and the control makes paging unstable (`unstable_paging`).
    pub unstable_paging: bool,
    /// The control books late postings, pending then booked (`late_posting`).
    pub late_postings: bool,
    /// The bank serves product agreements (`product_agreements`); when false the connector
    /// must answer `Unsupported`.
    pub agreements: bool,
    /// The bank serves cards (`cards`, `cards_need_their_permission`); when false the
    /// connector must answer `Unsupported`.
    pub cards: bool,
    /// The control closes accounts (the bank stops listing them) and grants consents with
    /// chosen permissions (`closed_account`, `cards_need_their_permission`).
    pub closure: bool,
}

impl Capabilities {
    /// Everything, consents authorized at once.
    pub const ALL: Capabilities = Capabilities {
        consent_approval: false,
        bank_tokens: true,
        faults: true,
        unknown_fields: true,
        unstable_paging: true,
        late_postings: true,
        agreements: true,
        cards: true,
        closure: true,
    };
}

/// What the suite needs to steer the bank server under test and to know the truth.
///
/// Faults form one queue, served in order to the bank's data calls (every call but the token
/// call): `pass_next(2)` then `fail_next(1, 503)` makes the third call fail.
#[async_trait]
pub trait BankControl: Send + Sync {
    /// A client id the bank does not know.
    fn unknown_client(&self) -> String;
    /// Back to the state after start: no consents, faults, paging modes or added rows.
    async fn reset(&self);
    /// Every client of the bank.
    async fn clients(&self) -> Vec<String>;
    /// A client and their account of several hundred transactions.
    async fn busiest_account(&self) -> (String, String);
    /// A client who exists with no transactions (no accounts, or accounts without any).
    async fn empty_client(&self) -> String;
    /// The client's accounts.
    async fn accounts(&self, client: &str) -> Vec<TrueAccount>;
    /// Every transaction of the account now.
    async fn transactions(&self, account_id: &str) -> Vec<TrueTransaction>;
    /// The bank's product ids.
    async fn products(&self) -> Vec<String>;
    /// The client approves a consent request awaiting approval.
    async fn approve(&self, request_id: &str) -> Result<(), String>;
    /// The client rejects a consent request awaiting approval.
    async fn reject(&self, request_id: &str) -> Result<(), String>;
    /// The client revokes every consent in the bank's own app.
    async fn revoke_all(&self, client: &str);
    /// The next `n` data calls answer this 5xx status.
    async fn fail_next(&self, n: u32, status: u16);
    /// The next `n` data calls answer 429 with this `Retry-After`.
    async fn rate_limit_next(&self, n: u32, retry_after: Duration);
    /// The next `n` data calls answer 429 saying only that the limit resets after `reset`
    /// (`X-RateLimit-*-Reset`, no `Retry-After`; capability `faults`; a control that cannot
    /// answers normally).
    async fn rate_limit_reset_next(&self, n: u32, reset: Duration) {
        let _ = (n, reset);
    }
    /// The next `n` data calls answer 200 with a body of `bytes` bytes, streamed with no
    /// `Content-Length` (capability `faults`; a control that cannot answers normally).
    async fn oversize_next(&self, n: u32, bytes: u64) {
        let _ = (n, bytes);
    }
    /// The next `n` data calls answer only after `delay`.
    async fn delay_next(&self, n: u32, delay: Duration);
    /// The next `n` data calls answer 200 with a cut-off JSON body.
    async fn truncate_next(&self, n: u32);
    /// The next `n` data calls answer 200 with JSON of the wrong shape.
    async fn malformed_next(&self, n: u32);
    /// The next `n` data calls answer 200 with a proxy's HTML page.
    async fn html_next(&self, n: u32);
    /// The next `n` data calls are answered normally (to aim a later fault at a later page).
    async fn pass_next(&self, n: u32);
    /// Every token issued so far is refused from now on (as if expired).
    async fn expire_tokens(&self);
    /// After `n` more data calls, every token issued so far is refused.
    async fn expire_tokens_after(&self, n: u32);
    /// Unstable paging: equal-time rows reorder on every query; after `insert_after` page
    /// requests a new row is booked, shifting later pages.
    async fn unstable_paging(&self, shuffle_ties: bool, insert_after: Option<u32>);
    /// After `n` more transaction-page requests the bank's newest rows drop out of the list
    /// it pages (its total shrinks, later pages shift up) until a read starts afresh at page 1
    /// (capability `unstable_paging`; a control that cannot leaves paging alone).
    async fn shrink_total_after(&self, n: u32) {
        let _ = n;
    }
    /// The next transaction read's `n` oldest rows come malformed (capability
    /// `unstable_paging`; a control that cannot leaves the rows alone).
    async fn garble_next_read(&self, n: u32) {
        let _ = n;
    }
    /// The client revokes the consent while the `n`-th transaction page is asked for
    /// (capability `unstable_paging`; a control that cannot does nothing).
    async fn revoke_during_page(&self, n: u32) {
        let _ = n;
    }
    /// The bank takes a booked row back: it is no longer listed (capability `faults`).
    async fn withdraw(&self, transaction_id: &str) {
        let _ = transaction_id;
    }
    /// The bank refuses the team's credentials from now on: token calls answer 401
    /// (capability `faults`; a control that cannot does nothing).
    async fn refuse_credentials(&self) {}
    /// Whether the bank applies the date filter of transaction pages.
    async fn honour_date_filter(&self, honour: bool);
    /// Unknown fields everywhere in the bank's answers.
    async fn noise(&self, on: bool);
    /// Books a transaction now on the account; returns its id.
    async fn add_transaction(&self, account_id: &str, pending: bool) -> String;
    /// A pending transaction becomes booked.
    async fn book(&self, transaction_id: &str);
    /// Tokens the bank issued since the last reset.
    async fn tokens_issued(&self) -> u64;
    /// Calls that came without an `x-fapi-interaction-id` since the last reset.
    async fn calls_without_request_id(&self) -> u64;
    /// The client's product agreements (capability `agreements`).
    async fn agreements(&self, client: &str) -> Vec<TrueAgreement> {
        let _ = client;
        Vec::new()
    }
    /// The client's cards (capability `cards`).
    async fn cards(&self, client: &str) -> Vec<TrueCard> {
        let _ = client;
        Vec::new()
    }
    /// The bank sends whole card numbers from now on (a misbehaving bank; capability `cards`).
    async fn full_card_numbers(&self, on: bool) {
        let _ = on;
    }
    /// The bank closes the account: it stops listing it (capability `closure`).
    async fn close_account(&self, account_id: &str) -> Result<(), String> {
        Err(format!("cannot close {account_id}"))
    }
    /// A consent granted now with exactly `permissions`, as an older CRM asked (capability
    /// `closure`). Returns its id.
    async fn grant_consent(&self, client: &str, permissions: &[&str]) -> Result<String, String> {
        let _ = permissions;
        Err(format!("cannot grant a consent for {client}"))
    }
}

type Outcome = Result<(), String>;

fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn whole_range() -> (DateTime<Utc>, DateTime<Utc>) {
    (Utc::now() - Span::days(3_650), Utc::now() + Span::days(1))
}

/// An authorized consent for `client` (its id when the bank tells it), approving it through
/// the control when the bank needs the client's approval.
pub async fn authorize(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    caps: &Capabilities,
    client: &str,
) -> Result<Option<String>, String> {
    let consent = bank
        .request_consent(client)
        .await
        .map_err(|e| format!("request_consent({client}): {e}"))?;
    if consent.status == ConsentStatus::Authorized {
        check(consent.consent_id.is_some(), || {
            "an authorized consent carries its id".into()
        })?;
        return Ok(consent.consent_id);
    }
    check(
        consent.status == ConsentStatus::AwaitingAuthorization && caps.consent_approval,
        || format!("a new consent is authorized, or awaiting at approval banks: {consent:?}"),
    )?;
    let request = consent
        .request_id
        .clone()
        .ok_or("a pending consent carries its request id")?;
    control.approve(&request).await?;
    let after = bank
        .consent_status(client, &consent)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(after.status == ConsentStatus::Authorized, || {
        format!(
            "authorized after the client approved, got {:?}",
            after.status
        )
    })?;
    Ok(after.consent_id)
}

async fn read(
    bank: &dyn BankConnector,
    access: &Access<'_>,
    account: &str,
) -> Result<TransactionBatch, String> {
    let (from, to) = whole_range();
    bank.transactions(access, account, from, to)
        .await
        .map_err(|e| format!("transactions({account}): {e}"))
}

/// The batch holds exactly `truth`: each id once, with amount, direction and status, nothing
/// short, nothing refused.
fn exact(batch: &TransactionBatch, truth: &[TrueTransaction], what: &str) -> Outcome {
    let mut seen = HashSet::new();
    for t in &batch.transactions {
        check(seen.insert(t.id.as_str()), || {
            format!("{what}: {} read twice", t.id)
        })?;
    }
    let by_id: HashMap<&str, &TrueTransaction> = truth.iter().map(|t| (t.id.as_str(), t)).collect();
    check(batch.transactions.len() == truth.len(), || {
        format!(
            "{what}: {} transactions read, the bank holds {} (shortfall reported {})",
            batch.transactions.len(),
            truth.len(),
            batch.shortfall
        )
    })?;
    for t in &batch.transactions {
        let Some(want) = by_id.get(t.id.as_str()) else {
            return Err(format!("{what}: {} is not the bank's", t.id));
        };
        check(t.amount == want.amount && t.amount > Decimal::ZERO, || {
            format!("{what}: {} amount {} != {}", t.id, t.amount, want.amount)
        })?;
        check(t.direction == want.direction, || {
            format!("{what}: {} direction", t.id)
        })?;
        let pending = t.status == BookingStatus::Pending;
        check(pending == want.pending, || {
            format!("{what}: {} pending {pending}", t.id)
        })?;
        check(t.booked_at == want.booked_at, || {
            format!(
                "{what}: {} booked at {} != {}",
                t.id, t.booked_at, want.booked_at
            )
        })?;
    }
    check(batch.shortfall == 0, || {
        format!("{what}: a clean read reports shortfall {}", batch.shortfall)
    })?;
    check(batch.rejected.is_empty(), || {
        format!("{what}: rows refused: {:?}", batch.rejected)
    })
}

/// A stable lower-case code and a name.
pub async fn identity(
    bank: &dyn BankConnector,
    _: &dyn BankControl,
    _: &KitSettings,
    _: &Capabilities,
) -> Outcome {
    let id = bank.identity();
    check(
        !id.code.is_empty()
            && id
                .code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        || format!("code {:?} is lower-case letters, digits and '-'", id.code),
    )?;
    check(!id.name.trim().is_empty(), || "the bank has a name".into())
}

/// An unknown client is `NotFound`, not retried, not a crash.
pub async fn unknown_client(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    _: &Capabilities,
) -> Outcome {
    match bank.request_consent(&control.unknown_client()).await {
        Err(ConnectorError::NotFound { .. }) => Ok(()),
        other => Err(format!("an unknown client is NotFound, got {other:?}")),
    }
}

/// Every client: consent, accounts, the preferred balance (signed), every transaction of every
/// account exactly; and the product catalogue.
pub async fn happy_path(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let clients = control.clients().await;
    check(!clients.is_empty(), || "the bank has clients".into())?;
    let mut transactions = 0;
    for client in &clients {
        let consent = authorize(bank, control, caps, client).await?;
        let access = Access {
            client_id: client,
            consent_id: consent.as_deref(),
        };
        let accounts = bank
            .accounts(&access)
            .await
            .map_err(|e| format!("accounts({client}): {e}"))?;
        let truth = control.accounts(client).await;
        let mut got: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        let mut want: Vec<&str> = truth.iter().map(|a| a.id.as_str()).collect();
        got.sort_unstable();
        want.sort_unstable();
        check(got == want, || {
            format!("{client}: accounts {got:?}, the bank has {want:?}")
        })?;
        for account in &accounts {
            let Some(t) = truth.iter().find(|t| t.id == account.id) else {
                continue;
            };
            if let Some(kind) = &t.kind {
                check(&account.kind == kind, || {
                    format!("{}: kind {:?} != {kind:?}", account.id, account.kind)
                })?;
            }
            check(account.currency == t.currency, || {
                format!(
                    "{}: currency {} != {}",
                    account.id, account.currency, t.currency
                )
            })?;
            let balances = bank
                .balances(&access, &account.id)
                .await
                .map_err(|e| format!("balances({}): {e}", account.id))?;
            let first = balances
                .first()
                .ok_or_else(|| format!("{}: no balance", account.id))?;
            if let Some(want) = t.balance {
                check(first.amount == want, || {
                    format!(
                        "{}: balance {} != {want} (preferred first, signed)",
                        account.id, first.amount
                    )
                })?;
            }
            let batch = read(bank, &access, &account.id).await?;
            let rows = control.transactions(&account.id).await;
            exact(&batch, &rows, &account.id)?;
            transactions += rows.len();
        }
    }
    check(transactions > 0, || {
        "the bank's clients have transactions".into()
    })?;
    let products = bank
        .products()
        .await
        .map_err(|e| format!("products: {e}"))?;
    let mut got: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    let mut want = control.products().await;
    got.sort_unstable();
    want.sort_unstable();
    check(got == want, || {
        format!("products {got:?}, the bank lists {want:?}")
    })
}

async fn busiest(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    caps: &Capabilities,
) -> Result<(String, String, Option<String>), String> {
    let (client, account) = control.busiest_account().await;
    let consent = authorize(bank, control, caps, &client).await?;
    Ok((client, account, consent))
}

/// The busiest account and a consent to read it, for checks that read it under a fault.
struct Busiest {
    client: String,
    account: String,
    consent: Option<String>,
}

impl Busiest {
    async fn new(
        bank: &dyn BankConnector,
        control: &dyn BankControl,
        caps: &Capabilities,
    ) -> Result<Self, String> {
        let (client, account, consent) = busiest(bank, control, caps).await?;
        Ok(Busiest {
            client,
            account,
            consent,
        })
    }

    fn access(&self) -> Access<'_> {
        Access {
            client_id: &self.client,
            consent_id: self.consent.as_deref(),
        }
    }

    /// Reads the whole account; it must hold exactly the bank's rows.
    async fn read_exact(&self, bank: &dyn BankConnector, control: &dyn BankControl) -> Outcome {
        let batch = read(bank, &self.access(), &self.account).await?;
        exact(
            &batch,
            &control.transactions(&self.account).await,
            &self.account,
        )
    }
}

/// An account of several hundred transactions is read across many pages, each row once.
pub async fn many_pages(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let truth = control.transactions(&account).await;
    check(truth.len() >= 200, || {
        format!(
            "the bank under test needs an account of several hundred rows, {account} has {}",
            truth.len()
        )
    })?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &truth, &account)?;
    check(batch.reported_total == Some(truth.len() as u64), || {
        format!(
            "reported total {:?} != {}",
            batch.reported_total,
            truth.len()
        )
    })
}

/// A date range holds exactly the rows booked in it, whether the bank filters or not (banks
/// may ignore the filter), with no false shortfall.
pub async fn date_range(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let truth = control.transactions(&account).await;
    let newest = truth
        .iter()
        .map(|t| t.booked_at)
        .max()
        .ok_or("the busiest account has rows")?;
    let to = DateTime::from_timestamp(newest.timestamp() - 10 * 86_400, 0).unwrap_or(newest);
    let from = to - Span::days(60);
    let inside: Vec<TrueTransaction> = truth
        .iter()
        .filter(|t| t.booked_at >= from && t.booked_at <= to)
        .cloned()
        .collect();
    check(!inside.is_empty() && inside.len() < truth.len(), || {
        "the range holds some rows, not all".into()
    })?;
    for honour in [true, false] {
        control.honour_date_filter(honour).await;
        let batch = bank
            .transactions(&access, &account, from, to)
            .await
            .map_err(|e| format!("transactions in a range: {e}"))?;
        let what = if honour {
            "filtered by the bank"
        } else {
            "the bank ignores the filter"
        };
        exact(&batch, &inside, &format!("{account}, 60 days, {what}"))?;
    }
    Ok(())
}

/// A client with no transactions: consent works, accounts (if any) read empty, no shortfall.
pub async fn empty_client(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let client = control.empty_client().await;
    let consent = authorize(bank, control, caps, &client).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let accounts = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts({client}): {e}"))?;
    for account in &accounts {
        bank.balances(&access, &account.id)
            .await
            .map_err(|e| format!("balances({}): {e}", account.id))?;
        let batch = read(bank, &access, &account.id).await?;
        exact(&batch, &[], &account.id)?;
    }
    Ok(())
}

/// Auto-approving banks: authorized at once with an id and an expiry. Approval banks: pending
/// (data calls need consent) until the client approves, then authorized.
pub async fn consent_pending_then_authorized(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let (client, _) = control.busiest_account().await;
    let consent = bank
        .request_consent(&client)
        .await
        .map_err(|e| format!("request_consent: {e}"))?;
    if !caps.consent_approval {
        check(consent.status == ConsentStatus::Authorized, || {
            format!(
                "an auto-approving bank authorizes at once, got {:?}",
                consent.status
            )
        })?;
        let status = bank
            .consent_status(&client, &consent)
            .await
            .map_err(|e| format!("consent_status: {e}"))?;
        check(status.status == ConsentStatus::Authorized, || {
            format!("status Authorized, got {:?}", status.status)
        })?;
        return check(status.expires_at.is_some_and(|at| at > Utc::now()), || {
            "an authorized consent expires in the future".into()
        });
    }
    check(
        consent.status == ConsentStatus::AwaitingAuthorization
            && consent.request_id.is_some()
            && consent.consent_id.is_none(),
        || format!("a request awaiting approval with its request id, got {consent:?}"),
    )?;
    let access = Access {
        client_id: &client,
        consent_id: None,
    };
    match bank.accounts(&access).await {
        Err(ConnectorError::ConsentRequired { .. }) => {}
        other => {
            return Err(format!(
                "data calls need the consent while pending, got {other:?}"
            ))
        }
    }
    let before = bank
        .consent_status(&client, &consent)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(
        before.status == ConsentStatus::AwaitingAuthorization,
        || format!("still pending before approval, got {:?}", before.status),
    )?;
    control
        .approve(consent.request_id.as_deref().unwrap_or_default())
        .await?;
    let after = bank
        .consent_status(&client, &before)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(after.status == ConsentStatus::Authorized, || {
        format!(
            "authorized once the client approved, got {:?}",
            after.status
        )
    })?;
    bank.accounts(&Access {
        client_id: &client,
        consent_id: after.consent_id.as_deref(),
    })
    .await
    .map(|_| ())
    .map_err(|e| format!("accounts after approval: {e}"))
}

/// Approval banks: a rejected request never becomes authorized, and data calls need consent.
pub async fn consent_rejected(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.consent_approval {
        return Ok(());
    }
    let (client, _) = control.busiest_account().await;
    let consent = bank
        .request_consent(&client)
        .await
        .map_err(|e| format!("request_consent: {e}"))?;
    control
        .reject(consent.request_id.as_deref().unwrap_or_default())
        .await?;
    let status = bank
        .consent_status(&client, &consent)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(
        matches!(
            status.status,
            ConsentStatus::Rejected | ConsentStatus::AwaitingAuthorization
        ),
        || {
            format!(
                "a rejected request is not authorized, got {:?}",
                status.status
            )
        },
    )?;
    match bank
        .accounts(&Access {
            client_id: &client,
            consent_id: None,
        })
        .await
    {
        Err(ConnectorError::ConsentRequired { .. }) => Ok(()),
        other => Err(format!(
            "after a rejection data calls need consent, got {other:?}"
        )),
    }
}

/// A revoked consent (by us, or by the client in the bank) stops data calls and is reported
/// as no longer authorized.
pub async fn consent_revoked(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let (client, _) = control.busiest_account().await;
    let consent = authorize(bank, control, caps, &client).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    if let Some(id) = consent.as_deref() {
        bank.revoke_consent(id)
            .await
            .map_err(|e| format!("revoke_consent: {e}"))?;
        let status = bank
            .consent_status(&client, &held(Some(id.to_owned())))
            .await
            .map_err(|e| format!("consent_status: {e}"))?;
        check(status.status == ConsentStatus::Revoked, || {
            format!("a revoked consent reads Revoked, got {:?}", status.status)
        })?;
    } else {
        control.revoke_all(&client).await;
        let status = bank
            .consent_status(&client, &held(None))
            .await
            .map_err(|e| format!("consent_status: {e}"))?;
        check(status.status != ConsentStatus::Authorized, || {
            "a consent the client revoked is no longer authorized".into()
        })?;
    }
    match bank.accounts(&access).await {
        Err(ConnectorError::ConsentRequired { .. }) => Ok(()),
        other => Err(format!(
            "after revocation accounts need consent, got {other:?}"
        )),
    }
}

/// The token is cached (not fetched per call), renewed after expiry, and every call carries a
/// request id.
pub async fn tokens_and_request_ids(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.bank_tokens {
        return Ok(());
    }
    let (client, _, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let before = control.tokens_issued().await;
    for _ in 0..5 {
        bank.accounts(&access)
            .await
            .map_err(|e| format!("accounts: {e}"))?;
    }
    let used = control.tokens_issued().await - before;
    check(used <= 1, || {
        format!("the token is cached: {used} tokens for five calls")
    })?;
    control.expire_tokens().await;
    bank.accounts(&access)
        .await
        .map_err(|e| format!("accounts after the token expired: {e}"))?;
    check(control.tokens_issued().await > before, || {
        "an expired token is renewed".into()
    })?;
    let missing = control.calls_without_request_id().await;
    check(missing == 0, || {
        format!("{missing} calls came without an x-fapi-interaction-id")
    })
}

/// Tokens expire between pages of a multi-page read: the read still completes exactly.
pub async fn token_expiry_mid_read(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.bank_tokens {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let before = control.tokens_issued().await;
    control.expire_tokens_after(2).await;
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &control.transactions(&account).await, &account)?;
    check(control.tokens_issued().await > before, || {
        "the token was renewed in the middle of the read".into()
    })
}

/// A 429 with `Retry-After` in the middle of a read is waited out, and the read is exact.
pub async fn rate_limited(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    settings: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    control.pass_next(1).await;
    control.rate_limit_next(1, settings.retry_after).await;
    let started = Instant::now();
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &control.transactions(&account).await, &account)?;
    check(
        started.elapsed() >= settings.retry_after.mul_f32(0.9),
        || {
            format!(
                "Retry-After {:?} is honoured, waited {:?}",
                settings.retry_after,
                started.elapsed()
            )
        },
    )
}

/// A 429 whose limit resets in an hour is not waited for: the call ends at once as rate
/// limited, carrying the reset (so the caller's next attempt is no earlier); once the limit is
/// gone the read is exact.
pub async fn long_rate_limit_reset(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    settings: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    let reset = Duration::from_secs(3600);
    control.rate_limit_reset_next(1, reset).await;
    let started = Instant::now();
    match bank.balances(&busiest.access(), &busiest.account).await {
        Err(ConnectorError::RateLimited {
            retry_after: Some(wait),
            ..
        }) => check(wait >= reset - Duration::from_secs(1), || {
            format!("the bank's reset in {reset:?} is carried as {wait:?}")
        })?,
        other => return Err(format!("a 429 resetting in an hour: {other:?}")),
    }
    check(started.elapsed() < settings.request_timeout * 4, || {
        format!("an hour's reset is not waited for: {:?}", started.elapsed())
    })?;
    busiest.read_exact(bank, control).await
}

/// An answer larger than any page should be (20 MB, beyond the 16 MiB default limit) is
/// refused as `Malformed` (not retried, never held whole); the next read is exact.
pub async fn oversized_body(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    control.oversize_next(1, 20_000_000).await;
    match bank.balances(&busiest.access(), &busiest.account).await {
        Err(ConnectorError::Malformed { .. }) => {}
        other => return Err(format!("a 20 MB answer: {other:?}")),
    }
    busiest.read_exact(bank, control).await
}

/// A consent as the CRM holds it (authorized), to ask the bank for its status.
fn held(consent_id: Option<String>) -> crate::Consent {
    crate::Consent {
        status: ConsentStatus::Authorized,
        consent_id,
        request_id: None,
        expires_at: None,
        message: None,
    }
}

/// Malformed rows are reported (rejected, or counted short), never dropped in silence; the next
/// read is exact.
pub async fn refused_rows(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.unstable_paging {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    control.garble_next_read(3).await;
    let batch = read(bank, &busiest.access(), &busiest.account).await?;
    let truth = control.transactions(&busiest.account).await.len() as u64;
    let missing = truth.saturating_sub(batch.transactions.len() as u64);
    check(missing > 0, || {
        "three malformed rows: the read is short of the bank's list".into()
    })?;
    check(
        batch.rejected.len() as u64 + batch.shortfall >= missing,
        || {
            format!(
                "{missing} rows missing, but {} rejected and a shortfall of {}: rows dropped in silence",
                batch.rejected.len(),
                batch.shortfall
            )
        },
    )?;
    busiest.read_exact(bank, control).await
}

/// A consent the client revokes while transactions are read ends the read with
/// `ConsentRequired` (not a short read that looks complete). The revocation hits the read's
/// first page request: some banks serve a busy account in one page.
pub async fn consent_revoked_mid_read(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.unstable_paging {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    if busiest.consent.is_some() {
        control.revoke_during_page(1).await;
    } else {
        // Calls that name no consent: the bank cannot tell which one the read used, so the
        // client revokes them all just before it.
        control.revoke_all(&busiest.client).await;
    }
    let (from, to) = whole_range();
    let first = bank
        .transactions(&busiest.access(), &busiest.account, from, to)
        .await;
    match first {
        Err(ConnectorError::ConsentRequired { .. }) => Ok(()),
        // A bank that checks the consent before the revocation lands, or that serves a revoked
        // consent's data for a grace period (SBank does, ten minutes), answers that read; the
        // consent's status then says it is gone.
        Ok(_) => {
            let status = bank
                .consent_status(&busiest.client, &held(busiest.consent.clone()))
                .await
                .map_err(|e| format!("consent_status: {e}"))?;
            check(status.status != ConsentStatus::Authorized, || {
                "a consent the client revoked mid-read is no longer authorized".into()
            })
        }
        other => Err(format!(
            "a consent revoked mid-read ends it with ConsentRequired, got {other:?}"
        )),
    }
}

/// A booked row the bank takes back is no longer read: the next read is the bank's list.
pub async fn vanished_booking(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    let before = control.transactions(&busiest.account).await;
    let Some(row) = before.iter().find(|t| !t.pending) else {
        return Err("the busiest account has a booked row".into());
    };
    control.withdraw(&row.id).await;
    let after = control.transactions(&busiest.account).await;
    check(after.len() + 1 == before.len(), || {
        "the control took the row back".into()
    })?;
    busiest.read_exact(bank, control).await
}

/// Credentials the bank refuses end a call with `Unauthorized`, quickly and without a token
/// asked for again and again.
pub async fn refused_credentials(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    settings: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    control.expire_tokens().await;
    control.refuse_credentials().await;
    let tokens = control.tokens_issued().await;
    let started = Instant::now();
    match bank.balances(&busiest.access(), &busiest.account).await {
        Err(ConnectorError::Unauthorized { .. }) => {}
        other => return Err(format!("refused credentials: {other:?}")),
    }
    check(started.elapsed() < settings.request_timeout * 4, || {
        format!(
            "a refusal is not retried at length: {:?}",
            started.elapsed()
        )
    })?;
    check(control.tokens_issued().await == tokens, || {
        "no token is issued for refused credentials".into()
    })
}

/// 5xx bursts (JSON and a proxy's HTML 502) are retried; a burst longer than the retries ends
/// as a retryable error, not a wrong answer.
pub async fn server_errors(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    control.pass_next(1).await;
    control.fail_next(2, 503).await;
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &control.transactions(&account).await, &account)?;
    control.fail_next(1, 502).await;
    control.fail_next(1, 500).await;
    bank.accounts(&access)
        .await
        .map_err(|e| format!("accounts after a 502 and a 500: {e}"))?;
    control.fail_next(100, 503).await;
    let outcome = bank.accounts(&access).await;
    control.reset().await;
    match outcome {
        Err(e @ ConnectorError::Unavailable { .. }) if e.is_retryable() => Ok(()),
        other => Err(format!(
            "a long 5xx burst ends Unavailable (retryable), got {other:?}"
        )),
    }
}

/// An answer slower than the connector's timeout is retried; endless slowness ends as a
/// retryable network error.
pub async fn timeouts(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    settings: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let (client, _, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let slow = settings.request_timeout + Duration::from_millis(500);
    control.delay_next(1, slow).await;
    bank.accounts(&access)
        .await
        .map_err(|e| format!("accounts after one slow answer: {e}"))?;
    control.delay_next(100, slow).await;
    let outcome = bank.accounts(&access).await;
    control.reset().await;
    match outcome {
        Err(e @ ConnectorError::Network { .. }) if e.is_retryable() => Ok(()),
        other => Err(format!(
            "endless slowness ends as a retryable Network error, got {other:?}"
        )),
    }
}

/// Cut-off, wrong-shaped and HTML bodies are `Malformed` naming the bank (also in the middle
/// of a read: never a partial batch), and the next call works.
pub async fn malformed_bodies(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.faults {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let code = bank.identity().code.clone();
    let baseline = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts: {e}"))?;
    for kind in ["cut-off", "wrong-shaped", "HTML"] {
        match kind {
            "cut-off" => control.truncate_next(1).await,
            "wrong-shaped" => control.malformed_next(1).await,
            _ => control.html_next(1).await,
        }
        match bank.accounts(&access).await {
            Err(e @ ConnectorError::Malformed { .. }) if e.bank() == code => {}
            other => {
                return Err(format!(
                    "a {kind} body is Malformed naming {code}, got {other:?}"
                ))
            }
        }
    }
    control.malformed_next(1).await;
    match bank.balances(&access, &account).await {
        Err(ConnectorError::Malformed { .. }) => {}
        other => {
            return Err(format!(
                "wrong-shaped balances are Malformed, got {other:?}"
            ))
        }
    }
    control.pass_next(1).await;
    control.truncate_next(1).await;
    match read(bank, &access, &account).await {
        Err(e) if e.contains("malformed") => {}
        other => return Err(format!("a cut-off page fails the read, got {other:?}")),
    }
    let again = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts after bad bodies: {e}"))?;
    check(again == baseline, || {
        "the connector recovers after bad bodies".into()
    })
}

/// Unknown fields anywhere change nothing.
pub async fn unknown_fields(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.unknown_fields {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let mut views = Vec::new();
    for noisy in [false, true] {
        control.noise(noisy).await;
        let accounts = bank
            .accounts(&access)
            .await
            .map_err(|e| format!("accounts: {e}"))?;
        let balances = bank
            .balances(&access, &account)
            .await
            .map_err(|e| format!("balances: {e}"))?;
        let batch = read(bank, &access, &account).await?;
        views.push((accounts, balances, batch));
    }
    check(views[0] == views[1], || {
        "unknown fields change what is read".into()
    })
}

/// Unstable paging (equal-time rows reorder, a row booked mid-read shifts pages): the read
/// holds only the bank's rows, each once, and what it lacks is reported as shortfall.
pub async fn unstable_paging(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.unstable_paging {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    control.unstable_paging(true, Some(2)).await;
    let batch = read(bank, &access, &account).await?;
    control.unstable_paging(false, None).await;
    let truth = control.transactions(&account).await;
    let ids: HashSet<&str> = truth.iter().map(|t| t.id.as_str()).collect();
    let mut seen = HashSet::new();
    for t in &batch.transactions {
        check(ids.contains(t.id.as_str()), || {
            format!("{} is not the bank's", t.id)
        })?;
        check(seen.insert(t.id.as_str()), || {
            format!("{} read twice", t.id)
        })?;
    }
    check(
        batch.transactions.len() as u64 + batch.shortfall == truth.len() as u64,
        || {
            format!(
                "read {} + shortfall {} != the bank's {}",
                batch.transactions.len(),
                batch.shortfall,
                truth.len()
            )
        },
    )
}

/// The bank's total shrinks between the pages of a read (rows drop out of the front, later
/// pages shift up): the total is the largest announced, the read starts again, and ends with
/// exactly the bank's rows, none skipped.
pub async fn shrinking_total(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.unstable_paging {
        return Ok(());
    }
    let busiest = Busiest::new(bank, control, caps).await?;
    // The second page comes from a list three rows shorter.
    control.shrink_total_after(2).await;
    busiest.read_exact(bank, control).await
}

/// A transaction booked late appears, pending, then booked once the bank books it.
pub async fn late_posting(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.late_postings {
        return Ok(());
    }
    let (client, account, consent) = busiest(bank, control, caps).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let id = control.add_transaction(&account, true).await;
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &control.transactions(&account).await, &account)?;
    let row = batch
        .transactions
        .iter()
        .find(|t| t.id == id)
        .ok_or("the late posting is read")?;
    check(row.status == BookingStatus::Pending, || {
        "it is pending".into()
    })?;
    control.book(&id).await;
    let batch = read(bank, &access, &account).await?;
    exact(&batch, &control.transactions(&account).await, &account)?;
    let row = batch
        .transactions
        .iter()
        .find(|t| t.id == id)
        .ok_or("the booked posting is read")?;
    check(row.status == BookingStatus::Booked, || {
        "it is booked now".into()
    })
}

/// A bank without the capability must say so with `Unsupported`, not an empty list or a crash.
fn unsupported<T: std::fmt::Debug>(what: &str, outcome: Result<T, ConnectorError>) -> Outcome {
    match outcome {
        Err(ConnectorError::Unsupported { .. }) => Ok(()),
        other => Err(format!(
            "a bank without {what} answers Unsupported, got {other:?}"
        )),
    }
}

/// Every client's deposits and loans exactly as the bank holds them (id, kind, principal,
/// status, maturity), with at least one deposit with a maturity in the bank; `Unsupported`
/// from a bank without them.
pub async fn product_agreements(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let clients = control.clients().await;
    let first = clients.first().ok_or("the bank has clients")?;
    if !caps.agreements {
        let consent = authorize(bank, control, caps, first).await?;
        let access = Access {
            client_id: first,
            consent_id: consent.as_deref(),
        };
        return unsupported("product agreements", bank.product_agreements(&access).await);
    }
    let mut deposits = 0;
    for client in &clients {
        let consent = authorize(bank, control, caps, client).await?;
        let access = Access {
            client_id: client,
            consent_id: consent.as_deref(),
        };
        let got = bank
            .product_agreements(&access)
            .await
            .map_err(|e| format!("product_agreements({client}): {e}"))?;
        let truth = control.agreements(client).await;
        check(got.len() == truth.len(), || {
            format!(
                "{client}: {} agreements read, the bank holds {}",
                got.len(),
                truth.len()
            )
        })?;
        for want in &truth {
            let a = got
                .iter()
                .find(|a| a.id == want.id)
                .ok_or_else(|| format!("{client}: agreement {} is missing", want.id))?;
            check(
                a.kind == want.kind && a.amount == want.amount && a.status == want.status,
                || {
                    format!(
                        "{client}: agreement {} reads {a:?}, the bank has {want:?}",
                        want.id
                    )
                },
            )?;
            let close = |x: Option<DateTime<Utc>>, y: Option<DateTime<Utc>>| match (x, y) {
                (Some(x), Some(y)) => (x - y).num_seconds().abs() <= 1,
                (None, None) => true,
                _ => false,
            };
            check(close(a.ends_at, want.ends_at), || {
                format!(
                    "{client}: agreement {} ends {:?}, not {:?}",
                    want.id, a.ends_at, want.ends_at
                )
            })?;
            if want.kind == AgreementKind::Deposit && want.ends_at.is_some() {
                deposits += 1;
            }
        }
    }
    check(deposits > 0, || {
        "the bank under test holds a deposit with a maturity".into()
    })
}

/// Every client's cards exactly (id, last four digits, status), numbers masked (`****` and
/// four digits), also when the bank sends whole numbers; `Unsupported` from a bank without them.
pub async fn cards(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let clients = control.clients().await;
    let first = clients.first().ok_or("the bank has clients")?;
    if !caps.cards {
        let consent = authorize(bank, control, caps, first).await?;
        let access = Access {
            client_id: first,
            consent_id: consent.as_deref(),
        };
        return unsupported("cards", bank.cards(&access).await);
    }
    let mut seen = 0;
    for full in [false, true] {
        control.full_card_numbers(full).await;
        for client in &clients {
            let consent = authorize(bank, control, caps, client).await?;
            let access = Access {
                client_id: client,
                consent_id: consent.as_deref(),
            };
            let got = bank
                .cards(&access)
                .await
                .map_err(|e| format!("cards({client}): {e}"))?;
            let truth = control.cards(client).await;
            check(got.len() == truth.len(), || {
                format!(
                    "{client}: {} cards read, the bank holds {}",
                    got.len(),
                    truth.len()
                )
            })?;
            for card in &got {
                let shown = card.number.as_str();
                let digits = shown.chars().filter(char::is_ascii_digit).count();
                check(shown.starts_with("****") && digits <= 4, || {
                    format!(
                        "{client}: card {} is not masked: {} digits shown",
                        card.id, digits
                    )
                })?;
                let want = truth
                    .iter()
                    .find(|t| t.id == card.id)
                    .ok_or_else(|| format!("{client}: card {} is not the bank's", card.id))?;
                check(
                    card.number.last_four() == want.last_four && card.status == want.status,
                    || {
                        format!(
                            "{client}: card {} reads {card:?}, the bank has {want:?}",
                            card.id
                        )
                    },
                )?;
                seen += 1;
            }
        }
    }
    control.full_card_numbers(false).await;
    check(seen > 0, || "the bank under test issues cards".into())
}

/// A consent given before cards were asked for (no `ReadCards`) makes the card call
/// `PermissionMissing`, while the account calls still work with it.
pub async fn cards_need_their_permission(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !(caps.cards && caps.closure) {
        return Ok(());
    }
    let (client, _) = control.busiest_account().await;
    let old = control
        .grant_consent(
            &client,
            &[
                "ReadAccountsDetail",
                "ReadBalances",
                "ReadTransactionsDetail",
            ],
        )
        .await?;
    let access = Access {
        client_id: &client,
        consent_id: Some(&old),
    };
    bank.accounts(&access)
        .await
        .map_err(|e| format!("accounts with the old consent: {e}"))?;
    match bank.cards(&access).await {
        Err(ConnectorError::PermissionMissing { permission, .. })
            if permission.eq_ignore_ascii_case("ReadCards") =>
        {
            Ok(())
        }
        other => Err(format!(
            "cards with a consent lacking ReadCards are PermissionMissing, got {other:?}"
        )),
    }
}

/// After we revoke a consent every consent-checked call with it is `ConsentRequired` (cards
/// too, not `PermissionMissing`), it reads `Revoked`, and revoking it again succeeds (a
/// retried DELETE is harmless).
pub async fn revocation(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    let (client, _) = control.busiest_account().await;
    let consent = authorize(bank, control, caps, &client).await?;
    let Some(id) = consent.as_deref() else {
        // The bank never told us the id (approval banks): `consent_revoked` covers the
        // client's own revocation.
        return Ok(());
    };
    let access = Access {
        client_id: &client,
        consent_id: Some(id),
    };
    bank.accounts(&access)
        .await
        .map_err(|e| format!("accounts before revocation: {e}"))?;
    bank.revoke_consent(id)
        .await
        .map_err(|e| format!("revoke_consent: {e}"))?;
    bank.revoke_consent(id)
        .await
        .map_err(|e| format!("revoking twice succeeds, got {e}"))?;
    match bank.accounts(&access).await {
        Err(ConnectorError::ConsentRequired { .. }) => {}
        other => {
            return Err(format!(
                "after revocation accounts need consent, got {other:?}"
            ))
        }
    }
    if caps.cards {
        match bank.cards(&access).await {
            Err(ConnectorError::ConsentRequired { .. }) => {}
            other => {
                return Err(format!(
                    "after revocation cards need consent, got {other:?}"
                ))
            }
        }
    }
    let status = bank
        .consent_status(&client, &held(Some(id.to_owned())))
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(status.status == ConsentStatus::Revoked, || {
        format!("a revoked consent reads Revoked, got {:?}", status.status)
    })
}

/// An account the bank closes drops out of `accounts` (or reads `Disabled`); the others stay.
pub async fn closed_account(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    _: &KitSettings,
    caps: &Capabilities,
) -> Outcome {
    if !caps.closure {
        return Ok(());
    }
    let (client, busiest) = control.busiest_account().await;
    let consent = authorize(bank, control, caps, &client).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let before = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts: {e}"))?;
    control.close_account(&busiest).await?;
    let after = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts after a closure: {e}"))?;
    check(
        after
            .iter()
            .all(|a| a.id != busiest || a.status == AccountStatus::Disabled),
        || format!("{busiest} was closed and is still listed as open"),
    )?;
    let others = |list: &[crate::AccountData]| -> Vec<String> {
        let mut ids: Vec<String> = list
            .iter()
            .filter(|a| a.id != busiest)
            .map(|a| a.id.clone())
            .collect();
        ids.sort_unstable();
        ids
    };
    check(others(&before) == others(&after), || {
        "closing one account changes no other".into()
    })
}

/// Runs the whole kit, resetting the bank before each check; returns every failure as
/// `bank: check: what went wrong`. Checks that need a capability the bank lacks pass without
/// running.
pub async fn run_all(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    settings: &KitSettings,
    caps: &Capabilities,
) -> Vec<String> {
    macro_rules! checks {
        ($($name:ident),* $(,)?) => {{
            let mut failures = Vec::new();
            $(
                control.reset().await;
                if let Err(e) = $name(bank, control, settings, caps).await {
                    failures.push(format!("{}: {}: {e}", bank.identity().code, stringify!($name)));
                }
            )*
            control.reset().await;
            failures
        }};
    }
    checks!(
        identity,
        unknown_client,
        happy_path,
        many_pages,
        date_range,
        empty_client,
        consent_pending_then_authorized,
        consent_rejected,
        consent_revoked,
        tokens_and_request_ids,
        token_expiry_mid_read,
        rate_limited,
        long_rate_limit_reset,
        oversized_body,
        server_errors,
        timeouts,
        malformed_bodies,
        unknown_fields,
        unstable_paging,
        shrinking_total,
        refused_rows,
        consent_revoked_mid_read,
        vanished_booking,
        refused_credentials,
        late_posting,
        product_agreements,
        cards,
        cards_need_their_permission,
        revocation,
        closed_account,
    )
}
