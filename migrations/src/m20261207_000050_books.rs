//! Books of clients: who may see and change which client.
//!
//! - `teams` (name, lead) and `users.team_id`: a team lead sees the team's clients, a viewer the
//!   clients of the team it belongs to (read only).
//! - `clients.owner_id` (the manager whose book it is) and `clients.team_id` (the owner's team
//!   when the client was assigned, so the access filter is one indexed column, never a join).
//!   Clients stored before books existed have no owner: administrators see them and assign them.
//! - `client_shares`: a client shared with one more user, until a moment or for good.
//! - `users.must_change_password`: set by an administrator's password reset; the temporary
//!   password must be changed at the next login.
//!
//! Indexes serve the access filter of the client list: `(owner_id, sort_name)` and
//! `(team_id, sort_name)` give a manager's book in list order; `client_shares (user_id)` the
//! clients shared with someone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    LeadUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TeamId,
    MustChangePassword,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    OwnerId,
    TeamId,
    SortName,
}

#[derive(DeriveIden)]
enum ClientShares {
    Table,
    Id,
    ClientId,
    UserId,
    Until,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Teams::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string(Teams::Name))
                    // No foreign key: a lead who is deleted leaves a team without a lead.
                    .col(big_integer_null(Teams::LeadUserId))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .index(
                        Index::create()
                            .name("uq_teams_name")
                            .col(Teams::Name)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_teams_lead_user_id")
                    .table(Teams::Table)
                    .col(Teams::LeadUserId)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::TeamId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::MustChangePassword).default(false))
                    .to_owned(),
            )
            .await?;
        for column in [Clients::OwnerId, Clients::TeamId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            ("idx_clients_owner_id_sort_name", Clients::OwnerId),
            ("idx_clients_team_id_sort_name", Clients::TeamId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Clients::Table)
                        .col(column)
                        .col(Clients::SortName)
                        .col(Clients::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ClientShares::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ClientShares::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(ClientShares::ClientId))
                    .col(big_integer(ClientShares::UserId))
                    .col(timestamp_with_time_zone_null(ClientShares::Until))
                    .col(big_integer_null(ClientShares::CreatedBy))
                    .col(timestamp_with_time_zone(ClientShares::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientShares::Table, ClientShares::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientShares::Table, ClientShares::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // Declared with the table: sharing again upserts on it.
                    .index(
                        Index::create()
                            .name("uq_client_shares_client_user")
                            .col(ClientShares::ClientId)
                            .col(ClientShares::UserId)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_client_shares_user_id")
                    .table(ClientShares::Table)
                    .col(ClientShares::UserId)
                    .col(ClientShares::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClientShares::Table).to_owned())
            .await?;
        for name in [
            "idx_clients_owner_id_sort_name",
            "idx_clients_team_id_sort_name",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Clients::Table).to_owned())
                .await?;
        }
        for column in [Clients::OwnerId, Clients::TeamId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Users::TeamId, Users::MustChangePassword] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Teams::Table).to_owned())
            .await
    }
}
