//! `crm-core`: the domain and services of AI-CRM. It knows the database (through sea-orm) and
//! banks (through the connector registry), and nothing of HTTP, GraphQL or the environment:
//! settings come in as values from the server crate.

pub mod accounts;
pub(crate) mod aggregates;
pub mod analytics;
pub mod assistant;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod categorize;
pub mod category_rules;
pub mod clients;
pub mod connectors;
pub mod db;
pub mod domain;
pub mod entity;
pub mod error;
pub mod events;
pub mod export;
pub mod insights;
pub mod jobs;
mod ledger;
pub mod links;
pub mod offers;
pub mod portfolio;
pub mod ratings;
pub mod stats;
pub mod sync;
pub mod testing;
pub mod transactions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

pub use error::{CoreError, CoreResult};

use auth::{PasswordService, SessionSettings, ThrottlePolicy};
use banks::BankRegistry;
use categorize::{Categorizer, RuleSet};
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
        }
    }
}

/// The services, sharing one database pool. Cheap to share behind an `Arc`.
pub struct Core {
    db: Database,
    settings: CoreSettings,
    passwords: PasswordService,
    banks: BankRegistry,
    categorizer: Categorizer,
    /// The compiled user rules, swapped whole when rules change.
    rules: RwLock<Arc<RuleSet>>,
    rules_loaded: std::sync::atomic::AtomicBool,
    /// One re-categorisation at a time.
    recategorise_lock: tokio::sync::Mutex<()>,
    audit_lock: tokio::sync::Mutex<()>,
    /// Sync progress, sessions ended, re-categorisations finished; across replicas on
    /// PostgreSQL once started.
    events: events::EventBus,
    recent_views: Mutex<HashMap<(i64, i64), Instant>>,
    sync_settings: sync::SyncSettings,
    in_flight: sync::SharedInFlight,
    breakers: sync::Breakers,
    /// The model provider's client, when one is configured.
    llm: Option<crm_llm::LlmClient>,
    /// Wakes this process's job runner when a job is queued here.
    job_wake: Arc<tokio::sync::Notify>,
}

impl Core {
    /// Builds the services over an opened (and migrated) database.
    pub fn new(db: Database, settings: CoreSettings, banks: BankRegistry) -> CoreResult<Self> {
        let passwords = PasswordService::new(settings.max_concurrent_hashes)?;
        let llm = settings
            .assistant
            .provider
            .clone()
            .map(crm_llm::LlmClient::new)
            .transpose()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let events = events::EventBus::new(&db);
        Ok(Core {
            events,
            llm,
            db,
            passwords,
            banks,
            categorizer: Categorizer::new(),
            rules: RwLock::new(Arc::new(RuleSet::default())),
            rules_loaded: std::sync::atomic::AtomicBool::new(false),
            recategorise_lock: tokio::sync::Mutex::new(()),
            audit_lock: tokio::sync::Mutex::new(()),
            recent_views: Mutex::new(HashMap::new()),
            sync_settings: settings.sync.clone(),
            in_flight: Default::default(),
            breakers: Default::default(),
            job_wake: Arc::new(tokio::sync::Notify::new()),
            settings,
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

    /// A runner for every job type of core; the application owns it (`Runner::run`), tests
    /// step it (`Runner::run_pending`).
    pub fn job_runner(self: &Arc<Self>, settings: jobs::RunnerSettings) -> jobs::Runner {
        jobs::Runner::new(self.clone(), settings)
            .register::<sync::SyncJob>()
            .register::<category_rules::RecategoriseJob>()
            .register::<jobs::Housekeeping>()
    }

    /// Tells this process's runner that a job was queued (replicas find it at their next poll).
    pub fn wake_jobs(&self) {
        self.job_wake.notify_one();
    }

    pub(crate) fn job_wake(&self) -> Arc<tokio::sync::Notify> {
        self.job_wake.clone()
    }

    /// Queues the periodic clean-up for the ten-minute slot of `now` (once across replicas).
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
/// from the rows already stored (once). Safe to run on every start and from several replicas.
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
