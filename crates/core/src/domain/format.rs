//! Numbers as people write them, in Russian and English: one rule per language, shared by every
//! text core produces (rating factors, insights, offers) and by the assistant.
//!
//! - Money, Russian: digits grouped by no-break spaces, a decimal comma, the symbol after a
//!   no-break space: `15 240 ₽`, `1 200,50 $`, `-300 €` — so a figure never breaks across lines
//!   or streamed chunks. Kopecks are shown only when there are any.
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

/// The no-break space that groups Russian digits and joins an amount to its currency.
pub const NBSP: char = '\u{a0}';

/// Digit-group separator and decimal point of a language.
fn separators(lang: Lang) -> (char, char) {
    match lang {
        Lang::Ru => (NBSP, ','),
        Lang::En => (',', '.'),
    }
}

/// An amount in minor units (two decimals) without currency: `1 200,50` / `1,200.50`.
fn amount_text(minor: i64, lang: Lang) -> String {
    let abs = minor.unsigned_abs();
    let (units, cents) = (abs / 100, abs % 100);
    let (sep, point) = separators(lang);
    let mut s = group(&units.to_string(), sep);
    if cents != 0 {
        s.push(point);
        s.push_str(&format!("{cents:02}"));
    }
    s
}

/// A name in the language's quotation marks (`«…»`, `“…”`), unless it carries its own
/// (`Вклад «Доходный»` stays as it is).
pub fn quoted(text: &str, lang: Lang) -> String {
    if text.contains(['«', '»', '“', '”', '"']) {
        return text.to_owned();
    }
    match lang {
        Lang::Ru => format!("«{text}»"),
        Lang::En => format!("“{text}”"),
    }
}

/// A rate or share in percent, exactly to one decimal (`18,6%`, `19%`): a catalogue's 18.6 %
/// must never read as 19 %.
pub fn format_rate(percent: Decimal, lang: Lang) -> String {
    let s = percent
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string();
    let s = if s == "-0" { "0".to_owned() } else { s };
    match lang {
        Lang::Ru => format!("{}%", s.replace('.', ",")),
        Lang::En => format!("{s}%"),
    }
}

/// Money as people write it in `lang` (see the module docs).
pub fn format_money(money: &Money, lang: Lang) -> String {
    let sign = if money.minor < 0 { "-" } else { "" };
    let amount = amount_text(money.minor, lang);
    match (lang, symbol(&money.currency)) {
        (Lang::Ru, Some(sym)) => format!("{sign}{amount}{NBSP}{sym}"),
        (Lang::Ru, None) => format!("{sign}{amount}{NBSP}{}", money.currency),
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
    let (sep, point) = separators(lang);
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

/// An exact decimal amount (rounded to two places, half away from zero) in a currency.
pub fn format_amount(value: Decimal, currency: &Currency, lang: Lang) -> String {
    let minor = (value * Decimal::from(100))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX);
    format_money(&Money::new(minor, currency.clone()), lang)
}

/// Money with an explicit sign (`+5 000 ₽`, `-1 200 ₽`), for changes.
pub fn format_signed_money(money: &Money, lang: Lang) -> String {
    let text = format_money(money, lang);
    if money.minor > 0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A share 0..=1 as a percentage with exactly one decimal: `17,4%` / `17.4%` (for lists whose
/// shares are compared with each other).
pub fn format_share(share: f64, lang: Lang) -> String {
    format_percent_points(share * 100.0, lang)
}

/// A percentage given in percentage points, with exactly one decimal.
pub fn format_percent_points(percent: f64, lang: Lang) -> String {
    let s = format!("{:.1}", if percent.abs() < 0.05 { 0.0 } else { percent });
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), "0"));
    let whole = format_number(int.parse::<f64>().unwrap_or(0.0), 0, lang);
    let whole = if int.starts_with('-') && !whole.starts_with('-') {
        format!("-{whole}")
    } else {
        whole
    };
    format!("{whole}{}{frac}%", lang.pick(",", "."))
}

/// Signed points with one decimal at most: `+12,5`, `-8`.
pub fn format_points(value: f64, lang: Lang) -> String {
    let text = format_number(value, 1, lang);
    if value >= 0.05 {
        format!("+{text}")
    } else {
        text
    }
}

/// A whole count with grouped thousands.
pub fn format_count(n: u64, lang: Lang) -> String {
    group(&n.to_string(), separators(lang).0)
}

/// The date of a moment (UTC).
pub fn format_date_of(at: chrono::DateTime<chrono::Utc>, lang: Lang) -> String {
    format_date(at.date_naive(), lang)
}

const RU_MONTHS: [&str; 12] = [
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
const RU_MONTHS_IN: [&str; 12] = [
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
pub fn format_month(year: i32, month: u32, lang: Lang) -> String {
    let name = lang.pick(RU_MONTHS[month_index(month)], EN_MONTHS[month_index(month)]);
    format!("{name} {year}")
}

/// `в марте 2025` / `in March 2025`.
pub fn format_in_month(year: i32, month: u32, lang: Lang) -> String {
    match lang {
        Lang::Ru => format!("в {} {year}", RU_MONTHS_IN[month_index(month)]),
        Lang::En => format!("in {} {year}", EN_MONTHS[month_index(month)]),
    }
}

/// The month's name as it follows «в» / "in": `марте` / `March`.
pub fn month_name_in(month: u32, lang: Lang) -> &'static str {
    lang.pick(
        RU_MONTHS_IN[month_index(month)],
        EN_MONTHS[month_index(month)],
    )
}

/// The month of a `YYYY-MM` key: `декабрь 2025` / `December 2025` (the key itself when it is
/// not one).
pub fn format_month_key(key: &str, lang: Lang) -> String {
    match key.split_once('-') {
        Some((y, m)) => match (y.parse::<i32>(), m.parse::<u32>()) {
            (Ok(y), Ok(m)) => format_month(y, m, lang),
            _ => key.to_owned(),
        },
        None => key.to_owned(),
    }
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
pub fn format_transactions(n: u64, lang: Lang) -> String {
    let word = match lang {
        Lang::Ru => ru_plural(n, "операция", "операции", "операций"),
        Lang::En if n == 1 => "transaction",
        Lang::En => "transactions",
    };
    format!("{} {word}", format_count(n, lang))
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn rates_keep_their_decimal() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(format_rate(d("18.6"), Lang::Ru), "18,6%");
        assert_eq!(format_rate(d("18.60"), Lang::En), "18.6%");
        assert_eq!(format_rate(d("19"), Lang::Ru), "19%");
        assert_eq!(format_rate(d("35.25"), Lang::Ru), "35,3%");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64, c: &str) -> Money {
        Money::new(minor, Currency::parse(c).expect("currency"))
    }

    #[test]
    fn money_in_both_languages() {
        assert_eq!(
            format_money(&m(1_524_000, "RUB"), Lang::Ru),
            "15\u{a0}240\u{a0}₽"
        );
        assert_eq!(
            format_money(&m(120_050, "USD"), Lang::Ru),
            "1\u{a0}200,50\u{a0}$"
        );
        assert_eq!(format_money(&m(120_050, "USD"), Lang::En), "$1,200.50");
        assert_eq!(format_money(&m(1_524_000, "RUB"), Lang::En), "₽15,240");
        assert_eq!(format_money(&m(-30_000, "EUR"), Lang::Ru), "-300\u{a0}€");
        assert_eq!(format_money(&m(-30_000, "EUR"), Lang::En), "-€300");
        assert_eq!(format_money(&m(120_000, "CHF"), Lang::En), "CHF 1,200");
        assert_eq!(format_money(&m(5, "RUB"), Lang::Ru), "0,05\u{a0}₽");
        assert_eq!(
            format_money(&m(12_345_678_901, "RUB"), Lang::Ru),
            "123\u{a0}456\u{a0}789,01\u{a0}₽"
        );
        assert_eq!(
            format_money_rounded(&m(5_199_960, "RUB"), Lang::Ru),
            "52\u{a0}000\u{a0}₽"
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
        assert_eq!(format_number(12345.678, 1, Lang::Ru), "12\u{a0}345,7");
        assert_eq!(format_number(-0.01, 1, Lang::En), "0");
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
        assert_eq!(format_date(d, Lang::Ru), "05.12.2026");
        assert_eq!(format_date(d, Lang::En), "5 Dec 2026");
    }

    #[test]
    fn shares_points_counts_months_and_plurals() {
        assert_eq!(format_share(0.174, Lang::Ru), "17,4%");
        assert_eq!(format_share(0.174, Lang::En), "17.4%");
        assert_eq!(format_share(1.0, Lang::En), "100.0%");
        assert_eq!(format_share(12.3456, Lang::Ru), "1\u{a0}234,6%");
        assert_eq!(format_percent_points(-3.26, Lang::En), "-3.3%");
        assert_eq!(format_percent_points(-0.04, Lang::En), "0.0%");
        assert_eq!(format_points(12.5, Lang::Ru), "+12,5");
        assert_eq!(format_points(-8.0, Lang::En), "-8");
        assert_eq!(format_points(0.0, Lang::En), "0");
        assert_eq!(format_count(1_234_567, Lang::Ru), "1\u{a0}234\u{a0}567");
        assert_eq!(format_transactions(1, Lang::Ru), "1 операция");
        assert_eq!(format_transactions(3, Lang::Ru), "3 операции");
        assert_eq!(format_transactions(11, Lang::Ru), "11 операций");
        assert_eq!(format_transactions(21, Lang::Ru), "21 операция");
        assert_eq!(format_transactions(2, Lang::En), "2 transactions");
        assert_eq!(format_in_month(2025, 3, Lang::Ru), "в марте 2025");
        assert_eq!(format_in_month(2025, 5, Lang::En), "in May 2025");
        assert_eq!(format_month_key("2025-12", Lang::Ru), "декабрь 2025");
        assert_eq!(format_month_key("soon", Lang::Ru), "soon");
        let rub = Currency::rub();
        assert_eq!(
            format_amount(Decimal::new(1_524_005, 3), &rub, Lang::Ru),
            "1\u{a0}524,01\u{a0}₽"
        );
        assert_eq!(
            format_signed_money(&m(500_000, "RUB"), Lang::Ru),
            "+5\u{a0}000\u{a0}₽"
        );
    }
}
