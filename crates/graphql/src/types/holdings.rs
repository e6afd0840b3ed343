//! What a client has and owes (`Position`) and the products they hold: deposit, loan and
//! credit-line agreements and cards (masked numbers only).

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::accounts::Position;
use crm_core::holdings::{Card, ProductAgreement};
use rust_decimal::Decimal;

use super::enums::*;
use super::objects::{bank_of, AccountObject, Bank, MoneyObject};
use crate::error::ApiResultExt;
use crate::loaders::{AccountById, CoreLoader};

/// What a client has and owes in one currency, over open accounts. `assets` is
/// `totalBalance`; `debts` is what is owed on loan and credit-card accounts and on overdrawn
/// accounts (positive).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Position")]
pub struct PositionObject {
    pub currency: String,
    /// Balances of open accounts in credit that are not loans or credit cards.
    pub assets: Decimal,
    /// What is owed on open loan and credit-card accounts and on overdrawn accounts, as a
    /// positive amount.
    pub debts: Decimal,
    /// Assets less debts.
    pub net: Decimal,
}

impl From<&Position> for PositionObject {
    fn from(p: &Position) -> Self {
        PositionObject {
            currency: p.currency.to_string(),
            assets: p.assets().amount(),
            debts: p.debts().amount(),
            net: p.net().amount(),
        }
    }
}

async fn account(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> async_graphql::Result<Option<AccountObject>> {
    let Some(id) = id else { return Ok(None) };
    let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
    Ok(loader
        .load_one(AccountById(id))
        .await
        .api()?
        .map(|a| AccountObject(Arc::clone(&a))))
}

/// A deposit, loan or credit line the client holds at a bank.
pub struct ProductAgreementObject(pub ProductAgreement);

#[Object(name = "ProductAgreement")]
impl ProductAgreementObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    /// The bank's agreement id.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn kind(&self) -> AgreementKind {
        self.0.kind.into()
    }
    /// The catalogue product's id (`Product.id`), when the bank says.
    async fn product_id(&self) -> Option<&str> {
        self.0.product_id.as_deref()
    }
    async fn product_name(&self) -> &str {
        &self.0.product_name
    }
    /// The principal at opening.
    async fn amount(&self) -> MoneyObject {
        MoneyObject::from(&self.0.amount)
    }
    /// Percent per year, when the bank says.
    async fn interest_rate(&self) -> Option<Decimal> {
        self.0.interest_rate
    }
    async fn opened_at(&self) -> Option<DateTime<Utc>> {
        self.0.opened_at
    }
    /// Maturity of a deposit, end of a loan's term.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    async fn status(&self) -> AgreementStatus {
        self.0.status.into()
    }
    /// The linked account's number with all but the last four digits hidden.
    async fn account_number_masked(&self) -> Option<&str> {
        self.0.account_number_masked.as_deref()
    }
    /// The agreement's account (its balance: `Account.balance`), when it is stored.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AccountObject>> {
        account(ctx, self.0.account_id).await
    }
}

/// A payment card. Only the masked number (`****1234`) is ever stored or shown.
pub struct CardObject(pub Card);

#[Object(name = "Card")]
impl CardObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    async fn kind(&self) -> CardKind {
        self.0.kind.into()
    }
    /// E.g. `Visa Classic`.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// `****1234`.
    async fn number_masked(&self) -> &str {
        &self.0.number_masked
    }
    /// As the bank says it (banks may not mark an expired card: see `expired`).
    async fn status(&self) -> CardStatus {
        self.0.status.into()
    }
    async fn expiry_year(&self) -> Option<i32> {
        self.0.expires.map(|(y, _)| y)
    }
    async fn expiry_month(&self) -> Option<i32> {
        self.0.expires.and_then(|(_, m)| i32::try_from(m).ok())
    }
    /// Whether the expiry month is over.
    async fn expired(&self) -> bool {
        self.0.expired_on(Utc::now().date_naive())
    }
    async fn daily_limit(&self) -> Option<MoneyObject> {
        self.0.daily_limit.as_ref().map(MoneyObject::from)
    }
    async fn monthly_limit(&self) -> Option<MoneyObject> {
        self.0.monthly_limit.as_ref().map(MoneyObject::from)
    }
    async fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.issued_at
    }
    /// The account the card spends from, when it is stored.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AccountObject>> {
        account(ctx, self.0.account_id).await
    }
}
