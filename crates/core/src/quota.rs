//! A per-user limit on API requests per minute that holds across every replica.
//!
//! Counting each request in the database would add a write to every read. Instead each replica
//! counts in memory and, about once a second ([`RequestQuota::flush`]), adds its counts to
//! `request_counts` (one upsert per user who made requests) and reads the deployment's sum back.
//! A request is admitted while the last known sum plus this replica's unflushed count stays
//! under the limit, so the whole deployment lets through at most the limit plus what the
//! replicas admit between two flushes. Minutes are fixed (UTC); a refused request is told the
//! seconds left in the minute.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::db::Database;
use crate::error::{CoreError, CoreResult};

#[derive(Default)]
struct Counts {
    /// Minutes since the Unix epoch the counts are for.
    minute: i64,
    /// Requests admitted here since the last flush.
    unflushed: HashMap<i64, u64>,
    /// The deployment's count per user, as of the last flush.
    known: HashMap<i64, u64>,
    /// The minute whose older rows were last deleted.
    swept: i64,
}

// Each starts with `crate::db::BOOKKEEPING` (checked by a test below).
const ADD_SQL: &str = concat!(
    "/* bookkeeping */ ",
    "INSERT INTO request_counts (user_id, minute, count) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, minute) DO UPDATE SET count = request_counts.count + excluded.count \
     RETURNING count"
);
const READ_SQL: &str = concat!(
    "/* bookkeeping */ ",
    "SELECT count FROM request_counts WHERE user_id = $1 AND minute = $2"
);
const SWEEP_SQL: &str = concat!(
    "/* bookkeeping */ ",
    "DELETE FROM request_counts WHERE minute < $1"
);

/// See the module's documentation.
pub struct RequestQuota {
    db: Database,
    /// Requests per user per minute; 0: no limit.
    per_minute: u64,
    counts: Mutex<Counts>,
}

fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

impl RequestQuota {
    pub(crate) fn new(db: Database, per_minute: u64) -> Self {
        RequestQuota {
            db,
            per_minute,
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Whether the limit is on.
    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Admits one request of `user_id` at `now`, or says when to try again. The first request
    /// of a user in a minute on this replica reads the deployment's count so far (one read per
    /// user and minute); later ones are decided in memory.
    pub async fn admit(&self, user_id: i64, now: DateTime<Utc>) -> CoreResult<()> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let minute = minute_of(now);
        let known = {
            let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            counts.minute == minute && counts.known.contains_key(&user_id)
        };
        if !known {
            let row = self
                .db
                .conn()
                .query_one(Statement::from_sql_and_values(
                    self.db.backend(),
                    READ_SQL,
                    [Value::from(user_id), Value::from(minute)],
                ))
                .await?;
            let sum: i64 = match row {
                Some(row) => row.try_get_by_index(0)?,
                None => 0,
            };
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            if counts.minute != minute {
                counts.minute = minute;
                counts.unflushed.clear();
                counts.known.clear();
            }
            let entry = counts.known.entry(user_id).or_insert(0);
            *entry = (*entry).max(u64::try_from(sum).unwrap_or(0));
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.minute != minute {
            counts.minute = minute;
            counts.unflushed.clear();
            counts.known.clear();
        }
        let used = counts.known.get(&user_id).copied().unwrap_or(0)
            + counts.unflushed.get(&user_id).copied().unwrap_or(0);
        if used >= self.per_minute {
            let wait = (60 - now.timestamp().rem_euclid(60)).max(1) as u64;
            return Err(CoreError::QuotaExceeded {
                message: format!(
                    "at most {} requests a minute per user; try again in {wait} s",
                    self.per_minute
                ),
                retry_after_secs: wait,
            });
        }
        *counts.unflushed.entry(user_id).or_insert(0) += 1;
        Ok(())
    }

    /// Adds this replica's counts to the deployment's and reads the sums back; deletes minutes
    /// that are over. Counts that fail to flush are kept for the next try.
    pub async fn flush(&self, now: DateTime<Utc>) -> CoreResult<()> {
        let (minute, batch) = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            if counts.minute != minute_of(now) {
                // The minute is over: what was not flushed no longer matters.
                counts.minute = minute_of(now);
                counts.unflushed.clear();
                counts.known.clear();
                (counts.minute, Vec::new())
            } else {
                (counts.minute, counts.unflushed.drain().collect::<Vec<_>>())
            }
        };
        let conn = self.db.conn();
        let backend = self.db.backend();
        let mut failed = Vec::new();
        let mut sums = Vec::new();
        for (user_id, n) in batch {
            let stmt = Statement::from_sql_and_values(
                backend,
                ADD_SQL,
                [
                    Value::from(user_id),
                    Value::from(minute),
                    Value::from(i64::try_from(n).unwrap_or(i64::MAX)),
                ],
            );
            match conn.query_one(stmt).await {
                Ok(Some(row)) => {
                    let sum: i64 = row.try_get_by_index(0)?;
                    sums.push((user_id, u64::try_from(sum).unwrap_or(0)));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("request counts: adding user {user_id}'s failed: {e}");
                    failed.push((user_id, n));
                }
            }
        }
        {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            if counts.minute == minute {
                for (user_id, sum) in sums {
                    counts.known.insert(user_id, sum);
                }
                for (user_id, n) in failed {
                    *counts.unflushed.entry(user_id).or_insert(0) += n;
                }
            }
        }
        // Once a minute, not with every flush: the minutes before the last are over.
        let sweep = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut counts.swept, minute) != minute
        };
        if sweep {
            conn.execute(Statement::from_sql_and_values(
                backend,
                SWEEP_SQL,
                [Value::from(minute - 1)],
            ))
            .await?;
        }
        Ok(())
    }

    /// Flushes about once a second until `stop` resolves, then once more.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        if !self.enabled() {
            stop.await;
            return;
        }
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.flush(Utc::now()).await {
                tracing::warn!("request counts: {e}");
            }
        }
        if let Err(e) = self.flush(Utc::now()).await {
            tracing::warn!("request counts: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::BOOKKEEPING;
    use crate::testing::TestDatabase;
    use chrono::TimeZone;

    #[test]
    fn every_statement_is_marked_as_bookkeeping() {
        for sql in [ADD_SQL, READ_SQL, SWEEP_SQL] {
            assert!(sql.starts_with(BOOKKEEPING), "{sql}");
        }
    }

    #[tokio::test]
    async fn the_limit_counts_every_replica_and_resets_each_minute() {
        let test = TestDatabase::create(crate::testing::test_database_url().as_deref())
            .await
            .expect("database");
        let db = test.db.clone();
        let a = RequestQuota::new(db.clone(), 5);
        let b = RequestQuota::new(db.clone(), 5);
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 10)
            .single()
            .expect("time");
        // The counters are bookkeeping: they move neither the write clock (answer reuse) nor
        // the count of a request's statements.
        let (writes, statements) = (db.writes().count(), db.statement_count());
        for _ in 0..3 {
            a.admit(1, at).await.expect("a's first three");
        }
        a.flush(at).await.expect("flush a");
        b.admit(1, at).await.expect("b's first");
        assert_eq!(
            b.counts.lock().expect("counts").known.get(&1).copied(),
            Some(3),
            "b's first request of the minute read a's three"
        );
        b.admit(2, at).await.expect("another user");
        b.flush(at).await.expect("flush b");
        assert_eq!(db.writes().count(), writes, "the write clock stood still");
        assert_eq!(
            db.statement_count(),
            statements,
            "no request statements counted"
        );
        // b now knows of a's three: one more is the fifth, the sixth is refused.
        b.admit(1, at).await.expect("the fifth");
        let refused = b.admit(1, at).await.expect_err("the sixth");
        match refused {
            CoreError::QuotaExceeded {
                retry_after_secs, ..
            } => assert_eq!(retry_after_secs, 50),
            other => panic!("{other}"),
        }
        b.admit(2, at).await.expect("the other user has room");
        // A new minute starts over, and the old one's rows go.
        let next = at + chrono::Duration::seconds(60);
        b.admit(1, next).await.expect("a new minute");
        b.flush(next).await.expect("flush");
        b.flush(next + chrono::Duration::seconds(61))
            .await
            .expect("flush later");
        let rows = db
            .conn()
            .query_all(Statement::from_string(
                db.backend(),
                "SELECT minute FROM request_counts",
            ))
            .await
            .expect("rows");
        assert!(rows.len() <= 1, "old minutes are deleted: {}", rows.len());
        assert!(
            RequestQuota::new(db, 0).admit(1, at).await.is_ok(),
            "0: no limit"
        );
        test.cleanup().await.expect("cleanup");
    }
}
