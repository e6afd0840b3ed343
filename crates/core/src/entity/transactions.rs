//! `transactions`: booked and pending account transactions, unique per account by external id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub account_id: i64,
    pub external_id: String,
    pub booked_at: DateTimeUtc,
    /// `YYYYMM` of `booked_at`, for monthly aggregates.
    pub booked_month: i32,
    pub value_at: Option<DateTimeUtc>,
    pub amount_minor: i64,
    pub currency: String,
    pub direction: String,
    pub status: String,
    pub raw_status: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub merchant: Option<String>,
    pub mcc: Option<String>,
    pub bank_tx_code: Option<String>,
    pub counterparty: Option<String>,
    pub card_masked: Option<String>,
    /// Lower-cased, ё-folded text that search matches against (SQLite folds only ASCII).
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    pub category: String,
    pub category_source: String,
    /// How sure the categoriser was, 0 to 100; empty when a person or the transfer pairing
    /// decided.
    pub category_confidence: Option<i16>,
    /// The transaction that superseded this one (no foreign key).
    pub replaced_by_id: Option<i64>,
    /// The other leg of a transfer between two accounts of this client (both legs point at each
    /// other; no foreign key).
    pub transfer_peer_id: Option<i64>,
    /// The account the money went to or came from, as the bank gave it.
    pub counterparty_account: Option<String>,
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
        belongs_to = "super::accounts::Entity",
        from = "Column::AccountId",
        to = "super::accounts::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Accounts,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clients.def()
    }
}

impl Related<super::accounts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Accounts.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
