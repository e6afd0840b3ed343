//! `client_totals`: running totals of a client's transactions per currency.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    pub tx_count: i64,
    pub income_minor: i64,
    pub expense_minor: i64,
    pub last_booked_at: Option<DateTimeUtc>,
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
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clients.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
