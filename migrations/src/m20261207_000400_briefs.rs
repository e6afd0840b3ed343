//! `briefs`: meeting briefs a manager generated for a client, kept as written.
//!
//! - `since`: the start of the period the brief's "what changed" covers (the last contact).
//! - `content`: JSON of the structured brief (every figure with where it comes from).
//! - `text`: the brief as markdown, in `lang` (`ru`/`en`); `polished` says whether the
//!   configured model reworded it (its figures checked equal to the analyst's).
//! - `(client_id, created_at)` serves a client's briefs, newest first.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Briefs {
    Table,
    Id,
    ClientId,
    AuthorId,
    CreatedAt,
    Lang,
    Since,
    Content,
    Text,
    Polished,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Briefs::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Briefs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(Briefs::ClientId))
                    .col(big_integer_null(Briefs::AuthorId))
                    .col(timestamp_with_time_zone(Briefs::CreatedAt))
                    .col(string(Briefs::Lang))
                    .col(timestamp_with_time_zone(Briefs::Since))
                    .col(text(Briefs::Content))
                    .col(text(Briefs::Text))
                    .col(boolean(Briefs::Polished))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Briefs::Table, Briefs::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Briefs::Table, Briefs::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_briefs_client_created")
                    .table(Briefs::Table)
                    .col(Briefs::ClientId)
                    .col(Briefs::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Briefs::Table).to_owned())
            .await
    }
}
