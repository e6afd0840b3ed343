//! The append-only, hash-chained audit log. Each row carries the hash of the row before it, so
//! editing or deleting any row breaks the chain, which `verify_audit_chain` reports.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::db::Database;
use crate::db::WriteTxn;
use crate::domain::Actor;
use crate::entity::audit_log;
use crate::error::{CoreError, CoreResult};

/// The hash the first row chains from.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Any constant: the PostgreSQL advisory lock key that serialises appends across replicas.
const AUDIT_LOCK_KEY: i64 = 0x4155_4449_545f_4c4f;

/// One thing that happened, built fluently: `AuditEvent::new("client.update").actor(a).entity(..)`.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    action: String,
    user_id: Option<i64>,
    username: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    details: Map<String, Value>,
}

impl AuditEvent {
    pub fn new(action: &str) -> Self {
        AuditEvent {
            action: action.to_owned(),
            user_id: None,
            username: None,
            entity: None,
            entity_id: None,
            details: Map::new(),
        }
    }

    pub fn actor(self, actor: &Actor) -> Self {
        self.actor_user(actor.user_id, &actor.username)
    }

    pub fn actor_user(mut self, user_id: i64, username: &str) -> Self {
        self.user_id = Some(user_id);
        self.username = Some(username.to_owned());
        self
    }

    /// The acting user when only the id is at hand.
    pub fn actor_user_id(mut self, user_id: i64) -> Self {
        self.user_id = Some(user_id);
        self
    }

    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.chars().take(64).collect());
        self
    }

    pub fn entity(mut self, entity: &str, id: impl ToString) -> Self {
        self.entity = Some(entity.to_owned());
        self.entity_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// The outcome of checking the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    pub rows: u64,
    /// The id of the first row whose hash does not match, if any.
    pub first_broken: Option<i64>,
}

/// The fields a row's hash covers (all of them but the id).
struct HashedRow<'a> {
    at: &'a DateTime<Utc>,
    user_id: Option<i64>,
    username: Option<&'a str>,
    action: &'a str,
    entity: Option<&'a str>,
    entity_id: Option<&'a str>,
    details: &'a str,
}

fn row_hash(prev: &str, row: &HashedRow<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        &row.user_id.map(|u| u.to_string()).unwrap_or_default(),
        row.username.unwrap_or(""),
        row.action,
        row.entity.unwrap_or(""),
        row.entity_id.unwrap_or(""),
        row.details,
    ] {
        // Length prefixes keep field boundaries unambiguous.
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends `event` to the chain inside `txn`. Appends are serialised so that the chain never
/// forks: on SQLite by the single writer (a `WriteTxn` holds it), on PostgreSQL by an advisory
/// lock held until the transaction ends (so across replicas too).
pub(crate) async fn record_in(txn: &WriteTxn, event: AuditEvent) -> CoreResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [AUDIT_LOCK_KEY.into()],
        ))
        .await?;
    }
    let prev = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(1)
        .one(txn)
        .await?
        .map(|r| r.hash)
        .unwrap_or_else(|| GENESIS.to_owned());
    // PostgreSQL keeps microseconds: hash exactly what is stored.
    let at = Utc::now().trunc_subsecs(6);
    let details = Value::Object(event.details).to_string();
    let hash = row_hash(
        &prev,
        &HashedRow {
            at: &at,
            user_id: event.user_id,
            username: event.username.as_deref(),
            action: &event.action,
            entity: event.entity.as_deref(),
            entity_id: event.entity_id.as_deref(),
            details: &details,
        },
    );
    audit_log::ActiveModel {
        at: Set(at),
        user_id: Set(event.user_id),
        username: Set(event.username),
        action: Set(event.action),
        entity: Set(event.entity),
        entity_id: Set(event.entity_id),
        details: Set(details),
        prev_hash: Set(prev),
        hash: Set(hash),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// When `user_id` recorded `action` since `since`, oldest first, at most `limit` times (the
/// assistant's per-user rate limit counts its questions here, so every replica sees the same
/// count).
pub(crate) async fn recent_times<C: ConnectionTrait>(
    conn: &C,
    action: &str,
    user_id: i64,
    since: DateTime<Utc>,
    limit: u64,
) -> CoreResult<Vec<DateTime<Utc>>> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::At)
        .filter(audit_log::Column::At.gte(since))
        .filter(audit_log::Column::Action.eq(action))
        .filter(audit_log::Column::UserId.eq(user_id))
        .order_by_asc(audit_log::Column::At)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// The audit log as a service: appends in transactions of their own (serialised in this
/// process, so events of one process keep their order), de-duplicated views, and the readers
/// for administrators. A change of data records its event with [`record_in`] inside the
/// transaction of the change instead.
pub struct AuditLog {
    db: Database,
    lock: tokio::sync::Mutex<()>,
    /// Views of one entity by one user within this window are recorded once (zero: every view).
    view_window: Duration,
    recent_views: Mutex<HashMap<(i64, &'static str, i64), Instant>>,
}

impl AuditLog {
    pub fn new(db: Database, view_window: Duration) -> Self {
        AuditLog {
            db,
            lock: tokio::sync::Mutex::new(()),
            view_window,
            recent_views: Mutex::new(HashMap::new()),
        }
    }

    /// Appends one event in a transaction of its own: for events that change no data (a login
    /// failure, an export, a question, a view).
    pub async fn record(&self, event: AuditEvent) -> CoreResult<()> {
        let _guard = self.lock.lock().await;
        let txn = self.db.begin_write().await?;
        record_in(&txn, event).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records that `actor` viewed `entity` `id` (`action`, e.g. `client.view`); repeated views
    /// by the same user within the view window are one.
    pub async fn record_view(
        &self,
        actor: &Actor,
        action: &'static str,
        entity: &'static str,
        id: i64,
    ) -> CoreResult<()> {
        let now = Instant::now();
        if !self.view_window.is_zero() {
            let mut seen = self
                .recent_views
                .lock()
                .map_err(|_| CoreError::Internal("view cache poisoned".into()))?;
            let key = (actor.user_id, entity, id);
            if let Some(at) = seen.get(&key) {
                if now.duration_since(*at) < self.view_window {
                    return Ok(());
                }
            }
            if seen.len() > 10_000 {
                seen.clear();
            }
            seen.insert(key, now);
        }
        self.record(AuditEvent::new(action).actor(actor).entity(entity, id))
            .await
    }

    /// Walks the whole chain and reports the first row that does not match.
    pub async fn verify_audit_chain(&self) -> CoreResult<AuditVerification> {
        let mut prev = GENESIS.to_owned();
        let mut rows = 0u64;
        let mut after = 0i64;
        loop {
            let page = audit_log::Entity::find()
                .filter(audit_log::Column::Id.gt(after))
                .order_by_asc(audit_log::Column::Id)
                .limit(1000)
                .all(self.db.conn())
                .await?;
            if page.is_empty() {
                return Ok(AuditVerification {
                    rows,
                    first_broken: None,
                });
            }
            for row in page {
                rows += 1;
                let expected = row_hash(
                    &prev,
                    &HashedRow {
                        at: &row.at,
                        user_id: row.user_id,
                        username: row.username.as_deref(),
                        action: &row.action,
                        entity: row.entity.as_deref(),
                        entity_id: row.entity_id.as_deref(),
                        details: &row.details,
                    },
                );
                if row.prev_hash != prev || row.hash != expected {
                    return Ok(AuditVerification {
                        rows,
                        first_broken: Some(row.id),
                    });
                }
                prev = row.hash;
                after = row.id;
            }
        }
    }

    /// The newest audit rows, for administrators.
    pub async fn recent_audit(&self, limit: u64) -> CoreResult<Vec<audit_log::Model>> {
        if limit == 0 || limit > 1000 {
            return Err(CoreError::invalid("limit must be between 1 and 1000"));
        }
        Ok(audit_log::Entity::find()
            .order_by_desc(audit_log::Column::Id)
            .limit(limit)
            .all(self.db.conn())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(
        at: &'a DateTime<Utc>,
        user: Option<i64>,
        name: Option<&'a str>,
        action: &'a str,
        id: Option<&'a str>,
    ) -> HashedRow<'a> {
        HashedRow {
            at,
            user_id: user,
            username: name,
            action,
            entity: Some("e"),
            entity_id: id,
            details: "{}",
        }
    }

    #[test]
    fn hash_depends_on_every_field() {
        let at = Utc::now().trunc_subsecs(6);
        let base = row_hash("p", &row(&at, Some(1), Some("u"), "a", Some("1")));
        assert_eq!(
            base,
            row_hash("p", &row(&at, Some(1), Some("u"), "a", Some("1")))
        );
        assert_ne!(
            base,
            row_hash("q", &row(&at, Some(1), Some("u"), "a", Some("1")))
        );
        assert_ne!(
            base,
            row_hash("p", &row(&at, Some(2), Some("u"), "a", Some("1")))
        );
        assert_ne!(
            base,
            row_hash("p", &row(&at, Some(1), Some("u"), "a", Some("2")))
        );
        // Moving a character between fields changes the hash.
        assert_ne!(
            row_hash("p", &row(&at, None, Some("ab"), "c", None)),
            row_hash("p", &row(&at, None, Some("a"), "bc", None))
        );
    }
}
