//! Recategorisation runs: one row per re-categorisation of stored transactions after a category
//! rule changed, with its progress, so clients can see when it is done.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recategorisations {
    Table,
    Id,
    Trigger,
    RuleId,
    Status,
    RowsScanned,
    RowsChanged,
    RequestedBy,
    StartedAt,
    FinishedAt,
    Message,
}

#[derive(DeriveIden)]
enum CategoryRules {
    Table,
    Priority,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recategorisations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Recategorisations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string(Recategorisations::Trigger))
                    .col(big_integer_null(Recategorisations::RuleId))
                    .col(string(Recategorisations::Status))
                    .col(big_integer(Recategorisations::RowsScanned).default(0))
                    .col(big_integer(Recategorisations::RowsChanged).default(0))
                    .col(big_integer_null(Recategorisations::RequestedBy))
                    .col(timestamp_with_time_zone(Recategorisations::StartedAt))
                    .col(timestamp_with_time_zone_null(Recategorisations::FinishedAt))
                    .col(text_null(Recategorisations::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_category_rules_priority")
                    .table(CategoryRules::Table)
                    .col(CategoryRules::Priority)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_category_rules_priority")
                    .table(CategoryRules::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Recategorisations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
