//! `recategorisations`: re-categorisation runs started by category-rule changes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recategorisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `RULE_CREATED` or `RULE_DELETED`.
    pub trigger: String,
    /// The rule whose change started the run (no foreign key: a deleted rule is gone).
    pub rule_id: Option<i64>,
    /// `QUEUED`, `RUNNING`, `FINISHED` or `FAILED`.
    pub status: String,
    pub rows_scanned: i64,
    pub rows_changed: i64,
    pub requested_by: Option<i64>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
