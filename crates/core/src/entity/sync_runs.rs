//! `sync_runs`: history of bank synchronisations and their outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub trigger: String,
    pub bank_code: Option<String>,
    pub client_id: Option<i64>,
    pub status: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub accounts: i32,
    pub added: i32,
    pub updated: i32,
    pub unchanged: i32,
    #[sea_orm(column_type = "Text")]
    pub errors: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    /// When the run's own-transfer pairing step finished; `None` for a run cut off before it
    /// (or still running), which makes the next run pair every client's whole history.
    pub paired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clients::Entity",
        from = "Column::ClientId",
        to = "super::clients::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Clients,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clients.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
