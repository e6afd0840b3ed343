//! The initial schema: every table of AI-CRM.
//!
//! Conventions: surrogate keys are `BIGINT` auto-increment primary keys (sea-query writes them as
//! `integer PRIMARY KEY AUTOINCREMENT` on SQLite, which is a 64-bit rowid there, and as
//! `bigserial` on PostgreSQL); timestamps are `timestamp with time zone`; money is `BIGINT` minor
//! units. Indexes are named `idx_<table>_<cols>`, unique ones `ux_<table>_<cols>`, foreign keys
//! `fk_<table>_<col>`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// ---------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    DisplayName,
    Email,
    Phone,
    Status,
    SearchText,
    SortName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    Id,
    ClientId,
    BankCode,
    ExternalClientId,
    ConsentId,
    ConsentRequestId,
    ConsentStatus,
    ConsentExpiresAt,
    StatusMessage,
    LastSyncedAt,
    LastBookedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    ClientId,
    LinkId,
    BankCode,
    ExternalId,
    Name,
    AccountType,
    AccountSubtype,
    Currency,
    Status,
    Number,
    NumberMasked,
    BalanceMinor,
    BalanceType,
    BalanceAt,
    OpenedOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Balances {
    Table,
    Id,
    AccountId,
    BalanceType,
    AmountMinor,
    Currency,
    AsOf,
    FetchedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    SearchText,
    Id,
    ClientId,
    AccountId,
    ExternalId,
    BookedAt,
    BookedMonth,
    ValueAt,
    AmountMinor,
    Currency,
    Direction,
    Status,
    RawStatus,
    Description,
    Merchant,
    Mcc,
    BankTxCode,
    Counterparty,
    CardMasked,
    Category,
    CategorySource,
    ReplacedById,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClientTotals {
    Table,
    ClientId,
    Currency,
    TxCount,
    IncomeMinor,
    ExpenseMinor,
    LastBookedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    BankCode,
    ExternalId,
    ProductType,
    Name,
    Description,
    InterestRate,
    MinAmountMinor,
    MaxAmountMinor,
    TermMonths,
    Currency,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CategoryRules {
    Table,
    Id,
    Pattern,
    Field,
    Category,
    Priority,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Ratings {
    Table,
    ClientId,
    Grade,
    Score,
    Factors,
    ComputedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    Trigger,
    BankCode,
    ClientId,
    Status,
    StartedAt,
    FinishedAt,
    Accounts,
    Added,
    Updated,
    Unchanged,
    Errors,
    Message,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    ClientId,
    UserId,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssistantMessages {
    Table,
    Id,
    ConversationId,
    Role,
    Content,
    Model,
    PromptTokens,
    CompletionTokens,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    UserId,
    Username,
    Action,
    Entity,
    EntityId,
    Details,
    PrevHash,
    Hash,
}

// ---------------------------------------------------------------------------------------------
// Column helpers
// ---------------------------------------------------------------------------------------------

/// `BIGINT` auto-increment primary key.
fn id<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn string<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

fn string_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}

fn text<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn integer<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().to_owned()
}

fn integer_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().null().to_owned()
}

fn bigint<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn bigint_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().to_owned()
}

fn tstz<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn tstz_null<T: IntoIden + 'static>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// A foreign key named `fk_<table>_<col>`.
fn fk<T, C, RT, RC>(
    name: &str,
    table: T,
    col: C,
    ref_table: RT,
    ref_col: RC,
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

/// A plain index; columns are added by the caller.
fn index<T: IntoIden + 'static>(name: &str, table: T) -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .name(name)
        .table(table)
        .to_owned()
}

/// A unique index; columns are added by the caller.
fn unique<T: IntoIden + 'static>(name: &str, table: T) -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .unique()
        .name(name)
        .table(table)
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// The migration
// ---------------------------------------------------------------------------------------------

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // users
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(id(Users::Id))
                    .col(string(Users::Username))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(
                        ColumnDef::new(Users::Disabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(tstz(Users::CreatedAt))
                    .col(tstz(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique("ux_users_username", Users::Table)
                    .col(Users::Username)
                    .to_owned(),
            )
            .await?;

        // sessions
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(id(Sessions::Id))
                    .col(string(Sessions::TokenHash))
                    .col(bigint(Sessions::UserId))
                    .col(tstz(Sessions::CreatedAt))
                    .col(tstz(Sessions::LastSeenAt))
                    .col(tstz(Sessions::ExpiresAt))
                    .col(string_null(Sessions::Ip))
                    .col(string_null(Sessions::UserAgent))
                    .foreign_key(&mut fk(
                        "fk_sessions_user_id",
                        Sessions::Table,
                        Sessions::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique("ux_sessions_token_hash", Sessions::Table)
                    .col(Sessions::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_sessions_user_id", Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        // login_throttle
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LoginThrottle::Key)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(integer(LoginThrottle::Failures))
                    .col(tstz(LoginThrottle::WindowStartedAt))
                    .col(tstz_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            )
            .await?;

        // clients
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .if_not_exists()
                    .col(id(Clients::Id))
                    .col(string(Clients::DisplayName))
                    .col(string_null(Clients::Email))
                    .col(string_null(Clients::Phone))
                    .col(string(Clients::Status))
                    .col(text(Clients::SearchText))
                    .col(text(Clients::SortName))
                    .col(tstz(Clients::CreatedAt))
                    .col(tstz(Clients::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_clients_sort_name_id", Clients::Table)
                    .col(Clients::SortName)
                    .col(Clients::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_clients_status", Clients::Table)
                    .col(Clients::Status)
                    .to_owned(),
            )
            .await?;

        // bank_links
        manager
            .create_table(
                Table::create()
                    .table(BankLinks::Table)
                    .if_not_exists()
                    .col(id(BankLinks::Id))
                    .col(bigint(BankLinks::ClientId))
                    .col(string(BankLinks::BankCode))
                    .col(string(BankLinks::ExternalClientId))
                    .col(string_null(BankLinks::ConsentId))
                    .col(string_null(BankLinks::ConsentRequestId))
                    .col(string(BankLinks::ConsentStatus))
                    .col(tstz_null(BankLinks::ConsentExpiresAt))
                    .col(text_null(BankLinks::StatusMessage))
                    .col(tstz_null(BankLinks::LastSyncedAt))
                    .col(tstz_null(BankLinks::LastBookedAt))
                    .col(tstz(BankLinks::CreatedAt))
                    .col(tstz(BankLinks::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_bank_links_client_id",
                        BankLinks::Table,
                        BankLinks::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique(
                    "ux_bank_links_bank_code_external_client_id",
                    BankLinks::Table,
                )
                .col(BankLinks::BankCode)
                .col(BankLinks::ExternalClientId)
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_bank_links_client_id", BankLinks::Table)
                    .col(BankLinks::ClientId)
                    .to_owned(),
            )
            .await?;

        // accounts
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .if_not_exists()
                    .col(id(Accounts::Id))
                    .col(bigint(Accounts::ClientId))
                    .col(bigint_null(Accounts::LinkId))
                    .col(string(Accounts::BankCode))
                    .col(string(Accounts::ExternalId))
                    .col(string(Accounts::Name))
                    .col(string(Accounts::AccountType))
                    .col(string_null(Accounts::AccountSubtype))
                    .col(string(Accounts::Currency))
                    .col(string(Accounts::Status))
                    .col(string_null(Accounts::Number))
                    .col(string_null(Accounts::NumberMasked))
                    .col(bigint_null(Accounts::BalanceMinor))
                    .col(string_null(Accounts::BalanceType))
                    .col(tstz_null(Accounts::BalanceAt))
                    .col(ColumnDef::new(Accounts::OpenedOn).date().null())
                    .col(tstz(Accounts::CreatedAt))
                    .col(tstz(Accounts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_accounts_client_id",
                        Accounts::Table,
                        Accounts::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_accounts_link_id",
                        Accounts::Table,
                        Accounts::LinkId,
                        BankLinks::Table,
                        BankLinks::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique("ux_accounts_bank_code_external_id", Accounts::Table)
                    .col(Accounts::BankCode)
                    .col(Accounts::ExternalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_accounts_client_id", Accounts::Table)
                    .col(Accounts::ClientId)
                    .to_owned(),
            )
            .await?;

        // balances
        manager
            .create_table(
                Table::create()
                    .table(Balances::Table)
                    .if_not_exists()
                    .col(id(Balances::Id))
                    .col(bigint(Balances::AccountId))
                    .col(string(Balances::BalanceType))
                    .col(bigint(Balances::AmountMinor))
                    .col(string(Balances::Currency))
                    .col(tstz(Balances::AsOf))
                    .col(tstz(Balances::FetchedAt))
                    .foreign_key(&mut fk(
                        "fk_balances_account_id",
                        Balances::Table,
                        Balances::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_balances_account_id_as_of", Balances::Table)
                    .col(Balances::AccountId)
                    .col(Balances::AsOf)
                    .to_owned(),
            )
            .await?;

        // transactions
        manager
            .create_table(
                Table::create()
                    .table(Transactions::Table)
                    .if_not_exists()
                    .col(id(Transactions::Id))
                    .col(bigint(Transactions::ClientId))
                    .col(bigint(Transactions::AccountId))
                    .col(string(Transactions::ExternalId))
                    .col(tstz(Transactions::BookedAt))
                    .col(integer(Transactions::BookedMonth))
                    .col(tstz_null(Transactions::ValueAt))
                    .col(bigint(Transactions::AmountMinor))
                    .col(string(Transactions::Currency))
                    .col(string(Transactions::Direction))
                    .col(string(Transactions::Status))
                    .col(string_null(Transactions::RawStatus))
                    .col(text(Transactions::Description))
                    .col(string_null(Transactions::Merchant))
                    .col(string_null(Transactions::Mcc))
                    .col(string_null(Transactions::BankTxCode))
                    .col(string_null(Transactions::Counterparty))
                    .col(string_null(Transactions::CardMasked))
                    .col(text(Transactions::SearchText))
                    .col(string(Transactions::Category))
                    .col(string(Transactions::CategorySource))
                    .col(bigint_null(Transactions::ReplacedById))
                    .col(tstz(Transactions::CreatedAt))
                    .col(tstz(Transactions::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_transactions_client_id",
                        Transactions::Table,
                        Transactions::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_transactions_account_id",
                        Transactions::Table,
                        Transactions::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique(
                    "ux_transactions_account_id_external_id",
                    Transactions::Table,
                )
                .col(Transactions::AccountId)
                .col(Transactions::ExternalId)
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_transactions_client_id_booked_at_id",
                    Transactions::Table,
                )
                .col(Transactions::ClientId)
                .col(Transactions::BookedAt)
                .col(Transactions::Id)
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_transactions_account_id_booked_at", Transactions::Table)
                    .col(Transactions::AccountId)
                    .col(Transactions::BookedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_transactions_client_id_booked_month_category",
                    Transactions::Table,
                )
                .col(Transactions::ClientId)
                .col(Transactions::BookedMonth)
                .col(Transactions::Category)
                .to_owned(),
            )
            .await?;

        // client_totals
        manager
            .create_table(
                Table::create()
                    .table(ClientTotals::Table)
                    .if_not_exists()
                    .col(bigint(ClientTotals::ClientId))
                    .col(string(ClientTotals::Currency))
                    .col(bigint(ClientTotals::TxCount))
                    .col(bigint(ClientTotals::IncomeMinor))
                    .col(bigint(ClientTotals::ExpenseMinor))
                    .col(tstz_null(ClientTotals::LastBookedAt))
                    .primary_key(
                        Index::create()
                            .col(ClientTotals::ClientId)
                            .col(ClientTotals::Currency),
                    )
                    .foreign_key(&mut fk(
                        "fk_client_totals_client_id",
                        ClientTotals::Table,
                        ClientTotals::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        // products
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(id(Products::Id))
                    .col(string(Products::BankCode))
                    .col(string(Products::ExternalId))
                    .col(string(Products::ProductType))
                    .col(string(Products::Name))
                    .col(text_null(Products::Description))
                    .col(string_null(Products::InterestRate))
                    .col(bigint_null(Products::MinAmountMinor))
                    .col(bigint_null(Products::MaxAmountMinor))
                    .col(integer_null(Products::TermMonths))
                    .col(string_null(Products::Currency))
                    .col(tstz(Products::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                unique("ux_products_bank_code_external_id", Products::Table)
                    .col(Products::BankCode)
                    .col(Products::ExternalId)
                    .to_owned(),
            )
            .await?;

        // category_rules
        manager
            .create_table(
                Table::create()
                    .table(CategoryRules::Table)
                    .if_not_exists()
                    .col(id(CategoryRules::Id))
                    .col(string(CategoryRules::Pattern))
                    .col(string(CategoryRules::Field))
                    .col(string(CategoryRules::Category))
                    .col(integer(CategoryRules::Priority))
                    .col(bigint_null(CategoryRules::CreatedBy))
                    .col(tstz(CategoryRules::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_category_rules_created_by",
                        CategoryRules::Table,
                        CategoryRules::CreatedBy,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        // ratings
        manager
            .create_table(
                Table::create()
                    .table(Ratings::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Ratings::ClientId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(string(Ratings::Grade))
                    .col(integer(Ratings::Score))
                    .col(text(Ratings::Factors))
                    .col(tstz(Ratings::ComputedAt))
                    .foreign_key(&mut fk(
                        "fk_ratings_client_id",
                        Ratings::Table,
                        Ratings::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        // sync_runs
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .if_not_exists()
                    .col(id(SyncRuns::Id))
                    .col(string(SyncRuns::Trigger))
                    .col(string_null(SyncRuns::BankCode))
                    .col(bigint_null(SyncRuns::ClientId))
                    .col(string(SyncRuns::Status))
                    .col(tstz(SyncRuns::StartedAt))
                    .col(tstz_null(SyncRuns::FinishedAt))
                    .col(integer(SyncRuns::Accounts))
                    .col(integer(SyncRuns::Added))
                    .col(integer(SyncRuns::Updated))
                    .col(integer(SyncRuns::Unchanged))
                    .col(text(SyncRuns::Errors))
                    .col(text_null(SyncRuns::Message))
                    .foreign_key(&mut fk(
                        "fk_sync_runs_client_id",
                        SyncRuns::Table,
                        SyncRuns::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_sync_runs_started_at", SyncRuns::Table)
                    .col(SyncRuns::StartedAt)
                    .to_owned(),
            )
            .await?;

        // conversations
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .if_not_exists()
                    .col(id(Conversations::Id))
                    .col(bigint_null(Conversations::ClientId))
                    .col(bigint(Conversations::UserId))
                    .col(string(Conversations::Title))
                    .col(tstz(Conversations::CreatedAt))
                    .col(tstz(Conversations::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_conversations_client_id",
                        Conversations::Table,
                        Conversations::ClientId,
                        Clients::Table,
                        Clients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_conversations_user_id",
                        Conversations::Table,
                        Conversations::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_conversations_client_id", Conversations::Table)
                    .col(Conversations::ClientId)
                    .to_owned(),
            )
            .await?;

        // assistant_messages
        manager
            .create_table(
                Table::create()
                    .table(AssistantMessages::Table)
                    .if_not_exists()
                    .col(id(AssistantMessages::Id))
                    .col(bigint(AssistantMessages::ConversationId))
                    .col(string(AssistantMessages::Role))
                    .col(text(AssistantMessages::Content))
                    .col(string_null(AssistantMessages::Model))
                    .col(integer_null(AssistantMessages::PromptTokens))
                    .col(integer_null(AssistantMessages::CompletionTokens))
                    .col(tstz(AssistantMessages::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_assistant_messages_conversation_id",
                        AssistantMessages::Table,
                        AssistantMessages::ConversationId,
                        Conversations::Table,
                        Conversations::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_assistant_messages_conversation_id",
                    AssistantMessages::Table,
                )
                .col(AssistantMessages::ConversationId)
                .to_owned(),
            )
            .await?;

        // audit_log (no foreign key on user_id: the history outlives users)
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(id(AuditLog::Id))
                    .col(tstz(AuditLog::At))
                    .col(bigint_null(AuditLog::UserId))
                    .col(string_null(AuditLog::Username))
                    .col(string(AuditLog::Action))
                    .col(string_null(AuditLog::Entity))
                    .col(string_null(AuditLog::EntityId))
                    .col(text(AuditLog::Details))
                    .col(string(AuditLog::PrevHash))
                    .col(string(AuditLog::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_audit_log_at", AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Reverse order of creation, so no table is dropped while another still references it.
        let tables: [DynIden; 16] = [
            AuditLog::Table.into_iden(),
            AssistantMessages::Table.into_iden(),
            Conversations::Table.into_iden(),
            SyncRuns::Table.into_iden(),
            Ratings::Table.into_iden(),
            CategoryRules::Table.into_iden(),
            Products::Table.into_iden(),
            ClientTotals::Table.into_iden(),
            Transactions::Table.into_iden(),
            Balances::Table.into_iden(),
            Accounts::Table.into_iden(),
            BankLinks::Table.into_iden(),
            Clients::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
