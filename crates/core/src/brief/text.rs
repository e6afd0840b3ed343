//! The analyst's text of a brief: markdown in Russian or English, every figure written with
//! `domain::format` from the stored content, and the three talking points by rule.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{BriefContent, ProductLine, SinceSource};
use crate::domain::format::{format_date_of, format_money, format_signed_money, quoted};
use crate::domain::Lang;

/// A change this large (percent of the amount before, either way) is worth a talking point.
const NOTABLE_PERCENT: i64 = 20;
/// Spending of fewer days than this is too short a window to compare.
const NOTABLE_DAYS: i64 = 7;

fn money(minor: i64, currency: &str, lang: Lang) -> String {
    format_money(&super::money_in(minor, currency), lang)
}

fn signed(minor: i64, currency: &str, lang: Lang) -> String {
    format_signed_money(&super::money_in(minor, currency), lang)
}

/// The change from `before` to `after` in whole percent of `before` (half away from zero);
/// `None` when `before` is not positive.
pub(crate) fn change_percent(before: i64, after: i64) -> Option<i64> {
    if before <= 0 {
        return None;
    }
    let ratio = Decimal::from(after - before) * Decimal::from(100) / Decimal::from(before);
    ratio
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
}

/// `before`, `after` and the change between them, as money.
fn drift(before: i64, after: i64, currency: &str, lang: Lang) -> [String; 3] {
    [
        money(before, currency, lang),
        money(after, currency, lang),
        signed(after - before, currency, lang),
    ]
}

fn signed_percent(p: i64) -> String {
    if p > 0 {
        format!("+{p}%")
    } else {
        format!("{p}%")
    }
}

fn kind_word(kind: &str, lang: Lang) -> &str {
    match kind {
        "DEPOSIT" => lang.pick("вклад", "deposit"),
        "LOAN" => lang.pick("кредит", "loan"),
        "CREDIT_LINE" => lang.pick("кредитная линия", "credit line"),
        "CREDIT_CARD" => lang.pick("кредитная карта", "credit card"),
        "SAVINGS" => lang.pick("накопительный счёт", "savings account"),
        "CURRENT" | "CHECKING" => lang.pick("текущий счёт", "current account"),
        "ACCOUNT" => lang.pick("счёт", "account"),
        "CARD" => lang.pick("карточный счёт", "card account"),
        _ => lang.pick("продукт", "product"),
    }
}

fn product_line(p: &ProductLine, lang: Lang) -> String {
    let mut s = format!(
        "{} {} {} — {}",
        quoted(&p.name, lang),
        lang.pick("в", "at"),
        p.bank_name,
        kind_word(&p.kind, lang)
    );
    if let Some(minor) = p.amount_minor {
        s.push_str(&format!(", {}", money(minor, &p.currency, lang)));
    }
    if let Some(at) = p.at {
        s.push_str(&format!(", {}", format_date_of(at, lang)));
    }
    s
}

fn note_word(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "CALL" => lang.pick("звонок", "call"),
        "MEETING" => lang.pick("встреча", "meeting"),
        "EMAIL" => lang.pick("письмо", "e-mail"),
        _ => lang.pick("заметка", "note"),
    }
}

/// The brief as markdown in `lang`.
pub fn render(c: &BriefContent, lang: Lang) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "# {}",
        lang.pick("Бриф к встрече", "Meeting brief")
    ));
    let source = match &c.since_source {
        SinceSource::Note { kind, .. } => format!(
            "{}: {} {}",
            lang.pick("с последнего контакта", "since the last contact"),
            note_word(kind, lang),
            format_date_of(c.since, lang)
        ),
        SinceSource::Default => format!(
            "{} {} {}",
            lang.pick(
                "контактов не было: последние",
                "no contact recorded: the last"
            ),
            super::DEFAULT_DAYS,
            lang.pick("дн.", "days")
        ),
    };
    line(format!(
        "{}: {} — {} ({source})",
        lang.pick("Период", "Period"),
        format_date_of(c.since, lang),
        format_date_of(c.at, lang)
    ));
    line(String::new());

    line(format!(
        "## {}",
        lang.pick("Что изменилось", "What changed")
    ));
    let products = |list: &[ProductLine]| {
        if list.is_empty() {
            lang.pick("нет", "none").to_owned()
        } else {
            list.iter()
                .map(|p| product_line(p, lang))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    for (what, list) in [
        (lang.pick("Открыто", "Opened"), &c.opened),
        (lang.pick("Закрыто", "Closed"), &c.closed),
    ] {
        line(format!("- {what}: {}", products(list)));
    }
    match &c.rating {
        Some(r) => line(format!(
            "- {}: {} → {} ({} {} {})",
            lang.pick("Рейтинг", "Rating"),
            r.then_grade.as_deref().unwrap_or("—"),
            r.now_grade,
            lang.pick("сейчас", "now"),
            r.now_score,
            lang.pick("из 100", "of 100")
        )),
        None => line(format!(
            "- {}: {}",
            lang.pick("Рейтинг", "Rating"),
            lang.pick("ещё не рассчитан", "not computed yet")
        )),
    }
    if c.balances.is_empty() {
        line(format!(
            "- {}: {}",
            lang.pick("Деньги", "Money"),
            lang.pick("счетов с остатком нет", "no accounts with a balance")
        ));
    }
    for b in &c.balances {
        let [then, now, change] = drift(b.then_minor, b.now_minor, &b.currency, lang);
        line(format!(
            "- {}, {}: {} {then}, {} {now} ({change})",
            lang.pick("Деньги", "Money"),
            b.currency,
            lang.pick("было", "then"),
            lang.pick("стало", "now"),
        ));
    }
    let s = &c.spending;
    let [before, period, change] = drift(s.before_minor, s.period_minor, &s.currency, lang);
    let days = s.days;
    let mut spending = match lang {
        Lang::Ru => {
            format!("- Расходы за {days} дн.: {period}; за {days} дн. до этого: {before} ({change}")
        }
        Lang::En => format!(
            "- Spending in {days} days: {period}; in the {days} days before: {before} ({change}"
        ),
    };
    if let Some(p) = change_percent(s.before_minor, s.period_minor) {
        spending.push_str(&format!(", {}", signed_percent(p)));
    }
    spending.push(')');
    line(spending);
    line(String::new());

    line(format!(
        "## {}: {} ({}: {})",
        lang.pick("Открытые задачи", "Open tasks"),
        c.open_tasks,
        lang.pick("просрочено", "overdue"),
        c.overdue_tasks
    ));
    for t in &c.tasks {
        let mut s = format!("- {}", t.title);
        if let Some(due) = t.due_at {
            s.push_str(&format!(
                " — {} {}",
                lang.pick("срок", "due"),
                format_date_of(due, lang)
            ));
        }
        if t.overdue {
            s.push_str(lang.pick(" (просрочена)", " (overdue)"));
        }
        line(s);
    }
    line(String::new());

    line(format!(
        "## {}: {}",
        lang.pick("Открытые сигналы", "Open signals"),
        c.open_signals
    ));
    for s in &c.signals {
        line(format!("- {}", s.summary.get(lang)));
    }
    line(String::new());

    match &c.held_away {
        Some(list) => {
            line(format!(
                "## {}: {}",
                lang.pick("Продукты в других банках", "Products at other banks"),
                list.len()
            ));
            for p in list {
                line(format!("- {}", product_line(p, lang)));
            }
        }
        None => {
            line(format!(
                "## {}",
                lang.pick("Продукты в других банках", "Products at other banks")
            ));
            line(format!(
                "- {}",
                lang.pick(
                    "домашний банк не настроен (HOME_BANK): другие банки не выделены",
                    "no home bank configured (HOME_BANK): other banks are not told apart"
                )
            ));
        }
    }
    line(String::new());

    line(format!(
        "## {}",
        lang.pick("Что предложить", "What to offer")
    ));
    if c.offers.is_empty() {
        line(format!(
            "- {}",
            lang.pick(
                "подходящих продуктов в каталогах нет",
                "no fitting product in the catalogues"
            )
        ));
    }
    for (n, o) in c.offers.iter().enumerate() {
        line(format!(
            "{}. {} ({}): {}",
            n + 1,
            quoted(&o.product, lang),
            o.bank_name,
            o.reason.get(lang)
        ));
    }
    line(String::new());

    line(format!(
        "## {}",
        lang.pick("О чём поговорить", "Talking points")
    ));
    for (n, point) in talking_points(c, lang).iter().enumerate() {
        line(format!("{}. {point}", n + 1));
    }
    out
}

/// Three talking points, by rule, most pressing first; figures only from the content.
pub fn talking_points(c: &BriefContent, lang: Lang) -> Vec<String> {
    let mut points = Vec::new();
    let s = &c.spending;
    if let Some(p) = change_percent(s.before_minor, s.period_minor)
        .filter(|p| p.abs() >= NOTABLE_PERCENT && s.days >= NOTABLE_DAYS)
    {
        points.push(match lang {
            Lang::Ru => format!(
                "Расходы {} на {}% ({} против {}): спросить, что изменилось.",
                if p > 0 {
                    "выросли"
                } else {
                    "снизились"
                },
                p.abs(),
                money(s.period_minor, &s.currency, lang),
                money(s.before_minor, &s.currency, lang)
            ),
            Lang::En => format!(
                "Spending {} by {}% ({} against {}): ask what changed.",
                if p > 0 { "rose" } else { "fell" },
                p.abs(),
                money(s.period_minor, &s.currency, lang),
                money(s.before_minor, &s.currency, lang)
            ),
        });
    }
    if let Some(r) = c
        .rating
        .as_ref()
        .filter(|r| r.then_grade.as_deref().is_some_and(|g| g != r.now_grade))
    {
        let then = r.then_grade.as_deref().unwrap_or("—");
        points.push(match lang {
            Lang::Ru => format!(
                "Рейтинг изменился: {then} → {}; обсудить, что за этим стоит.",
                r.now_grade
            ),
            Lang::En => format!(
                "The rating moved from {then} to {}: talk through what is behind it.",
                r.now_grade
            ),
        });
    }
    if let Some(signal) = c.signals.first() {
        points.push(format!(
            "{}: {}.",
            lang.pick("Обсудить сигнал", "Discuss the signal"),
            signal.summary.get(lang)
        ));
    }
    if let Some(p) = c.held_away.as_ref().and_then(|l| l.first()) {
        points.push(format!(
            "{}: {}. {}",
            lang.pick("У клиента в другом банке", "Held at another bank"),
            product_line(p, lang),
            lang.pick(
                "Узнать условия и предложить перевести к нам.",
                "Ask about its terms and offer to move it to us."
            )
        ));
    }
    if let Some(o) = c.offers.first() {
        points.push(format!(
            "{} {} ({}): {}",
            lang.pick("Предложить", "Offer"),
            quoted(&o.product, lang),
            o.bank_name,
            o.reason.get(lang)
        ));
    }
    if c.overdue_tasks > 0 {
        points.push(format!(
            "{}: {} {}",
            lang.pick("Просроченных задач", "Overdue tasks"),
            c.overdue_tasks,
            lang.pick(
                "— договориться о них на встрече.",
                "— settle them at the meeting."
            )
        ));
    }
    for fill in [
        lang.pick(
            "Уточнить планы клиента на ближайшие месяцы.",
            "Ask about the client's plans for the coming months.",
        ),
        lang.pick(
            "Проверить, актуальны ли контакты клиента.",
            "Check that the client's contact details are current.",
        ),
        lang.pick(
            "Договориться о следующем контакте.",
            "Agree on the next contact.",
        ),
    ] {
        points.push(fill.to_owned());
    }
    points.truncate(3);
    points
}

/// What the model is asked to do with the analyst's text.
pub(crate) fn polish_instructions(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Ты редактор банковских документов. Тебе дают бриф менеджера к встрече с клиентом в формате markdown. Улучши формулировки, чтобы текст читался легко, но сохрани структуру (заголовки и списки) и язык (русский). Каждое число, сумму, процент и дату перепиши ровно так, как они написаны: ничего не добавляй, не округляй, не пересчитывай и не пропускай. Не добавляй новых фактов. Ответь только текстом брифа.",
        Lang::En => "You edit bank documents. You are given a relationship manager's meeting brief in markdown. Improve the wording so it reads easily, but keep its structure (headings and lists) and its language (English). Copy every number, amount, percentage and date exactly as written: add none, round none, recompute none, drop none. Add no new facts. Answer with the brief's text only.",
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use chrono::TimeZone;

    fn content() -> BriefContent {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
            .single()
            .expect("time");
        BriefContent {
            client_id: 1,
            at,
            since: at - Duration::days(30),
            since_source: SinceSource::Default,
            opened: vec![],
            closed: vec![],
            rating: Some(RatingDrift {
                then_grade: Some("B".into()),
                now_grade: "A".into(),
                now_score: 72,
                timeline_ids: vec![5],
            }),
            balances: vec![BalanceDrift {
                currency: "RUB".into(),
                then_minor: 5_000_000,
                now_minor: 6_000_050,
            }],
            spending: SpendingDrift {
                currency: "RUB".into(),
                days: 30,
                period_minor: 4_500_000,
                before_minor: 3_000_000,
            },
            open_tasks: 0,
            overdue_tasks: 0,
            tasks: vec![],
            open_signals: 0,
            signals: vec![],
            held_away: None,
            offers: vec![],
        }
    }

    #[test]
    fn the_text_carries_the_figures_in_both_languages() {
        let c = content();
        let ru = render(&c, Lang::Ru);
        assert!(ru.contains("- Рейтинг: B → A (сейчас 72 из 100)"), "{ru}");
        assert!(
            ru.contains(
                "было 50\u{a0}000\u{a0}₽, стало 60\u{a0}000,50\u{a0}₽ (+10\u{a0}000,50\u{a0}₽)"
            ),
            "{ru}"
        );
        assert!(ru.contains("(+15\u{a0}000\u{a0}₽, +50%)"), "{ru}");
        let en = render(&c, Lang::En);
        assert!(
            en.contains("then ₽50,000, now ₽60,000.50 (+₽10,000.50)"),
            "{en}"
        );
        for text in [&ru, &en] {
            let points = text
                .lines()
                .skip_while(|l| !l.starts_with("## ") || !l.contains(['О', 'T']))
                .filter(|l| l.starts_with(['1', '2', '3']) && l.contains(". "))
                .count();
            assert!(points >= 3, "{text}");
        }
    }

    #[test]
    fn talking_points_follow_the_figures_and_there_are_always_three() {
        let c = content();
        let points = talking_points(&c, Lang::Ru);
        assert_eq!(points.len(), 3);
        assert!(
            points[0].starts_with("Расходы выросли на 50%"),
            "{points:?}"
        );
        assert!(points[1].contains("B → A"), "{points:?}");
        let mut quiet = content();
        quiet.spending.period_minor = quiet.spending.before_minor;
        quiet.rating = None;
        let points = talking_points(&quiet, Lang::En);
        assert_eq!(points.len(), 3);
        assert!(points[0].starts_with("Ask about the client's plans"));
    }

    #[test]
    fn a_short_window_says_its_spending_but_makes_no_point_of_it() {
        let mut c = content();
        c.spending.days = 2;
        let points = talking_points(&c, Lang::Ru);
        assert!(
            !points.iter().any(|p| p.starts_with("Расходы")),
            "{points:?}"
        );
        assert!(render(&c, Lang::Ru).contains("+50%"));
    }

    #[test]
    fn a_product_elsewhere_is_a_point_with_its_figures_and_names_keep_their_own_quotes() {
        let mut c = content();
        c.rating = None;
        c.spending.days = 2;
        c.held_away = Some(vec![ProductLine {
            source: ("agreement".into(), 7),
            bank_code: "vbank".into(),
            bank_name: "VBank".into(),
            kind: "DEPOSIT".into(),
            name: "Вклад «Доходный»".into(),
            amount_minor: Some(30_000_000),
            currency: "RUB".into(),
            at: None,
        }]);
        let points = talking_points(&c, Lang::Ru);
        assert_eq!(
            points[0],
            "У клиента в другом банке: Вклад «Доходный» в VBank — вклад, 300\u{a0}000\u{a0}₽. Узнать условия и предложить перевести к нам."
        );
    }

    #[test]
    fn percent_changes_round_half_away_from_zero() {
        assert_eq!(change_percent(200, 301), Some(51));
        assert_eq!(change_percent(200, 99), Some(-51));
        assert_eq!(change_percent(0, 100), None);
    }
}
