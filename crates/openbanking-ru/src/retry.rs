//! Retry with exponential backoff and full jitter, honouring `Retry-After`. Written once here
//! for every bank that speaks this protocol.

use std::time::Duration;

use chrono::{DateTime, Utc};
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
}
