//! sea-orm entities, one module per table (module name = table name). The schema itself lives in
//! the `crm-migration` crate; these mirror it column for column.

pub mod accounts;
pub mod assistant_messages;
pub mod audit_log;
pub mod balances;
pub mod bank_links;
pub mod briefs;
pub mod cards;
pub mod category_rules;
pub mod client_day_totals;
pub mod client_events;
pub mod client_month_totals;
pub mod client_shares;
pub mod client_totals;
pub mod clients;
pub mod conversations;
pub mod jobs;
pub mod login_throttle;
pub mod notes;
pub mod pending_revocations;
pub mod product_agreements;
pub mod products;
pub mod ratings;
pub mod recategorisations;
pub mod sessions;
pub mod signals;
pub mod sync_run_links;
pub mod sync_runs;
pub mod tasks;
pub mod teams;
pub mod transactions;
pub mod users;
