//! The "needs review" list: the rows whose category the categoriser was least sure of. They
//! are a minority of the rows, so the list reads them through indexes on the confidence (a
//! range below the bar) instead of visiting every row: per client for a book (a manager's list
//! reads only its clients' unsure rows), and across all clients for an administrator's.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Transactions {
    Table,
    ClientId,
    CategoryConfidence,
}

const BOOK_INDEX: &str = "idx_transactions_client_id_category_confidence";
const ALL_INDEX: &str = "idx_transactions_category_confidence";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BOOK_INDEX)
                    .table(Transactions::Table)
                    .col(Transactions::ClientId)
                    .col(Transactions::CategoryConfidence)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ALL_INDEX)
                    .table(Transactions::Table)
                    .col(Transactions::CategoryConfidence)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [BOOK_INDEX, ALL_INDEX] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Transactions::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
