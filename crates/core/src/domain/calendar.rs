//! The calendar buckets analytics group by.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

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
