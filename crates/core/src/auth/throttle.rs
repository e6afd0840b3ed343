//! Login throttling, kept in the database so that every replica sees the same counts.
//! Each login attempt counts, however many are packed into one request.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::entity::login_throttle;
use crate::error::{CoreError, CoreResult};
use crate::Core;

#[derive(Clone, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed per account within `window` before it is locked for `lockout`.
    pub max_failures_per_account: i32,
    /// Failures allowed per client address within `window`.
    pub max_failures_per_ip: i32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

impl Core {
    fn throttle_limit(&self, key: &str) -> i32 {
        if key.starts_with("ip:") {
            self.settings.throttle.max_failures_per_ip
        } else {
            self.settings.throttle.max_failures_per_account
        }
    }

    /// Refuses the attempt when any key is locked.
    pub(crate) async fn throttle_check(&self, keys: &[String]) -> CoreResult<()> {
        let now = Utc::now();
        for key in keys {
            let row = login_throttle::Entity::find_by_id(key.clone())
                .one(self.db.conn())
                .await?;
            if let Some(until) = row.and_then(|r| r.locked_until) {
                if until > now {
                    let secs = (until - now).num_seconds().max(1) as u64;
                    return Err(CoreError::RateLimited {
                        retry_after_secs: secs,
                    });
                }
            }
        }
        Ok(())
    }

    /// Counts a failure against every key, locking those that reach their limit.
    pub(crate) async fn throttle_fail(&self, keys: &[String]) -> CoreResult<()> {
        let now = Utc::now();
        let policy = &self.settings.throttle;
        for key in keys {
            let limit = self.throttle_limit(key);
            let existing = login_throttle::Entity::find_by_id(key.clone())
                .one(self.db.conn())
                .await?;
            match existing {
                Some(row) => {
                    let fresh_window = now - row.window_started_at >= policy.window;
                    let failures = if fresh_window { 1 } else { row.failures + 1 };
                    let mut active: login_throttle::ActiveModel = row.into();
                    if fresh_window {
                        active.window_started_at = Set(now);
                    }
                    active.failures = Set(failures);
                    if failures >= limit {
                        active.locked_until = Set(Some(now + policy.lockout));
                        tracing::warn!(
                            kind = key.split(':').next().unwrap_or("key"),
                            "login locked after repeated failures"
                        );
                    }
                    active.update(self.db.conn()).await?;
                }
                None => {
                    login_throttle::ActiveModel {
                        key: Set(key.clone()),
                        failures: Set(1),
                        window_started_at: Set(now),
                        locked_until: Set((limit <= 1).then(|| now + policy.lockout)),
                    }
                    .insert(self.db.conn())
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// A successful login clears the account's count (never the address's).
    pub(crate) async fn throttle_reset(&self, account_key: &str) -> CoreResult<()> {
        login_throttle::Entity::delete_by_id(account_key.to_owned())
            .exec(self.db.conn())
            .await?;
        Ok(())
    }
}
