//! The bus across replicas: PostgreSQL `LISTEN/NOTIFY` on one channel per database schema (so
//! deployments, or tests, sharing a database in separate schemas do not hear each other).
//!
//! Three tasks on a pool of their own (three connections, so the bus never waits for, nor
//! counts among, the application's statements): the listener, the sender of published events,
//! and the announcer of writes made outside a write transaction.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{DbErr, EntityTrait, RuntimeErr};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::wire::{Envelope, Wire};
use super::{Event, Local};
use crate::db::{Announce, Database, NOTIFY_SQL};
use crate::domain::{SyncEvent, SyncRunSummary};
use crate::entity::sync_runs;
use crate::error::{CoreError, CoreResult};

/// Events waiting to be sent; when full (PostgreSQL unreachable for long), new ones are dropped.
const OUTBOX: usize = 1024;
/// The shortest time between two announcements of writes outside write transactions (a sync
/// runs thousands of statements; other replicas need to hear of them, not of each).
const ANNOUNCE_EVERY: Duration = Duration::from_millis(20);
/// PostgreSQL's identifier limit, which channel names share.
const MAX_CHANNEL: usize = 63;

pub(super) struct Remote {
    outbox: mpsc::Sender<String>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn bus_error(e: sea_orm::sqlx::Error) -> CoreError {
    CoreError::Db(DbErr::Conn(RuntimeErr::SqlxError(e)))
}

/// The channel of the schema the connections use.
pub(super) fn channel_name(schema: &str) -> String {
    let mut name = format!("ai_crm_events.{schema}");
    while name.len() > MAX_CHANNEL {
        name.pop();
    }
    name
}

impl Remote {
    pub(super) async fn start(
        db: &Database,
        origin: uuid::Uuid,
        local: Arc<Local>,
    ) -> CoreResult<Remote> {
        let options = db
            .conn()
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone();
        let pool = PgPoolOptions::new()
            .max_connections(3)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(10))
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await
            .map_err(bus_error)?;
        let schema: Option<String> = sea_orm::sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await
            .map_err(bus_error)?;
        let channel = channel_name(schema.as_deref().unwrap_or("public"));
        let listener = listen(&pool, &channel).await?;
        tracing::info!(%channel, "event bus: shared with the other replicas through PostgreSQL");

        let writes_payload = Envelope::with(origin, Wire::Writes).to_payload();
        db.announce_writes(Announce {
            channel: channel.clone(),
            payload: writes_payload.clone(),
        });

        let (outbox, inbox) = mpsc::channel::<String>(OUTBOX);
        let announcer = tokio::spawn(announce_loop(
            pool.clone(),
            channel.clone(),
            writes_payload,
            db.write_clock(),
        ));
        let sender = tokio::spawn(send_loop(pool.clone(), channel.clone(), inbox));
        let receiver = tokio::spawn(listen_loop(
            pool,
            channel,
            listener,
            origin,
            local,
            db.clone(),
        ));
        Ok(Remote {
            outbox,
            tasks: vec![announcer, sender, receiver],
        })
    }

    pub(super) fn send(&self, payload: String) {
        if let Err(e) = self.outbox.try_send(payload) {
            tracing::warn!("event bus: an event was not sent to the other replicas: {e}");
        }
    }
}

async fn listen(pool: &PgPool, channel: &str) -> CoreResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.map_err(bus_error)?;
    listener.listen(channel).await.map_err(bus_error)?;
    Ok(listener)
}

/// Announces writes made outside a write transaction (autocommit statements), which announces
/// itself: the first at once, then at most one per [`ANNOUNCE_EVERY`] however many statements
/// ran meanwhile. Remote writes do not wake this (they are not announced again).
async fn announce_loop(
    pool: PgPool,
    channel: String,
    payload: String,
    clock: Arc<crate::db::WriteClock>,
) {
    loop {
        clock.local_write().await;
        notify(&pool, &channel, &payload).await;
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

async fn send_loop(pool: PgPool, channel: String, mut inbox: mpsc::Receiver<String>) {
    while let Some(payload) = inbox.recv().await {
        notify(&pool, &channel, &payload).await;
    }
}

/// One `NOTIFY`; a failure is logged (the event is lost; receivers' time-to-live and periodic
/// checks bound what that costs).
async fn notify(pool: &PgPool, channel: &str, payload: &str) {
    let sent = sea_orm::sqlx::query(NOTIFY_SQL)
        .bind(channel)
        .bind(payload)
        .execute(pool)
        .await;
    if let Err(e) = sent {
        tracing::warn!("event bus: sending to the other replicas failed: {e}");
    }
}

async fn listen_loop(
    pool: PgPool,
    channel: String,
    mut listener: PgListener,
    origin: uuid::Uuid,
    local: Arc<Local>,
    db: Database,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                receive(notification.payload(), origin, &local, &db).await;
            }
            Ok(None) => {
                // The connection dropped and PgListener has listened again on a new one.
                tracing::warn!("event bus: connection to PostgreSQL lost and re-established");
                local.resync();
            }
            Err(e) => {
                tracing::warn!("event bus: listening failed ({e}); connecting again");
                listener = reconnect(&pool, &channel).await;
                local.resync();
            }
        }
    }
}

/// A new listener, retried with backoff (up to 30 s apart) until PostgreSQL answers.
async fn reconnect(pool: &PgPool, channel: &str) -> PgListener {
    let mut wait = Duration::from_millis(250);
    loop {
        tokio::time::sleep(wait).await;
        match listen(pool, channel).await {
            Ok(listener) => {
                tracing::info!("event bus: listening again");
                return listener;
            }
            Err(e) => {
                tracing::warn!("event bus: still cannot listen ({e})");
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn receive(payload: &str, origin: uuid::Uuid, local: &Local, db: &Database) {
    let Some(envelope) = Envelope::parse(payload) else {
        tracing::debug!(
            bytes = payload.len(),
            "event bus: an event of an unknown kind ignored"
        );
        return;
    };
    if envelope.is_from(origin) {
        return;
    }
    match envelope.body {
        Wire::Writes => local.writes.record_remote(),
        Wire::SyncFinished { run_id } => match finished_run(db, run_id).await {
            Ok(Some(run)) => local.deliver(Event::Sync(SyncEvent::Finished(run))),
            Ok(None) => tracing::warn!(run = run_id, "event bus: a finished run is not stored"),
            Err(e) => tracing::warn!(
                run = run_id,
                "event bus: reading a finished run failed: {e}"
            ),
        },
        other => {
            if let Some(event) = other.into_event() {
                local.deliver(event);
            }
        }
    }
}

async fn finished_run(db: &Database, run_id: i64) -> CoreResult<Option<SyncRunSummary>> {
    sync_runs::Entity::find_by_id(run_id)
        .one(db.conn())
        .await?
        .map(SyncRunSummary::try_from)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_per_schema_and_valid_identifiers() {
        assert_eq!(channel_name("public"), "ai_crm_events.public");
        assert_ne!(channel_name("t_1"), channel_name("t_2"));
        assert_eq!(channel_name(&"s".repeat(100)).len(), MAX_CHANNEL);
    }
}
