//! `crm-migration`: the database schema of AI-CRM as sea-orm migrations. The same migrations run
//! on SQLite and PostgreSQL; the server runs them at start and with `ai-crm migrate`.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261126_000001_analytics_aggregates;

/// The name of the migration that creates the analytics aggregates: core fills them from the
/// stored rows right after applying it.
pub const ANALYTICS_AGGREGATES: &str = "m20261126_000001_analytics_aggregates";
/// Followed by pairing the own transfers already stored (a job, `sync::PairOwnTransfersJob`).
pub const OWN_TRANSFERS: &str = "m20261207_000010_own_transfers";
/// The rows own-transfer pairing reads: its query states this predicate word for word, so the
/// partial index `idx_transactions_transfer_legs` serves it.
pub use m20261207_000040_transfer_legs_index::TRANSFER_LEG_PREDICATE;
mod m20261202_000001_recategorisations;
mod m20261202_000010_sync_resilience;
mod m20261207_000001_jobs;
mod m20261207_000010_link_states;
mod m20261207_000010_own_transfers;
mod m20261207_000020_pending_revocations;
mod m20261207_000030_accounts_products;
mod m20261207_000040_transfer_legs_index;
mod m20261207_000050_books;
mod m20261207_000060_notes;
mod m20261207_000070_tasks_timeline;
mod m20261207_000080_request_counts;
mod m20261207_000090_category_confidence;
mod m20261207_000100_review_index;
mod m20261207_000200_signals;
mod m20261207_000400_briefs;

/// The name of the migration after which core rebuilds every client's search text (phone
/// numbers then match in any spelling).
pub const CLIENT_SEARCH_TEXT: &str = "m20261207_000010_link_states";

/// The migration after which core fills `notes.search_text` for the notes stored before.
pub const NOTES_SEARCH_TEXT: &str = "m20261207_000070_tasks_timeline";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261126_000001_analytics_aggregates::Migration),
            Box::new(m20261202_000001_recategorisations::Migration),
            Box::new(m20261202_000010_sync_resilience::Migration),
            Box::new(m20261207_000001_jobs::Migration),
            Box::new(m20261207_000010_link_states::Migration),
            Box::new(m20261207_000010_own_transfers::Migration),
            Box::new(m20261207_000020_pending_revocations::Migration),
            Box::new(m20261207_000030_accounts_products::Migration),
            Box::new(m20261207_000040_transfer_legs_index::Migration),
            Box::new(m20261207_000050_books::Migration),
            Box::new(m20261207_000060_notes::Migration),
            Box::new(m20261207_000070_tasks_timeline::Migration),
            Box::new(m20261207_000080_request_counts::Migration),
            Box::new(m20261207_000090_category_confidence::Migration),
            Box::new(m20261207_000100_review_index::Migration),
            Box::new(m20261207_000200_signals::Migration),
            Box::new(m20261207_000400_briefs::Migration),
        ]
    }
}
