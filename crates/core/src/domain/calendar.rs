//! The calendar buckets analytics group by.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::error::CoreError;

/// The years a moment given by a user (a note's time, a task's due time) may fall in: chrono
/// reads years far beyond what PostgreSQL's `timestamptz` stores (4713 BC at the earliest), which
/// failed the write as a database error.
pub const USER_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// `at` when its year is in [`USER_YEARS`]; otherwise `BAD_USER_INPUT` naming `name`.
pub fn check_user_time(at: DateTime<Utc>, name: &str) -> Result<DateTime<Utc>, CoreError> {
    if USER_YEARS.contains(&at.year()) {
        Ok(at)
    } else {
        Err(CoreError::invalid(format!(
            "`{name}` must fall in the years {} to {}",
            USER_YEARS.start(),
            USER_YEARS.end()
        )))
    }
}

/// `at` within the years 1 to 9999 (no stored row lies outside them), for the bounds of a
/// read. chrono reads years to ±262143, whose day keys overflow an `i32` and which
/// PostgreSQL's `timestamptz` does not hold (and SQLite's text of a five-digit year sorts
/// before every four-digit one).
pub fn clamp_to_stored_years(at: DateTime<Utc>) -> DateTime<Utc> {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).map(|d| d.and_time(NaiveTime::MIN));
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999));
    match (first, last) {
        (Some(first), Some(last)) => {
            at.clamp(Utc.from_utc_datetime(&first), Utc.from_utc_datetime(&last))
        }
        _ => at,
    }
}

/// `YYYYMM` of a moment (UTC), the month bucket analytics group by.
pub fn month_key(at: &DateTime<Utc>) -> i32 {
    at.year() * 100 + at.month() as i32
}

/// `YYYYMMDD` of a moment (UTC), the day bucket.
pub fn day_key(at: &DateTime<Utc>) -> i32 {
    date_key(at.date_naive())
}

/// `YYYYMMDD` of a date.
pub fn date_key(d: NaiveDate) -> i32 {
    d.year() * 10_000 + d.month() as i32 * 100 + d.day() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn month_and_day_keys() {
        let at = Utc
            .with_ymd_and_hms(2025, 3, 31, 23, 59, 59)
            .single()
            .expect("date");
        assert_eq!(month_key(&at), 202503);
        assert_eq!(day_key(&at), 20250331);
    }
}
