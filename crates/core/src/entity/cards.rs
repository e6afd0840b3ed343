//! `cards`: clients' payment cards (§11), masked numbers only, unique per bank by the bank's
//! card id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cards")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub link_id: Option<i64>,
    /// The card's account, when the bank links one that is stored.
    pub account_id: Option<i64>,
    pub bank_code: String,
    pub external_id: String,
    /// `DEBIT`, `CREDIT` or `OTHER`.
    pub kind: String,
    pub name: Option<String>,
    /// `****1234`: the full number is never stored.
    pub number_masked: String,
    /// `ACTIVE`, `BLOCKED`, `EXPIRED` or `OTHER`.
    pub status: String,
    pub expiry_year: Option<i32>,
    pub expiry_month: Option<i32>,
    pub daily_limit_minor: Option<i64>,
    pub monthly_limit_minor: Option<i64>,
    pub currency: Option<String>,
    pub issued_at: Option<DateTimeUtc>,
    /// When the bank stopped listing the card; `NULL` while listed.
    pub delisted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
