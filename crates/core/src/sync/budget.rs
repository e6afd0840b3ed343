//! How hard we may push a bank. Two mechanisms, both because banks punish clients that keep
//! failing (some suspend access after ten consecutive failures, some allow a few calls a day):
//!
//! - a **retry budget per link**, stored on the link so it survives restarts: every failed sync
//!   adds one to `failure_count` and pushes `next_attempt_at` out exponentially (with jitter);
//!   automatic runs skip a link until then, and a link that failed `max_consecutive_failures`
//!   times is left alone by automatic runs until someone syncs it by hand. A success resets it.
//! - a **circuit breaker per bank**, in memory: after `breaker_threshold` consecutive failures
//!   that are the bank's fault (network, 5xx, 429, malformed answers), the bank's remaining links
//!   are skipped for `breaker_cooldown`; then one link is let through to probe it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::domain::SkipReason;

/// Limits of the retry budget and the breaker.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    /// Delay after the first failure; doubles with each further one.
    pub backoff_base: Duration,
    /// The longest delay between automatic attempts.
    pub backoff_max: Duration,
    /// After this many consecutive failures only a manual sync tries the link again.
    pub max_consecutive_failures: u32,
    /// Consecutive bank-side failures that open a bank's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit stays open before one probe is let through.
    pub breaker_cooldown: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            backoff_base: Duration::from_secs(5 * 60),
            backoff_max: Duration::from_secs(24 * 3600),
            max_consecutive_failures: 8,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(5 * 60),
        }
    }
}

impl RetryBudget {
    /// When a link that has now failed `failures` times in a row may be tried automatically
    /// again: `base · 2^(failures-1)`, capped, minus up to a quarter of jitter so links that
    /// failed together do not come back together.
    pub fn next_attempt(&self, failures: u32, now: DateTime<Utc>) -> DateTime<Utc> {
        let exp = failures.saturating_sub(1).min(30);
        let full = self
            .backoff_base
            .saturating_mul(1u32 << exp)
            .min(self.backoff_max);
        let jitter = rand::thread_rng().gen_range(0.0..0.25);
        let wait = full.mul_f64(1.0 - jitter);
        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(24))
    }
}

/// The earliest moment a bank that asked for `retry_after` may be called again (now, when it
/// did not ask).
pub(crate) fn not_before(retry_after: Option<Duration>, now: DateTime<Utc>) -> DateTime<Utc> {
    retry_after
        .and_then(|wait| chrono::Duration::from_std(wait).ok())
        .map_or(now, |wait| now + wait)
}

/// Why an automatic run leaves a link alone, if it does.
pub(crate) fn automatic_skip(
    budget: &RetryBudget,
    failure_count: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(SkipReason, String)> {
    let failures = failure_count.max(0) as u32;
    if failures >= budget.max_consecutive_failures {
        return Some((SkipReason::Suspended, format!(
            "not synced automatically after {failures} consecutive failures (so the bank does not suspend our access): fix the cause, then sync this client by hand"
        )));
    }
    match next_attempt_at {
        Some(at) if at > now => Some((
            SkipReason::Backoff,
            format!(
                "backing off after {failures} failed attempt(s): next automatic attempt after {}",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
        )),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct BankCircuit {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    /// A probe is out while the circuit is half-open.
    probing: bool,
}

/// The per-bank circuit breakers of this process.
#[derive(Debug, Default)]
pub(crate) struct Breakers(Mutex<HashMap<String, BankCircuit>>);

/// What the breaker says about calling a bank now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Go,
    /// The circuit is open for this much longer.
    Open(Duration),
}

impl Breakers {
    pub(crate) fn admit(&self, bank: &str) -> Admission {
        let Ok(mut all) = self.0.lock() else {
            return Admission::Go;
        };
        let circuit = all.entry(bank.to_owned()).or_default();
        match circuit.open_until {
            None => Admission::Go,
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    Admission::Open(until - now)
                } else if circuit.probing {
                    // Half-open: one probe at a time.
                    Admission::Open(Duration::from_secs(1))
                } else {
                    circuit.probing = true;
                    Admission::Go
                }
            }
        }
    }

    /// How much longer the bank's circuit stays open, if it is open (without claiming a probe).
    pub(crate) fn open_for(&self, bank: &str) -> Option<Duration> {
        let all = self.0.lock().ok()?;
        let until = all.get(bank)?.open_until?;
        until.checked_duration_since(Instant::now())
    }

    /// A call's end: a failure that is the bank's (and how long the bank said not to call it
    /// again, a rate limit's reset, which keeps the circuit open at least that long), or not.
    pub(crate) fn record(
        &self,
        bank: &str,
        (bank_failure, not_before): (bool, Option<Duration>),
        budget: &RetryBudget,
    ) {
        let Ok(mut all) = self.0.lock() else {
            return;
        };
        let circuit = all.entry(bank.to_owned()).or_default();
        circuit.probing = false;
        if let Some(wait) = not_before.filter(|_| bank_failure) {
            let until = Instant::now() + wait;
            circuit.open_until = Some(circuit.open_until.map_or(until, |u| u.max(until)));
            tracing::warn!(
                bank,
                "the bank's rate limit resets in {} s: not called until then",
                wait.as_secs()
            );
        }
        if bank_failure {
            circuit.consecutive_failures += 1;
            if circuit.consecutive_failures >= budget.breaker_threshold {
                let until = Instant::now() + budget.breaker_cooldown;
                circuit.open_until = Some(circuit.open_until.map_or(until, |u| u.max(until)));
                tracing::warn!(
                    bank,
                    failures = circuit.consecutive_failures,
                    "circuit open: skipping the bank's links for {} s",
                    budget.breaker_cooldown.as_secs()
                );
            }
        } else {
            circuit.consecutive_failures = 0;
            circuit.open_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> RetryBudget {
        RetryBudget {
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(3600),
            max_consecutive_failures: 4,
            breaker_threshold: 2,
            breaker_cooldown: Duration::from_millis(50),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let b = budget();
        let now = Utc::now();
        for (failures, full) in [(1u32, 60i64), (2, 120), (3, 240), (7, 3600), (40, 3600)] {
            let wait = (b.next_attempt(failures, now) - now).num_milliseconds();
            assert!(wait <= full * 1000, "{failures}: {wait}");
            assert!(wait >= full * 750, "{failures}: {wait}");
        }
    }

    #[test]
    fn automatic_runs_skip_links_in_backoff_or_over_budget() {
        let b = budget();
        let now = Utc::now();
        assert_eq!(automatic_skip(&b, 0, None, now), None);
        assert_eq!(
            automatic_skip(&b, 2, Some(now - chrono::Duration::seconds(1)), now),
            None
        );
        let waiting = automatic_skip(&b, 2, Some(now + chrono::Duration::minutes(3)), now);
        assert!(waiting.is_some_and(|(r, w)| r == SkipReason::Backoff && w.contains("backing off")));
        let suspended = automatic_skip(&b, 4, None, now);
        assert!(suspended.is_some_and(|(r, w)| r == SkipReason::Suspended && w.contains("by hand")));
    }

    #[test]
    fn breaker_opens_after_the_threshold_and_probes_once_after_the_cooldown() {
        let b = budget();
        let breakers = Breakers::default();
        assert_eq!(breakers.admit("abank"), Admission::Go);
        breakers.record("abank", (true, None), &b);
        assert_eq!(breakers.admit("abank"), Admission::Go);
        breakers.record("abank", (true, None), &b);
        assert!(matches!(breakers.admit("abank"), Admission::Open(_)));
        // Other banks are not affected.
        assert_eq!(breakers.admit("vbank"), Admission::Go);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(breakers.admit("abank"), Admission::Go, "one probe");
        assert!(
            matches!(breakers.admit("abank"), Admission::Open(_)),
            "only one probe at a time"
        );
        breakers.record("abank", (false, None), &b);
        assert_eq!(breakers.admit("abank"), Admission::Go, "closed again");
    }

    #[test]
    fn a_rate_limit_reset_keeps_the_circuit_open_until_it_passes() {
        let b = budget();
        let breakers = Breakers::default();
        // One failure, below the threshold, but the bank named its reset.
        breakers.record("abank", (true, Some(Duration::from_secs(3600))), &b);
        let open = breakers.open_for("abank").expect("open");
        assert!(open > Duration::from_secs(3590), "{open:?}");
        // A later threshold opening does not shorten it.
        breakers.record("abank", (true, None), &b);
        assert!(breakers.open_for("abank").expect("open") > Duration::from_secs(3590));
        let now = Utc::now();
        assert_eq!(not_before(None, now), now);
        assert_eq!(
            not_before(Some(Duration::from_secs(60)), now),
            now + chrono::Duration::seconds(60)
        );
    }
}
