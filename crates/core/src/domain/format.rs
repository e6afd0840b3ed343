//! Numbers as people write them, in Russian and English: one rule per language, shared by every
//! text core produces (rating factors, insights, offers) and by the assistant.
//!
//! - Money, Russian: digits grouped by spaces, a decimal comma, the sign after: `15 240 ₽`,
//!   `1 200,50 $`, `-300 €`. Kopecks are shown only when there are any.
//! - Money, English: comma groups, a decimal point, the symbol before: `₽15,240`, `$1,200.50`,
//!   `-€300`. Currencies without a symbol show their code: `1 200 CHF` / `CHF 1,200`.
//! - Percentages: `35%`, below 10 with one decimal (`4,5%` / `4.5%`).
//! - Months: `4,2 мес.` / `4.2 months`; dates `05.12.2026` / `5 Dec 2026`.

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::money::{Currency, Money};

/// The language of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    /// Picks the text of this language.
    pub fn pick<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

/// A text in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Localized {
    pub ru: String,
    pub en: String,
}

impl Localized {
    pub fn new(ru: impl Into<String>, en: impl Into<String>) -> Self {
        Localized {
            ru: ru.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.ru, &self.en)
    }
}

fn symbol(currency: &Currency) -> Option<&'static str> {
    Some(match currency.as_str() {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "CNY" => "¥",
        "JPY" => "¥",
        "KZT" => "₸",
        "TRY" => "₺",
        "INR" => "₹",
        _ => return None,
    })
}

/// Groups the digits of a non-negative integer string.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// An amount in minor units (two decimals) without currency: `1 200,50` / `1,200.50`.
fn amount_text(minor: i64, lang: Lang) -> String {
    let abs = minor.unsigned_abs();
    let (units, cents) = (abs / 100, abs % 100);
    let (sep, point) = match lang {
        Lang::Ru => (' ', ','),
        Lang::En => (',', '.'),
    };
    let mut s = group(&units.to_string(), sep);
    if cents != 0 {
        s.push(point);
        s.push_str(&format!("{cents:02}"));
    }
    s
}

/// Money as people write it in `lang` (see the module docs).
pub fn format_money(money: &Money, lang: Lang) -> String {
    let sign = if money.minor < 0 { "-" } else { "" };
    let amount = amount_text(money.minor, lang);
    match (lang, symbol(&money.currency)) {
        (Lang::Ru, Some(sym)) => format!("{sign}{amount} {sym}"),
        (Lang::Ru, None) => format!("{sign}{amount} {}", money.currency),
        (Lang::En, Some(sym)) => format!("{sign}{sym}{amount}"),
        (Lang::En, None) => format!("{sign}{} {amount}", money.currency),
    }
}

/// Money rounded to whole units first (for averages and estimates): `52 000 ₽`.
pub fn format_money_rounded(money: &Money, lang: Lang) -> String {
    let whole = Money::new(round_to_units(money.minor), money.currency.clone());
    format_money(&whole, lang)
}

/// Minor units rounded half away from zero to whole units (still in minor units).
pub fn round_to_units(minor: i64) -> i64 {
    let units = (minor.abs() + 50) / 100;
    units * 100 * minor.signum()
}

/// A plain number with `decimals` digits after the separator, trailing zeros dropped.
pub fn format_number(x: f64, decimals: usize, lang: Lang) -> String {
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    let s = if s == "-0" { "0".to_owned() } else { s };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (s, None),
    };
    let (neg, digits) = match int.strip_prefix('-') {
        Some(d) => (true, d.to_owned()),
        None => (false, int),
    };
    let (sep, point) = match lang {
        Lang::Ru => (' ', ','),
        Lang::En => (',', '.'),
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&group(&digits, sep));
    if let Some(f) = frac {
        out.push(point);
        out.push_str(&f);
    }
    out
}

/// A ratio (0.35) as a percentage: `35%`; below 10% with one decimal: `4,5%`.
pub fn format_percent(ratio: f64, lang: Lang) -> String {
    let p = ratio * 100.0;
    let decimals = if p.abs() < 10.0 { 1 } else { 0 };
    format!("{}%", format_number(p, decimals, lang))
}

/// A number of months: `4,2 мес.` / `4.2 months`.
pub fn format_months(months: f64, lang: Lang) -> String {
    let n = format_number(months, 1, lang);
    match lang {
        Lang::Ru => format!("{n} мес."),
        Lang::En if n == "1" => "1 month".to_owned(),
        Lang::En => format!("{n} months"),
    }
}

/// A date: `05.12.2026` / `5 Dec 2026`.
pub fn format_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Ru => d.format("%d.%m.%Y").to_string(),
        Lang::En => format!("{} {}", d.day(), d.format("%b %Y")),
    }
}

/// A decimal with two places rounded as money is (for figures that are not money).
pub fn decimal_2(x: f64) -> Decimal {
    Decimal::from_f64_retain(x)
        .map(|d| d.round_dp(2))
        .unwrap_or_default()
}

/// A decimal's value as f64 (for ratios).
pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64, c: &str) -> Money {
        Money::new(minor, Currency::parse(c).expect("currency"))
    }

    #[test]
    fn money_in_both_languages() {
        assert_eq!(format_money(&m(1_524_000, "RUB"), Lang::Ru), "15 240 ₽");
        assert_eq!(format_money(&m(120_050, "USD"), Lang::Ru), "1 200,50 $");
        assert_eq!(format_money(&m(120_050, "USD"), Lang::En), "$1,200.50");
        assert_eq!(format_money(&m(1_524_000, "RUB"), Lang::En), "₽15,240");
        assert_eq!(format_money(&m(-30_000, "EUR"), Lang::Ru), "-300 €");
        assert_eq!(format_money(&m(-30_000, "EUR"), Lang::En), "-€300");
        assert_eq!(format_money(&m(120_000, "CHF"), Lang::En), "CHF 1,200");
        assert_eq!(format_money(&m(5, "RUB"), Lang::Ru), "0,05 ₽");
        assert_eq!(
            format_money(&m(12_345_678_901, "RUB"), Lang::Ru),
            "123 456 789,01 ₽"
        );
        assert_eq!(
            format_money_rounded(&m(5_199_960, "RUB"), Lang::Ru),
            "52 000 ₽"
        );
    }

    #[test]
    fn numbers_percentages_months_dates() {
        assert_eq!(format_percent(0.35, Lang::Ru), "35%");
        assert_eq!(format_percent(0.045, Lang::Ru), "4,5%");
        assert_eq!(format_percent(0.045, Lang::En), "4.5%");
        assert_eq!(format_percent(-0.2, Lang::En), "-20%");
        assert_eq!(format_percent(0.0, Lang::En), "0%");
        assert_eq!(format_months(4.2, Lang::Ru), "4,2 мес.");
        assert_eq!(format_months(3.0, Lang::En), "3 months");
        assert_eq!(format_number(12345.678, 1, Lang::Ru), "12 345,7");
        assert_eq!(format_number(-0.01, 1, Lang::En), "0");
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
        assert_eq!(format_date(d, Lang::Ru), "05.12.2026");
        assert_eq!(format_date(d, Lang::En), "5 Dec 2026");
    }
}
