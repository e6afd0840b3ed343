//! The "needs review" list: the rows whose category the categoriser was least sure of. They
//! are a minority of a book's rows, so the list reads them through an index on the confidence
//! (a range below the bar) instead of visiting every row of the book.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Transactions {
    Table,
    CategoryConfidence,
    BookedAt,
}

const INDEX: &str = "idx_transactions_category_confidence";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Transactions::Table)
                    .col(Transactions::CategoryConfidence)
                    .col(Transactions::BookedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Transactions::Table)
                    .to_owned(),
            )
            .await
    }
}
