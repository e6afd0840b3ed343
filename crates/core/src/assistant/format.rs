//! How the assistant writes numbers, money, dates and months for people, in Russian and English:
//! `15 240 ₽` and `15 240,50 ₽`, `15,240 ₽` and `$1,234.50`. The one place to swap for core's
//! money formatter when there is one.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::Language;
use crate::domain::{minor_to_decimal, Currency, Money};

/// No-break space: keeps `15 240 ₽` on one line.
pub const NBSP: char = '\u{a0}';
/// The typographic minus.
pub const MINUS: char = '\u{2212}';

fn symbol(currency: &Currency) -> Option<&'static str> {
    Some(match currency.as_str() {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "CNY" => "¥",
        _ => return None,
    })
}

/// Groups the digits of a whole number by three with `sep`.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    // Digits left before the next separator: the first group may be shorter than three.
    let mut left = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && left == 0 {
            out.push(sep);
            left = 3;
        }
        out.push(ch);
        left -= 1;
    }
    out
}

/// A decimal with grouped thousands and exactly `places` fractional digits (rounded half away
/// from zero), or none when `trim_zero_fraction` and the fraction is zero.
fn number(value: Decimal, places: u32, trim_zero_fraction: bool, lang: Language) -> String {
    let rounded =
        value.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = rounded.abs().to_string();
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_owned(), f.to_owned()),
        None => (text.clone(), String::new()),
    };
    let mut frac = frac_part;
    while (frac.len() as u32) < places {
        frac.push('0');
    }
    let (group_sep, decimal_sep) = match lang {
        Language::Ru => (NBSP, ','),
        Language::En => (',', '.'),
    };
    let mut out = String::new();
    if negative {
        out.push(MINUS);
    }
    out.push_str(&group(&int_part, group_sep));
    let zero_fraction = frac.chars().all(|c| c == '0');
    if places > 0 && !(trim_zero_fraction && zero_fraction) {
        out.push(decimal_sep);
        out.push_str(&frac);
    }
    out
}

/// Money as people write it: kopecks only when there are any.
pub fn money(m: &Money, lang: Language) -> String {
    amount(minor_to_decimal(m.minor), &m.currency, lang)
}

/// An exact decimal amount in a currency.
pub fn amount(value: Decimal, currency: &Currency, lang: Language) -> String {
    let digits = number(value, 2, true, lang);
    match (lang, symbol(currency)) {
        (Language::En, Some(s)) if s != "₽" && s != "¥" => match digits.strip_prefix(MINUS) {
            Some(rest) => format!("{MINUS}{s}{rest}"),
            None => format!("{s}{digits}"),
        },
        (_, Some(s)) => format!("{digits}{NBSP}{s}"),
        (_, None) => format!("{digits}{NBSP}{currency}"),
    }
}

/// An amount with an explicit sign (`+5 000 ₽`, `−1 200 ₽`), for changes.
pub fn signed_money(m: &Money, lang: Language) -> String {
    let text = money(m, lang);
    if m.minor > 0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A share 0..=1 as a percentage with one decimal: `17,4 %` / `17.4%`.
pub fn share(share: f64, lang: Language) -> String {
    percent_value(share * 100.0, lang)
}

/// A percentage given in percent points, one decimal.
pub fn percent_value(percent: f64, lang: Language) -> String {
    let value = Decimal::from_f64_retain(percent).unwrap_or_default();
    let text = number(value, 1, false, lang);
    match lang {
        Language::Ru => format!("{text}{NBSP}%"),
        Language::En => format!("{text}%"),
    }
}

/// A signed number of points with one decimal at most: `+12,5`, `−8`.
pub fn points(value: f64, lang: Language) -> String {
    let d = Decimal::from_f64_retain(value).unwrap_or_default();
    let text = number(d, 1, true, lang);
    if d > Decimal::ZERO {
        format!("+{text}")
    } else {
        text
    }
}

/// A whole count with grouped thousands.
pub fn count(n: u64, lang: Language) -> String {
    number(Decimal::from(n), 0, true, lang)
}

const RU_NOMINATIVE: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];
const RU_PREPOSITIONAL: [&str; 12] = [
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_index(month: u32) -> usize {
    (month.clamp(1, 12) - 1) as usize
}

/// `март 2025` / `March 2025`.
pub fn month(year: i32, month: u32, lang: Language) -> String {
    match lang {
        Language::Ru => format!("{} {year}", RU_NOMINATIVE[month_index(month)]),
        Language::En => format!("{} {year}", EN_MONTHS[month_index(month)]),
    }
}

/// `в марте 2025` / `in March 2025`.
pub fn in_month(year: i32, month: u32, lang: Language) -> String {
    match lang {
        Language::Ru => format!("в {} {year}", RU_PREPOSITIONAL[month_index(month)]),
        Language::En => format!("in {} {year}", EN_MONTHS[month_index(month)]),
    }
}

/// The month's name alone, as it follows «в» / "in": `марте` / `March`.
pub fn month_name_in(month: u32, lang: Language) -> &'static str {
    match lang {
        Language::Ru => RU_PREPOSITIONAL[month_index(month)],
        Language::En => EN_MONTHS[month_index(month)],
    }
}

/// `14.03.2025` / `14 Mar 2025`.
pub fn date(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::Ru => d.format("%d.%m.%Y").to_string(),
        Language::En => d.format("%-d %b %Y").to_string(),
    }
}

pub fn date_of(at: DateTime<Utc>, lang: Language) -> String {
    date(at.date_naive(), lang)
}

/// The month of a `YYYY-MM` key, as `месяц год`.
pub fn month_key(key: &str, lang: Language) -> String {
    match key.split_once('-') {
        Some((y, m)) => match (y.parse::<i32>(), m.parse::<u32>()) {
            (Ok(y), Ok(m)) => month(y, m, lang),
            _ => key.to_owned(),
        },
        None => key.to_owned(),
    }
}

/// The year and month of a moment.
pub fn year_month(at: DateTime<Utc>) -> (i32, u32) {
    (at.year(), at.month())
}

/// Russian plural forms: 1 операция, 2 операции, 5 операций.
pub fn ru_plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    let (m10, m100) = (n % 10, n % 100);
    if m10 == 1 && m100 != 11 {
        one
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        few
    } else {
        many
    }
}

/// `12 операций` / `12 transactions`.
pub fn transactions(n: u64, lang: Language) -> String {
    match lang {
        Language::Ru => format!(
            "{} {}",
            count(n, lang),
            ru_plural(n, "операция", "операции", "операций")
        ),
        Language::En => format!(
            "{} {}",
            count(n, lang),
            if n == 1 {
                "transaction"
            } else {
                "transactions"
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rub(minor: i64) -> Money {
        Money::new(minor, Currency::rub())
    }

    #[test]
    fn money_the_way_people_write_it() {
        assert_eq!(money(&rub(1_524_000), Language::Ru), "15\u{a0}240\u{a0}₽");
        assert_eq!(
            money(&rub(1_524_050), Language::Ru),
            "15\u{a0}240,50\u{a0}₽"
        );
        assert_eq!(money(&rub(1_524_050), Language::En), "15,240.50\u{a0}₽");
        assert_eq!(money(&rub(99), Language::Ru), "0,99\u{a0}₽");
        assert_eq!(
            money(&rub(10_000_000_000), Language::En),
            "100,000,000\u{a0}₽"
        );
        assert_eq!(
            money(&rub(-120_000), Language::Ru),
            "\u{2212}1\u{a0}200\u{a0}₽"
        );
        let usd = Money::new(123_450, Currency::parse("USD").expect("usd"));
        assert_eq!(money(&usd, Language::En), "$1,234.50");
        assert_eq!(money(&usd, Language::Ru), "1\u{a0}234,50\u{a0}$");
        let other = Money::new(500, Currency::parse("KZT").expect("kzt"));
        assert_eq!(money(&other, Language::En), "5\u{a0}KZT");
        assert_eq!(
            signed_money(&rub(500_000), Language::Ru),
            "+5\u{a0}000\u{a0}₽"
        );
    }

    #[test]
    fn shares_points_and_plurals() {
        assert_eq!(share(0.174, Language::Ru), "17,4\u{a0}%");
        assert_eq!(share(0.174, Language::En), "17.4%");
        assert_eq!(share(1.0, Language::En), "100.0%");
        assert_eq!(points(12.5, Language::Ru), "+12,5");
        assert_eq!(points(-8.0, Language::En), "\u{2212}8");
        assert_eq!(transactions(1, Language::Ru), "1 операция");
        assert_eq!(transactions(3, Language::Ru), "3 операции");
        assert_eq!(transactions(11, Language::Ru), "11 операций");
        assert_eq!(transactions(21, Language::Ru), "21 операция");
        assert_eq!(transactions(2, Language::En), "2 transactions");
    }

    #[test]
    fn months_and_dates() {
        assert_eq!(in_month(2025, 3, Language::Ru), "в марте 2025");
        assert_eq!(in_month(2025, 5, Language::En), "in May 2025");
        assert_eq!(month_key("2025-12", Language::Ru), "декабрь 2025");
        let d = NaiveDate::from_ymd_opt(2025, 3, 4).expect("date");
        assert_eq!(date(d, Language::Ru), "04.03.2025");
        assert_eq!(date(d, Language::En), "4 Mar 2025");
    }
}
