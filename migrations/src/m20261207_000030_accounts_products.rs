//! Accounts the bank stops listing, debts, and the products a client holds.
//!
//! - `accounts.kind`: what the account is (`CURRENT`, `SAVINGS`, `DEPOSIT`, `CARD`,
//!   `CREDIT_CARD`, `LOAN`, `OTHER`), so a loan's balance is counted as a debt. Rows stored
//!   before keep `NULL` (read as their sub-type says) until the next sync, except the obvious
//!   loans and credit cards, set here so no total counts them as money in between.
//! - `accounts.closed_at`: when the bank stopped listing the account (or said it is closed);
//!   `NULL` while it is open. `accounts.status` says `OPEN`/`CLOSED` from now on (it said
//!   `ENABLED`/`DISABLED`).
//! - `product_agreements`: deposits, loans and credit lines (§10), unique per bank by the bank's
//!   agreement id; `delisted_at` once the bank stops listing one.
//! - `cards`: payment cards with masked numbers only (§11), unique per bank by the bank's card
//!   id; `delisted_at` likewise.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Kind,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProductAgreements {
    Table,
    Id,
    ClientId,
    LinkId,
    AccountId,
    BankCode,
    ExternalId,
    Kind,
    ProductId,
    ProductName,
    AmountMinor,
    Currency,
    InterestRate,
    OpenedAt,
    EndsAt,
    Status,
    AccountNumberMasked,
    DelistedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cards {
    Table,
    Id,
    ClientId,
    LinkId,
    AccountId,
    BankCode,
    ExternalId,
    Kind,
    Name,
    NumberMasked,
    Status,
    ExpiryYear,
    ExpiryMonth,
    DailyLimitMinor,
    MonthlyLimitMinor,
    Currency,
    IssuedAt,
    DelistedAt,
    CreatedAt,
    UpdatedAt,
}

fn key<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn foreign<T, C, RT, RC>(
    name: &str,
    (table, col): (T, C),
    (ref_table, ref_col): (RT, RC),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    RT: IntoIden + 'static,
    RC: IntoIden + 'static,
{
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(ref_table, ref_col)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::NoAction)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string_null(Accounts::Kind))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(timestamp_with_time_zone_null(Accounts::ClosedAt))
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "UPDATE accounts SET status = 'CLOSED', closed_at = updated_at WHERE status = 'DISABLED'",
        )
        .await?;
        conn.execute_unprepared("UPDATE accounts SET status = 'OPEN' WHERE status <> 'CLOSED'")
            .await?;
        conn.execute_unprepared(
            "UPDATE accounts SET kind = 'LOAN' WHERE LOWER(account_subtype) IN \
             ('loan', 'mortgage', 'creditline', 'credit_line', 'credit')",
        )
        .await?;
        conn.execute_unprepared(
            "UPDATE accounts SET kind = 'CREDIT_CARD' WHERE LOWER(account_subtype) IN \
             ('creditcard', 'credit_card', 'credit card')",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductAgreements::Table)
                    .if_not_exists()
                    .col(key(ProductAgreements::Id))
                    .col(big_integer(ProductAgreements::ClientId))
                    .col(big_integer_null(ProductAgreements::LinkId))
                    .col(big_integer_null(ProductAgreements::AccountId))
                    .col(string(ProductAgreements::BankCode))
                    .col(string(ProductAgreements::ExternalId))
                    .col(string(ProductAgreements::Kind))
                    .col(string_null(ProductAgreements::ProductId))
                    .col(string(ProductAgreements::ProductName))
                    .col(big_integer(ProductAgreements::AmountMinor))
                    .col(string(ProductAgreements::Currency))
                    .col(string_null(ProductAgreements::InterestRate))
                    .col(timestamp_with_time_zone_null(ProductAgreements::OpenedAt))
                    .col(timestamp_with_time_zone_null(ProductAgreements::EndsAt))
                    .col(string(ProductAgreements::Status))
                    .col(string_null(ProductAgreements::AccountNumberMasked))
                    .col(timestamp_with_time_zone_null(ProductAgreements::DelistedAt))
                    .col(timestamp_with_time_zone(ProductAgreements::CreatedAt))
                    .col(timestamp_with_time_zone(ProductAgreements::UpdatedAt))
                    // Declared with the table: the upsert relies on it.
                    .index(
                        Index::create()
                            .name("ux_product_agreements_bank_code_external_id")
                            .unique()
                            .col(ProductAgreements::BankCode)
                            .col(ProductAgreements::ExternalId),
                    )
                    .foreign_key(&mut foreign(
                        "fk_product_agreements_client_id",
                        (ProductAgreements::Table, ProductAgreements::ClientId),
                        (Clients::Table, Clients::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign(
                        "fk_product_agreements_link_id",
                        (ProductAgreements::Table, ProductAgreements::LinkId),
                        (BankLinks::Table, BankLinks::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign(
                        "fk_product_agreements_account_id",
                        (ProductAgreements::Table, ProductAgreements::AccountId),
                        (Accounts::Table, Accounts::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_product_agreements_client_id")
                    .table(ProductAgreements::Table)
                    .col(ProductAgreements::ClientId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Cards::Table)
                    .if_not_exists()
                    .col(key(Cards::Id))
                    .col(big_integer(Cards::ClientId))
                    .col(big_integer_null(Cards::LinkId))
                    .col(big_integer_null(Cards::AccountId))
                    .col(string(Cards::BankCode))
                    .col(string(Cards::ExternalId))
                    .col(string(Cards::Kind))
                    .col(string_null(Cards::Name))
                    .col(string(Cards::NumberMasked))
                    .col(string(Cards::Status))
                    .col(integer_null(Cards::ExpiryYear))
                    .col(integer_null(Cards::ExpiryMonth))
                    .col(big_integer_null(Cards::DailyLimitMinor))
                    .col(big_integer_null(Cards::MonthlyLimitMinor))
                    .col(string_null(Cards::Currency))
                    .col(timestamp_with_time_zone_null(Cards::IssuedAt))
                    .col(timestamp_with_time_zone_null(Cards::DelistedAt))
                    .col(timestamp_with_time_zone(Cards::CreatedAt))
                    .col(timestamp_with_time_zone(Cards::UpdatedAt))
                    .index(
                        Index::create()
                            .name("ux_cards_bank_code_external_id")
                            .unique()
                            .col(Cards::BankCode)
                            .col(Cards::ExternalId),
                    )
                    .foreign_key(&mut foreign(
                        "fk_cards_client_id",
                        (Cards::Table, Cards::ClientId),
                        (Clients::Table, Clients::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign(
                        "fk_cards_link_id",
                        (Cards::Table, Cards::LinkId),
                        (BankLinks::Table, BankLinks::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign(
                        "fk_cards_account_id",
                        (Cards::Table, Cards::AccountId),
                        (Accounts::Table, Accounts::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cards_client_id")
                    .table(Cards::Table)
                    .col(Cards::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Cards::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProductAgreements::Table).to_owned())
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared("UPDATE accounts SET status = 'DISABLED' WHERE status = 'CLOSED'")
            .await?;
        conn.execute_unprepared("UPDATE accounts SET status = 'ENABLED' WHERE status = 'OPEN'")
            .await?;
        for column in [Accounts::ClosedAt, Accounts::Kind] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Accounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
