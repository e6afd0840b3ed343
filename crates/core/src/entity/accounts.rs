//! `accounts`: bank accounts of clients, unique per bank by their external id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub link_id: Option<i64>,
    pub bank_code: String,
    pub external_id: String,
    pub name: String,
    pub account_type: String,
    pub account_subtype: Option<String>,
    pub currency: String,
    pub status: String,
    pub number: Option<String>,
    pub number_masked: Option<String>,
    pub balance_minor: Option<i64>,
    pub balance_type: Option<String>,
    pub balance_at: Option<DateTimeUtc>,
    pub opened_on: Option<Date>,
    /// `CURRENT`, `SAVINGS`, `DEPOSIT`, `CARD`, `CREDIT_CARD`, `LOAN` or `OTHER`; `NULL` for a
    /// row stored before kinds were kept (read from its sub-type until the next sync).
    pub kind: Option<String>,
    /// When the bank stopped listing the account (or said it is closed); `NULL` while open.
    pub closed_at: Option<DateTimeUtc>,
    /// The sync cursor of this account: its newest booked transaction stored. Saved in the same
    /// database transaction as the rows it covers.
    pub last_booked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clients::Entity",
        from = "Column::ClientId",
        to = "super::clients::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Clients,
    #[sea_orm(
        belongs_to = "super::bank_links::Entity",
        from = "Column::LinkId",
        to = "super::bank_links::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    BankLinks,
    #[sea_orm(has_many = "super::balances::Entity")]
    Balances,
    #[sea_orm(has_many = "super::transactions::Entity")]
    Transactions,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clients.def()
    }
}

impl Related<super::bank_links::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BankLinks.def()
    }
}

impl Related<super::balances::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Balances.def()
    }
}

impl Related<super::transactions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transactions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
