//! Precomputed analytics: booked money per client, currency, direction and category, by calendar
//! month (with the bank, for portfolio totals) and by day (for day-granular ranges).
//!
//! Both tables hold only sums of booked, not replaced transactions. Core keeps them equal to a
//! `SUM` over `transactions` in the same database transaction as every write that changes a row
//! (see `crm_core::aggregates`), and fills them from the rows once when this migration is first
//! applied to a database that already has transactions. Keys are natural composite primary keys
//! in the order the reads filter by (client, currency, direction, period, ...), so a range of
//! months or days of one client is one index range.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ClientMonthTotals {
    Table,
    ClientId,
    Currency,
    Direction,
    /// `YYYYMM` (UTC).
    Month,
    Category,
    BankCode,
    AmountMinor,
    TxCount,
}

#[derive(DeriveIden)]
enum ClientDayTotals {
    Table,
    ClientId,
    Currency,
    Direction,
    /// `YYYYMMDD` (UTC).
    Day,
    Category,
    AmountMinor,
    TxCount,
}

fn not_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClientMonthTotals::Table)
                    .if_not_exists()
                    .col(not_null(ClientMonthTotals::ClientId).big_integer())
                    .col(not_null(ClientMonthTotals::Currency).string())
                    .col(not_null(ClientMonthTotals::Direction).string())
                    .col(not_null(ClientMonthTotals::Month).integer())
                    .col(not_null(ClientMonthTotals::Category).string())
                    .col(not_null(ClientMonthTotals::BankCode).string())
                    .col(not_null(ClientMonthTotals::AmountMinor).big_integer())
                    .col(not_null(ClientMonthTotals::TxCount).big_integer())
                    .primary_key(
                        Index::create()
                            .col(ClientMonthTotals::ClientId)
                            .col(ClientMonthTotals::Currency)
                            .col(ClientMonthTotals::Direction)
                            .col(ClientMonthTotals::Month)
                            .col(ClientMonthTotals::Category)
                            .col(ClientMonthTotals::BankCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_month_totals_client_id")
                            .from(ClientMonthTotals::Table, ClientMonthTotals::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        // Portfolio views read a month range over every client.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_client_month_totals_month")
                    .table(ClientMonthTotals::Table)
                    .col(ClientMonthTotals::Month)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientDayTotals::Table)
                    .if_not_exists()
                    .col(not_null(ClientDayTotals::ClientId).big_integer())
                    .col(not_null(ClientDayTotals::Currency).string())
                    .col(not_null(ClientDayTotals::Direction).string())
                    .col(not_null(ClientDayTotals::Day).integer())
                    .col(not_null(ClientDayTotals::Category).string())
                    .col(not_null(ClientDayTotals::AmountMinor).big_integer())
                    .col(not_null(ClientDayTotals::TxCount).big_integer())
                    .primary_key(
                        Index::create()
                            .col(ClientDayTotals::ClientId)
                            .col(ClientDayTotals::Currency)
                            .col(ClientDayTotals::Direction)
                            .col(ClientDayTotals::Day)
                            .col(ClientDayTotals::Category),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_day_totals_client_id")
                            .from(ClientDayTotals::Table, ClientDayTotals::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_client_day_totals_day")
                    .table(ClientDayTotals::Table)
                    .col(ClientDayTotals::Day)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ClientDayTotals::Table.into_iden(),
            ClientMonthTotals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
