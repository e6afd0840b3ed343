//! `bank_links`: a client's connection to one bank (consent and sync state).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub bank_code: String,
    pub external_client_id: String,
    pub consent_id: Option<String>,
    pub consent_request_id: Option<String>,
    pub consent_status: String,
    pub consent_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_message: Option<String>,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_booked_at: Option<DateTimeUtc>,
    /// Consecutive failed syncs of this link (reset by a successful one).
    pub failure_count: i32,
    /// No automatic sync before this time (exponential backoff after failures).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A consent renewal awaiting the client's approval; the current consent is used meanwhile.
    pub renewal_request_id: Option<String>,
    /// The last failure's code (`NETWORK`, `BANK_DOWN`, `CONSENT_REQUIRED`, …); cleared by a
    /// successful sync.
    pub last_error_code: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error_message: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
    /// When the pending consent request was made (to tell "no answer from the client").
    pub consent_requested_at: Option<DateTimeUtc>,
    /// A manager unlinked the bank: no longer synced (its data stays).
    pub unlinked_at: Option<DateTimeUtc>,
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
    #[sea_orm(has_many = "super::accounts::Entity")]
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
