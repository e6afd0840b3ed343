//! `signals`: a moment a manager should act on, one row per fact (`dedupe_key`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub kind: String,
    pub severity: String,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub state: String,
    pub resolution: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    /// When the fact is due (a maturity, a consent's expiry, an expected salary); `NULL` for a
    /// fact that happened (a large inflow).
    pub fact_at: Option<DateTimeUtc>,
    pub task_id: Option<i64>,
    pub raised_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
