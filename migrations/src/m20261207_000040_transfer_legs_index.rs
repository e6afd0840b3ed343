//! Own-transfer pairing per run, cheaply.
//!
//! - A partial index over the rows that may be a leg of an own-account transfer (transfers,
//!   and rows naming a counterparty account): pairing after each sync reads a client's unpaired
//!   legs, a few percent of its rows, without visiting the rest. The query repeats the
//!   predicate word for word (`crm_core::ledger` checks it), as SQLite uses a partial index
//!   only then.
//! - `sync_runs.paired_at`: when a run finished its pairing step. A run pairs only around the
//!   rows it stored; an earlier run without `paired_at` (cut off, or its pairing failed) makes
//!   the next run pair every client's whole history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    PairedAt,
}

/// The rows the index holds; a query must state this predicate as one of its conditions.
pub const TRANSFER_LEG_PREDICATE: &str =
    "(category IN ('TRANSFERS_OUT', 'TRANSFERS_IN') OR counterparty_account IS NOT NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX idx_transactions_transfer_legs ON transactions (client_id, booked_at) \
                 WHERE {TRANSFER_LEG_PREDICATE}"
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncRuns::Table)
                    .add_column(
                        ColumnDef::new(SyncRuns::PairedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_transactions_transfer_legs")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncRuns::Table)
                    .drop_column(SyncRuns::PairedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
