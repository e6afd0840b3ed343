//! `briefs`: a meeting brief as generated for a client.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "briefs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: i64,
    pub author_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// `ru` or `en`.
    pub lang: String,
    /// The start of the period "what changed" covers.
    pub since: DateTimeUtc,
    /// The structured brief (JSON).
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// The brief as markdown.
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// Whether the configured model reworded the analyst's text.
    pub polished: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
