//! `pending_revocations`: consents still to revoke at a bank that could not be reached.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_revocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bank_code: String,
    pub consent_id: String,
    /// The client whose consent it is, while the client exists (no foreign key).
    pub client_id: Option<i64>,
    /// `unlink` or `client_deleted`.
    pub reason: String,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
