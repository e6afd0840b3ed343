//! Reuse of query responses while the data has not changed.
//!
//! A dashboard asked for again and again costs thousands of resolved fields each time; when no
//! write has happened since, the answer is the same. So a successful **query** (never a
//! mutation, never a response with errors) is kept, as the JSON bytes sent, under the exact
//! request (operation text, operation name, variables) *and the signed-in user and role*, and
//! served again while
//! - no statement that may write has run since it was computed (the database's write clock has
//!   not moved: writes through this process's pool, and on PostgreSQL writes of other replicas,
//!   announced through core's event bus — inside their transaction, so at their commit), and
//! - it is younger than the time to live (`GRAPHQL_CACHE_MS`, default 1 000 ms; 0 turns the
//!   cache off).
//!
//! The time to live bounds staleness where the write clock cannot see: a write transaction that
//! commits after a reader started, and (only while the event bus has lost its connection, or on
//! a replica that has not started the bus) writes by other replicas. A response whose computation
//! started less than one time-to-live after a write is not kept at all. Sessions are checked
//! before the cache on every request, so a signed-out or expired session never gets a cached
//! answer. The cache holds at most [`MAX_ENTRIES`] responses.
//!
//! **Single flight.** When an answer could be kept (the write clock has been quiet for a time to
//! live), concurrent misses of one key compute it once: the first request leads, the others
//! wait for it (at most [`FOLLOW_WAIT`]) and are answered from what it kept. When the leader's
//! answer is not kept (an error, a write meanwhile) or the leader went away, a follower computes
//! its own. So an expiring dashboard costs one computation, not one per waiting request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use axum::body::Bytes;
use crm_core::auth::Actor;
use crm_core::db::WriteClock;

/// Responses kept at most; when full, expired ones go, and if none has expired, all go.
pub const MAX_ENTRIES: usize = 1_024;

/// Responses larger than this are not kept.
const MAX_BODY: usize = 512 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of a request by `actor`: user, role, operation name, variables, text.
    pub fn new(actor: &Actor, request: &async_graphql::Request) -> CacheKey {
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        CacheKey(format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            actor.user_id,
            actor.role,
            request.operation_name.as_deref().unwrap_or(""),
            variables,
            request.query
        ))
    }
}

struct Entry {
    body: Bytes,
    writes: u64,
    at: Instant,
}

/// Where a computation started: the write count and time.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    writes: u64,
    at: Instant,
    quiet: bool,
}

impl Mark {
    /// Whether an answer computed from here may be kept (no write for a time to live).
    pub fn keepable(&self) -> bool {
        self.quiet
    }
}

/// How long a request waits for another one computing the same answer before it computes its
/// own.
pub const FOLLOW_WAIT: Duration = Duration::from_secs(10);

/// Computations under way, by key: followers wait on the semaphore, which never has a permit
/// and is closed when its leader is done (closing wakes waiters present and future alike).
type Flights = Arc<Mutex<HashMap<CacheKey, Arc<Semaphore>>>>;

pub struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, Entry>>,
    flights: Flights,
}

/// What a request that missed the cache does (see [`ResponseCache::flight`]).
pub enum Flight {
    /// Compute the answer; others wait until the guard is dropped (after `put`).
    Lead(FlightGuard),
    /// Another request is computing it: wait with [`Flight::wait`], then look again.
    Follow(Arc<Semaphore>),
}

impl Flight {
    /// Waits for the leader to finish (or go away), at most [`FOLLOW_WAIT`].
    pub async fn wait(leader: &Semaphore) {
        // `acquire` ends only when the leader closes the semaphore: no permit is ever added.
        let _ = tokio::time::timeout(FOLLOW_WAIT, leader.acquire()).await;
    }
}

/// Held by the request computing an answer; dropping it (done, failed or cancelled) releases
/// the followers.
pub struct FlightGuard {
    flights: Flights,
    key: CacheKey,
    done: Arc<Semaphore>,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = self
            .flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if flights
            .get(&self.key)
            .is_some_and(|s| Arc::ptr_eq(s, &self.done))
        {
            flights.remove(&self.key);
        }
        drop(flights);
        self.done.close();
    }
}

impl ResponseCache {
    pub fn new(ttl: Duration) -> Self {
        ResponseCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
            flights: Flights::default(),
        }
    }

    /// After a miss: lead the computation of `key`, or follow the request already computing it.
    /// Only worth it when the answer can be kept (`mark` taken while the write clock was quiet);
    /// otherwise the caller computes without asking.
    pub fn flight(&self, key: &CacheKey) -> Flight {
        let mut flights = self
            .flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(leader) = flights.get(key) {
            return Flight::Follow(leader.clone());
        }
        let done = Arc::new(Semaphore::new(0));
        flights.insert(key.clone(), done.clone());
        Flight::Lead(FlightGuard {
            flights: self.flights.clone(),
            key: key.clone(),
            done,
        })
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// A response still valid for `key`.
    pub fn get(&self, key: &CacheKey, clock: &WriteClock) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.writes == clock.count() && e.at.elapsed() < self.ttl).then(|| e.body.clone())
    }

    /// Taken before computing a response.
    pub fn mark(&self, clock: &WriteClock) -> Mark {
        Mark {
            writes: clock.count(),
            at: Instant::now(),
            quiet: clock.since_last() >= self.ttl,
        }
    }

    /// Keeps a response computed since `mark`, unless a write ran meanwhile or just before.
    pub fn put(&self, key: CacheKey, body: Bytes, mark: Mark, clock: &WriteClock) {
        if !mark.quiet || clock.count() != mark.writes || body.len() > MAX_BODY {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                body,
                writes: mark.writes,
                at: mark.at,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_core::domain::Role;

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            user_id: id,
            username: "u".into(),
            role,
            session_id: 1,
            password_change_required: false,
        }
    }

    #[test]
    fn responses_are_reused_until_a_write_or_the_time_to_live() {
        let clock = WriteClock::new();
        let cache = ResponseCache::new(Duration::from_millis(200));
        let key = CacheKey("k".into());
        // Just after a write: not kept.
        clock.record("INSERT INTO t VALUES (1)");
        let mark = cache.mark(&clock);
        cache.put(key.clone(), Bytes::from_static(b"1"), mark, &clock);
        assert!(cache.get(&key, &clock).is_none());
        std::thread::sleep(Duration::from_millis(220));
        let mark = cache.mark(&clock);
        cache.put(key.clone(), Bytes::from_static(b"2"), mark, &clock);
        assert_eq!(cache.get(&key, &clock).as_deref(), Some(&b"2"[..]));
        // A write invalidates it.
        clock.record("UPDATE t SET a = 2");
        assert!(cache.get(&key, &clock).is_none());
        // A write during the computation: not kept.
        std::thread::sleep(Duration::from_millis(220));
        let mark = cache.mark(&clock);
        clock.record("DELETE FROM t");
        cache.put(key.clone(), Bytes::from_static(b"3"), mark, &clock);
        assert!(cache.get(&key, &clock).is_none());
        // Expiry.
        std::thread::sleep(Duration::from_millis(220));
        let mark = cache.mark(&clock);
        cache.put(key.clone(), Bytes::from_static(b"4"), mark, &clock);
        assert!(cache.get(&key, &clock).is_some());
        std::thread::sleep(Duration::from_millis(220));
        assert!(cache.get(&key, &clock).is_none());
        assert!(!ResponseCache::new(Duration::ZERO).enabled());
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_compute_once() {
        let clock = WriteClock::new();
        let cache = Arc::new(ResponseCache::new(Duration::from_millis(1)));
        std::thread::sleep(Duration::from_millis(5));
        let key = CacheKey("k".into());
        let Flight::Lead(guard) = cache.flight(&key) else {
            panic!("the first miss leads");
        };
        let mut followers = Vec::new();
        for _ in 0..3 {
            let Flight::Follow(leader) = cache.flight(&key) else {
                panic!("later misses follow");
            };
            followers.push(tokio::spawn(async move {
                Flight::wait(&leader).await;
            }));
        }
        // Another key is not held up.
        assert!(matches!(
            cache.flight(&CacheKey("other".into())),
            Flight::Lead(_)
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(followers.iter().all(|f| !f.is_finished()), "they wait");
        let mark = cache.mark(&clock);
        cache.put(key.clone(), Bytes::from_static(b"1"), mark, &clock);
        drop(guard);
        for f in followers {
            tokio::time::timeout(Duration::from_secs(1), f)
                .await
                .expect("released when the leader is done")
                .expect("the follower ran to its end");
        }
        // The flight is over: the next miss leads again, also when a leader went away.
        let Flight::Lead(next) = cache.flight(&key) else {
            panic!("a new flight");
        };
        let Flight::Follow(leader) = cache.flight(&key) else {
            panic!("follows the new leader");
        };
        drop(next);
        tokio::time::timeout(Duration::from_secs(1), Flight::wait(&leader))
            .await
            .expect("a leader that goes away releases its followers");
    }

    #[test]
    fn keys_separate_users_roles_and_variables() {
        let q = async_graphql::Request::new("{ me { id } }");
        let a = CacheKey::new(&actor(1, Role::Admin), &q);
        assert_ne!(a, CacheKey::new(&actor(2, Role::Admin), &q));
        assert_ne!(a, CacheKey::new(&actor(1, Role::Viewer), &q));
        let v = async_graphql::Request::new("{ me { id } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "x": 1 })),
        );
        assert_ne!(a, CacheKey::new(&actor(1, Role::Admin), &v));
        assert_eq!(a, CacheKey::new(&actor(1, Role::Admin), &q));
    }
}
