//! User category rules (`category_rules`) and the re-categorisation of stored transactions when
//! they change.
//!
//! Rules are compiled into one matcher ([`RuleSet`]) that the categoriser consults before the
//! dictionary; it is rebuilt whenever rules change on this replica, and reloaded from the
//! database at the start of every sync and re-categorisation (so a rule made on another replica
//! applies from the next sync on). Creating or deleting a rule records a [`Recategorisation`]
//! and starts it in the background: every transaction not categorised by hand is categorised
//! again, in batches; each batch's row updates and the matching moves of money between the
//! per-category aggregates (`client_month_totals`, `client_day_totals`) are one database
//! transaction, and the clients whose categories moved are rated again when the run ends. Runs
//! left open by a stopped process are closed and run again at start
//! ([`Core::resume_interrupted_recategorisations`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::categorize::rules::{mcc_pattern, text_pattern_key, MAX_PATTERN_CHARS};
use crate::categorize::{Categorizer, Decision, RuleField, RuleSet, RuleSpec, TransactionFacts};
use crate::db::Database;
use crate::domain::{Category, CategorySource, Direction, Role};
use crate::entity::{category_rules, recategorisations, transactions, users};
use crate::error::{CoreError, CoreResult};
use crate::jobs::{self, Job};
use crate::ledger::Posting;
use crate::Core;

/// Rules a deployment may hold (each is one pattern in the matcher).
pub const MAX_RULES: u64 = 1000;
/// Priorities are kept in a small range so that they stay readable.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = -1000..=1000;
/// Transactions read and updated per database transaction while re-categorising.
const BATCH: u64 = 1000;

#[derive(Clone, Debug)]
pub struct CategoryRule {
    pub id: i64,
    /// As the user typed it (trimmed).
    pub pattern: String,
    pub field: RuleField,
    pub category: Category,
    pub priority: i32,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewCategoryRule {
    pub pattern: String,
    pub field: RuleField,
    pub category: Category,
    /// Higher wins; `0` when absent.
    pub priority: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecategorisationStatus {
    Queued,
    Running,
    Finished,
    Failed,
}

impl RecategorisationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecategorisationStatus::Queued => "QUEUED",
            RecategorisationStatus::Running => "RUNNING",
            RecategorisationStatus::Finished => "FINISHED",
            RecategorisationStatus::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> CoreResult<Self> {
        Ok(match s {
            "QUEUED" => RecategorisationStatus::Queued,
            "RUNNING" => RecategorisationStatus::Running,
            "FINISHED" => RecategorisationStatus::Finished,
            "FAILED" => RecategorisationStatus::Failed,
            other => {
                return Err(CoreError::Internal(format!(
                    "unknown recategorisation status {other:?}"
                )))
            }
        })
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            RecategorisationStatus::Finished | RecategorisationStatus::Failed
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecategorisationTrigger {
    RuleCreated,
    RuleDeleted,
}

impl RecategorisationTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            RecategorisationTrigger::RuleCreated => "RULE_CREATED",
            RecategorisationTrigger::RuleDeleted => "RULE_DELETED",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "RULE_DELETED" => RecategorisationTrigger::RuleDeleted,
            _ => RecategorisationTrigger::RuleCreated,
        }
    }
}

/// One re-categorisation run and how far it got.
#[derive(Clone, Debug)]
pub struct Recategorisation {
    pub id: i64,
    pub trigger: RecategorisationTrigger,
    pub rule_id: Option<i64>,
    pub status: RecategorisationStatus,
    /// Transactions looked at so far (those categorised by hand are not).
    pub rows_scanned: u64,
    /// Transactions whose category or category source changed.
    pub rows_changed: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub message: Option<String>,
}

impl TryFrom<recategorisations::Model> for Recategorisation {
    type Error = CoreError;
    fn try_from(m: recategorisations::Model) -> CoreResult<Self> {
        Ok(Recategorisation {
            id: m.id,
            trigger: RecategorisationTrigger::parse(&m.trigger),
            rule_id: m.rule_id,
            status: RecategorisationStatus::parse(&m.status)?,
            rows_scanned: m.rows_scanned.max(0) as u64,
            rows_changed: m.rows_changed.max(0) as u64,
            started_at: m.started_at,
            finished_at: m.finished_at,
            message: m.message,
        })
    }
}

fn to_spec(m: &category_rules::Model) -> CoreResult<RuleSpec> {
    Ok(RuleSpec {
        id: m.id,
        pattern: m.pattern.clone(),
        field: RuleField::parse(&m.field)?,
        category: Category::parse(&m.category)?,
        priority: m.priority,
    })
}

/// Checks a new rule's pattern for its field and returns it trimmed.
fn clean_pattern(pattern: &str, field: RuleField) -> CoreResult<String> {
    let pattern = pattern.trim();
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(CoreError::invalid(format!(
            "pattern must be at most {MAX_PATTERN_CHARS} characters"
        )));
    }
    match field {
        RuleField::Mcc => {
            mcc_pattern(pattern)?;
        }
        _ => {
            text_pattern_key(pattern)?;
        }
    }
    Ok(pattern.to_owned())
}

/// The categoriser with the user rules compiled into it: what imports, manual entries and
/// re-categorisations classify with. One per process; the rules are reloaded from the database
/// when they change here and at the start of every sync and re-categorisation.
pub struct Classifier {
    db: Database,
    categorizer: Categorizer,
    /// The compiled user rules, swapped whole when rules change.
    rules: RwLock<Arc<RuleSet>>,
    loaded: AtomicBool,
    /// One re-categorisation at a time in this process.
    pub(crate) recategorising: tokio::sync::Mutex<()>,
}

/// The categoriser decides again for a row the ledger releases from an own-transfer pair.
impl crate::ledger::Categorise for Classifier {
    fn categorise(&self, row: &transactions::Model) -> Decision {
        let direction = Direction::parse(&row.direction).unwrap_or(Direction::Debit);
        self.categorize(&TransactionFacts {
            direction,
            description: &row.description,
            merchant: row.merchant.as_deref(),
            mcc: row.mcc.as_deref(),
            counterparty: row.counterparty.as_deref(),
        })
    }
}

impl Classifier {
    pub fn new(db: Database) -> Self {
        Classifier {
            db,
            categorizer: Categorizer::new(),
            rules: RwLock::new(Arc::new(RuleSet::default())),
            loaded: AtomicBool::new(false),
            recategorising: tokio::sync::Mutex::new(()),
        }
    }

    /// Categorises one transaction with `rules` (a batch takes [`Classifier::rule_set`] once).
    pub fn categorize_with(&self, rules: &RuleSet, facts: &TransactionFacts<'_>) -> Decision {
        self.categorizer.decide(Some(rules), facts)
    }

    /// The compiled rules in use now (cheap: an `Arc` clone).
    pub fn rule_set(&self) -> Arc<RuleSet> {
        match self.rules.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads every rule from the database and swaps the compiled matcher.
    pub async fn reload(&self) -> CoreResult<Arc<RuleSet>> {
        let rows = category_rules::Entity::find()
            .order_by_asc(category_rules::Column::Id)
            .all(self.db.conn())
            .await?;
        let specs: Vec<RuleSpec> = rows
            .iter()
            .filter_map(|m| match to_spec(m) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(rule = m.id, "stored category rule skipped: {e}");
                    None
                }
            })
            .collect();
        let set = Arc::new(RuleSet::new(&specs));
        match self.rules.write() {
            Ok(mut guard) => *guard = set.clone(),
            Err(poisoned) => *poisoned.into_inner() = set.clone(),
        }
        self.loaded
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(set)
    }

    /// The compiled rules, loaded from the database on first use.
    pub async fn current_rules(&self) -> CoreResult<Arc<RuleSet>> {
        if self.loaded.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(self.rule_set());
        }
        self.reload().await
    }

    /// Categorises with the current rules (for one transaction; batches take [`Classifier::rule_set`]
    /// once).
    pub fn categorize(&self, facts: &TransactionFacts<'_>) -> Decision {
        self.categorizer.decide(Some(&self.rule_set()), facts)
    }
}

impl Core {
    /// Every rule, highest priority first, then oldest first (the order they are applied in).
    pub async fn category_rules(&self) -> CoreResult<Vec<CategoryRule>> {
        let rows = category_rules::Entity::find()
            .order_by_desc(category_rules::Column::Priority)
            .order_by_asc(category_rules::Column::Id)
            .all(self.db.conn())
            .await?;
        let user_ids: Vec<i64> = rows.iter().filter_map(|r| r.created_by).collect();
        let names: HashMap<i64, String> = if user_ids.is_empty() {
            HashMap::new()
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids))
                .all(self.db.conn())
                .await?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect()
        };
        rows.into_iter()
            .map(|m| {
                let spec = to_spec(&m)?;
                Ok(CategoryRule {
                    id: m.id,
                    pattern: m.pattern,
                    field: spec.field,
                    category: spec.category,
                    priority: m.priority,
                    created_by_name: m.created_by.and_then(|u| names.get(&u).cloned()),
                    created_by: m.created_by,
                    created_at: m.created_at,
                })
            })
            .collect()
    }

    /// Adds a rule (MANAGER or higher) and starts re-categorising stored transactions.
    pub async fn create_category_rule(
        &self,
        actor: &Actor,
        input: NewCategoryRule,
    ) -> CoreResult<(CategoryRule, Recategorisation)> {
        actor.require(Role::Manager)?;
        let pattern = clean_pattern(&input.pattern, input.field)?;
        let priority = input.priority.unwrap_or(0);
        if !PRIORITY_RANGE.contains(&priority) {
            return Err(CoreError::invalid(format!(
                "priority must be between {} and {}",
                PRIORITY_RANGE.start(),
                PRIORITY_RANGE.end()
            )));
        }
        let existing = category_rules::Entity::find().all(self.db.conn()).await?;
        if existing.len() as u64 >= MAX_RULES {
            return Err(CoreError::invalid(format!(
                "there are already {MAX_RULES} category rules; delete some first"
            )));
        }
        let same_key = |p: &str| match input.field {
            RuleField::Mcc => mcc_pattern(p).ok() == mcc_pattern(&pattern).ok(),
            _ => text_pattern_key(p).ok() == text_pattern_key(&pattern).ok(),
        };
        if let Some(dup) = existing.iter().find(|r| {
            r.field == input.field.as_str()
                && r.category == input.category.as_str()
                && same_key(&r.pattern)
        }) {
            return Err(CoreError::invalid(format!(
                "rule {} already assigns {} to this pattern",
                dup.id,
                input.category.as_str()
            )));
        }
        let now = Utc::now();
        let model = category_rules::ActiveModel {
            pattern: Set(pattern),
            field: Set(input.field.as_str().to_owned()),
            category: Set(input.category.as_str().to_owned()),
            priority: Set(priority),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            ..Default::default()
        };
        let txn = self.db.begin_write().await?;
        let model = model.insert(&txn).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("category_rule.create")
                .actor(actor)
                .entity("category_rule", model.id)
                .detail("pattern", model.pattern.clone())
                .detail("field", model.field.clone())
                .detail("category", model.category.clone())
                .detail("priority", model.priority),
        )
        .await?;
        txn.commit().await?;
        self.classifier.reload().await?;
        let run = self
            .start_recategorisation(actor, RecategorisationTrigger::RuleCreated, model.id)
            .await?;
        let rule = CategoryRule {
            id: model.id,
            pattern: model.pattern,
            field: input.field,
            category: input.category,
            priority: model.priority,
            created_by: model.created_by,
            created_by_name: Some(actor.username.clone()),
            created_at: model.created_at,
        };
        Ok((rule, run))
    }

    /// Removes a rule (MANAGER or higher) and starts re-categorising stored transactions.
    pub async fn delete_category_rule(
        &self,
        actor: &Actor,
        id: i64,
    ) -> CoreResult<Recategorisation> {
        actor.require(Role::Manager)?;
        let rule = category_rules::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("category rule", id))?;
        let txn = self.db.begin_write().await?;
        let removed = category_rules::Entity::delete_by_id(id).exec(&txn).await?;
        if removed.rows_affected == 0 {
            return Err(CoreError::not_found("category rule", id));
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("category_rule.delete")
                .actor(actor)
                .entity("category_rule", id)
                .detail("pattern", rule.pattern)
                .detail("field", rule.field)
                .detail("category", rule.category),
        )
        .await?;
        txn.commit().await?;
        self.classifier.reload().await?;
        self.start_recategorisation(actor, RecategorisationTrigger::RuleDeleted, id)
            .await
    }

    /// A run by id, or the latest run when `id` is `None` (`None` when there is none).
    pub async fn recategorisation(&self, id: Option<i64>) -> CoreResult<Option<Recategorisation>> {
        let row = match id {
            Some(id) => {
                recategorisations::Entity::find_by_id(id)
                    .one(self.db.conn())
                    .await?
            }
            None => {
                recategorisations::Entity::find()
                    .order_by_desc(recategorisations::Column::Id)
                    .limit(1)
                    .one(self.db.conn())
                    .await?
            }
        };
        row.map(Recategorisation::try_from).transpose()
    }

    /// Resolves when run `id` has finished or failed (for tests and the command line).
    pub async fn wait_for_recategorisation(&self, id: i64) -> CoreResult<Recategorisation> {
        let mut rx = self.events.recategorisations();
        loop {
            let run = self
                .recategorisation(Some(id))
                .await?
                .ok_or_else(|| CoreError::not_found("recategorisation", id))?;
            if run.status.is_done() {
                return Ok(run);
            }
            // Woken when a run ends here; looked at again now and then, since another replica's
            // runner may be the one running it.
            tokio::select! {
                changed = rx.changed() => if changed.is_err() {
                    return Err(CoreError::Internal("recategorisation events closed".into()));
                },
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
        }
    }

    async fn start_recategorisation(
        &self,
        actor: &Actor,
        trigger: RecategorisationTrigger,
        rule_id: i64,
    ) -> CoreResult<Recategorisation> {
        let requester = Requester {
            user_id: Some(actor.user_id),
            username: actor.username.clone(),
        };
        self.queue_recategorisation(requester, trigger, Some(rule_id), None)
            .await
    }

    /// Records a queued run and queues its job, in one database transaction.
    async fn queue_recategorisation(
        &self,
        requester: Requester,
        trigger: RecategorisationTrigger,
        rule_id: Option<i64>,
        message: Option<String>,
    ) -> CoreResult<Recategorisation> {
        let txn = self.db.begin_write().await?;
        let model = recategorisations::ActiveModel {
            trigger: Set(trigger.as_str().to_owned()),
            rule_id: Set(rule_id),
            status: Set(RecategorisationStatus::Queued.as_str().to_owned()),
            rows_scanned: Set(0),
            rows_changed: Set(0),
            requested_by: Set(requester.user_id),
            started_at: Set(Utc::now()),
            finished_at: Set(None),
            message: Set(message),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let run = Recategorisation::try_from(model)?;
        let job = RecategoriseJob {
            run_id: run.id,
            requested_by: requester.user_id,
        };
        jobs::enqueue_in(&txn, &job, jobs::Schedule::now()).await?;
        txn.commit().await?;
        self.jobs.wake();
        Ok(run)
    }

    /// Who asked, by user id (none, or a user since deleted: the system).
    async fn requester(&self, user_id: Option<i64>) -> CoreResult<Requester> {
        let username = match user_id {
            Some(uid) => users::Entity::find_by_id(uid)
                .one(self.db.conn())
                .await?
                .map(|u| u.username),
            None => None,
        };
        Ok(Requester {
            user_id,
            username: username.unwrap_or_else(|| "system".to_owned()),
        })
    }

    /// Runs a queued re-categorisation (the [`RecategoriseJob`]); a run already closed (taken
    /// over after a restart) is left alone.
    async fn run_recategorisation_job(&self, job: RecategoriseJob) -> CoreResult<()> {
        let id = job.run_id;
        let current = self
            .recategorisation(Some(id))
            .await?
            .ok_or_else(|| CoreError::not_found("recategorisation", id))?;
        if current.status.is_done() {
            tracing::info!(run = id, "recategorisation already closed: nothing to run");
            return Ok(());
        }
        let requester = self.requester(job.requested_by).await?;
        let result = self.run_recategorisation(id, &requester).await;
        if let Err(e) = &result {
            tracing::error!(run = id, "recategorisation failed: {e}");
            let update = recategorisations::ActiveModel {
                id: Set(id),
                status: Set(RecategorisationStatus::Failed.as_str().to_owned()),
                finished_at: Set(Some(Utc::now())),
                message: Set(Some(if e.is_internal() {
                    "the run stopped on a database error; see the server log".to_owned()
                } else {
                    e.to_string()
                })),
                ..Default::default()
            }
            .update(self.db.conn())
            .await;
            if let Err(e) = update {
                tracing::error!(run = id, "recording the failure failed: {e}");
            }
        }
        self.events
            .publish(crate::events::Event::RecategorisationFinished { run_id: id });
        result
    }

    /// At start: runs left `QUEUED` or `RUNNING` by a stopped process are closed as failed (with
    /// a message naming the run that takes over) and one new run re-categorises everything with
    /// the current rules, which is what each of them would have done. Re-categorising is
    /// idempotent, so rows the interrupted run already moved are simply looked at again.
    ///
    /// On PostgreSQL a run holds an advisory lock for its whole length; when another replica
    /// holds it now, its runs are alive and nothing is touched. Returns the new run, if any.
    pub async fn resume_interrupted_recategorisations(
        &self,
    ) -> CoreResult<Option<Recategorisation>> {
        let probe = self.db.conn().begin().await?;
        if !crate::db::try_advisory_xact_lock(&probe, RUN_LOCK).await? {
            probe.commit().await?;
            return Ok(None);
        }
        let open = recategorisations::Entity::find()
            .filter(recategorisations::Column::Status.is_in([
                RecategorisationStatus::Queued.as_str(),
                RecategorisationStatus::Running.as_str(),
            ]))
            .order_by_asc(recategorisations::Column::Id)
            .all(&probe)
            .await?;
        probe.commit().await?;
        let Some(latest) = open.last() else {
            return Ok(None);
        };
        let ids: Vec<i64> = open.iter().map(|r| r.id).collect();
        let requester = self.requester(latest.requested_by).await?;
        let list = ids
            .iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let run = self
            .queue_recategorisation(
                requester,
                RecategorisationTrigger::parse(&latest.trigger),
                latest.rule_id,
                Some(format!("resumes {list}, interrupted by a restart")),
            )
            .await?;
        recategorisations::Entity::update_many()
            .col_expr(
                recategorisations::Column::Status,
                Expr::value(RecategorisationStatus::Failed.as_str()),
            )
            .col_expr(
                recategorisations::Column::FinishedAt,
                Expr::value(Utc::now()),
            )
            .col_expr(
                recategorisations::Column::Message,
                Expr::value(format!(
                    "interrupted (the server stopped during the run); run #{} takes over",
                    run.id
                )),
            )
            .filter(recategorisations::Column::Id.is_in(ids.iter().copied()))
            .filter(recategorisations::Column::Status.is_in([
                RecategorisationStatus::Queued.as_str(),
                RecategorisationStatus::Running.as_str(),
            ]))
            .exec(self.db.conn())
            .await?;
        tracing::warn!(
            runs = ids.len(),
            resumed_as = run.id,
            "re-categorisations interrupted by a previous stop are run again"
        );
        Ok(Some(run))
    }

    /// Categorises again every transaction not categorised by hand, with the rules current when
    /// the run starts. Runs one at a time (on PostgreSQL across replicas, through an advisory
    /// lock held by `guard` for the whole run); a queued run waits for the one before it.
    ///
    /// Each batch reads its rows `FOR UPDATE`, changes their categories and moves their money
    /// between the per-category aggregates in one database transaction, so the aggregates always
    /// equal a recomputation from the rows. The clients whose categories moved are rated again
    /// at the end (savings, debt service and cash share read categories).
    async fn run_recategorisation(&self, id: i64, requester: &Requester) -> CoreResult<()> {
        let _one_at_a_time = self.classifier.recategorising.lock().await;
        // On PostgreSQL the lock is held by a transaction kept open for the run (one pooled
        // connection); SQLite has one process per file, and the mutex above is enough.
        let guard = match self.db.backend() {
            sea_orm::DatabaseBackend::Postgres => {
                let txn = self.db.conn().begin().await?;
                crate::db::advisory_xact_lock(&txn, RUN_LOCK).await?;
                Some(txn)
            }
            _ => None,
        };
        let rules = self.classifier.reload().await?;
        recategorisations::ActiveModel {
            id: Set(id),
            status: Set(RecategorisationStatus::Running.as_str().to_owned()),
            ..Default::default()
        }
        .update(self.db.conn())
        .await?;
        let (mut scanned, mut changed) = (0u64, 0u64);
        let mut after = 0i64;
        let mut touched: BTreeSet<i64> = BTreeSet::new();
        loop {
            // A deadlock with a concurrent sync rolls the batch back whole: it is run again.
            let batch = crate::db::retry_on_conflict("recategorisation batch", || {
                self.recategorise_batch(id, &rules, after, (scanned, changed))
            })
            .await?;
            let Some(last) = batch.last_id else { break };
            after = last;
            scanned += batch.scanned;
            changed += batch.changed;
            touched.extend(batch.clients);
            if batch.scanned < BATCH {
                break;
            }
        }
        let touched: Vec<i64> = touched.into_iter().collect();
        let rated = self.rate_clients(&touched, Utc::now()).await;
        let finished = Utc::now();
        let txn = self.db.begin_write().await?;
        recategorisations::ActiveModel {
            id: Set(id),
            status: Set(RecategorisationStatus::Finished.as_str().to_owned()),
            rows_scanned: Set(scanned as i64),
            rows_changed: Set(changed as i64),
            finished_at: Set(Some(finished)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let event = match requester.user_id {
            Some(uid) => {
                AuditEvent::new("recategorisation.finish").actor_user(uid, &requester.username)
            }
            None => AuditEvent::new("recategorisation.finish").username(&requester.username),
        };
        crate::audit::record_in(
            &txn,
            event
                .entity("recategorisation", id)
                .detail("rules", rules.len() as u64)
                .detail("scanned", scanned)
                .detail("changed", changed)
                .detail("clients_rated", rated as u64),
        )
        .await?;
        txn.commit().await?;
        if let Some(guard) = guard {
            guard.commit().await?;
        }
        tracing::info!(
            run = id,
            scanned,
            changed,
            rated,
            "recategorisation finished"
        );
        Ok(())
    }

    /// One batch of a run: up to [`BATCH`] rows after `after`, in one write transaction with
    /// the run's progress (`so_far`: rows scanned and changed by the batches before).
    async fn recategorise_batch(
        &self,
        run: i64,
        rules: &RuleSet,
        after: i64,
        so_far: (u64, u64),
    ) -> CoreResult<BatchOutcome> {
        let manual = CategorySource::Manual.as_str();
        let txn = self.db.begin_write().await?;
        // Locked until commit (PostgreSQL): a sync or a person changing one of these rows waits,
        // so no row's money moves between categories twice.
        let rows = transactions::Entity::find()
            .filter(transactions::Column::Id.gt(after))
            .filter(transactions::Column::CategorySource.ne(manual))
            .filter(transactions::Column::CategorySource.ne(CategorySource::TransferMatch.as_str()))
            .order_by_asc(transactions::Column::Id)
            .limit(BATCH)
            .lock_exclusive()
            .all(&txn)
            .await?;
        let Some(last) = rows.last() else {
            txn.commit().await?;
            return Ok(BatchOutcome::default());
        };
        let mut outcome = BatchOutcome {
            last_id: Some(last.id),
            scanned: rows.len() as u64,
            ..Default::default()
        };
        let mut decisions = Vec::with_capacity(rows.len());
        for row in &rows {
            let direction = Direction::parse(&row.direction)?;
            let decision = self.classifier.categorize_with(
                rules,
                &TransactionFacts {
                    direction,
                    description: &row.description,
                    merchant: row.merchant.as_deref(),
                    mcc: row.mcc.as_deref(),
                    counterparty: row.counterparty.as_deref(),
                },
            );
            decisions.push((row, decision));
        }
        let mut posting = Posting::new();
        let (changed, clients) = posting.recategorise(&*txn, &decisions).await?;
        posting.post(&*txn).await?;
        outcome.changed = changed;
        outcome.clients.extend(clients);
        recategorisations::ActiveModel {
            id: Set(run),
            rows_scanned: Set((so_far.0 + outcome.scanned) as i64),
            rows_changed: Set((so_far.1 + outcome.changed) as i64),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        tracing::debug!(
            run,
            scanned = outcome.scanned,
            changed = outcome.changed,
            "batch"
        );
        Ok(outcome)
    }
}

/// Re-categorises stored transactions with the current rules: the background half of a rule
/// change (its `recategorisations` row says how far it got).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecategoriseJob {
    pub run_id: i64,
    /// The user whose rule change asked for it (none: the system, after a restart).
    pub requested_by: Option<i64>,
}

impl Job for RecategoriseJob {
    const KIND: &'static str = "recategorise";

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        core.run_recategorisation_job(self).await
    }
}

/// Who asked for a run, for its audit record.
#[derive(Clone, Debug)]
struct Requester {
    user_id: Option<i64>,
    username: String,
}

#[derive(Debug, Default)]
struct BatchOutcome {
    /// The last id looked at; `None` when there were no rows left.
    last_id: Option<i64>,
    scanned: u64,
    changed: u64,
    /// Clients with a row whose category changed.
    clients: BTreeSet<i64>,
}

/// The advisory lock a run holds on PostgreSQL for its whole length ("RECATEGO").
pub const RUN_LOCK: i64 = 0x5245_4341_5445_474f;
