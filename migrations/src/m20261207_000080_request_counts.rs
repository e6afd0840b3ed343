//! `request_counts`: how many API requests each user made in each minute, across every replica
//! of the service. Each replica adds its own counts about once a second (one upsert per active
//! user) and reads the sum back, so a per-user rate limit holds for the whole deployment
//! without a database write per request. Old minutes are deleted as the counter moves on.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestCounts {
    Table,
    UserId,
    Minute,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestCounts::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RequestCounts::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    // Minutes since the Unix epoch (UTC).
                    .col(
                        ColumnDef::new(RequestCounts::Minute)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RequestCounts::Count)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RequestCounts::UserId)
                            .col(RequestCounts::Minute),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestCounts::Table).to_owned())
            .await
    }
}
