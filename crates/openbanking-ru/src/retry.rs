//! Retry with exponential backoff and full jitter, honouring `Retry-After`. Written once here
//! for every bank that speaks this protocol, and for every call (token calls too).

use std::time::Duration;

use chrono::{DateTime, Utc};
use crm_connector::{ConnectorError, ConnectorResult};
use rand::Rng;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails as rate limited.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No waiting at all (tests).
    pub fn immediate(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_retry_after: Duration::from_secs(5),
        }
    }

    /// How long to wait before attempt `attempt + 1` (attempt counts from 1), or `None` to give up.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        if let Some(wait) = retry_after {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        if cap.is_zero() {
            return Some(Duration::ZERO);
        }
        // Full jitter: anywhere in [cap/2, cap], so many clients do not retry in lockstep.
        let half = cap / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        Some(half + Duration::from_millis(jitter))
    }
}

/// The attempts of one call. Callers loop: on an error, `again(err)` waits the backoff (or the
/// bank's `Retry-After`) when another attempt is due and hands the error back when not — not
/// retryable (credentials, consent, not found, malformed) or out of attempts.
///
/// ```ignore
/// let mut attempts = Attempts::new(&policy, bank, "accounts");
/// loop {
///     match call().await {
///         Ok(v) => return Ok(v),
///         Err(e) => attempts.again(e).await?,
///     }
/// }
/// ```
pub(crate) struct Attempts<'a> {
    policy: &'a RetryPolicy,
    bank: &'a str,
    what: &'a str,
    made: u32,
}

impl<'a> Attempts<'a> {
    pub fn new(policy: &'a RetryPolicy, bank: &'a str, what: &'a str) -> Self {
        Attempts {
            policy,
            bank,
            what,
            made: 0,
        }
    }

    /// After a failed attempt: `Ok(())` once it is time to try again, else the error.
    pub async fn again(&mut self, err: ConnectorError) -> ConnectorResult<()> {
        self.made += 1;
        if !err.is_retryable() {
            return Err(err);
        }
        match self.policy.delay(self.made, err.retry_after()) {
            Some(wait) => {
                tracing::debug!(
                    bank = self.bank,
                    what = self.what,
                    attempt = self.made,
                    wait_ms = wait.as_millis() as u64,
                    "retrying: {err}"
                );
                tokio::time::sleep(wait).await;
                Ok(())
            }
            None => Err(err),
        }
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// How long a 429 says to wait: the longest of `Retry-After` and the rate-limit reset headers
/// (`X-RateLimit-Reset`, and per-limit ones such as `X-RateLimit-Requests-Reset`), each in
/// seconds from now or, when as large as a Unix time, as the moment the limit resets.
pub fn rate_limit_wait(
    headers: &reqwest::header::HeaderMap,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now));
    let resets = headers.iter().filter_map(|(name, value)| {
        let name = name.as_str();
        let reset = name.starts_with("x-ratelimit-") && name.ends_with("-reset")
            || name == "x-ratelimit-reset";
        reset.then(|| parse_reset(value.to_str().ok()?, now))?
    });
    retry_after.into_iter().chain(resets).max()
}

/// Seconds at or above this are a Unix time, not a wait (2001-09-09).
const UNIX_TIME_FROM: u64 = 1_000_000_000;

/// A rate-limit reset: seconds to wait (fractions rounded up) or the Unix time of the reset.
fn parse_reset(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let secs = secs.ceil() as u64;
    if secs < UNIX_TIME_FROM {
        return Some(Duration::from_secs(secs));
    }
    let now = u64::try_from(now.timestamp()).ok()?;
    Some(Duration::from_secs(secs.saturating_sub(now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backs_off_exponentially_with_jitter_and_gives_up() {
        let p = RetryPolicy::default();
        for attempt in 1..4 {
            let d = p.delay(attempt, None).expect("retry");
            let cap = p.base_delay * (1 << (attempt - 1));
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
        assert_eq!(p.delay(4, None), None);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            None,
            "too long a wait fails fast"
        );
    }

    async fn run(
        policy: &RetryPolicy,
        failures: u32,
        err: ConnectorError,
    ) -> (ConnectorResult<u8>, u32) {
        let mut attempts = Attempts::new(policy, "abank", "test");
        let mut calls = 0;
        loop {
            calls += 1;
            let outcome = if calls > failures {
                Ok(7)
            } else {
                Err(err.clone())
            };
            match outcome {
                Ok(v) => return (Ok(v), calls),
                Err(e) => {
                    if let Err(e) = attempts.again(e).await {
                        return (Err(e), calls);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn retries_only_what_can_be_retried() {
        let policy = RetryPolicy::immediate(3);
        let unavailable = ConnectorError::Unavailable {
            bank: "abank".into(),
            status: 503,
        };
        let (out, calls) = run(&policy, 2, unavailable.clone()).await;
        assert_eq!((out.ok(), calls), (Some(7), 3));
        let (out, calls) = run(&policy, 5, unavailable).await;
        assert!(matches!(out, Err(ConnectorError::Unavailable { .. })));
        assert_eq!(calls, 3, "gives up after max_attempts");
        let not_found = ConnectorError::NotFound {
            bank: "abank".into(),
            detail: "x".into(),
        };
        let (out, calls) = run(&policy, 1, not_found).await;
        assert!(out.is_err());
        assert_eq!(calls, 1, "not found is not retried");
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = Utc
            .with_ymd_and_hms(2015, 10, 21, 7, 27, 0)
            .single()
            .expect("date");
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_rate_limit_waits_for_the_latest_reset_the_bank_names() {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        let now = Utc
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 0)
            .single()
            .expect("date");
        let headers = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(
                    HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v).expect("value"),
                );
            }
            h
        };
        assert_eq!(rate_limit_wait(&headers(&[]), now), None);
        assert_eq!(
            rate_limit_wait(&headers(&[("retry-after", "300")]), now),
            Some(Duration::from_secs(300))
        );
        // The reset is later than Retry-After: the reset wins.
        assert_eq!(
            rate_limit_wait(
                &headers(&[
                    ("retry-after", "300"),
                    ("x-ratelimit-requests-reset", "3600")
                ]),
                now
            ),
            Some(Duration::from_secs(3600))
        );
        // As a Unix time, and with a fraction of a second.
        let at = (now.timestamp() + 1800).to_string();
        assert_eq!(
            rate_limit_wait(&headers(&[("x-ratelimit-reset", &at)]), now),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            rate_limit_wait(&headers(&[("x-ratelimit-reset", "2.5")]), now),
            Some(Duration::from_secs(3))
        );
        // Other rate-limit headers and nonsense are not waits.
        assert_eq!(
            rate_limit_wait(
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "soon")
                ]),
                now
            ),
            None
        );
    }
}
