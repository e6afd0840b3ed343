//! Ending links from the CRM. `bank_links.unlinked_at`: a manager unlinked the bank (the link is
//! no longer synced; its data stays). `pending_revocations`: consents still to revoke at a bank,
//! written when a manager unlinks a bank or deletes a client and the bank could not be reached;
//! a background job retries until the bank confirms. Rows name the consent and the bank only
//! (the client may be deleted meanwhile).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PendingRevocations {
    Table,
    Id,
    BankCode,
    ConsentId,
    ClientId,
    Reason,
    Attempts,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    UnlinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .add_column(timestamp_with_time_zone_null(BankLinks::UnlinkedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PendingRevocations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PendingRevocations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string(PendingRevocations::BankCode))
                    .col(string(PendingRevocations::ConsentId))
                    // No foreign key: the client may be deleted while its consent waits.
                    .col(big_integer_null(PendingRevocations::ClientId))
                    .col(string(PendingRevocations::Reason))
                    .col(integer(PendingRevocations::Attempts).default(0))
                    .col(text_null(PendingRevocations::LastError))
                    .col(timestamp_with_time_zone(PendingRevocations::CreatedAt))
                    .col(timestamp_with_time_zone(PendingRevocations::UpdatedAt))
                    // Declared with the table: `ON CONFLICT (bank_code, consent_id)` relies on it.
                    .index(
                        Index::create()
                            .name("uq_pending_revocations_consent")
                            .col(PendingRevocations::BankCode)
                            .col(PendingRevocations::ConsentId)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PendingRevocations::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BankLinks::Table)
                    .drop_column(BankLinks::UnlinkedAt)
                    .to_owned(),
            )
            .await
    }
}
