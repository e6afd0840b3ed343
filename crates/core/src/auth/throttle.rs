//! Login throttling, kept in the database so that every replica sees the same counts.
//!
//! Every login attempt is counted *before* its password is checked, in one serialised write, so
//! neither aliased `login` fields in one request nor many requests in parallel get more guesses
//! than the limit: once `limit` attempts of a window are taken, the next one is refused without
//! hashing. A successful login gives its attempt back (the account's count is cleared, the
//! address's lowered by one); a failed one keeps it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IntoActiveModel, Set,
    Statement,
};

use super::Auth;
use crate::db::WriteTxn;
use crate::entity::login_throttle;
use crate::error::{CoreError, CoreResult};

/// Any constant: the PostgreSQL advisory lock key that serialises throttle bookkeeping.
const THROTTLE_LOCK_KEY: i64 = 0x5448_524f_5454_4c45;

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

/// What one key's row says about the next attempt.
enum Verdict {
    Locked { until: DateTime<Utc> },
    Allowed { failures_before: i32, fresh: bool },
}

fn verdict(row: Option<&login_throttle::Model>, now: DateTime<Utc>, window: Duration) -> Verdict {
    match row {
        None => Verdict::Allowed {
            failures_before: 0,
            fresh: true,
        },
        Some(r) => match r.locked_until {
            Some(until) if until > now => Verdict::Locked { until },
            _ if now - r.window_started_at >= window => Verdict::Allowed {
                failures_before: 0,
                fresh: true,
            },
            _ => Verdict::Allowed {
                failures_before: r.failures,
                fresh: false,
            },
        },
    }
}

fn rate_limited(until: DateTime<Utc>, now: DateTime<Utc>) -> CoreError {
    CoreError::RateLimited {
        retry_after_secs: (until - now).num_seconds().max(1) as u64,
    }
}

impl Auth {
    fn throttle_limit(&self, key: &str) -> i32 {
        if key.starts_with("ip:") {
            self.settings.throttle.max_failures_per_ip
        } else {
            self.settings.throttle.max_failures_per_account
        }
    }

    /// A write transaction in which throttle rows may be read and changed without a race.
    pub(crate) async fn throttle_txn(&self) -> CoreResult<WriteTxn> {
        let txn = self.db.begin_write().await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            txn.execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [THROTTLE_LOCK_KEY.into()],
            ))
            .await?;
        }
        Ok(txn)
    }

    /// Takes one attempt from every key's budget, or refuses (`RateLimited`) when any key is
    /// locked or has no attempt left in its window, locking it then.
    pub(crate) async fn throttle_begin(&self, keys: &[String]) -> CoreResult<()> {
        let now = Utc::now();
        let policy = &self.settings.throttle;
        let txn = self.throttle_txn().await?;
        let mut rows = Vec::with_capacity(keys.len());
        let mut refused: Option<DateTime<Utc>> = None;
        for key in keys {
            let row = login_throttle::Entity::find_by_id(key.clone())
                .one(&txn)
                .await?;
            match verdict(row.as_ref(), now, policy.window) {
                Verdict::Locked { until } => refused = refused.max(Some(until)),
                Verdict::Allowed {
                    failures_before, ..
                } if failures_before >= self.throttle_limit(key) => {
                    let until = now + policy.lockout;
                    tracing::warn!(
                        kind = key.split(':').next().unwrap_or("key"),
                        "login locked after repeated failures"
                    );
                    if let Some(r) = row.clone() {
                        let mut active = r.into_active_model();
                        active.locked_until = Set(Some(until));
                        active.update(&txn).await?;
                    }
                    refused = refused.max(Some(until));
                }
                Verdict::Allowed { .. } => {}
            }
            rows.push((key, row));
        }
        if let Some(until) = refused {
            txn.commit().await?;
            return Err(rate_limited(until, now));
        }
        for (key, row) in rows {
            let Verdict::Allowed {
                failures_before,
                fresh,
            } = verdict(row.as_ref(), now, policy.window)
            else {
                continue;
            };
            match row {
                Some(r) => {
                    let mut active = r.into_active_model();
                    if fresh {
                        active.window_started_at = Set(now);
                    }
                    active.failures = Set(failures_before + 1);
                    active.locked_until = Set(None);
                    active.update(&txn).await?;
                }
                None => {
                    login_throttle::ActiveModel {
                        key: Set(key.clone()),
                        failures: Set(1),
                        window_started_at: Set(now),
                        locked_until: Set(None),
                    }
                    .insert(&txn)
                    .await?;
                }
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// A successful login gives its attempt back: the account's count is cleared, the
    /// address's lowered by one (other accounts' failures from there still count).
    pub(crate) async fn throttle_succeeded(
        &self,
        txn: &WriteTxn,
        keys: &[String],
    ) -> CoreResult<()> {
        for key in keys {
            if key.starts_with("ip:") {
                if let Some(row) = login_throttle::Entity::find_by_id(key.clone())
                    .one(txn)
                    .await?
                {
                    let failures = (row.failures - 1).max(0);
                    let mut active = row.into_active_model();
                    active.failures = Set(failures);
                    active.update(txn).await?;
                }
            } else {
                login_throttle::Entity::delete_by_id(key.clone())
                    .exec(txn)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(failures: i32, started_ago: i64, locked_for: Option<i64>) -> login_throttle::Model {
        let now = Utc::now();
        login_throttle::Model {
            key: "user:x".into(),
            failures,
            window_started_at: now - Duration::seconds(started_ago),
            locked_until: locked_for.map(|s| now + Duration::seconds(s)),
        }
    }

    #[test]
    fn verdicts_follow_the_window_and_the_lock() {
        let now = Utc::now();
        let w = Duration::minutes(15);
        assert!(matches!(
            verdict(None, now, w),
            Verdict::Allowed {
                failures_before: 0,
                fresh: true
            }
        ));
        assert!(matches!(
            verdict(Some(&row(3, 60, None)), now, w),
            Verdict::Allowed {
                failures_before: 3,
                fresh: false
            }
        ));
        assert!(matches!(
            verdict(Some(&row(3, 3600, None)), now, w),
            Verdict::Allowed {
                failures_before: 0,
                fresh: true
            }
        ));
        assert!(matches!(
            verdict(Some(&row(3, 3600, Some(60))), now, w),
            Verdict::Locked { .. }
        ));
        assert!(matches!(
            verdict(Some(&row(1, 60, Some(-5))), now, w),
            Verdict::Allowed {
                failures_before: 1,
                ..
            }
        ));
    }
}
