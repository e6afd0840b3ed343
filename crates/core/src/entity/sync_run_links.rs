//! `sync_run_links`: what each link's sync did within one run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_run_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub link_id: i64,
    pub client_id: i64,
    pub bank_code: String,
    /// `SUCCEEDED`, `PARTIAL`, `FAILED` or `SKIPPED`.
    pub outcome: String,
    /// Why it was not a plain success (`BACKOFF`, `CONSENT_REVOKED`, `NETWORK`, `SHORTFALL`, …).
    pub code: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub accounts: i32,
    pub added: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub shortfall: i64,
    pub finished_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
