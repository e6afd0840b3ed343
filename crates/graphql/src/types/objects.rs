use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::accounts::Account;
use crm_core::banks::BankInfo;
use crm_core::domain::Money as CoreMoney;
use crm_core::links::BankLink;
use crm_core::transactions::Transaction;
use rust_decimal::Decimal;

use super::enums::*;
use crate::context::core;
use crate::error::{ApiError, ApiResultExt};
use crate::loaders::{AccountById, BankStatusOf, CoreLoader};

/// An exact amount with its currency.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Money")]
pub struct MoneyObject {
    pub amount: Decimal,
    /// ISO 4217 code, e.g. `RUB`.
    pub currency: String,
}

impl From<&CoreMoney> for MoneyObject {
    fn from(m: &CoreMoney) -> Self {
        MoneyObject {
            amount: m.amount(),
            currency: m.currency.to_string(),
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
    pub username: String,
    pub role: Role,
    /// A disabled user cannot sign in.
    pub disabled: bool,
    #[graphql(skip)]
    pub team_id: Option<i64>,
    /// Signed in with a temporary password: a new one must be chosen (`changePassword`)
    /// before anything else.
    pub password_change_required: bool,
    /// The IANA time zone of the user's day ("due today" means today there).
    pub time_zone: String,
}

/// A temporary password set by an administrator, shown this once.
#[derive(SimpleObject, Clone, Debug)]
pub struct TemporaryPassword {
    pub user: User,
    /// Give it to the user over a separate channel; they must change it at their next login.
    pub password: String,
}

#[async_graphql::ComplexObject]
impl User {
    /// The user's team (null: none).
    async fn team(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Option<super::TeamObject>> {
        let Some(id) = self.team_id else {
            return Ok(None);
        };
        Ok(ctx
            .data_unchecked::<async_graphql::dataloader::DataLoader<crate::loaders::CoreLoader>>()
            .load_one(crate::loaders::TeamById(id))
            .await
            .api()?
            .map(super::TeamObject))
    }
}

impl From<&crm_core::auth::User> for User {
    fn from(u: &crm_core::auth::User) -> Self {
        User {
            id: ID(u.id.to_string()),
            username: u.username.clone(),
            role: u.role.into(),
            disabled: u.disabled,
            team_id: u.team_id,
            password_change_required: u.must_change_password,
            time_zone: u.time_zone.clone(),
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct LoginPayload {
    pub user: User,
    /// When the session ends at the latest (it also ends after 30 idle minutes).
    pub expires_at: DateTime<Utc>,
}

/// A bank the CRM connects to.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Bank {
    /// Stable code such as `abank`.
    pub code: String,
    pub name: String,
}

#[ComplexObject]
impl Bank {
    /// The bank's product catalogue as it offers it (deposits, loans, cards), refreshed with
    /// each sync.
    async fn products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::Product>> {
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        let products = loader
            .load_one(crate::loaders::ProductsOf(self.code.clone()))
            .await
            .api()?
            .unwrap_or_default();
        Ok(products.iter().cloned().map(super::Product).collect())
    }

    /// How the bank is doing: links, consents, failures, last sync.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<BankStatus> {
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        let status = loader
            .load_one(BankStatusOf(self.code.clone()))
            .await
            .api()?
            .ok_or_else(|| async_graphql::Error::new("bank status missing"))?;
        Ok(status.into())
    }

    /// Consents the CRM asked this bank to revoke (a bank unlinked, a client deleted) that the
    /// bank has not confirmed yet: a background job keeps trying.
    async fn pending_revocations(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(crate::context::core(ctx)
            .api()?
            .sync()
            .pending_revocations()
            .await
            .api()?
            .remove(&self.code)
            .unwrap_or(0))
    }
}

/// A bank's health in one word.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crm_core::sync::BankHealth")]
pub enum BankHealth {
    /// No client is linked yet.
    Unused,
    /// The latest sync of every link worked.
    Ok,
    /// Some links are failing, or consents are revoked, rejected or expired.
    Degraded,
    /// Every link is failing, the bank refuses our credentials, or calls are paused after
    /// repeated failures.
    Unavailable,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct BankStatus {
    pub health: BankHealth,
    pub linked_clients: u64,
    pub authorized_consents: u64,
    /// Consent requests waiting for the client's answer.
    pub awaiting_consents: u64,
    /// Consent requests without an answer for `CONSENT_PENDING_MAX_DAYS` or more.
    pub unanswered_consents: u64,
    pub revoked_consents: u64,
    pub rejected_consents: u64,
    /// Consents past their expiry (banks keep calling them authorised).
    pub expired_consents: u64,
    /// Links whose latest sync (or consent call) failed.
    pub failing_links: u64,
    /// The bank refused our team credentials (`CLIENT_ID`, `CLIENT_SECRET`): nothing of it is
    /// read until they are fixed.
    pub credentials_refused: bool,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// While calls to the bank are paused after repeated failures: seconds until the next try.
    pub circuit_open_secs: Option<u64>,
}

impl From<crm_core::sync::BankStatus> for BankStatus {
    fn from(s: crm_core::sync::BankStatus) -> Self {
        BankStatus {
            health: s.health.into(),
            linked_clients: s.linked_clients,
            authorized_consents: s.authorized_consents,
            awaiting_consents: s.awaiting_consents,
            unanswered_consents: s.unanswered_consents,
            revoked_consents: s.revoked_consents,
            rejected_consents: s.rejected_consents,
            expired_consents: s.expired_consents,
            failing_links: s.failing_links,
            credentials_refused: s.credentials_refused,
            last_synced_at: s.last_synced_at,
            circuit_open_secs: s.circuit_open_secs,
        }
    }
}

impl From<BankInfo> for Bank {
    fn from(b: BankInfo) -> Self {
        Bank {
            code: b.code,
            name: b.name,
        }
    }
}

pub fn bank_of(ctx: &Context<'_>, code: &str) -> async_graphql::Result<Bank> {
    Ok(core(ctx).api()?.banks().describe(code).into())
}

/// A client's relationship with one bank: the bank's id for the client and the consent state.
pub struct BankLinkObject(pub BankLink);

#[Object(name = "BankLink")]
impl BankLinkObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    /// The client's id at that bank, e.g. `team200-1`.
    async fn external_client_id(&self) -> &str {
        &self.0.external_client_id
    }
    async fn consent_status(&self) -> ConsentStatus {
        self.0.consent_status.into()
    }
    async fn consent_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.consent_expires_at
    }
    /// What the last sync or consent check said, and what to do about it.
    async fn status_message(&self) -> Option<&str> {
        self.0.status_message.as_deref()
    }
    async fn last_synced_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_synced_at
    }
    /// Where the link stands, in one word (a pending consent becomes `CONSENT_NO_ANSWER` after
    /// `CONSENT_PENDING_MAX_DAYS`).
    async fn state(&self, ctx: &Context<'_>) -> async_graphql::Result<LinkState> {
        let max_days = core(ctx).api()?.sync().settings().consent_pending_max_days;
        Ok(self.0.state(Utc::now(), max_days).into())
    }
    /// What went wrong last: network and bank errors, consent problems, rows the bank could
    /// not give. Cleared by a complete sync.
    async fn last_error(&self) -> Option<LinkError> {
        self.0.last_error.as_ref().map(|e| LinkError {
            code: e.code.clone(),
            message: e.message.clone(),
            at: e.at,
        })
    }
    /// Consecutive failed syncs (reset by a successful one).
    async fn failure_count(&self) -> i32 {
        self.0.failure_count
    }
    /// No automatic sync before this time (backing off after failures).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
    /// When the pending consent request was made.
    async fn consent_requested_at(&self) -> Option<DateTime<Utc>> {
        self.0.consent_requested_at
    }
}

/// A bank link's last failure.
#[derive(SimpleObject, Clone, Debug)]
pub struct LinkError {
    /// `NETWORK`, `BANK_DOWN`, `RATE_LIMITED`, `CREDENTIALS`, `MALFORMED`, `REQUEST_REFUSED`,
    /// `FOREIGN_DATA`, `NOT_FOUND`, `INVALID`, `CONSENT_REQUIRED`, `INTERNAL`, `SHORTFALL`,
    /// `CONSENT_REVOKED`, `CONSENT_REJECTED`, `CONSENT_EXPIRED` or `CONSENT_NO_ANSWER`.
    pub code: String,
    /// What happened and what to do, in words.
    pub message: String,
    pub at: DateTime<Utc>,
}

/// Where a bank link stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crm_core::links::LinkState")]
pub enum LinkState {
    /// The consent works and the last sync read everything.
    Ok,
    /// The consent works; nothing synced yet.
    NotSyncedYet,
    /// The last sync missed rows the bank reported; the next one reads them again.
    Incomplete,
    /// The last attempt failed (see `lastError`); automatic syncs back off.
    Failing,
    /// No consent yet (or asking for one failed).
    ConsentMissing,
    /// Waiting for the client to approve the consent in the bank.
    ConsentWaiting,
    /// No answer from the client for `CONSENT_PENDING_MAX_DAYS`: ask again
    /// (`requestConsentAgain`) or talk to the client.
    ConsentNoAnswer,
    ConsentRevoked,
    ConsentRejected,
    ConsentExpired,
    /// A manager unlinked the bank (`unlinkBank`): no longer synced, the data stays;
    /// `relinkBank` asks for a new consent.
    Unlinked,
}

/// An account at a bank (or a manual account for hand-recorded entries).
pub struct AccountObject(pub Arc<Account>);

#[Object(name = "Account")]
impl AccountObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The bank's own id of the account (null for a manual account).
    async fn bank_account_id(&self) -> Option<&str> {
        (self.0.bank_code != crm_core::banks::MANUAL_BANK_CODE)
            .then_some(self.0.external_id.as_str())
    }
    /// The bank's account type, e.g. `Personal`.
    #[graphql(name = "type")]
    async fn account_type(&self) -> &str {
        &self.0.account_type
    }
    async fn subtype(&self) -> Option<&str> {
        self.0.account_subtype.as_deref()
    }
    async fn currency(&self) -> &str {
        self.0.currency.as_str()
    }
    /// `OPEN` or `CLOSED` (see `AccountStatus`).
    async fn status(&self) -> AccountStatus {
        self.0.status.into()
    }
    /// When the bank stopped listing the account (or said it is closed); null while open.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// What the account is, from the bank's account kind and its product agreements; the
    /// balance of a `LOAN` or `CREDIT_CARD` account is a debt, never part of `totalBalance`.
    async fn kind(&self) -> AccountKind {
        self.0.kind.into()
    }
    /// The day the bank says the account was opened, when it says.
    async fn opened_at(&self) -> Option<chrono::NaiveDate> {
        self.0.opened_on
    }
    /// The account number with all but the last four digits hidden.
    async fn number_masked(&self) -> Option<&str> {
        self.0.number_masked.as_deref()
    }
    /// The latest balance the bank reported (for manual accounts: the sum of their entries).
    async fn balance(&self) -> Option<MoneyObject> {
        self.0.balance.as_ref().map(MoneyObject::from)
    }
    async fn balance_at(&self) -> Option<DateTime<Utc>> {
        self.0.balance_at
    }
    /// The account's transactions, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        filter: Option<super::TransactionFilter>,
    ) -> async_graphql::Result<super::TransactionConnection> {
        let mut filter = filter.unwrap_or_default();
        filter.account_id = Some(ID(self.0.id.to_string()));
        super::TransactionConnection::load(ctx, self.0.client_id, first, after, filter).await
    }
}

/// One movement of money on an account.
pub struct TransactionObject(pub Transaction);

#[Object(name = "Transaction")]
impl TransactionObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn booked_at(&self) -> DateTime<Utc> {
        self.0.booked_at
    }
    /// The bank's own id of the transaction (null for a manual entry).
    async fn bank_transaction_id(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<String>> {
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        let account = loader
            .load_one(AccountById(self.0.account_id))
            .await
            .api()?;
        Ok(account
            .filter(|a| a.bank_code != crm_core::banks::MANUAL_BANK_CODE)
            .map(|_| self.0.external_id.clone()))
    }
    /// Always positive; see `direction`.
    async fn amount(&self) -> Decimal {
        self.0.amount.amount()
    }
    async fn currency(&self) -> &str {
        self.0.amount.currency.as_str()
    }
    async fn direction(&self) -> Direction {
        self.0.direction.into()
    }
    async fn status(&self) -> TransactionStatus {
        self.0.status.into()
    }
    /// The bank's own text, as received (untrusted: render as text).
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn merchant(&self) -> Option<&str> {
        self.0.merchant.as_deref()
    }
    /// ISO 18245 merchant category code.
    async fn mcc(&self) -> Option<&str> {
        self.0.mcc.as_deref()
    }
    async fn counterparty(&self) -> Option<&str> {
        self.0.counterparty.as_deref()
    }
    async fn card_masked(&self) -> Option<&str> {
        self.0.card_masked.as_deref()
    }
    async fn category(&self) -> Category {
        self.0.category.into()
    }
    async fn category_source(&self) -> CategorySource {
        self.0.category_source.into()
    }
    /// How sure the categoriser was of `category`, 0 to 100, from the layer that decided and
    /// how directly its match names the category (a ranking, not a probability); null when a
    /// person or the pairing of an own transfer decided, or for rows stored before it was kept.
    async fn category_confidence(&self) -> Option<i32> {
        self.0.category_confidence.map(i32::from)
    }
    /// The other leg when this is one side of a transfer between two accounts of the same
    /// client (`OWN_TRANSFER`); null otherwise.
    async fn transfer_peer(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<TransactionObject>> {
        let Some(id) = self.0.transfer_peer_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        Ok(loader
            .load_one(crate::loaders::TransactionById(id))
            .await
            .api()?
            .map(|t| TransactionObject(t.as_ref().clone())))
    }
    /// The client whose transaction it is (reached only through a read the client's book
    /// allowed).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<super::ClientObject> {
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        loader
            .load_one(crate::loaders::ClientById(self.0.client_id))
            .await
            .api()?
            .map(super::ClientObject)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "client {} of a transaction is missing",
                    self.0.client_id
                ))
                .into()
            })
    }
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<AccountObject> {
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        let account = loader
            .load_one(AccountById(self.0.account_id))
            .await
            .api()?
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "account {} of a transaction is missing",
                    self.0.account_id
                ))
            })
            .api()?;
        Ok(AccountObject(account))
    }
}

/// One reason behind a rating.
#[derive(SimpleObject, Clone, Debug)]
pub struct RatingFactor {
    /// Stable code: `income_level`, `income_regularity`, `savings_rate`, `liquidity_buffer`,
    /// `debt_service`, `overdrafts`, `returned_payments`, `cash_share`, `history`,
    /// `other_currencies`.
    pub code: String,
    /// The factor's name in Russian.
    pub name: String,
    pub name_en: String,
    /// The measured value, as people read it, in Russian (e.g. `35%`, `4,2 мес.`).
    pub value: String,
    /// The measured value in English (e.g. `35%`, `4.2 months`).
    pub value_en: String,
    /// Signed contribution to the score, in points (the score starts at 50).
    pub impact: f64,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Rating {
    pub grade: Grade,
    /// 0 to 100.
    pub score: i32,
    pub factors: Vec<RatingFactor>,
    pub computed_at: DateTime<Utc>,
}

impl From<&crm_core::ratings::Rating> for Rating {
    fn from(r: &crm_core::ratings::Rating) -> Self {
        Rating {
            grade: r.grade.into(),
            score: r.score,
            factors: r
                .factors
                .iter()
                .map(|f| RatingFactor {
                    code: f.code.clone(),
                    name: f.name.clone(),
                    name_en: f.name_en.clone(),
                    value: f.value.clone(),
                    value_en: f.value_en.clone(),
                    impact: f.impact,
                })
                .collect(),
            computed_at: r.computed_at,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A category of the taxonomy with its display names.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "CategoryInfo")]
pub struct CategoryInfo {
    pub code: Category,
    /// Russian name.
    pub name: String,
    pub name_en: String,
    /// Whether the category describes money in (`CREDIT`) or out (`DEBIT`); a category that
    /// fits both (`bothDirections`) says `DEBIT`.
    pub direction: Direction,
    /// Fits money in and out alike: `OWN_TRANSFER`, which is neither income nor spending.
    pub both_directions: bool,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct CategorySpend {
    pub category: Category,
    pub amount: Decimal,
    pub currency: String,
    pub count: u64,
    /// Part of the total spending in the range, 0 to 1.
    pub share: f64,
}

impl From<&crm_core::analytics::CategorySpend> for CategorySpend {
    fn from(r: &crm_core::analytics::CategorySpend) -> Self {
        CategorySpend {
            category: r.category.into(),
            amount: r.amount.amount(),
            currency: r.amount.currency.to_string(),
            count: r.count,
            share: (r.share * 10_000.0).round() / 10_000.0,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct MonthFlow {
    /// `YYYY-MM`.
    pub month: String,
    /// Income and expense leave out money moved between the client's own accounts.
    pub income: Decimal,
    pub expense: Decimal,
    pub net: Decimal,
    /// Moved out of one of the client's accounts into another of its accounts.
    pub moved_out: Decimal,
    /// Arrived in one of the client's accounts from another of its accounts.
    pub moved_in: Decimal,
    pub currency: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct ClientStats {
    pub total: u64,
    pub active: u64,
    pub inactive: u64,
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct TransactionStats {
    /// Every stored transaction, in every currency.
    pub count: u64,
    /// Booked income in `currency`.
    pub income: Decimal,
    /// Booked spending in `currency`.
    pub expense: Decimal,
    /// The base currency the amounts are in.
    pub currency: String,
}

#[ComplexObject]
impl TransactionStats {
    /// Income minus spending.
    async fn balance(&self) -> Decimal {
        self.income - self.expense
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Stats {
    pub clients: ClientStats,
    pub transactions: TransactionStats,
    /// Banks with at least one linked client.
    pub banks: u64,
    /// The clients' money per currency: balances of open accounts in credit that are not debts
    /// (loans, credit cards and overdrafts are in `debts`, closed accounts nowhere).
    pub balances: Vec<MoneyObject>,
    /// What clients owe on open loan and credit-card accounts and overdrafts per currency,
    /// positive.
    pub debts: Vec<MoneyObject>,
    /// Rated clients per grade (A, B, C).
    pub grades: Vec<super::GradeCount>,
}

impl From<crm_core::stats::Stats> for Stats {
    fn from(s: crm_core::stats::Stats) -> Self {
        Stats {
            clients: ClientStats {
                total: s.clients_total,
                active: s.clients_active,
                inactive: s.clients_inactive,
            },
            transactions: TransactionStats {
                count: s.transaction_count,
                income: s.income.amount(),
                expense: s.expense.amount(),
                currency: s.income.currency.to_string(),
            },
            banks: s.banks,
            balances: s.balances.iter().map(MoneyObject::from).collect(),
            debts: s.debts.iter().map(MoneyObject::from).collect(),
            grades: s.grades.iter().map(super::GradeCount::from).collect(),
        }
    }
}
