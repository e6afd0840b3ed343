//! Server-side sessions: a random 256-bit token in the cookie, only its keyed SHA-256 in the
//! database, idle and absolute timeouts enforced here.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::{Actor, LoginContext, LoginOutcome, User};
use crate::audit::AuditEvent;
use crate::domain::Role;
use crate::entity::{sessions, users};
use crate::error::{CoreError, CoreResult};
use crate::Core;

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

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Core {
    fn token_hash(&self, token: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.settings.secret_key);
        hasher.update(token.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Checks the credentials (throttled per account and per address) and opens a new session.
    /// Unknown users and wrong passwords get the same message and take the same time.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ctx: LoginContext,
    ) -> CoreResult<LoginOutcome> {
        let name = username.trim().to_lowercase();
        let mut keys = vec![format!("user:{name}")];
        if let Some(ip) = &ctx.ip {
            keys.push(format!("ip:{ip}"));
        }
        self.throttle_check(&keys).await?;

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
                self.throttle_fail(&keys).await?;
                self.audit(
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
        self.throttle_reset(&keys[0]).await?;
        if let Some(previous) = &ctx.previous_token {
            self.logout(previous).await?;
        }

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
            user_agent: Set(ctx.user_agent.map(|ua| ua.chars().take(256).collect())),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?;
        let user: User = user.try_into()?;
        self.audit(
            AuditEvent::new("login")
                .actor_user(user.id, &user.username)
                .entity("session", session.id)
                .detail("ip", ctx.ip),
        )
        .await?;
        Ok(LoginOutcome {
            token,
            user,
            expires_at,
        })
    }

    /// Resolves a cookie token to the signed-in user, or `None` when the session is unknown,
    /// expired (idle or absolute), or its user is disabled. One query on the hot path.
    pub async fn authenticate(&self, token: &str) -> CoreResult<Option<Actor>> {
        if token.len() > 128 {
            return Ok(None);
        }
        let found = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(self.token_hash(token)))
            .find_also_related(users::Entity)
            .one(self.db.conn())
            .await?;
        let Some((session, Some(user))) = found else {
            return Ok(None);
        };
        let now = Utc::now();
        let idle_deadline = session.last_seen_at + self.settings.sessions.idle_timeout;
        if user.disabled || now >= session.expires_at || now >= idle_deadline {
            sessions::Entity::delete_by_id(session.id)
                .exec(self.db.conn())
                .await?;
            return Ok(None);
        }
        let session_id = session.id;
        if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECONDS {
            let mut active: sessions::ActiveModel = session.into();
            active.last_seen_at = Set(now);
            active.update(self.db.conn()).await?;
        }
        let role = Role::parse(&user.role)?;
        Ok(Some(Actor {
            user_id: user.id,
            username: user.username,
            role,
            session_id,
        }))
    }

    /// Ends the session behind `token` (no error when it is already gone).
    pub async fn logout(&self, token: &str) -> CoreResult<()> {
        let hash = self.token_hash(token);
        let removed = sessions::Entity::delete_many()
            .filter(sessions::Column::TokenHash.eq(hash))
            .exec(self.db.conn())
            .await?;
        if removed.rows_affected > 0 {
            self.session_events.send_modify(|v| *v = v.wrapping_add(1));
        }
        Ok(())
    }

    /// Ends every session of a user (password change, disable, "log out everywhere").
    pub async fn end_all_sessions(&self, user_id: i64) -> CoreResult<u64> {
        let removed = sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .exec(self.db.conn())
            .await?;
        self.session_events.send_modify(|v| *v = v.wrapping_add(1));
        Ok(removed.rows_affected)
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

    /// A receiver that changes whenever sessions end, so long-lived connections (websockets)
    /// re-check theirs at once instead of waiting for their next periodic check.
    pub fn session_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.session_events.subscribe()
    }
}
