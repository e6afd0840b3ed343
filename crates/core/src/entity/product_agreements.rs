//! `product_agreements`: deposits, loans and credit lines clients hold at banks (§10), unique per
//! bank by the bank's agreement id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub link_id: Option<i64>,
    /// The agreement's account, when the bank links one that is stored.
    pub account_id: Option<i64>,
    pub bank_code: String,
    pub external_id: String,
    /// `DEPOSIT`, `LOAN`, `CREDIT_LINE` or `OTHER`.
    pub kind: String,
    pub product_id: Option<String>,
    pub product_name: String,
    /// The principal at opening, positive.
    pub amount_minor: i64,
    pub currency: String,
    /// Percent per year, as exact decimal text.
    pub interest_rate: Option<String>,
    pub opened_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    /// `ACTIVE`, `CLOSED`, `DEFAULTED` or `OTHER`.
    pub status: String,
    /// The linked account's number with all but the last four digits hidden.
    pub account_number_masked: Option<String>,
    /// When the bank stopped listing the agreement; `NULL` while listed.
    pub delisted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
