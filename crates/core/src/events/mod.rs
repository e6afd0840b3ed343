//! Events other parts of the application react to: sync progress (`syncProgress`), sessions
//! ended (open websockets of that user re-check theirs), re-categorisations finished, and writes
//! (the response cache's write clock).
//!
//! One [`EventBus`] per `Core`. Every event is delivered to this process's subscribers at once.
//! On PostgreSQL, once [`EventBus::start`] ran (the server does, chosen by the database URL), it
//! also goes to every other replica on the same database through `LISTEN/NOTIFY` (`postgres.rs`):
//! - each event carries this process's random origin id, and a replica drops its own echoes, so
//!   nothing is delivered twice;
//! - payloads carry ids and counters only, never names, texts or other personal data
//!   (`wire.rs`; its tests guard it), which also keeps them far below `NOTIFY`'s 8000 bytes;
//! - a write transaction (`Database::begin_write`) announces itself with a `NOTIFY` inside the
//!   transaction, so other replicas learn of it exactly at its commit; other writes (autocommit
//!   statements) are announced right after they ran, at most one announcement per 20 ms;
//! - after the listening connection was lost and re-established, events may have been missed:
//!   the replica assumes anything may have happened (its write clock moves, every websocket
//!   re-checks its session, waiters for re-categorisations look again).
//!
//! On SQLite (one process per file) the bus is in-process only.

mod postgres;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sea_orm::DatabaseBackend;
use tokio::sync::{broadcast, watch};

use crate::db::{Database, WriteClock};
use crate::domain::SyncEvent;
use crate::error::CoreResult;

/// What the bus carries (writes are announced by the database layer itself).
#[derive(Clone, Debug)]
pub enum Event {
    /// Progress of a sync run.
    Sync(SyncEvent),
    /// Sessions ended (logout, password change, disable, role change, a login replacing an
    /// older session): `user_id` is the user concerned; only that user's watchers
    /// ([`EventBus::session_changes`]) hear it, so other users' sockets do no work.
    SessionsEnded { user_id: i64 },
    /// A re-categorisation run ended (finished or failed).
    RecategorisationFinished { run_id: i64 },
    /// A client's timeline has new entries (committed): `clientEvents` subscribers read them.
    Timeline { client_id: i64 },
    /// A task was created or changed (committed): `myTasksChanged` subscribers of its assignee
    /// (and of its previous assignee, when it moved) read it.
    TaskChanged {
        task_id: i64,
        assignee_id: Option<i64>,
        previous_assignee_id: Option<i64>,
    },
    /// A signal was raised, raised again or escalated (committed): `signalRaised` subscribers
    /// who see its client read it.
    SignalRaised { signal_id: i64, client_id: i64 },
}

/// A task's change as the bus carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskChange {
    pub task_id: i64,
    pub assignee_id: Option<i64>,
    pub previous_assignee_id: Option<i64>,
}

/// Who watches whose sessions: one channel per user with a watcher, dropped with its last
/// watcher, plus one every watcher hears (after a gap in events from other replicas).
#[derive(Default)]
struct SessionWatchers {
    users: Mutex<HashMap<i64, watch::Sender<u64>>>,
    all: watch::Sender<u64>,
    /// Moves whenever any user's sessions may have ended (see [`EventBus::sessions_generation`]).
    generation: AtomicU64,
}

impl SessionWatchers {
    /// The map, also after a panic elsewhere held its lock (it stays consistent: every change
    /// is one insert or remove).
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<u64>>> {
        self.users
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn subscribe(this: &Arc<Self>, user_id: i64) -> SessionChanges {
        let user = this
            .users()
            .entry(user_id)
            .or_insert_with(|| watch::Sender::new(0))
            .subscribe();
        SessionChanges {
            user_id,
            user,
            all: this.all.subscribe(),
            watchers: this.clone(),
        }
    }

    fn user_changed(&self, user_id: i64) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(tx) = self.users().get(&user_id) {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    fn all_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.all.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// One watcher of a user's sessions (see [`EventBus::session_changes`]).
pub struct SessionChanges {
    user_id: i64,
    user: watch::Receiver<u64>,
    all: watch::Receiver<u64>,
    watchers: Arc<SessionWatchers>,
}

impl SessionChanges {
    /// Waits until the user's sessions may have changed. Fails only when the bus is gone.
    pub async fn changed(&mut self) -> Result<(), watch::error::RecvError> {
        tokio::select! {
            changed = self.user.changed() => changed,
            changed = self.all.changed() => changed,
        }
    }
}

impl Drop for SessionChanges {
    fn drop(&mut self) {
        // Under the map's lock, as `subscribe` is: the count cannot grow meanwhile. This
        // watcher's receiver is still alive here, so 1 means it was the last.
        let mut users = self.watchers.users();
        if users
            .get(&self.user_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            users.remove(&self.user_id);
        }
    }
}

/// The process's subscribers of each kind of event.
struct Local {
    sync: broadcast::Sender<SyncEvent>,
    sessions: Arc<SessionWatchers>,
    recategorisations: watch::Sender<u64>,
    timeline: broadcast::Sender<i64>,
    tasks: broadcast::Sender<TaskChange>,
    /// `(signal id, client id)`.
    signals: broadcast::Sender<(i64, i64)>,
    writes: Arc<WriteClock>,
}

impl Local {
    fn deliver(&self, event: Event) {
        match event {
            // No subscriber is fine.
            Event::Sync(e) => {
                let _ = self.sync.send(e);
            }
            Event::SessionsEnded { user_id } => self.sessions.user_changed(user_id),
            Event::RecategorisationFinished { .. } => self
                .recategorisations
                .send_modify(|v| *v = v.wrapping_add(1)),
            Event::Timeline { client_id } => {
                let _ = self.timeline.send(client_id);
            }
            Event::TaskChanged {
                task_id,
                assignee_id,
                previous_assignee_id,
            } => {
                let _ = self.tasks.send(TaskChange {
                    task_id,
                    assignee_id,
                    previous_assignee_id,
                });
            }
            Event::SignalRaised {
                signal_id,
                client_id,
            } => {
                let _ = self.signals.send((signal_id, client_id));
            }
        }
    }

    /// After a gap in what arrived from other replicas: anything may have happened meanwhile.
    fn resync(&self) {
        self.writes.record_remote();
        self.sessions.all_changed();
        self.recategorisations
            .send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// The event bus: in-process delivery, plus `LISTEN/NOTIFY` across replicas on PostgreSQL.
pub struct EventBus {
    /// Tags this process's events, so its own echoes are dropped.
    origin: uuid::Uuid,
    local: Arc<Local>,
    remote: OnceLock<postgres::Remote>,
}

impl EventBus {
    /// An in-process bus over `db`'s write clock; [`EventBus::start`] extends it to replicas.
    pub fn new(db: &Database) -> Self {
        EventBus {
            origin: uuid::Uuid::new_v4(),
            local: Arc::new(Local {
                sync: broadcast::channel(256).0,
                sessions: Arc::new(SessionWatchers::default()),
                recategorisations: watch::Sender::new(0),
                timeline: broadcast::channel(256).0,
                tasks: broadcast::channel(256).0,
                signals: broadcast::channel(1024).0,
                writes: db.write_clock(),
            }),
            remote: OnceLock::new(),
        }
    }

    /// On PostgreSQL: starts listening to and announcing on the database's channel (once;
    /// later calls do nothing). Nothing to do on other databases.
    pub async fn start(&self, db: &Database) -> CoreResult<()> {
        if db.backend() != DatabaseBackend::Postgres || self.remote.get().is_some() {
            return Ok(());
        }
        let remote = postgres::Remote::start(db, self.origin, self.local.clone()).await?;
        if self.remote.set(remote).is_err() {
            tracing::debug!("event bus: started twice; the second is dropped");
        }
        Ok(())
    }

    /// Whether events reach other replicas.
    pub fn is_shared(&self) -> bool {
        self.remote.get().is_some()
    }

    /// Delivers `event` here and, when started on PostgreSQL, to the other replicas. Never
    /// fails: an event that cannot be sent is logged.
    pub fn publish(&self, event: Event) {
        if let Some(remote) = self.remote.get() {
            remote.send(wire::Envelope::new(self.origin, &event).to_payload());
        }
        self.local.deliver(event);
    }

    pub fn sync_events(&self) -> broadcast::Receiver<SyncEvent> {
        self.local.sync.subscribe()
    }

    /// Wakes when `user_id`'s sessions may have ended (here or on another replica), or after a
    /// gap in what arrived from other replicas; never for other users' sessions.
    pub fn session_changes(&self, user_id: i64) -> SessionChanges {
        SessionWatchers::subscribe(&self.local.sessions, user_id)
    }

    /// A number that moves whenever any user's sessions may have ended: here, on another
    /// replica (as soon as its announcement arrives), or in a gap of announcements. Whatever was
    /// learnt of a session before it moved must be checked again.
    pub fn sessions_generation(&self) -> u64 {
        self.local.sessions.generation.load(Ordering::Acquire)
    }

    pub fn recategorisations(&self) -> watch::Receiver<u64> {
        self.local.recategorisations.subscribe()
    }

    /// Ids of clients whose timeline grew.
    pub fn timeline_changes(&self) -> broadcast::Receiver<i64> {
        self.local.timeline.subscribe()
    }

    pub fn task_changes(&self) -> broadcast::Receiver<TaskChange> {
        self.local.tasks.subscribe()
    }

    /// `(signal id, client id)` of signals raised or escalated.
    pub fn signals_raised(&self) -> broadcast::Receiver<(i64, i64)> {
        self.local.signals.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn wakes(w: &mut SessionChanges) -> bool {
        tokio::time::timeout(Duration::from_millis(100), w.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_users_sessions_ending_wakes_only_that_users_watchers() {
        let watchers = Arc::new(SessionWatchers::default());
        let mut a1 = SessionWatchers::subscribe(&watchers, 1);
        let mut a2 = SessionWatchers::subscribe(&watchers, 1);
        let mut b = SessionWatchers::subscribe(&watchers, 2);
        watchers.user_changed(1);
        assert!(wakes(&mut a1).await && wakes(&mut a2).await);
        assert!(
            !wakes(&mut b).await,
            "another user's logout is not B's business"
        );
        // After a gap in the replicas' events, everybody looks.
        watchers.all_changed();
        assert!(wakes(&mut a1).await && wakes(&mut b).await);
        // A user without watchers costs nothing, and the last watcher takes its entry along.
        watchers.user_changed(3);
        drop(a1);
        assert_eq!(watchers.users().len(), 2);
        drop((a2, b));
        assert!(watchers.users().is_empty());
    }
}
