//! Users and the bootstrap administrator.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::domain::Role;
use crate::entity::users;
use crate::error::{CoreError, CoreResult};
use crate::Core;

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
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

/// Usernames are case-insensitive: stored trimmed and lower-cased.
pub fn normalize_username(name: &str) -> CoreResult<String> {
    let name = name.trim().to_lowercase();
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

impl Core {
    pub(crate) async fn find_user_model(&self, username: &str) -> CoreResult<Option<users::Model>> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(self.db.conn())
            .await?)
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
        let username = normalize_username(username)?;
        if self.find_user_model(&username).await?.is_some() {
            return Err(CoreError::invalid(format!(
                "user {username} already exists"
            )));
        }
        let hash = self.passwords.hash(password).await?;
        self.insert_user(&username, hash, role).await
    }

    async fn insert_user(
        &self,
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
        .insert(self.db.conn())
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
                self.insert_user(&username, hash, Role::Admin).await?;
                Ok(None)
            }
            (None, None) => {
                if users::Entity::find().count(self.db.conn()).await? > 0 {
                    return Ok(None);
                }
                let generated = generate_password();
                let hash = self.passwords.hash(&generated).await?;
                self.insert_user(&username, hash, Role::Admin).await?;
                Ok(Some(generated))
            }
        }
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
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert!(crate::auth::check_new_password(&p).is_ok());
        assert_ne!(p, generate_password());
    }
}
