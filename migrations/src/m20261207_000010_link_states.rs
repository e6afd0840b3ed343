//! Honest sync states: what each link's sync did within a run (`sync_run_links`: succeeded,
//! partial, failed or skipped, with a code and words a person can act on), the last error of a
//! link (code, message, time) and when its pending consent was asked for (so a request the
//! client never answers can be shown as such). Core also rebuilds the clients' search text
//! after this migration (phone numbers in one digit form, [`crate::CLIENT_SEARCH_TEXT`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    Id,
    LastErrorCode,
    LastErrorMessage,
    LastErrorAt,
    ConsentRequestedAt,
}

#[derive(DeriveIden)]
enum SyncRunLinks {
    Table,
    Id,
    RunId,
    LinkId,
    ClientId,
    BankCode,
    Outcome,
    Code,
    Message,
    Accounts,
    Added,
    Updated,
    Unchanged,
    Shortfall,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncRunLinks::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SyncRunLinks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(SyncRunLinks::RunId))
                    .col(big_integer(SyncRunLinks::LinkId))
                    .col(big_integer(SyncRunLinks::ClientId))
                    .col(string(SyncRunLinks::BankCode))
                    .col(string(SyncRunLinks::Outcome))
                    .col(string_null(SyncRunLinks::Code))
                    .col(text_null(SyncRunLinks::Message))
                    .col(integer(SyncRunLinks::Accounts).default(0))
                    .col(integer(SyncRunLinks::Added).default(0))
                    .col(integer(SyncRunLinks::Updated).default(0))
                    .col(integer(SyncRunLinks::Unchanged).default(0))
                    .col(big_integer(SyncRunLinks::Shortfall).default(0))
                    .col(timestamp_with_time_zone(SyncRunLinks::FinishedAt))
                    // One outcome per link and run, declared with the table (see the jobs
                    // migration for why not as a later index).
                    .index(
                        Index::create()
                            .name("uq_sync_run_links_run_link")
                            .col(SyncRunLinks::RunId)
                            .col(SyncRunLinks::LinkId)
                            .unique(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SyncRunLinks::Table, SyncRunLinks::RunId)
                            .to(SyncRuns::Table, SyncRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SyncRunLinks::Table, SyncRunLinks::LinkId)
                            .to(BankLinks::Table, BankLinks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_run_links_link")
                    .table(SyncRunLinks::Table)
                    .col(SyncRunLinks::LinkId)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(BankLinks::LastErrorCode)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(BankLinks::LastErrorMessage)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(BankLinks::LastErrorAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(BankLinks::ConsentRequestedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BankLinks::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            BankLinks::ConsentRequestedAt,
            BankLinks::LastErrorAt,
            BankLinks::LastErrorMessage,
            BankLinks::LastErrorCode,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BankLinks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(SyncRunLinks::Table).to_owned())
            .await
    }
}
