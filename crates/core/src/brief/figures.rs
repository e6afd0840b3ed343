//! The figures of a text, to check that a reworded brief says the same numbers as the
//! analyst's: every number (money with its currency and sign, percentages, counts, dates) read
//! as written in Russian (`1 200,50 ₽`, `4,5%`, `05.12.2026`) or English (`₽1,200.50`, `4.5%`,
//! `5 Dec 2026`) and normalised, so the same figure in either spelling compares equal, and two
//! texts compare as multisets.

use rust_decimal::Decimal;
use std::str::FromStr;

use crate::domain::Lang;

/// Currency symbols (and codes) a figure may carry.
const SYMBOLS: &[char] = &['₽', '$', '€', '£', '¥', '₸', '₺', '₹'];

/// Spaces that group digits: a space, the no-break space, the narrow no-break space.
fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

fn is_minus(c: char) -> bool {
    matches!(c, '-' | '−' | '–')
}

/// One figure: its value as a normalised decimal, and what it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextFigure {
    /// `%`, a currency symbol, `date`, or empty for a plain number.
    pub unit: String,
    /// The value, normalised (`1200.5`, `-300`, `2026-12-05`).
    pub value: String,
}

/// Every figure of `text` as written in `lang`, in order.
pub fn extract(text: &str, lang: Lang) -> Vec<TextFigure> {
    let chars: Vec<char> = text.chars().collect();
    let (group_comma, point) = match lang {
        Lang::Ru => (false, ','),
        Lang::En => (true, '.'),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // A date `dd.mm.yyyy`.
        if let Some((date, next)) = date_at(&chars, i) {
            out.push(TextFigure {
                unit: "date".into(),
                value: date,
            });
            i = next;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            digits.push(chars[j]);
            j += 1;
        }
        // Groups of exactly three digits after a group separator.
        while let Some(&sep) = chars.get(j) {
            let grouping = if group_comma {
                sep == ','
            } else {
                is_group_space(sep)
            };
            if !grouping || !three_digits_at(&chars, j + 1) {
                break;
            }
            digits.extend(&chars[j + 1..j + 4]);
            j += 4;
        }
        let mut fraction = String::new();
        if chars.get(j) == Some(&point) && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
            j += 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                fraction.push(chars[j]);
                j += 1;
            }
        }
        // The sign and a currency symbol before (`-₽300`, `+$5`) or after (`300 ₽`).
        let mut unit = String::new();
        let mut before = start;
        if before > 0 && SYMBOLS.contains(&chars[before - 1]) {
            unit = chars[before - 1].to_string();
            before -= 1;
        }
        let negative = before > 0 && is_minus(chars[before - 1]);
        let mut k = j;
        if chars.get(k) == Some(&'%') {
            unit = "%".into();
            k += 1;
        } else if unit.is_empty() {
            let mut m = k;
            while chars.get(m).copied().is_some_and(is_group_space) {
                m += 1;
            }
            if let Some(&c) = chars.get(m).filter(|c| SYMBOLS.contains(c)) {
                unit = c.to_string();
                k = m + 1;
            }
        }
        let mut number = digits;
        if !fraction.is_empty() {
            number.push('.');
            number.push_str(&fraction);
        }
        let value = Decimal::from_str(&number)
            .map(|d| {
                let d = if negative { -d } else { d };
                d.normalize().to_string()
            })
            .unwrap_or(number);
        out.push(TextFigure { unit, value });
        i = k.max(j);
    }
    out
}

fn three_digits_at(chars: &[char], at: usize) -> bool {
    (0..3).all(|d| chars.get(at + d).is_some_and(char::is_ascii_digit))
        && !chars.get(at + 3).is_some_and(char::is_ascii_digit)
}

/// `dd.mm.yyyy` at `at` (not part of a longer number): the date as `yyyy-mm-dd`.
fn date_at(chars: &[char], at: usize) -> Option<(String, usize)> {
    let s: String = chars.get(at..at + 10)?.iter().collect();
    let b = s.as_bytes();
    let shape = b.iter().enumerate().all(|(n, c)| match n {
        2 | 5 => *c == b'.',
        _ => c.is_ascii_digit(),
    });
    if !shape || chars.get(at + 10).is_some_and(char::is_ascii_digit) {
        return None;
    }
    Some((format!("{}-{}-{}", &s[6..10], &s[3..5], &s[0..2]), at + 10))
}

/// The figures of `text` sorted: two texts say the same figures when these are equal.
pub fn multiset(text: &str, lang: Lang) -> Vec<TextFigure> {
    let mut f = extract(text, lang);
    f.sort();
    f
}

/// Why a reworded text cannot replace the original, if it cannot: a figure differs, or the
/// model's text carries a redaction mark the original has not.
pub fn rewording_refused(original: &str, reworded: &str, lang: Lang) -> Option<String> {
    if reworded.trim().is_empty() {
        return Some("the model's text is empty".into());
    }
    for mark in [
        crate::assistant::privacy::HIDDEN_NAME,
        crate::assistant::privacy::HIDDEN_NUMBER,
        crate::assistant::privacy::HIDDEN_CONTACT,
    ] {
        if reworded.contains(mark) && !original.contains(mark) {
            return Some(format!("the model's text carries {mark}"));
        }
    }
    let (a, b) = (multiset(original, lang), multiset(reworded, lang));
    if a != b {
        let missing = a.iter().filter(|f| !b.contains(f)).count();
        let added = b.iter().filter(|f| !a.contains(f)).count();
        return Some(format!(
            "figures differ: {} in the analyst's text, {} in the model's ({missing} missing, {added} not in the original)",
            a.len(),
            b.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, lang: Lang) -> Vec<(String, String)> {
        extract(text, lang)
            .into_iter()
            .map(|f| (f.unit, f.value))
            .collect()
    }

    fn v(unit: &str, value: &str) -> (String, String) {
        (unit.to_owned(), value.to_owned())
    }

    #[test]
    fn russian_money_percentages_dates_and_counts() {
        assert_eq!(
            values(
                "Остаток 1\u{a0}200,50\u{a0}₽ → 15 240 ₽ (+14\u{a0}039,50\u{a0}₽), расходы -300\u{a0}€, рост на 4,5%; 3 задачи с 05.12.2026",
                Lang::Ru
            ),
            vec![
                v("₽", "1200.5"),
                v("₽", "15240"),
                v("₽", "14039.5"),
                v("€", "-300"),
                v("%", "4.5"),
                v("", "3"),
                v("date", "2026-12-05"),
            ]
        );
    }

    #[test]
    fn english_money_keeps_its_sign_and_symbol_before_the_digits() {
        assert_eq!(
            values(
                "Balance ₽15,240 (-₽300.25), $1,200.50 and 12% on 5 Dec 2026; 1,5 is two",
                Lang::En
            ),
            vec![
                v("₽", "15240"),
                v("₽", "-300.25"),
                v("$", "1200.5"),
                v("%", "12"),
                v("", "5"),
                v("", "2026"),
                v("", "1"),
                v("", "5"),
            ]
        );
    }

    #[test]
    fn a_group_is_three_digits_so_neighbouring_numbers_stay_apart() {
        assert_eq!(
            values("за 30 дней 2 операции; 10 000 ₽", Lang::Ru),
            vec![v("", "30"), v("", "2"), v("₽", "10000")]
        );
        assert_eq!(values("B → A, 72 балла", Lang::Ru), vec![v("", "72")]);
    }

    #[test]
    fn rewording_that_keeps_every_figure_is_accepted_in_any_order() {
        let original = "Остаток 15\u{a0}240\u{a0}₽, рост на 12%. Задач: 2.";
        let reworded = "Задач две? Нет: 2. Рост составил 12%, остаток — 15 240 ₽.";
        assert_eq!(rewording_refused(original, reworded, Lang::Ru), None);
    }

    #[test]
    fn rewording_that_changes_drops_or_adds_a_figure_is_refused() {
        let original = "Остаток 15\u{a0}240\u{a0}₽, рост на 12%.";
        for bad in [
            "Остаток 15 250 ₽, рост на 12%.",
            "Остаток 15 240 ₽.",
            "Остаток 15 240 ₽, рост на 12%, примерно 3 месяца.",
            "Остаток 15 240 $, рост на 12%.",
            "Остаток -15 240 ₽, рост на 12%.",
            "",
        ] {
            assert!(
                rewording_refused(original, bad, Lang::Ru).is_some(),
                "{bad:?} should be refused"
            );
        }
        assert!(rewording_refused("Клиент", "[client] спокоен", Lang::Ru).is_some());
    }
}
