//! `client_events`: a client's timeline, one row per thing that happened, written with the change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub actor_id: Option<i64>,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
