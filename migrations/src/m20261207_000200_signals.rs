//! `signals`: moments a manager should act on (a consent about to lapse, a deposit maturing, a
//! salary that stopped or moved to another bank, a large inflow, a rating downgrade, …).
//!
//! - `dedupe_key` names the fact (`DEPOSIT_MATURING:agreement:17:2027-01-05`): unique, declared
//!   with the table, so a rerun of the computation or two replicas computing at once insert a
//!   fact once (`ON CONFLICT DO NOTHING`), and a fact a manager dismissed is not raised again.
//! - `state`: `OPEN`, `ACKNOWLEDGED`, `DONE`, `DISMISSED`; `resolution` says how it closed
//!   (`TASK_DONE`, `NO_LONGER_APPLIES`, `DISMISSED`) and `reason` why a person dismissed it.
//! - `evidence`: JSON of the figures and the ids of the rows they come from (transactions,
//!   agreements, links, accounts, timeline entries); no free text a person wrote.
//! - `task_id`: the task the signal's rule created for the client's owner; completing it
//!   closes the signal.
//! - `(client_id, state)` serves a client's open signals; `(state, raised_at)` a book's list.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Signals {
    Table,
    Id,
    ClientId,
    Kind,
    Severity,
    DedupeKey,
    State,
    Resolution,
    Reason,
    Evidence,
    FactAt,
    TaskId,
    RaisedAt,
    UpdatedAt,
    ClosedAt,
    ClosedBy,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Signals::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Signals::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(Signals::ClientId))
                    .col(string(Signals::Kind))
                    .col(string(Signals::Severity))
                    .col(string(Signals::DedupeKey).unique_key())
                    .col(string(Signals::State))
                    .col(string_null(Signals::Resolution))
                    .col(text_null(Signals::Reason))
                    .col(text(Signals::Evidence))
                    .col(timestamp_with_time_zone_null(Signals::FactAt))
                    .col(big_integer_null(Signals::TaskId))
                    .col(timestamp_with_time_zone(Signals::RaisedAt))
                    .col(timestamp_with_time_zone(Signals::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Signals::ClosedAt))
                    .col(big_integer_null(Signals::ClosedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Signals::Table, Signals::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Signals::Table, Signals::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signals_client_state")
                    .table(Signals::Table)
                    .col(Signals::ClientId)
                    .col(Signals::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signals_state_raised")
                    .table(Signals::Table)
                    .col(Signals::State)
                    .col(Signals::RaisedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signals_task")
                    .table(Signals::Table)
                    .col(Signals::TaskId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Signals::Table).to_owned())
            .await
    }
}
