//! A partial index over the rows that may be a leg of an own-account transfer (transfers, and
//! rows naming a counterparty account): pairing after each sync reads a client's unpaired legs,
//! a few percent of its rows, without visiting the rest. The query repeats the predicate word
//! for word (`crm_core::ledger` checks it), as SQLite uses a partial index only then.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_transactions_transfer_legs")
            .await?;
        Ok(())
    }
}
