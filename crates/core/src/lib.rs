//! `crm-core`: the domain and services of AI-CRM. It knows the database (through sea-orm) and
//! banks (through the connector registry), and nothing of HTTP, GraphQL or the environment:
//! settings come in as values from the server crate.

pub mod access;
pub mod accounts;
pub(crate) mod aggregates;
pub mod analytics;
pub mod assistant;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod brief;
pub mod categorize;
pub mod category_rules;
pub mod clients;
pub mod connectors;
pub mod db;
pub mod domain;
#[cfg(feature = "testing")]
pub mod entity;
#[cfg(not(feature = "testing"))]
pub(crate) mod entity;
pub mod error;
pub mod events;
pub mod export;
pub mod forecast;
pub mod holdings;
pub mod insights;
pub mod jobs;
mod ledger;
pub mod links;
pub mod notes;
pub mod offers;
pub mod portfolio;
pub mod quota;
pub mod ratings;
pub mod signals;
pub mod stats;
pub mod sync;
pub mod tasks;
pub mod teams;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timeline;
pub mod transactions;
pub mod wallet;

use std::sync::Arc;

pub use error::{CoreError, CoreResult};

use auth::{SessionSettings, ThrottlePolicy};
use banks::BankRegistry;
use db::Database;
use domain::Currency;

/// Settings of core services, built by the server from its configuration.
#[derive(Clone, Debug)]
pub struct CoreSettings {
    pub sessions: SessionSettings,
    pub throttle: ThrottlePolicy,
    /// Mixed into session-token hashes, so a leaked database alone does not give valid cookies.
    pub secret_key: Vec<u8>,
    /// The currency headline totals are reported in.
    pub base_currency: Currency,
    /// Password hashes computed at once (each takes 19 MiB and a core for ~50 ms).
    pub max_concurrent_hashes: usize,
    pub sync: sync::SyncSettings,
    /// The AI assistant: model provider (none: the built-in analyst), privacy and limits.
    pub assistant: assistant::AssistantSettings,
    /// Grade thresholds and the income scale of the rating model.
    pub ratings: ratings::RatingSettings,
    /// Views of one client by one user within this window are audited once (zero: every view).
    pub audit_view_window: std::time::Duration,
    /// API requests per user per minute across all replicas (`QUERY_RATE_PER_MINUTE`; 0: no
    /// limit).
    pub requests_per_minute: u64,
    /// Signal thresholds, the home bank and the task rules (`SIGNAL_*`, `HOME_BANK`).
    pub signals: signals::SignalSettings,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            sessions: SessionSettings::default(),
            throttle: ThrottlePolicy::default(),
            secret_key: Vec::new(),
            base_currency: Currency::rub(),
            max_concurrent_hashes: 2,
            sync: sync::SyncSettings::default(),
            assistant: assistant::AssistantSettings::default(),
            ratings: ratings::RatingSettings::default(),
            audit_view_window: std::time::Duration::from_secs(600),
            requests_per_minute: 0,
            signals: signals::SignalSettings::default(),
        }
    }
}

/// The application's services, assembled in one place ([`Core::new`]) with the parts each
/// one uses passed in, and held here: [`Core::auth`], [`Core::sync`], [`Core::assistant`],
/// [`Core::classifier`], [`Core::audit`], [`Core::events`]. The data API (clients, accounts,
/// transactions, analytics, ratings) is the methods of `Core` itself, which read through the
/// database and the settings only. Cheap to share behind an `Arc`.
pub struct Core {
    db: Database,
    settings: CoreSettings,
    banks: Arc<BankRegistry>,
    /// Sync progress, sessions ended, re-categorisations finished; across replicas on
    /// PostgreSQL once started.
    events: Arc<events::EventBus>,
    audit: Arc<audit::AuditLog>,
    /// The categoriser and the user rules compiled into it.
    classifier: Arc<category_rules::Classifier>,
    /// Wakes this process's job runner when a job is queued here.
    jobs: jobs::JobWaker,
    auth: auth::Auth,
    sync: sync::SyncEngine,
    assistant: assistant::Assistant,
    requests: Arc<quota::RequestQuota>,
}

impl Core {
    /// Builds the services over an opened (and migrated) database: the one place where each
    /// service gets the parts it uses.
    pub fn new(db: Database, settings: CoreSettings, banks: BankRegistry) -> CoreResult<Self> {
        let banks = Arc::new(banks);
        let events = Arc::new(events::EventBus::new(&db));
        let audit = Arc::new(audit::AuditLog::new(db.clone(), settings.audit_view_window));
        let classifier = Arc::new(category_rules::Classifier::new(db.clone()));
        let jobs = jobs::JobWaker::default();
        let auth = auth::Auth::new(
            db.clone(),
            auth::AuthSettings {
                sessions: settings.sessions.clone(),
                throttle: settings.throttle.clone(),
                secret_key: settings.secret_key.clone(),
                max_concurrent_hashes: settings.max_concurrent_hashes,
            },
            events.clone(),
            audit.clone(),
        )?;
        let sync = sync::SyncEngine::new(sync::SyncParts {
            db: db.clone(),
            banks: banks.clone(),
            events: events.clone(),
            classifier: classifier.clone(),
            audit: audit.clone(),
            jobs: jobs.clone(),
            ratings: sync::RatingSetup {
                settings: settings.ratings.clone(),
                base_currency: settings.base_currency.clone(),
            },
            settings: settings.sync.clone(),
        });
        let assistant =
            assistant::Assistant::new(db.clone(), settings.assistant.clone(), audit.clone())?;
        let requests = Arc::new(quota::RequestQuota::new(
            db.clone(),
            settings.requests_per_minute,
        ));
        Ok(Core {
            requests,
            db,
            settings,
            banks,
            events,
            audit,
            classifier,
            jobs,
            auth,
            sync,
            assistant,
        })
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn banks(&self) -> &BankRegistry {
        &self.banks
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// The per-user request limit (counted across replicas).
    pub fn request_quota(&self) -> &Arc<quota::RequestQuota> {
        &self.requests
    }

    /// Users, logins and sessions.
    pub fn auth(&self) -> &auth::Auth {
        &self.auth
    }

    /// Bank links, consents and sync runs.
    pub fn sync(&self) -> &sync::SyncEngine {
        &self.sync
    }

    /// The AI assistant.
    pub fn assistant(&self) -> &assistant::Assistant {
        &self.assistant
    }

    /// The categoriser with the user rules.
    pub fn classifier(&self) -> &category_rules::Classifier {
        &self.classifier
    }

    /// The audit log.
    pub fn audit(&self) -> &audit::AuditLog {
        &self.audit
    }

    /// A runner for every job type of core; the application owns it (`Runner::run`), tests
    /// step it (`Runner::run_pending`).
    pub fn job_runner(self: &Arc<Self>, settings: jobs::RunnerSettings) -> jobs::Runner {
        jobs::Runner::new(self.clone(), settings)
            .register::<sync::SyncJob>()
            .register::<category_rules::RecategoriseJob>()
            .register::<jobs::Housekeeping>()
            .register::<sync::PairOwnTransfersJob>()
            .register::<sync::RevocationJob>()
            .register::<signals::SignalsJob>()
    }

    /// Tells this process's runner that a job was queued (replicas find it at their next poll).
    pub fn wake_jobs(&self) {
        self.jobs.wake();
    }

    pub(crate) fn job_waker(&self) -> &jobs::JobWaker {
        &self.jobs
    }

    /// Queues the periodic clean-up for the ten-minute slot of `now` (once across replicas), and
    /// once an hour another try of the consent revocations still pending.
    pub async fn enqueue_housekeeping(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> CoreResult<bool> {
        let key = format!("housekeeping:{}", now.timestamp().div_euclid(600));
        let queued = jobs::enqueue_in(
            self.db.conn(),
            &jobs::Housekeeping::default(),
            jobs::Schedule::once(key),
        )
        .await?;
        // Time-based signals (expiries, maturities, late salaries): the next morning's run.
        signals::enqueue_daily(self.db.conn(), now).await?;
        // Consent revocations whose retry job gave up are tried again, at most once an hour.
        if !self.sync.pending_revocations().await?.is_empty() {
            let slot = now.timestamp().div_euclid(3600);
            jobs::enqueue_in(
                self.db.conn(),
                &sync::RevocationJob::default(),
                jobs::Schedule::once(format!("revoke:{slot}")),
            )
            .await?;
        }
        self.wake_jobs();
        Ok(queued.is_some())
    }

    pub fn events(&self) -> &events::EventBus {
        &self.events
    }

    /// Shares events with the other replicas when the database is PostgreSQL (see
    /// [`events`]); a server calls it once after building the core.
    pub async fn start_events(&self) -> CoreResult<()> {
        self.events.start(&self.db).await
    }
}

/// Brings the database schema up to date, then runs the steps that follow particular
/// migrations: a migration that created the analytics aggregates is followed by filling them
/// from the rows already stored (once), and the one that added own-transfer pairing by a job
/// that pairs the transfers already stored. Safe to run on every start and from several replicas.
pub async fn migrate(db: &Database) -> CoreResult<()> {
    let applied = db.apply_migrations().await?;
    if applied
        .iter()
        .any(|name| name == crm_migration::ANALYTICS_AGGREGATES)
    {
        let txn = db.begin_write().await?;
        ledger::rebuild(&*txn, None).await?;
        txn.commit().await?;
    }
    let stored = || async {
        use sea_orm::EntityTrait;
        Ok::<bool, CoreError>(
            entity::transactions::Entity::find()
                .one(db.conn())
                .await?
                .is_some(),
        )
    };
    if applied
        .iter()
        .any(|name| name == crm_migration::OWN_TRANSFERS)
        && stored().await?
    {
        // Transfers between clients' own accounts stored before pairing existed: paired by a
        // job, so a large history does not hold up the start.
        jobs::enqueue_in(
            db.conn(),
            &sync::PairOwnTransfersJob::default(),
            jobs::Schedule::once("pair-own-transfers:backfill"),
        )
        .await?;
    }
    if applied
        .iter()
        .any(|name| name == crm_migration::CLIENT_SEARCH_TEXT)
    {
        let txn = db.begin_write().await?;
        let changed = clients::rebuild_search_text(&*txn).await?;
        txn.commit().await?;
        tracing::info!(changed, "clients' search text rebuilt");
    }
    if applied
        .iter()
        .any(|name| name == crm_migration::NOTES_SEARCH_TEXT)
    {
        let txn = db.begin_write().await?;
        let changed = notes::fill_search_text(&*txn).await?;
        txn.commit().await?;
        tracing::info!(changed, "notes' search text filled");
    }
    Ok(())
}

/// One page of a list, read by asking for one row more than shown.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Page<T> {
    fn from_overfetch<M>(
        mut rows: Vec<M>,
        first: u64,
        convert: impl Fn(M) -> CoreResult<T>,
    ) -> CoreResult<Self> {
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let items = rows
            .into_iter()
            .map(convert)
            .collect::<CoreResult<Vec<T>>>()?;
        Ok(Page { items, has_next })
    }
}
