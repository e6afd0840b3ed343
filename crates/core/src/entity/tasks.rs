//! `tasks`: something a user is to do, about a client or not.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub details: String,
    pub due_at: Option<DateTimeUtc>,
    pub assignee_id: Option<i64>,
    pub creator_id: Option<i64>,
    pub priority: String,
    pub status: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
