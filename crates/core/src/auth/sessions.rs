//! Server-side sessions: a random 256-bit token in the cookie, only its keyed SHA-256 in the
//! database, idle and absolute timeouts enforced here.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::Auth;
use super::{Actor, LoginContext, LoginOutcome, User};
use crate::audit::AuditEvent;
use crate::db::WriteTxn;
use crate::domain::Role;
use crate::entity::{sessions, users};
use crate::error::{CoreError, CoreResult};

#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// A session unused this long is over (default 30 minutes).
    pub idle_timeout: Duration,
    /// A session is over this long after login, used or not (default 12 hours).
    pub absolute_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
        }
    }
}

/// `last_seen_at` is written at most this often, so a busy session is not a write per request.
const TOUCH_EVERY_SECONDS: i64 = 30;

/// Sessions remembered at most; when full, the ones due for a check go, and if none is, all go.
const MEMO_MAX_ENTRIES: usize = 10_000;

/// Sessions this process found valid, so a busy session costs one database read per
/// [`TOUCH_EVERY_SECONDS`] (when its `last_seen_at` is written anyway) instead of one per
/// request. An entry is used only while
/// - no session of any user may have ended since it was read (the event bus's
///   [`EventBus::sessions_generation`](crate::events::EventBus::sessions_generation), read
///   *before* the database was: logouts, password changes, disables and role changes here, on
///   other replicas as soon as their announcement arrives, and everything after a gap in
///   announcements), and
/// - the session is within its idle and absolute deadlines, and its last touch is younger than
///   [`TOUCH_EVERY_SECONDS`].
///
/// Keyed by the token's keyed hash, as the database is; the token itself is never kept.
#[derive(Default)]
pub(crate) struct SessionMemo {
    entries: std::sync::Mutex<std::collections::HashMap<String, Remembered>>,
}

#[derive(Clone)]
struct Remembered {
    actor: Actor,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    generation: u64,
}

impl SessionMemo {
    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Remembered>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(
        &self,
        hash: &str,
        now: DateTime<Utc>,
        generation: u64,
        idle: Duration,
    ) -> Option<Actor> {
        let entries = self.entries();
        let r = entries.get(hash)?;
        let fresh = r.generation == generation
            && now < r.expires_at
            && now < r.last_seen_at + idle
            && (now - r.last_seen_at).num_seconds() < TOUCH_EVERY_SECONDS;
        fresh.then(|| r.actor.clone())
    }

    fn put(&self, hash: String, remembered: Remembered, now: DateTime<Utc>) {
        let mut entries = self.entries();
        if entries.len() >= MEMO_MAX_ENTRIES && !entries.contains_key(&hash) {
            entries.retain(|_, r| (now - r.last_seen_at).num_seconds() < TOUCH_EVERY_SECONDS);
            if entries.len() >= MEMO_MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, remembered);
    }

    fn forget(&self, hash: &str) {
        self.entries().remove(hash);
    }
}

/// The throttle counters a login attempt counts against: the account and the client address.
pub(crate) fn throttle_keys(name: &str, ip: Option<&str>) -> Vec<String> {
    let mut keys = vec![format!("user:{name}")];
    if let Some(ip) = ip {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Auth {
    fn token_hash(&self, token: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.settings.secret_key);
        hasher.update(token.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Checks the credentials (throttled per account and per address, each attempt counted
    /// before the password is checked) and opens a new session. Unknown users, disabled users
    /// and wrong passwords get the same message and take the same time (a hash is verified
    /// either way).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ctx: LoginContext,
    ) -> CoreResult<LoginOutcome> {
        let name: String = username.trim().to_lowercase().chars().take(64).collect();
        let keys = throttle_keys(&name, ctx.ip.as_deref());
        self.throttle_begin(&keys).await?;

        let user = match super::users::normalize_username(&name) {
            Ok(n) => self.find_user_model(&n).await?,
            Err(_) => None,
        };
        let usable = user.as_ref().filter(|u| !u.disabled);
        let ok = self
            .passwords
            .verify(usable.map(|u| u.password_hash.as_str()), password)
            .await?;
        let user = match (ok, usable) {
            (true, Some(user)) => user.clone(),
            _ => {
                self.audit
                    .record(
                        AuditEvent::new("login.failed")
                            .username(&name)
                            .detail("ip", ctx.ip.clone()),
                    )
                    .await?;
                return Err(CoreError::Unauthenticated(
                    "invalid username or password".into(),
                ));
            }
        };
        let txn = self.db.begin_write().await?;
        self.throttle_succeeded(&txn, &keys).await?;
        let mut ended = 0;
        if let Some(previous) = &ctx.previous_token {
            ended = sessions::Entity::delete_many()
                .filter(sessions::Column::TokenHash.eq(self.token_hash(previous)))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        let user: User = user.try_into()?;
        let opened = self.open_session(&txn, &user, &ctx).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("login")
                .actor_user(user.id, &user.username)
                .entity("session", opened.1)
                .detail("ip", ctx.ip),
        )
        .await?;
        txn.commit().await?;
        if ended > 0 {
            self.notify_sessions_ended(user.id);
        }
        Ok(LoginOutcome {
            token: opened.0,
            user,
            expires_at: opened.2,
        })
    }

    /// Inserts a session with a fresh token: (token, session id, absolute expiry).
    pub(crate) async fn open_session(
        &self,
        txn: &WriteTxn,
        user: &User,
        ctx: &LoginContext,
    ) -> CoreResult<(String, i64, DateTime<Utc>)> {
        let token = new_token();
        let now = Utc::now();
        let expires_at = now + self.settings.sessions.absolute_timeout;
        let session = sessions::ActiveModel {
            token_hash: Set(self.token_hash(&token)),
            user_id: Set(user.id),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(expires_at),
            ip: Set(ctx.ip.clone()),
            user_agent: Set(ctx
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(256).collect())),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok((token, session.id, expires_at))
    }

    /// Resolves a cookie token to the signed-in user, or `None` when the session is unknown,
    /// expired (idle or absolute), or its user is disabled. A session checked in the last
    /// [`TOUCH_EVERY_SECONDS`] is answered from memory unless any session ended since
    /// ([`SessionMemo`]); otherwise one query (and the touch of `last_seen_at`).
    pub async fn authenticate(&self, token: &str) -> CoreResult<Option<Actor>> {
        if token.len() > 128 {
            return Ok(None);
        }
        let hash = self.token_hash(token);
        let now = Utc::now();
        // Read before the database: an ending that commits after the read moves it, so what
        // the read saw is not remembered past that ending.
        let generation = self.events.sessions_generation();
        let idle = self.settings.sessions.idle_timeout;
        if let Some(actor) = self.memo.get(&hash, now, generation, idle) {
            return Ok(Some(actor));
        }
        let found = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(hash.as_str()))
            .find_also_related(users::Entity)
            .one(self.db.conn())
            .await?;
        let Some((session, Some(user))) = found else {
            self.memo.forget(&hash);
            return Ok(None);
        };
        let idle_deadline = session.last_seen_at + idle;
        if user.disabled || now >= session.expires_at || now >= idle_deadline {
            self.memo.forget(&hash);
            sessions::Entity::delete_by_id(session.id)
                .exec(self.db.conn())
                .await?;
            return Ok(None);
        }
        let session_id = session.id;
        let expires_at = session.expires_at;
        let mut last_seen_at = session.last_seen_at;
        if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECONDS {
            let mut active: sessions::ActiveModel = session.into();
            active.last_seen_at = Set(now);
            active.update(self.db.conn()).await?;
            last_seen_at = now;
        }
        let role = Role::parse(&user.role)?;
        let actor = Actor {
            user_id: user.id,
            username: user.username,
            role,
            session_id,
            password_change_required: user.must_change_password,
        };
        self.memo.put(
            hash,
            Remembered {
                actor: actor.clone(),
                last_seen_at,
                expires_at,
                generation,
            },
            now,
        );
        Ok(Some(actor))
    }

    /// Signs out: ends every session of the user behind `token` (all their browsers and open
    /// websockets), as security.md asks of a logout. No error when the session is already gone.
    pub async fn logout(&self, token: &str) -> CoreResult<()> {
        let hash = self.token_hash(token);
        let txn = self.db.begin_write().await?;
        let Some(session) = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(hash))
            .one(&txn)
            .await?
        else {
            return Ok(());
        };
        let removed = sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(session.user_id))
            .exec(&txn)
            .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("logout")
                .actor_user_id(session.user_id)
                .entity("user", session.user_id)
                .detail("sessions", removed.rows_affected),
        )
        .await?;
        txn.commit().await?;
        self.notify_sessions_ended(session.user_id);
        Ok(())
    }

    /// Ends every session of a user inside `txn` (password change, disable, role change);
    /// call [`Core::notify_sessions_ended`] after the commit.
    pub(crate) async fn end_sessions_in(&self, txn: &WriteTxn, user_id: i64) -> CoreResult<u64> {
        Ok(sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .exec(txn)
            .await?
            .rows_affected)
    }

    /// Ends every session of a user ("log out everywhere").
    pub async fn end_all_sessions(&self, user_id: i64) -> CoreResult<u64> {
        let removed = sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .exec(self.db.conn())
            .await?;
        self.notify_sessions_ended(user_id);
        Ok(removed.rows_affected)
    }

    /// Tells long-lived connections (websockets), here and on every replica, that `user_id`'s
    /// sessions ended, so they re-check theirs now. Call it after the commit.
    pub(crate) fn notify_sessions_ended(&self, user_id: i64) {
        self.events
            .publish(crate::events::Event::SessionsEnded { user_id });
    }

    /// Deletes sessions past their absolute or idle deadline. Run periodically by the server.
    pub async fn purge_expired_sessions(&self) -> CoreResult<u64> {
        let now = Utc::now();
        let idle_cutoff: DateTime<Utc> = now - self.settings.sessions.idle_timeout;
        let removed = sessions::Entity::delete_many()
            .filter(
                sessions::Column::ExpiresAt
                    .lte(now)
                    .or(sessions::Column::LastSeenAt.lte(idle_cutoff)),
            )
            .exec(self.db.conn())
            .await?;
        Ok(removed.rows_affected)
    }

    /// A watcher that wakes when `user_id`'s sessions end (never for other users'), so
    /// long-lived connections (websockets) re-check theirs at once instead of waiting for their
    /// next periodic check.
    pub fn session_changes(&self, user_id: i64) -> crate::events::SessionChanges {
        self.events.session_changes(user_id)
    }
}
