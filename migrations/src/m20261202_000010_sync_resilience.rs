//! Sync resilience: a cursor per account (saved in the same database transaction as that
//! account's rows) and a retry budget per bank link that survives restarts (consecutive
//! failures and the earliest time the next automatic attempt may run), and the request id of a
//! consent renewal the client has not approved yet (the current consent stays in use meanwhile).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    LastBookedAt,
}

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    FailureCount,
    NextAttemptAt,
    RenewalRequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(
                        ColumnDef::new(Accounts::LastBookedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .add_column(
                        ColumnDef::new(BankLinks::FailureCount)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .add_column(
                        ColumnDef::new(BankLinks::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .add_column(ColumnDef::new(BankLinks::RenewalRequestId).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .drop_column(BankLinks::RenewalRequestId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .drop_column(BankLinks::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .drop_column(BankLinks::FailureCount)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(Accounts::LastBookedAt)
                    .to_owned(),
            )
            .await
    }
}
