//! `client_month_totals`: booked money per client, currency, direction, month (`YYYYMM`, UTC),
//! category and bank. Maintained by `crate::aggregates` in the same database transaction as the
//! rows it sums.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_month_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub direction: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub bank_code: String,
    pub amount_minor: i64,
    pub tx_count: i64,
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
