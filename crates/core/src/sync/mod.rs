//! The sync engine: brings each bank link's accounts, balances and transactions into the
//! database. Idempotent and resumable: transactions are upserted by (account, bank id), each run
//! re-reads an overlap window for late postings, and a link's cursor advances only after all of
//! its accounts are stored, so an interrupted run repeated ends with exactly the bank's data.
//! Every run is recorded as a `sync_runs` row and streams progress events.

mod budget;
mod consent;
mod holdings;
mod ingest;
mod job;
mod products;
mod revoke;
mod runs;
mod status;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

pub use crate::domain::{
    LinkResult, SkipReason, SyncEvent, SyncRunLink, SyncRunStatus, SyncRunSummary, SyncTrigger,
};
pub use crate::ledger::TransferWindow;
pub use budget::RetryBudget;
use consent::ConsentCheck;
pub use job::{PairOwnTransfersJob, RevocationJob, SyncJob};
pub use revoke::{Revocation, RevocationReason};
pub use status::{BankHealth, BankStatus};

use crate::audit::{AuditEvent, AuditLog};
use crate::banks::BankRegistry;
use crate::category_rules::Classifier;
use crate::db::Database;
use crate::domain::Actor;
use crate::domain::{ConsentStatus, Role, TimelineKind};
use crate::entity::{bank_links, clients};
use crate::error::{BankFailure, CoreError, CoreResult};
use crate::events::EventBus;
use crate::jobs::JobWaker;
use crate::links::BankLink;
use crate::timeline::{EventData, NewEvent};

/// A large transaction unless configured otherwise: 300 000,00 in the base currency.
pub const LARGE_TRANSACTION_DEFAULT_MINOR: i64 = 30_000_000;

/// How far back and how wide each run reads.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    /// History read on a link's first sync.
    pub history_days: i64,
    /// Re-read this far behind the last booked transaction, for late postings.
    pub overlap_days: i64,
    /// Links of one bank synced at once.
    pub per_bank_concurrency: usize,
    /// Ask for a new consent this many days before the current one expires.
    pub consent_renewal_days: i64,
    /// A consent request unanswered this long is shown as "no answer from the client" (banks
    /// never say when a client rejects one).
    pub consent_pending_max_days: i64,
    /// Backoff per link and the circuit breaker per bank.
    pub budget: RetryBudget,
    /// How far apart the two legs of a transfer between a client's own accounts may be booked.
    pub own_transfer_window: TransferWindow,
    /// A booked transaction in the base currency of at least this much (minor units, either
    /// direction) is put on the client's timeline as a large one; `None`: none is.
    pub large_transaction_minor: Option<i64>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            history_days: 400,
            overlap_days: 7,
            per_bank_concurrency: 4,
            consent_renewal_days: 14,
            consent_pending_max_days: 7,
            budget: RetryBudget::default(),
            own_transfer_window: TransferWindow::default(),
            large_transaction_minor: Some(LARGE_TRANSACTION_DEFAULT_MINOR),
        }
    }
}

/// Which links to sync.
#[derive(Clone, Debug, Default)]
pub struct SyncScope {
    pub bank: Option<String>,
    pub client_id: Option<i64>,
}

/// What one link's sync did.
#[derive(Clone, Debug, Default)]
pub struct LinkOutcome {
    pub accounts: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Rows the bank reported that could not be read, or that were refused.
    pub shortfall: u64,
    /// Where the next sync starts reading again because of that shortfall: the start of the
    /// earliest range an account's cursor was held at (the cursor never moves past a gap).
    pub reread_from: Option<DateTime<Utc>>,
    /// Booked rows the bank stopped listing in a complete read of their dates: now `REVERSED`.
    pub reversed: u32,
    /// Booked rows the bank stopped listing, kept because too many of their range vanished at
    /// once to trust the read (the cursor stays, the next sync looks again).
    pub vanished_kept: u64,
    /// Attempted and failed: the error's code and message.
    pub error: Option<(String, String)>,
    /// The bank said not to call before this long (a rate limit's reset): the next automatic
    /// attempt is no earlier.
    pub retry_after: Option<std::time::Duration>,
    /// Not attempted (backing off, circuit open, consent not authorised): why, in a code and
    /// words.
    pub skipped: Option<(SkipReason, String)>,
    /// The earliest booking time among the rows this sync stored or changed: own-transfer
    /// pairing looks at unpaired legs from there (less its window) on.
    pub earliest_change: Option<DateTime<Utc>>,
    /// Booked money out and in among the rows this sync added, per currency (minor units):
    /// the timeline's "12 new, 3 580 ₽ out".
    pub added_out: std::collections::BTreeMap<String, i64>,
    pub added_in: std::collections::BTreeMap<String, i64>,
}

impl LinkOutcome {
    /// Notes a stored or changed row booked at `at`.
    fn changed_at(&mut self, at: DateTime<Utc>) {
        self.earliest_change = Some(self.earliest_change.map_or(at, |e| e.min(at)));
    }

    fn skip(reason: SkipReason, why: impl Into<String>) -> Self {
        LinkOutcome {
            skipped: Some((reason, why.into())),
            ..Default::default()
        }
    }

    fn failure(e: &CoreError) -> Self {
        let message = match e {
            CoreError::Db(_) | CoreError::Internal(_) => {
                "internal error (see the server log)".to_owned()
            }
            other => other.to_string(),
        };
        let retry_after = e.bank_retry_after();
        let message = match retry_after {
            Some(wait) => format!(
                "{message}; the bank's limit resets in {} s",
                wait.as_secs().max(1)
            ),
            None => message,
        };
        LinkOutcome {
            error: Some((error_code(e).to_owned(), message)),
            retry_after,
            ..Default::default()
        }
    }

    pub fn result(&self) -> LinkResult {
        if self.error.is_some() {
            LinkResult::Failed
        } else if self.skipped.is_some() {
            LinkResult::Skipped
        } else if self.shortfall > 0 || self.vanished_kept > 0 {
            LinkResult::Partial
        } else {
            LinkResult::Succeeded
        }
    }

    fn code(&self) -> Option<String> {
        match (&self.error, &self.skipped) {
            (Some((code, _)), _) => Some(code.clone()),
            (None, Some((reason, _))) => Some(reason.as_str().to_owned()),
            _ if self.shortfall > 0 => Some(crate::links::SHORTFALL.to_owned()),
            _ if self.vanished_kept > 0 => Some(crate::links::VANISHED.to_owned()),
            _ => None,
        }
    }

    fn message(&self) -> Option<String> {
        match (&self.error, &self.skipped) {
            (Some((_, m)), _) | (None, Some((_, m))) => Some(m.clone()),
            _ => self.incomplete_message(),
        }
    }

    /// What a read that stored what it could still lacks: rows missed or refused, and booked
    /// rows kept although the bank stopped listing them.
    pub(crate) fn incomplete_message(&self) -> Option<String> {
        let missed =
            (self.shortfall > 0).then(|| shortfall_message(self.shortfall, self.reread_from));
        let kept = (self.vanished_kept > 0).then(|| vanished_message(self.vanished_kept));
        missed
            .into_iter()
            .chain(kept)
            .reduce(|a, b| format!("{a}; {b}"))
    }
}

/// What a link says when a read left out too many stored booked rows at once to reverse them.
pub(crate) fn vanished_message(rows: u64) -> String {
    format!(
        "{rows} booked transactions the bank no longer lists were kept: more than a fifth of their dates' rows vanished at once, which looks like a faulty read; the next sync looks again"
    )
}

/// What a link says after a read that missed or refused rows the bank reported: how many, and
/// from which date the next sync reads again.
pub(crate) fn shortfall_message(rows: u64, reread_from: Option<DateTime<Utc>>) -> String {
    match reread_from {
        Some(from) => format!(
            "{rows} transactions reported by the bank could not be read or were refused; transactions from {} on are read again on the next sync",
            from.format("%Y-%m-%d")
        ),
        None => format!(
            "{rows} transactions reported by the bank could not be read or were refused; the same range is read again on the next sync"
        ),
    }
}

/// The banks of one run that refused our credentials.
#[derive(Default)]
struct RefusedBanks(std::sync::Mutex<std::collections::HashSet<String>>);

impl RefusedBanks {
    fn contains(&self, bank: &str) -> bool {
        self.0.lock().map(|s| s.contains(bank)).unwrap_or(false)
    }

    fn insert(&self, bank: &str) {
        if let Ok(mut s) = self.0.lock() {
            tracing::warn!(
                bank,
                "the bank refused our credentials: its other calls in this run are skipped"
            );
            s.insert(bank.to_owned());
        }
    }
}

/// A failure's code, as a link's last error and a run's link outcome carry it.
pub(crate) fn error_code(e: &CoreError) -> &'static str {
    match e {
        CoreError::BankUnavailable { kind, .. } => kind.code(),
        CoreError::ConsentRequired(_) => "CONSENT_REQUIRED",
        CoreError::NotFound { .. } => "NOT_FOUND",
        CoreError::InvalidInput(_) => "INVALID",
        _ => "INTERNAL",
    }
}

/// What the sync engine uses, passed in where the application is assembled
/// ([`crate::Core::new`]).
pub struct SyncEngine {
    db: Database,
    /// The banks this deployment is configured for.
    banks: Arc<BankRegistry>,
    /// Where progress is announced (`syncProgress`, across replicas on PostgreSQL).
    events: Arc<EventBus>,
    /// Classifies what is imported.
    classifier: Arc<Classifier>,
    audit: Arc<AuditLog>,
    jobs: JobWaker,
    /// How clients synced are rated once their data is in.
    ratings: RatingSetup,
    settings: SyncSettings,
    in_flight: InFlight,
    breakers: Breakers,
}

/// What rating a synced client takes: the model's settings and the currency it rates in.
#[derive(Clone, Debug)]
pub struct RatingSetup {
    pub settings: crate::ratings::RatingSettings,
    pub base_currency: crate::domain::Currency,
}

/// The parts a [`SyncEngine`] is built from.
pub struct SyncParts {
    pub db: Database,
    pub banks: Arc<BankRegistry>,
    pub events: Arc<EventBus>,
    pub classifier: Arc<Classifier>,
    pub audit: Arc<AuditLog>,
    pub jobs: JobWaker,
    pub ratings: RatingSetup,
    pub settings: SyncSettings,
}

impl SyncEngine {
    pub fn new(parts: SyncParts) -> Self {
        SyncEngine {
            db: parts.db,
            banks: parts.banks,
            events: parts.events,
            classifier: parts.classifier,
            audit: parts.audit,
            jobs: parts.jobs,
            ratings: parts.ratings,
            settings: parts.settings,
            in_flight: InFlight::default(),
            breakers: Breakers::default(),
        }
    }

    /// The banks this engine syncs.
    pub fn banks(&self) -> &BankRegistry {
        &self.banks
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }
}

/// Links being synced in this process: one sync per link at a time.
#[derive(Default)]
pub(crate) struct InFlight(Mutex<HashSet<i64>>);

impl InFlight {
    fn claim(&self, id: i64) -> bool {
        self.0.lock().map(|mut s| s.insert(id)).unwrap_or(false)
    }
    fn release(&self, id: i64) {
        if let Ok(mut s) = self.0.lock() {
            s.remove(&id);
        }
    }
}

impl SyncEngine {
    /// Links a client to a bank under the bank's client id and asks for a consent at once, so a
    /// bank that needs the client's approval shows `AWAITING_AUTHORIZATION` right away.
    pub async fn link_bank(
        &self,
        actor: &Actor,
        client_id: i64,
        bank: &str,
        external_client_id: &str,
    ) -> CoreResult<BankLink> {
        actor.require(Role::Manager)?;
        let txn = self.db.begin_write().await?;
        let link = self
            .ensure_link_in(&txn, client_id, bank, external_client_id)
            .await?;
        crate::timeline::record(
            &txn,
            NewEvent::new(
                client_id,
                TimelineKind::BankLinked,
                EventData::Bank {
                    bank: self.banks.describe(bank).name,
                },
            )
            .by(actor)
            .object("link", link.id),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("bank.link")
                .actor(actor)
                .entity("client", client_id)
                .detail("bank", bank)
                .detail("externalClientId", external_client_id),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        match self.refresh_consent(&link, ConsentCheck::AskAgain).await {
            Ok(link) => Ok(link),
            // Unknown to the bank: no link is kept, nor its entry.
            Err(e @ CoreError::InvalidInput(_)) => {
                let txn = self.db.begin_write().await?;
                crate::timeline::forget_object(&txn, "link", link.id).await?;
                bank_links::Entity::delete_by_id(link.id).exec(&txn).await?;
                txn.commit().await?;
                Err(e)
            }
            // The bank is down or refused: the link stays and says why; a later sync retries.
            Err(e) => {
                tracing::warn!(bank = %link.bank_code, "consent request failed: {e}");
                crate::links::of_clients(self.db.conn(), &[client_id])
                    .await?
                    .remove(&client_id)
                    .and_then(|links| links.into_iter().find(|l| l.id == link.id))
                    .ok_or_else(|| CoreError::not_found("bank link", link.id))
            }
        }
    }

    /// The link of (bank, external id), created for `client_id` when missing. An external id
    /// already linked to another client is refused.
    pub(crate) async fn ensure_link(
        &self,
        client_id: i64,
        bank: &str,
        external_client_id: &str,
    ) -> CoreResult<BankLink> {
        let txn = self.db.begin_write().await?;
        let link = self
            .ensure_link_in(&txn, client_id, bank, external_client_id)
            .await?;
        txn.commit().await?;
        Ok(link)
    }

    /// [`SyncEngine::ensure_link`] inside the caller's transaction (which then audits the link).
    async fn ensure_link_in(
        &self,
        txn: &crate::db::WriteTxn,
        client_id: i64,
        bank: &str,
        external_client_id: &str,
    ) -> CoreResult<BankLink> {
        let bank = bank.trim().to_lowercase();
        let external = external_client_id.trim();
        if self.banks.connector(&bank).is_none() {
            let known: Vec<String> = self.banks.all().into_iter().map(|b| b.code).collect();
            return Err(CoreError::invalid(format!(
                "unknown bank {bank:?}; known banks: {}",
                known.join(", ")
            )));
        }
        if external.is_empty() || external.len() > 100 {
            return Err(CoreError::invalid(
                "externalClientId must be 1 to 100 characters",
            ));
        }
        if clients::Entity::find_by_id(client_id)
            .one(txn)
            .await?
            .is_none()
        {
            return Err(CoreError::not_found("client", client_id));
        }
        let existing = bank_links::Entity::find()
            .filter(bank_links::Column::BankCode.eq(bank.as_str()))
            .filter(bank_links::Column::ExternalClientId.eq(external))
            .one(txn)
            .await?;
        if let Some(link) = existing {
            if link.client_id != client_id {
                return Err(CoreError::invalid(format!(
                    "{external} at {bank} is already linked to client {}",
                    link.client_id
                )));
            }
            return link.try_into();
        }
        let now = Utc::now();
        bank_links::ActiveModel {
            client_id: Set(client_id),
            bank_code: Set(bank),
            external_client_id: Set(external.to_owned()),
            consent_id: Set(None),
            consent_request_id: Set(None),
            consent_status: Set(ConsentStatus::None.as_str().to_owned()),
            consent_expires_at: Set(None),
            status_message: Set(None),
            last_synced_at: Set(None),
            last_booked_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?
        .try_into()
    }

    /// Runs one sync over the links in scope and records it (waits for the end).
    pub async fn run(&self, scope: &SyncScope, trigger: SyncTrigger) -> CoreResult<SyncRunSummary> {
        let (run, links) = self.begin_sync(scope, trigger).await?;
        self.complete_sync(run, links).await
    }

    /// Records a new run over the links in scope; `complete_sync` does the work.
    pub async fn begin_sync(
        &self,
        scope: &SyncScope,
        trigger: SyncTrigger,
    ) -> CoreResult<(SyncRunSummary, Vec<BankLink>)> {
        self.check_scope(scope).await?;
        let run = self.start_run(self.db.conn(), scope, trigger).await?;
        let links = self.links_in_scope(scope).await?;
        Ok((run, links))
    }

    /// Fails with a clear message when the scope names a bank that is not configured or a
    /// client that does not exist.
    async fn check_scope(&self, scope: &SyncScope) -> CoreResult<()> {
        if let Some(bank) = &scope.bank {
            if self.banks.connector(&bank.to_lowercase()).is_none() {
                let known: Vec<String> = self.banks.all().into_iter().map(|b| b.code).collect();
                return Err(CoreError::invalid(format!(
                    "unknown bank {bank:?}; known banks: {}",
                    known.join(", ")
                )));
            }
        }
        if let Some(client) = scope.client_id {
            if clients::Entity::find_by_id(client)
                .one(self.db.conn())
                .await?
                .is_none()
            {
                return Err(CoreError::not_found("client", client));
            }
        }
        Ok(())
    }

    /// The links a run over `scope` syncs, with the current category rules loaded (rules may
    /// have changed on another replica: imports use the stored ones). Announces the run.
    async fn links_in_scope(&self, scope: &SyncScope) -> CoreResult<Vec<BankLink>> {
        let mut q = bank_links::Entity::find();
        if let Some(bank) = &scope.bank {
            q = q.filter(bank_links::Column::BankCode.eq(bank.to_lowercase()));
        }
        if let Some(client) = scope.client_id {
            q = q.filter(bank_links::Column::ClientId.eq(client));
        }
        // A link a manager unlinked is no longer synced.
        q = q.filter(bank_links::Column::UnlinkedAt.is_null());
        self.classifier.reload().await?;
        q.all(self.db.conn())
            .await?
            .into_iter()
            .map(BankLink::try_from)
            .collect()
    }

    /// Syncs the links of a run begun with `begin_sync` and records the outcome.
    pub async fn complete_sync(
        &self,
        mut run: SyncRunSummary,
        links: Vec<BankLink>,
    ) -> CoreResult<SyncRunSummary> {
        self.emit(SyncEvent::Started {
            run_id: run.id,
            links: links.len() as u32,
        });
        let concurrency = self.settings.per_bank_concurrency.max(1);
        let mut by_bank: std::collections::BTreeMap<String, Vec<BankLink>> =
            std::collections::BTreeMap::new();
        for link in links {
            by_bank
                .entry(link.bank_code.clone())
                .or_default()
                .push(link);
        }
        let run_id = run.id;
        let automatic = matches!(run.trigger, SyncTrigger::Schedule | SyncTrigger::Startup);
        // Banks that refused our credentials in this run (after the connector's one token
        // renewal): their other links and their catalogue are not called again in it.
        let refused = &RefusedBanks::default();
        let outcomes: Vec<(BankLink, LinkOutcome)> = stream::iter(by_bank.into_values())
            .map(|links| async move {
                stream::iter(links)
                    .map(|link| async move {
                        let outcome = if refused.contains(&link.bank_code) {
                            LinkOutcome::skip(
                                SkipReason::CredentialsRefused,
                                format!(
                                    "{} refused our credentials earlier in this run: not called again until they are fixed (CLIENT_ID, CLIENT_SECRET)",
                                    link.bank_code
                                ),
                            )
                        } else {
                            self.sync_one(&link, automatic).await
                        };
                        if outcome.error.as_ref().is_some_and(|(code, _)| {
                            code == BankFailure::Credentials.code()
                        }) {
                            refused.insert(&link.bank_code);
                        }
                        self.emit(SyncEvent::LinkDone {
                            run_id,
                            bank: link.bank_code.clone(),
                            client_id: link.client_id,
                            added: outcome.added,
                            updated: outcome.updated,
                            unchanged: outcome.unchanged,
                            error: outcome.message(),
                        });
                        (link, outcome)
                    })
                    .buffer_unordered(concurrency)
                    .collect::<Vec<_>>()
                    .await
            })
            .buffer_unordered(8)
            .flat_map(stream::iter)
            .collect()
            .await;

        // Each bank's product catalogue, once per run.
        let banks: std::collections::BTreeSet<&str> =
            outcomes.iter().map(|(l, _)| l.bank_code.as_str()).collect();
        for code in banks {
            if refused.contains(code) {
                run.errors.push(format!(
                    "{code}: products not refreshed: the bank refused our credentials"
                ));
                continue;
            }
            if let Some(connector) = self.banks.connector(code) {
                if let Err(e) = self.refresh_products(connector.as_ref()).await {
                    run.errors.push(format!("{code}: products: {e}"));
                }
            }
        }
        for (link, o) in &outcomes {
            run.accounts += o.accounts;
            run.added += o.added;
            run.updated += o.updated;
            run.unchanged += o.unchanged;
            if let Some((_, e)) = &o.error {
                run.errors.push(format!(
                    "{} / {}: {e}",
                    link.bank_code, link.external_client_id
                ));
            }
            if let Some(words) = o.incomplete_message() {
                run.errors.push(format!(
                    "{} / {}: {words}",
                    link.bank_code, link.external_client_id
                ));
            }
        }
        // Transfers between the client's own accounts: paired once every link of the run is
        // stored, so the legs of one run (two banks synced side by side) all take part, and
        // the choice between equal candidates does not depend on which bank answered first.
        // The unpaired legs from the earliest row the run stored or changed (less the window)
        // take part, so a leg whose partner is stored by a later run is paired then; a client
        // with a failed link looks at its whole history (rows committed before the failure are
        // not in the outcome). An earlier run that never finished this step (cut off, or its
        // pairing failed; `paired_at` empty) makes this one pair every client's whole history.
        // Each client's pairing is one database transaction: the categories, counters and
        // aggregates move together.
        let history = Utc::now() - chrono::Duration::days(self.settings.history_days);
        let catch_up = match runs::unpaired_before(self.db.conn(), run.id).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "looking for runs left unpaired failed");
                true
            }
        };
        let starts = if catch_up {
            all_clients(self.db.conn())
                .await?
                .into_iter()
                .map(|c| (c, history))
                .collect()
        } else {
            pairing_starts(&outcomes, self.settings.history_days)
        };
        let mut paired = true;
        for (client, since) in starts {
            if let Err(e) = self.pair_own_transfers(client, since).await {
                run.errors
                    .push(format!("client {client}: pairing own transfers: {e}"));
                paired = false;
            }
        }
        if paired {
            // Failing to note it only makes the next run pair everything again.
            if let Err(e) = runs::mark_paired(self.db.conn(), run.id, catch_up).await {
                tracing::error!(error = %e, "noting the run's pairing failed");
            }
        }
        // Ratings of the clients this run synced, now that their data is in.
        let mut synced: Vec<i64> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o.result(), LinkResult::Succeeded | LinkResult::Partial))
            .map(|(l, _)| l.client_id)
            .collect();
        synced.sort_unstable();
        synced.dedup();
        crate::ratings::rate_clients(
            &self.db,
            &self.events,
            &self.ratings.settings,
            &self.ratings.base_currency,
            &synced,
            Utc::now(),
        )
        .await;
        // The run's clients' signals (a lost queueing is made good by the daily run).
        let mut touched: Vec<i64> = outcomes.iter().map(|(l, _)| l.client_id).collect();
        touched.sort_unstable();
        touched.dedup();
        if let Err(e) = crate::signals::enqueue_for(self.db.conn(), run_id, touched).await {
            tracing::error!(error = %e, "queueing the run's signals failed");
        } else {
            self.jobs.wake();
        }
        self.record_run_links(run_id, &outcomes).await?;
        let (status, message) = run_verdict(&outcomes, run.errors.is_empty());
        run.status = status;
        run.message = Some(message);
        let run = self.finish_run(run).await?;
        self.emit(SyncEvent::Finished(run.clone()));
        Ok(run)
    }

    async fn sync_one(&self, link: &BankLink, automatic: bool) -> LinkOutcome {
        let now = Utc::now();
        let budget = &self.settings.budget;
        if automatic {
            if let Some((reason, why)) =
                budget::automatic_skip(budget, link.failure_count, link.next_attempt_at, now)
            {
                return LinkOutcome::skip(reason, why);
            }
        }
        if let budget::Admission::Open(left) = self.breakers.admit(&link.bank_code) {
            return LinkOutcome::skip(
                SkipReason::CircuitOpen,
                format!(
                    "{} is failing: not called for another {} s (circuit open)",
                    link.bank_code,
                    left.as_secs().max(1)
                ),
            );
        }
        if !self.in_flight.claim(link.id) {
            return LinkOutcome::skip(SkipReason::AlreadyRunning, "already being synced");
        }
        let result = self.sync_link(link).await;
        self.in_flight.release(link.id);
        let bank_failure = matches!(result, Err(CoreError::BankUnavailable { .. }));
        let not_before = result.as_ref().err().and_then(CoreError::bank_retry_after);
        self.breakers
            .record(&link.bank_code, (bank_failure, not_before), budget);
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                if e.is_internal() {
                    tracing::error!(link = link.id, "sync failed: {e}");
                }
                LinkOutcome::failure(&e)
            }
        };
        if let Err(e) = self.record_attempt(link, &outcome, now).await {
            tracing::error!(link = link.id, "recording the sync attempt failed: {e}");
        }
        outcome
    }

    /// The link after an attempt: on failure one more consecutive failure, the next automatic
    /// attempt pushed out, and the error on the link (code, words, time); otherwise the retry
    /// budget reset and the last error the consent's state or the read's shortfall, if any.
    async fn record_attempt(
        &self,
        link: &BankLink,
        outcome: &LinkOutcome,
        now: chrono::DateTime<Utc>,
    ) -> CoreResult<()> {
        use sea_orm::sea_query::Expr;
        let mut update = bank_links::Entity::update_many();
        let last_error: Option<(String, String)> = match (&outcome.error, &outcome.skipped) {
            (Some((code, message)), _) => {
                let failures = link.failure_count.saturating_add(1);
                let next = self
                    .settings
                    .budget
                    .next_attempt(failures.max(0) as u32, now)
                    .max(budget::not_before(outcome.retry_after, now));
                update = update
                    .col_expr(bank_links::Column::FailureCount, Expr::value(failures))
                    .col_expr(bank_links::Column::NextAttemptAt, Expr::value(Some(next)));
                // A lost consent has already said on the link which way it was lost.
                if code != "CONSENT_REQUIRED" {
                    update = update.col_expr(
                        bank_links::Column::StatusMessage,
                        Expr::value(Some(message.clone())),
                    );
                }
                Some((code.clone(), message.clone()))
            }
            (None, Some((reason, message))) => matches!(
                reason,
                SkipReason::ConsentRevoked
                    | SkipReason::ConsentRejected
                    | SkipReason::ConsentExpired
                    | SkipReason::ConsentNoAnswer
            )
            .then(|| (reason.as_str().to_owned(), message.clone())),
            (None, None) => outcome.code().zip(outcome.message()),
        };
        if outcome.error.is_none() {
            update = update
                .col_expr(bank_links::Column::FailureCount, Expr::value(0))
                .col_expr(
                    bank_links::Column::NextAttemptAt,
                    Expr::value(Option::<chrono::DateTime<Utc>>::None),
                );
        }
        let (code, message, at) = match last_error {
            Some((code, message)) => (Some(code), Some(message), Some(now)),
            None => (None, None, None),
        };
        let update = update
            .col_expr(bank_links::Column::LastErrorCode, Expr::value(code))
            .col_expr(bank_links::Column::LastErrorMessage, Expr::value(message))
            .col_expr(bank_links::Column::LastErrorAt, Expr::value(at))
            .filter(bank_links::Column::Id.eq(link.id));
        if outcome.added == 0 {
            update.exec(self.db.conn()).await?;
            return Ok(());
        }
        // A sync that brought transactions is on the client's timeline, written with its
        // result on the link.
        let txn = self.db.begin_write().await?;
        update.exec(&*txn).await?;
        crate::timeline::record(
            &*txn,
            NewEvent::new(
                link.client_id,
                TimelineKind::SyncImported,
                EventData::Sync {
                    bank: self.banks.describe(&link.bank_code).name,
                    added: outcome.added,
                    out: outcome.added_out.clone().into_iter().collect(),
                    r#in: outcome.added_in.clone().into_iter().collect(),
                },
            )
            .at(now)
            .object("link", link.id),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(link.client_id);
        Ok(())
    }

    async fn sync_link(&self, link: &BankLink) -> CoreResult<LinkOutcome> {
        let connector = self.banks.connector(&link.bank_code).ok_or_else(|| {
            CoreError::invalid(format!("bank {} is not configured", link.bank_code))
        })?;
        // On failure the consent check has put the error on the link.
        let link = self.refresh_consent(link, ConsentCheck::Sync).await?;
        let now = Utc::now();
        let reason = match link.consent_status {
            ConsentStatus::Authorized if link.consent_expires_at.is_some_and(|at| at <= now) => {
                Some(SkipReason::ConsentExpired)
            }
            ConsentStatus::Authorized => None,
            ConsentStatus::None => Some(SkipReason::ConsentMissing),
            ConsentStatus::AwaitingAuthorization
                if link.consent_unanswered(now, self.settings.consent_pending_max_days) =>
            {
                Some(SkipReason::ConsentNoAnswer)
            }
            ConsentStatus::AwaitingAuthorization => Some(SkipReason::ConsentWaiting),
            ConsentStatus::Rejected => Some(SkipReason::ConsentRejected),
            ConsentStatus::Revoked => Some(SkipReason::ConsentRevoked),
            ConsentStatus::Expired => Some(SkipReason::ConsentExpired),
        };
        if let Some(reason) = reason {
            // No data call without an authorised consent.
            let why = link
                .status_message
                .clone()
                .unwrap_or_else(|| format!("consent {}", link.consent_status));
            return Ok(LinkOutcome::skip(reason, why));
        }
        self.ingest_link(connector.as_ref(), &link, now).await
    }

    /// Pairs the legs of transfers between `client_id`'s own accounts booked since `since`, in
    /// a transaction of its own. Returns how many pairs were made.
    pub(crate) async fn pair_own_transfers(
        &self,
        client_id: i64,
        since: chrono::DateTime<Utc>,
    ) -> CoreResult<u32> {
        let window = self.settings.own_transfer_window;
        crate::db::retry_on_conflict("pairing own transfers", || async move {
            let txn = self.db.begin_write().await?;
            let mut posting = crate::ledger::Posting::new();
            let pairs = posting
                .pair_transfers(&*txn, client_id, since, window)
                .await?;
            posting.post(&*txn).await?;
            txn.commit().await?;
            Ok(pairs)
        })
        .await
    }

    /// Progress of every sync in this process and, once events are shared
    /// ([`crate::Core::start_events`]), on every replica.
    pub fn sync_events(&self) -> tokio::sync::broadcast::Receiver<SyncEvent> {
        self.events.sync_events()
    }

    fn emit(&self, event: SyncEvent) {
        self.events.publish(crate::events::Event::Sync(event));
    }

    /// Tells `clientEvents` subscribers that the client's timeline grew (after the commit).
    pub(crate) fn announce_timeline(&self, client_id: i64) {
        self.events
            .publish(crate::events::Event::Timeline { client_id });
    }
}

use budget::Breakers;

/// Every client's id.
async fn all_clients<C: sea_orm::ConnectionTrait>(conn: &C) -> CoreResult<Vec<i64>> {
    use sea_orm::QuerySelect;
    Ok(clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Per client of a run, where own-transfer pairing starts: the earliest row its links stored
/// or changed (the pairing adds its window before that), or the start of the history window
/// when one of its links failed (what it committed before failing is not known). Clients with
/// nothing new are left out: nothing of theirs can have found a partner.
fn pairing_starts(
    outcomes: &[(BankLink, LinkOutcome)],
    history_days: i64,
) -> std::collections::BTreeMap<i64, DateTime<Utc>> {
    let history = Utc::now() - chrono::Duration::days(history_days);
    let mut starts: std::collections::BTreeMap<i64, DateTime<Utc>> =
        std::collections::BTreeMap::new();
    for (link, o) in outcomes {
        let since = if o.error.is_some() {
            Some(history)
        } else {
            o.earliest_change
        };
        if let Some(since) = since {
            starts
                .entry(link.client_id)
                .and_modify(|s| *s = (*s).min(since))
                .or_insert(since);
        }
    }
    starts
}

impl SyncEngine {
    /// For the command line and the demo: makes sure the bank client `external_id` (the same id
    /// at every bank, as these banks do) is one CRM client linked to every bank that knows it
    /// (or just to `bank`). A new client is named after the id until a sync learns the holder's
    /// name. Returns the CRM client id and the banks it is linked to.
    pub async fn link_external_client(
        &self,
        external_id: &str,
        bank: Option<&str>,
    ) -> CoreResult<(i64, Vec<String>)> {
        let external = external_id.trim();
        if external.is_empty() {
            return Err(CoreError::invalid("the client id must not be empty"));
        }
        let codes: Vec<String> = match bank {
            Some(b) => vec![b.to_lowercase()],
            None => self.banks.all().into_iter().map(|b| b.code).collect(),
        };
        let existing = bank_links::Entity::find()
            .filter(bank_links::Column::ExternalClientId.eq(external))
            .one(self.db.conn())
            .await?;
        let (client_id, created) = match existing {
            Some(link) => (link.client_id, false),
            None => {
                let now = Utc::now();
                let model = clients::ActiveModel {
                    display_name: Set(external.to_owned()),
                    email: Set(None),
                    phone: Set(None),
                    status: Set(crate::domain::ClientStatus::Active.as_str().to_owned()),
                    search_text: Set(crate::domain::normalize_for_search(external)),
                    sort_name: Set(crate::domain::normalize_for_search(external)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(self.db.conn())
                .await?;
                (model.id, true)
            }
        };
        let mut linked = Vec::new();
        let mut last_error = None;
        for code in codes {
            let link = self.ensure_link(client_id, &code, external).await?;
            match self.refresh_consent(&link, ConsentCheck::Sync).await {
                Ok(_) => linked.push(code),
                Err(CoreError::InvalidInput(msg)) => {
                    // Not a client of this bank: no link.
                    bank_links::Entity::delete_by_id(link.id)
                        .exec(self.db.conn())
                        .await?;
                    last_error = Some(msg);
                }
                Err(e) => {
                    // The bank is down or refused: keep the link (it says why), sync retries.
                    linked.push(code);
                    last_error = Some(e.to_string());
                }
            }
        }
        if linked.is_empty() {
            if created {
                clients::Entity::delete_by_id(client_id)
                    .exec(self.db.conn())
                    .await?;
            }
            return Err(CoreError::invalid(format!(
                "no bank knows the client {external}{}",
                last_error.map(|e| format!(" ({e})")).unwrap_or_default()
            )));
        }
        let txn = self.db.begin_write().await?;
        for code in &linked {
            crate::timeline::record(
                &*txn,
                NewEvent::new(
                    client_id,
                    TimelineKind::BankLinked,
                    EventData::Bank {
                        bank: self.banks.describe(code).name,
                    },
                ),
            )
            .await?;
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("bank.link")
                .username("system")
                .entity("client", client_id)
                .detail("externalClientId", external)
                .detail("banks", linked.clone()),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        Ok((client_id, linked))
    }
}

impl SyncEngine {
    /// A manager asks the client's bank for a new consent on a link whose consent does not work
    /// (no answer from the client, rejected, revoked, expired or missing). Audited. Refused for a
    /// link whose consent is authorised and current.
    pub async fn request_consent_again(&self, actor: &Actor, link_id: i64) -> CoreResult<BankLink> {
        actor.require(Role::Manager)?;
        let link: BankLink = bank_links::Entity::find_by_id(link_id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("bank link", link_id))?
            .try_into()?;
        let current = link.consent_status == ConsentStatus::Authorized
            && link.consent_expires_at.is_none_or(|at| at > Utc::now());
        if current {
            return Err(CoreError::invalid(format!(
                "the consent at {} is authorised: there is nothing to ask for",
                self.banks.describe(&link.bank_code).name
            )));
        }
        let result = self.refresh_consent(&link, ConsentCheck::AskAgain).await;
        let outcome = match &result {
            Ok(l) => l.consent_status.as_str().to_owned(),
            Err(e) => error_code(e).to_owned(),
        };
        self.audit
            .record(
                AuditEvent::new("bank.consent.request")
                    .actor(actor)
                    .entity("client", link.client_id)
                    .detail("bank", link.bank_code.as_str())
                    .detail("link", link_id)
                    .detail("outcome", outcome),
            )
            .await?;
        result
    }

    /// Asks for a new consent on every link of `bank`: for a bank that forgot every consent (an
    /// in-process sandbox after a restart). Returns how many links now have an authorized or a
    /// pending consent; a link the bank refuses keeps its message and is counted out.
    pub async fn request_consents_again(&self, bank: &str) -> CoreResult<u32> {
        let links: Vec<BankLink> = bank_links::Entity::find()
            .filter(bank_links::Column::BankCode.eq(bank))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(BankLink::try_from)
            .collect::<CoreResult<_>>()?;
        let mut ok = 0;
        for link in &links {
            match self.refresh_consent(link, ConsentCheck::Replace).await {
                Ok(_) => ok += 1,
                Err(e) => tracing::warn!(
                    bank,
                    link = link.id,
                    "asking for a consent again failed: {e}"
                ),
            }
        }
        Ok(ok)
    }
}

/// A run's status and summary from its links' outcomes: `SUCCEEDED` only when every link
/// synced completely (and nothing else went wrong); `FAILED` when links were attempted and none
/// worked; otherwise `PARTIAL`, with every skipped link counted under its reason.
fn run_verdict(
    outcomes: &[(BankLink, LinkOutcome)],
    no_other_errors: bool,
) -> (SyncRunStatus, String) {
    let count = |r: LinkResult| outcomes.iter().filter(|(_, o)| o.result() == r).count();
    let (ok, partial, failed, skipped) = (
        count(LinkResult::Succeeded),
        count(LinkResult::Partial),
        count(LinkResult::Failed),
        count(LinkResult::Skipped),
    );
    let status = if ok == outcomes.len() && no_other_errors {
        SyncRunStatus::Succeeded
    } else if failed > 0 && ok + partial == 0 {
        SyncRunStatus::Failed
    } else {
        SyncRunStatus::Partial
    };
    let mut message = format!("{} links: {ok} synced", outcomes.len());
    if partial > 0 {
        message.push_str(&format!(", {partial} incomplete"));
    }
    message.push_str(&format!(", {failed} failed"));
    if skipped > 0 {
        let mut reasons: std::collections::BTreeMap<&'static str, usize> =
            std::collections::BTreeMap::new();
        for (_, o) in outcomes {
            if let Some((reason, _)) = &o.skipped {
                *reasons.entry(skip_phrase(*reason)).or_default() += 1;
            }
        }
        let detail: Vec<String> = reasons.iter().map(|(p, n)| format!("{n} {p}")).collect();
        message.push_str(&format!(", {skipped} skipped ({})", detail.join(", ")));
    }
    (status, message)
}

fn skip_phrase(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::Backoff => "backing off after failures",
        SkipReason::Suspended => "suspended after repeated failures",
        SkipReason::CircuitOpen => "bank circuit open",
        SkipReason::CredentialsRefused => "bank refused our credentials",
        SkipReason::AlreadyRunning => "already being synced",
        SkipReason::ConsentMissing => "without a consent",
        SkipReason::ConsentWaiting => "waiting for consent",
        SkipReason::ConsentNoAnswer => "no answer from the client",
        SkipReason::ConsentRevoked => "consent revoked",
        SkipReason::ConsentRejected => "consent rejected",
        SkipReason::ConsentExpired => "consent expired",
    }
}
