//! Users and the bootstrap administrator.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::Auth;
use super::{Actor, LoginContext, LoginOutcome};
use crate::audit::AuditEvent;
use crate::domain::Role;
use crate::entity::users;
use crate::error::{CoreError, CoreResult};

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub team_id: Option<i64>,
    /// A temporary password (from a reset) that must be changed before anything else.
    pub must_change_password: bool,
    /// The IANA time zone of the user's day (`Europe/Moscow` unless they chose another).
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<users::Model> for User {
    type Error = CoreError;
    fn try_from(m: users::Model) -> CoreResult<Self> {
        Ok(User {
            id: m.id,
            role: Role::parse(&m.role)?,
            username: m.username,
            disabled: m.disabled,
            team_id: m.team_id,
            must_change_password: m.must_change_password,
            time_zone: m.time_zone,
            created_at: m.created_at,
        })
    }
}

/// How the first administrator gets a password.
#[derive(Clone, Debug)]
pub enum BootstrapPassword {
    /// `AUTH_PASSWORD_HASH`: an argon2id PHC string. Applied on every start, so rotating the
    /// variable rotates the password.
    Hash(String),
    /// `AUTH_PASSWORD` (development only): hashed at start and applied on every start.
    Plain(String),
    /// Neither set: on the very first start a random password is generated and returned once.
    Generate,
}

/// Usernames are case-insensitive: compared and stored NFKC-normalised (a full-width
/// "ａｄｍｉｎ" is "admin"), trimmed and lower-cased.
pub fn normalize_username(name: &str) -> CoreResult<String> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.trim().nfkc().collect::<String>().to_lowercase();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(CoreError::invalid("a username is 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(CoreError::invalid(
            "a username may hold letters, digits and . _ - @ only",
        ));
    }
    Ok(name)
}

/// The name of a new user: [`normalize_username`], and ASCII letters and digits only (with
/// `. _ - @`), so that no name can look like another one in a different script (a Cyrillic
/// "аdmin" beside "admin"). Existing names, whatever they hold, still sign in.
pub fn new_username(name: &str) -> CoreResult<String> {
    let name = normalize_username(name)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(CoreError::invalid(format!(
            "a new username may hold Latin letters a-z, digits and . _ - @ only (so that it cannot be mistaken for another), got {name:?}"
        )));
    }
    Ok(name)
}

impl Auth {
    pub(crate) async fn find_user_model(&self, username: &str) -> CoreResult<Option<users::Model>> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(self.db.conn())
            .await?)
    }

    /// The user named `username` (any case), if there is one.
    pub async fn user_named(&self, username: &str) -> CoreResult<Option<User>> {
        self.find_user_model(&normalize_username(username)?)
            .await?
            .map(User::try_from)
            .transpose()
    }

    /// For the demo: a user who signs in with the same password as `like` (its hash is
    /// copied; the password itself is never known here). Fails if the name is taken or `like`
    /// does not exist.
    pub async fn create_user_like(
        &self,
        username: &str,
        role: Role,
        like: &str,
    ) -> CoreResult<User> {
        let username = new_username(username)?;
        if self.find_user_model(&username).await?.is_some() {
            return Err(CoreError::invalid(format!(
                "user {username} already exists"
            )));
        }
        let model = self
            .find_user_model(&normalize_username(like)?)
            .await?
            .ok_or_else(|| CoreError::not_found("user", like))?;
        self.insert_user(self.db.conn(), &username, model.password_hash, role)
            .await
    }

    pub async fn user(&self, id: i64) -> CoreResult<User> {
        users::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("user", id))?
            .try_into()
    }

    /// Creates a user. The password must follow the policy (12+ characters).
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> CoreResult<User> {
        let username = new_username(username)?;
        if self.find_user_model(&username).await?.is_some() {
            return Err(CoreError::invalid(format!(
                "user {username} already exists"
            )));
        }
        let hash = self.passwords.hash(password).await?;
        self.insert_user(self.db.conn(), &username, hash, role)
            .await
    }

    async fn insert_user<C: ConnectionTrait>(
        &self,
        conn: &C,
        username: &str,
        password_hash: String,
        role: Role,
    ) -> CoreResult<User> {
        let now = Utc::now();
        let model = users::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(password_hash),
            role: Set(role.as_str().to_owned()),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        model.try_into()
    }

    /// Makes sure the administrator exists. Returns the generated password when one was made
    /// (only on a first start with neither `AUTH_PASSWORD_HASH` nor `AUTH_PASSWORD`).
    pub async fn ensure_bootstrap_admin(
        &self,
        username: &str,
        password: BootstrapPassword,
    ) -> CoreResult<Option<String>> {
        let username = normalize_username(username)?;
        let existing = self.find_user_model(&username).await?;
        let hash = match &password {
            BootstrapPassword::Hash(h) => {
                crate::auth::check_phc_hash(h)?;
                Some(h.clone())
            }
            BootstrapPassword::Plain(p) => Some(self.passwords.hash(p).await?),
            BootstrapPassword::Generate => None,
        };
        match (existing, hash) {
            (Some(user), Some(hash)) => {
                let mut active: users::ActiveModel = user.clone().into();
                active.password_hash = Set(hash);
                active.role = Set(Role::Admin.as_str().to_owned());
                active.disabled = Set(false);
                active.updated_at = Set(Utc::now());
                active.update(self.db.conn()).await?;
                Ok(None)
            }
            (Some(_), None) => Ok(None),
            (None, Some(hash)) => {
                self.insert_user(self.db.conn(), &username, hash, Role::Admin)
                    .await?;
                Ok(None)
            }
            (None, None) => {
                if users::Entity::find().count(self.db.conn()).await? > 0 {
                    return Ok(None);
                }
                let generated = generate_password();
                let hash = self.passwords.hash(&generated).await?;
                self.insert_user(self.db.conn(), &username, hash, Role::Admin)
                    .await?;
                Ok(Some(generated))
            }
        }
    }
}

/// What an administrator may change about a user. A change of role or a disable ends every
/// session of that user: their next request needs a new login, and so a new session id.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

impl Auth {
    /// Every user, by name (ADMIN only).
    pub async fn users(&self, actor: &Actor) -> CoreResult<Vec<User>> {
        actor.require(Role::Admin)?;
        users::Entity::find()
            .order_by_asc(users::Column::Username)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Adds a user (ADMIN only); the password must follow the policy (12+ characters).
    pub async fn add_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        role: Role,
    ) -> CoreResult<User> {
        actor.require(Role::Admin)?;
        let username = new_username(username)?;
        let hash = self.passwords.hash(password).await?;
        let txn = self.db.begin_write().await?;
        if users::Entity::find()
            .filter(users::Column::Username.eq(username.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(CoreError::invalid(format!(
                "user {username} already exists"
            )));
        }
        let user = self.insert_user(&txn, &username, hash, role).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.create")
                .actor(actor)
                .entity("user", user.id)
                .detail("username", user.username.clone())
                .detail("role", role.as_str()),
        )
        .await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Changes a user's role or disables them (ADMIN only; not oneself, so an administrator
    /// cannot lock everyone out). Either change ends all of that user's sessions, websockets
    /// included.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: i64,
        changes: UserChanges,
    ) -> CoreResult<User> {
        actor.require(Role::Admin)?;
        if id == actor.user_id {
            return Err(CoreError::invalid(
                "you cannot change your own role or disable yourself; ask another administrator",
            ));
        }
        let txn = self.db.begin_write().await?;
        let current = users::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("user", id))?;
        let role_changed = changes
            .role
            .is_some_and(|r| r.as_str() != current.role.as_str());
        let disabled_changed = changes.disabled.is_some_and(|d| d != current.disabled);
        let mut active = current.into_active_model();
        if let Some(role) = changes.role {
            active.role = Set(role.as_str().to_owned());
        }
        if let Some(disabled) = changes.disabled {
            active.disabled = Set(disabled);
        }
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        let ended = if role_changed || changes.disabled == Some(true) {
            self.end_sessions_in(&txn, id).await?
        } else {
            0
        };
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.update")
                .actor(actor)
                .entity("user", id)
                .detail("role", role_changed.then(|| model.role.clone()))
                .detail("disabled", disabled_changed.then_some(model.disabled))
                .detail("sessionsEnded", ended),
        )
        .await?;
        txn.commit().await?;
        if ended > 0 {
            self.notify_sessions_ended(id);
        }
        model.try_into()
    }

    /// Changes the caller's own password: the current one must be right (a wrong one counts as
    /// a failed login), the new one must follow the policy. Every session of the user ends
    /// (other browsers, open websockets) and the caller gets a new one.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current_password: &str,
        new_password: &str,
        ctx: LoginContext,
    ) -> CoreResult<LoginOutcome> {
        super::check_new_password(new_password)?;
        if current_password == new_password {
            return Err(CoreError::invalid(
                "the new password must differ from the current one",
            ));
        }
        let keys = super::sessions::throttle_keys(&actor.username, ctx.ip.as_deref());
        self.throttle_begin(&keys).await?;
        let stored = users::Entity::find_by_id(actor.user_id)
            .one(self.db.conn())
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| CoreError::Unauthenticated("sign in again".into()))?;
        if !self
            .passwords
            .verify(Some(stored.password_hash.as_str()), current_password)
            .await?
        {
            self.audit
                .record(
                    AuditEvent::new("user.password_change.failed")
                        .actor(actor)
                        .detail("ip", ctx.ip.clone()),
                )
                .await?;
            return Err(CoreError::invalid("the current password is not right"));
        }
        let hash = self.passwords.hash(new_password).await?;
        let txn = self.db.begin_write().await?;
        let mut active = stored.into_active_model();
        active.password_hash = Set(hash);
        active.must_change_password = Set(false);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        let ended = self.end_sessions_in(&txn, actor.user_id).await?;
        self.throttle_succeeded(&txn, &keys).await?;
        let user: User = model.try_into()?;
        let (token, session_id, expires_at) = self.open_session(&txn, &user, &ctx).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.password_change")
                .actor(actor)
                .entity("session", session_id)
                .detail("sessionsEnded", ended)
                .detail("ip", ctx.ip),
        )
        .await?;
        txn.commit().await?;
        self.notify_sessions_ended(actor.user_id);
        Ok(LoginOutcome {
            token,
            user,
            expires_at,
        })
    }
}

impl Auth {
    /// Gives a user a one-time temporary password (administrators; not themselves): every
    /// session of the user ends, and at the next login they may do nothing but choose a new
    /// password. Returns the temporary password, shown once to the administrator.
    pub async fn reset_password(&self, actor: &Actor, user_id: i64) -> CoreResult<(User, String)> {
        actor.require(Role::Admin)?;
        if user_id == actor.user_id {
            return Err(CoreError::invalid(
                "change your own password with changePassword",
            ));
        }
        let temporary = generate_password();
        let hash = self.passwords.hash(&temporary).await?;
        let txn = self.db.begin_write().await?;
        let current = users::Entity::find_by_id(user_id)
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("user", user_id))?;
        let mut active = current.into_active_model();
        active.password_hash = Set(hash);
        active.must_change_password = Set(true);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        let ended = self.end_sessions_in(&txn, user_id).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.password_reset")
                .actor(actor)
                .entity("user", user_id)
                .detail("sessionsEnded", ended),
        )
        .await?;
        txn.commit().await?;
        if ended > 0 {
            self.notify_sessions_ended(user_id);
        }
        Ok((model.try_into()?, temporary))
    }
}

/// 20 characters from an alphabet without look-alikes: ~115 bits.
fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalized() {
        assert_eq!(
            normalize_username("  Admin ").ok().as_deref(),
            Some("admin")
        );
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username("x'; drop").is_err());
        assert_eq!(
            normalize_username("ＡＤＭＩＮ").ok().as_deref(),
            Some("admin"),
            "full-width letters are the ASCII ones"
        );
        // Cyrillic "а" looks like Latin "a": such a name is not created, though an existing
        // one still signs in.
        assert!(new_username("аdmin").is_err());
        assert_eq!(normalize_username("аdmin").ok().as_deref(), Some("аdmin"));
        assert!(new_username("ivan\u{2060}ov").is_err());
        assert_eq!(
            new_username(" I.Petrov-2@Bank ").ok().as_deref(),
            Some("i.petrov-2@bank")
        );
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert!(crate::auth::check_new_password(&p).is_ok());
        assert_ne!(p, generate_password());
    }
}
