//! `users`: operators of the CRM.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub password_hash: String,
    pub role: String,
    #[sea_orm(default_value = false)]
    pub disabled: bool,
    pub team_id: Option<i64>,
    /// Set by a password reset: the temporary password must be changed at the next login.
    #[sea_orm(default_value = false)]
    pub must_change_password: bool,
    /// The IANA time zone whose day "today" is for the user (`Europe/Moscow` by default).
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
    #[sea_orm(has_many = "super::conversations::Entity")]
    Conversations,
    #[sea_orm(has_many = "super::category_rules::Entity")]
    CategoryRules,
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversations.def()
    }
}

impl Related<super::category_rules::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CategoryRules.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
