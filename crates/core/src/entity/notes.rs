//! `notes`: what a manager noted about a client (a call, a meeting, an e-mail, a note).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub author_id: Option<i64>,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `body` as searches compare it.
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
