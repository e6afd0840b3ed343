//! The manager's work beyond notes:
//! - `tasks`: something to do, for one user, about a client or not, with a due time (UTC), a
//!   priority, a status and where it came from (`MANUAL`, `SIGNAL`, `ASSISTANT`, with a link to
//!   the evidence). `(assignee_id, status, due_at)` serves "my open tasks due …";
//!   `(client_id, status)` a client's tasks.
//! - `client_events`: a client's timeline, written in the transaction of the change it records
//!   (a rolled-back change leaves none). `data` holds ids, codes and amounts (JSON) from which
//!   the one-line summary is written in the reader's language. `(client_id, occurred_at, id)`
//!   serves the newest-first pages. `actor_id` names a user without a foreign key: history
//!   keeps who acted even when that user's row is gone (the entry then says so).
//! - `clients.last_activity_at`: when the client's timeline last grew (set with each entry);
//!   indexed, so "recently changed clients of my book" is an index read.
//! - `users.time_zone`: the IANA zone whose day "today" means for the user (Europe/Moscow).
//! - `notes.search_text`: the note's text as searches compare it (lower case, `ё` as `е`);
//!   core fills it for the notes stored before ([`crate::NOTES_SEARCH_TEXT`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    ClientId,
    Title,
    Details,
    DueAt,
    AssigneeId,
    CreatorId,
    Priority,
    Status,
    Source,
    SourceRef,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum ClientEvents {
    Table,
    Id,
    ClientId,
    Kind,
    OccurredAt,
    RecordedAt,
    ActorId,
    ObjectType,
    ObjectId,
    Data,
}

#[derive(DeriveIden)]
enum Notes {
    Table,
    SearchText,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    LastActivityAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TimeZone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Tasks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer_null(Tasks::ClientId))
                    .col(string(Tasks::Title))
                    .col(text(Tasks::Details))
                    .col(timestamp_with_time_zone_null(Tasks::DueAt))
                    .col(big_integer_null(Tasks::AssigneeId))
                    .col(big_integer_null(Tasks::CreatorId))
                    .col(string(Tasks::Priority))
                    .col(string(Tasks::Status))
                    .col(string(Tasks::Source))
                    .col(string_null(Tasks::SourceRef))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Tasks::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::CreatorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_assignee_status_due")
                    .table(Tasks::Table)
                    .col(Tasks::AssigneeId)
                    .col(Tasks::Status)
                    .col(Tasks::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_client_status")
                    .table(Tasks::Table)
                    .col(Tasks::ClientId)
                    .col(Tasks::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClientEvents::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ClientEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(ClientEvents::ClientId))
                    .col(string(ClientEvents::Kind))
                    .col(timestamp_with_time_zone(ClientEvents::OccurredAt))
                    .col(timestamp_with_time_zone(ClientEvents::RecordedAt))
                    .col(big_integer_null(ClientEvents::ActorId))
                    .col(string_null(ClientEvents::ObjectType))
                    .col(big_integer_null(ClientEvents::ObjectId))
                    .col(text(ClientEvents::Data))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientEvents::Table, ClientEvents::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_client_events_client_occurred")
                    .table(ClientEvents::Table)
                    .col(ClientEvents::ClientId)
                    .col(ClientEvents::OccurredAt)
                    .col(ClientEvents::Id)
                    .to_owned(),
            )
            .await?;
        // Which event records an object (a note's entry goes with the note).
        manager
            .create_index(
                Index::create()
                    .name("idx_client_events_object")
                    .table(ClientEvents::Table)
                    .col(ClientEvents::ObjectType)
                    .col(ClientEvents::ObjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notes::Table)
                    .add_column(text(Notes::SearchText).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(timestamp_with_time_zone_null(Clients::LastActivityAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_clients_last_activity_at")
                    .table(Clients::Table)
                    .col(Clients::LastActivityAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string(Users::TimeZone).default("Europe/Moscow"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::TimeZone)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notes::Table)
                    .drop_column(Notes::SearchText)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_clients_last_activity_at")
                    .table(Clients::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(Clients::LastActivityAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ClientEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await
    }
}
