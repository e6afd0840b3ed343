//! Own-account transfers: the two legs of a transfer between accounts of one client are paired
//! (`transfer_peer_id`, each leg pointing at the other; no foreign key, as `replaced_by_id`), and
//! the bank's counterparty account number is kept when the bank gives it (`counterparty_account`,
//! the strongest evidence that a transfer went to the client's own account).
//! (A client's candidates are found through `idx_transactions_client_id_booked_at_id`.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Transactions {
    Table,
    TransferPeerId,
    CounterpartyAccount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .add_column(
                        ColumnDef::new(Transactions::TransferPeerId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transactions::Table)
                    .add_column(
                        ColumnDef::new(Transactions::CounterpartyAccount)
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Transactions::CounterpartyAccount,
            Transactions::TransferPeerId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transactions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
