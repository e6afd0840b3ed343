//! `clients`: the bank customers the CRM is about.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: String,
    /// Lower-cased, ё-folded text that search matches against (SQLite folds only ASCII).
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    /// The name lower-cased with ё folded to е: the list order (alphabetical the Russian way).
    #[sea_orm(column_type = "Text")]
    pub sort_name: String,
    /// The manager whose book the client is in; `None` for clients from before books (only
    /// administrators see those until they are assigned).
    pub owner_id: Option<i64>,
    /// The owner's team when the client was assigned (the access filter's column).
    pub team_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the client's timeline last grew.
    pub last_activity_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::bank_links::Entity")]
    BankLinks,
    #[sea_orm(has_many = "super::accounts::Entity")]
    Accounts,
    #[sea_orm(has_many = "super::transactions::Entity")]
    Transactions,
    #[sea_orm(has_many = "super::client_totals::Entity")]
    ClientTotals,
    #[sea_orm(has_one = "super::ratings::Entity")]
    Ratings,
    #[sea_orm(has_many = "super::sync_runs::Entity")]
    SyncRuns,
    #[sea_orm(has_many = "super::conversations::Entity")]
    Conversations,
}

impl Related<super::bank_links::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BankLinks.def()
    }
}

impl Related<super::accounts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Accounts.def()
    }
}

impl Related<super::transactions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transactions.def()
    }
}

impl Related<super::client_totals::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ClientTotals.def()
    }
}

impl Related<super::ratings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Ratings.def()
    }
}

impl Related<super::sync_runs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SyncRuns.def()
    }
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversations.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
