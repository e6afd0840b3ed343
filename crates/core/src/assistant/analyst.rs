//! The built-in analyst: answers the common questions from core's analytics with exact figures,
//! in the language of the question, without any model. It is the assistant when no model is
//! configured and the fallback when the model fails. Every amount it writes is a figure core
//! returned (or an exact sum or average of such figures, rounded to kopecks); when it does not
//! understand a question it says so and lists what it can answer.

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::Decimal;

use super::data::ClientData;
use super::intent::{
    self, last_days, month_period, previous_month, Intent, Period, PeriodKind, Plan,
};
use super::tools::bank_products;
use super::Language;
use crate::accounts::total_by_currency;
use crate::analytics::{CategorySpend, MonthFlow, MAX_CASHFLOW_MONTHS};
use crate::clients::Client;
use crate::domain::format::{
    self, format_amount as amount, format_money as money, format_signed_money as signed_money,
};
use crate::domain::{minor_to_decimal, Category, Currency, Money};
use crate::error::CoreResult;
use crate::transactions::TransactionFilter;

/// Example questions, one per intent: the help text lists them, suggestions use their shapes,
/// and a test makes sure each is understood as its intent.
pub const EXAMPLES: &[(Intent, &str, &str)] = &[
    (
        Intent::Overview,
        "Расскажи о клиенте коротко",
        "Give me a short overview of the client",
    ),
    (
        Intent::Spending,
        "Проанализируй расходы клиента",
        "Analyse this client's spending",
    ),
    (
        Intent::CategorySpend,
        "Сколько клиент потратил на рестораны в марте?",
        "How much did the client spend on restaurants in March?",
    ),
    (
        Intent::Income,
        "Насколько регулярен доход клиента?",
        "How regular is the client's income?",
    ),
    (
        Intent::Balances,
        "Какие остатки на счетах и сколько клиент откладывает?",
        "What are the balances and how much does the client save?",
    ),
    (
        Intent::Comparison,
        "Сравни расходы за апрель и май",
        "Compare spending in April and May",
    ),
    (
        Intent::Cashflow,
        "Доходы и расходы по месяцам",
        "Income and spending by month",
    ),
    (
        Intent::Rating,
        "Почему у клиента рейтинг B?",
        "Why is the client's rating B?",
    ),
    (
        Intent::Recurring,
        "Какие у клиента регулярные платежи?",
        "What recurring payments does the client have?",
    ),
    (
        Intent::Offers,
        "Что можно предложить клиенту?",
        "What can we offer this client?",
    ),
];

fn t(lang: Language, ru: String, en: String) -> String {
    match lang {
        Language::Ru => ru,
        Language::En => en,
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn cat(c: Category, lang: Language) -> String {
    let (ru, en) = c.names();
    match lang {
        Language::Ru => format!("«{ru}»"),
        Language::En => format!("“{en}”"),
    }
}

fn last_day(p: &Period) -> chrono::NaiveDate {
    (p.to - Duration::days(1)).date_naive()
}

/// How a period reads inside a sentence: `в марте 2025`, `за последние 90 дней (…)`.
pub fn period_phrase(p: &Period, lang: Language) -> String {
    let range = format!(
        "{} – {}",
        format::format_date(p.from.date_naive(), lang),
        format::format_date(last_day(p), lang)
    );
    match (p.kind, lang) {
        (PeriodKind::Month { year, month }, _) => format::format_in_month(year, month, lang),
        (PeriodKind::LastDays(n), Language::Ru) => format!(
            "за последние {n} {} ({range})",
            format::ru_plural(u64::from(n), "день", "дня", "дней")
        ),
        (PeriodKind::LastDays(n), Language::En) => format!("over the last {n} days ({range})"),
        (PeriodKind::Year(y), Language::Ru) => format!("в {y} году"),
        (PeriodKind::Year(y), Language::En) => format!("in {y}"),
        (PeriodKind::YearToDate(y), Language::Ru) => format!("с начала {y} года ({range})"),
        (PeriodKind::YearToDate(y), Language::En) => format!("since the start of {y} ({range})"),
    }
}

fn total(rows: &[CategorySpend]) -> i64 {
    rows.iter().map(|r| r.amount.minor).sum()
}

fn rub(minor: i64, c: &Currency) -> Money {
    Money::new(minor, c.clone())
}

fn signed_percent(value: f64, lang: Language) -> String {
    let text = format::format_percent_points(value, lang);
    if value > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

fn ru_accounts(n: u64) -> &'static str {
    format::ru_plural(n, "счёт", "счёта", "счетов")
}

/// Splits an answer into pieces the size of a model's chunks, at spaces (never inside a figure:
/// the spaces inside `15 240 ₽` are no-break spaces).
pub fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut len = 0;
    for (i, c) in text.char_indices() {
        len += 1;
        if (c == ' ' || c == '\n') && len >= 12 {
            let end = i + c.len_utf8();
            out.push(&text[start..end]);
            start = end;
            len = 0;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The analyst's answer to `question`, with the earlier questions of the conversation (oldest
/// first) for follow-ups such as «а в апреле?».
pub async fn answer(
    core: &dyn ClientData,
    actor: &crate::auth::Actor,
    client: Option<&Client>,
    question: &str,
    earlier_questions: &[String],
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let mut plan = intent::plan(question, now);
    if let Some(previous) = earlier_questions.last() {
        plan = intent::continue_plan(plan, &intent::plan(previous, now));
    }
    let Some(client) = client else {
        return portfolio(core, actor, &plan).await;
    };
    let id = client.id;
    match plan.intent {
        None => Ok(help(plan.language)),
        Some(Intent::Overview) => overview(core, id, &plan, now).await,
        Some(Intent::Spending) => spending(core, id, &plan, now).await,
        Some(Intent::CategorySpend) => match plan.category {
            Some(c) => category_spend(core, id, c, &plan, now).await,
            None => spending(core, id, &plan, now).await,
        },
        Some(Intent::Income) => income(core, id, &plan, now).await,
        Some(Intent::Balances) => balances(core, id, &plan, now).await,
        Some(Intent::Comparison) => comparison(core, id, &plan, now).await,
        Some(Intent::Cashflow) => cashflow(core, id, &plan, now).await,
        Some(Intent::Rating) => rating(core, id, &plan).await,
        Some(Intent::Recurring) => recurring(core, id, &plan, now).await,
        Some(Intent::Offers) => offers(core, id, &plan, now).await,
    }
}

pub fn help(lang: Language) -> String {
    let mut out = t(
        lang,
        "Я не понял вопрос. Я отвечаю по данным клиента — например, на такие вопросы:\n".into(),
        "I did not understand the question. I answer from the client's data, for example:\n".into(),
    );
    for (_, ru, en) in EXAMPLES {
        out.push_str(&format!("• {}\n", t(lang, (*ru).into(), (*en).into())));
    }
    out.push_str(&t(
        lang,
        "Период можно назвать: «в марте», «за последние 30 дней», «в прошлом месяце».".into(),
        "You can name a period: “in March”, “over the last 30 days”, “last month”.".into(),
    ));
    out
}

async fn portfolio(
    core: &dyn ClientData,
    actor: &crate::auth::Actor,
    plan: &Plan,
) -> CoreResult<String> {
    let lang = plan.language;
    let s = core.stats(actor).await?;
    let net = rub(s.income.minor - s.expense.minor, &s.income.currency);
    let balances: Vec<String> = s.balances.iter().map(|m| money(m, lang)).collect();
    let balances = if balances.is_empty() {
        t(lang, "нет данных".into(), "no data".into())
    } else {
        balances.join("; ")
    };
    Ok(t(
        lang,
        format!(
            "Клиент не выбран, поэтому отвечаю по всему портфелю.\n• Клиентов: {} (активных {}, неактивных {})\n• Операций: {}\n• Поступления: {}; расходы: {}; итог: {}\n• Остатки на счетах: {balances}\n\nЧтобы разобрать конкретного клиента, задайте вопрос из его карточки.",
            s.clients_total, s.clients_active, s.clients_inactive,
            format::format_count(s.transaction_count, lang),
            money(&s.income, lang), money(&s.expense, lang), signed_money(&net, lang)
        ),
        format!(
            "No client is selected, so here is the whole portfolio.\n• Clients: {} ({} active, {} inactive)\n• Transactions: {}\n• Income: {}; spending: {}; net: {}\n• Balances: {balances}\n\nTo analyse one client, ask from their page.",
            s.clients_total, s.clients_active, s.clients_inactive,
            format::format_count(s.transaction_count, lang),
            money(&s.income, lang), money(&s.expense, lang), signed_money(&net, lang)
        ),
    ))
}

async fn spending(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let period = plan.period.clone().unwrap_or_else(|| last_days(now, 90));
    let rows = core
        .spending_by_category(id, period.from, period.to, &base)
        .await?;
    let phrase = period_phrase(&period, lang);
    if rows.is_empty() {
        return Ok(t(
            lang,
            format!("{} у клиента не было расходов в {base}.", cap(&phrase)),
            format!("The client had no spending in {base} {phrase}."),
        ));
    }
    let sum = rub(total(&rows), &base);
    let n: u64 = rows.iter().map(|r| r.count).sum();
    let mut out = t(
        lang,
        format!(
            "Расходы клиента {phrase}: {}, {}.\n\nСтруктура расходов:\n",
            money(&sum, lang),
            format::format_transactions(n, lang)
        ),
        format!(
            "The client's spending {phrase}: {}, {}.\n\nBy category:\n",
            money(&sum, lang),
            format::format_transactions(n, lang)
        ),
    );
    const SHOWN: usize = 8;
    for r in rows.iter().take(SHOWN) {
        out.push_str(&format!(
            "• {} — {} ({}, {})\n",
            cat(r.category, lang),
            money(&r.amount, lang),
            format::format_share(r.share, lang),
            format::format_transactions(r.count, lang)
        ));
    }
    if rows.len() > SHOWN {
        let rest = &rows[SHOWN..];
        out.push_str(&t(
            lang,
            format!(
                "• Остальные категории ({}) — {}\n",
                rest.len(),
                money(&rub(total(rest), &base), lang)
            ),
            format!(
                "• Other categories ({}) — {}\n",
                rest.len(),
                money(&rub(total(rest), &base), lang)
            ),
        ));
    }
    let top = &rows[0];
    out.push_str(&t(
        lang,
        format!(
            "\nКрупнейшая статья — {}: {} всех расходов.",
            cat(top.category, lang),
            format::format_share(top.share, lang)
        ),
        format!(
            "\nThe largest item is {}: {} of all spending.",
            cat(top.category, lang),
            format::format_share(top.share, lang)
        ),
    ));
    let merchants = core
        .top_merchants(id, period.from, period.to, &base, 5)
        .await?;
    if !merchants.is_empty() {
        out.push_str(&t(
            lang,
            "\n\nГлавные получатели платежей:\n".into(),
            "\n\nTop merchants:\n".into(),
        ));
        for m in merchants {
            out.push_str(&format!(
                "• {} — {} ({}, {})\n",
                m.merchant,
                money(&m.amount, lang),
                format::format_transactions(m.count, lang),
                format::format_share(m.share, lang)
            ));
        }
    }
    Ok(out.trim_end().to_owned())
}

async fn latest(
    core: &dyn ClientData,
    id: i64,
    filter: TransactionFilter,
    n: u64,
) -> CoreResult<Vec<crate::transactions::Transaction>> {
    Ok(core.list_transactions(id, &filter, n).await?.items)
}

fn what(t: &crate::transactions::Transaction) -> String {
    let text = t.merchant.clone().unwrap_or_else(|| t.description.clone());
    let short: String = text.chars().take(60).collect();
    short.trim().to_owned()
}

async fn category_spend(
    core: &dyn ClientData,
    id: i64,
    category: Category,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let period = plan.period.clone().unwrap_or_else(|| last_days(now, 90));
    let rows = core
        .spending_by_category(id, period.from, period.to, &base)
        .await?;
    let sum = rub(total(&rows), &base);
    let phrase = cap(&period_phrase(&period, lang));
    let name = cat(category, lang);
    let Some(row) = rows.iter().find(|r| r.category == category) else {
        let rest = if sum.minor > 0 {
            t(
                lang,
                format!(" Всего расходов за этот период: {}.", money(&sum, lang)),
                format!(" Total spending in this period: {}.", money(&sum, lang)),
            )
        } else {
            t(
                lang,
                " Расходов за этот период не было вовсе.".into(),
                " There was no spending at all in this period.".into(),
            )
        };
        return Ok(t(
            lang,
            format!("{phrase} расходов в категории {name} не было.{rest}"),
            format!("{phrase} there was no spending in {name}.{rest}"),
        ));
    };
    let mut out = t(
        lang,
        format!(
            "{phrase} клиент потратил на {name} {} — {}, {} всех расходов за этот период ({}).",
            money(&row.amount, lang),
            format::format_transactions(row.count, lang),
            format::format_share(row.share, lang),
            money(&sum, lang)
        ),
        format!(
            "{phrase} the client spent {} on {name} — {}, {} of all spending in the period ({}).",
            money(&row.amount, lang),
            format::format_transactions(row.count, lang),
            format::format_share(row.share, lang),
            money(&sum, lang)
        ),
    );
    let recent = latest(
        core,
        id,
        TransactionFilter {
            from: Some(period.from),
            to: Some(period.to),
            category: Some(category),
            direction: Some(crate::domain::Direction::Debit),
            ..Default::default()
        },
        3,
    )
    .await?;
    if !recent.is_empty() {
        out.push_str(&t(
            lang,
            "\n\nПоследние операции:\n".into(),
            "\n\nLatest transactions:\n".into(),
        ));
        for tx in recent {
            out.push_str(&format!(
                "• {} — {} — {}\n",
                format::format_date_of(tx.booked_at, lang),
                what(&tx),
                money(&tx.amount, lang)
            ));
        }
    }
    Ok(out.trim_end().to_owned())
}

/// The months of a cashflow that are over (all but the current one).
fn complete(flow: &[MonthFlow]) -> &[MonthFlow] {
    &flow[..flow.len().saturating_sub(1)]
}

fn average(total_minor: i64, n: usize) -> Decimal {
    if n == 0 {
        return Decimal::ZERO;
    }
    (minor_to_decimal(total_minor) / Decimal::from(n as u64))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

async fn income(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let all = core.cashflow(id, 6, &base, now).await?;
    // Months before the client's first movement are no history, not months without income.
    let start = all
        .iter()
        .position(|m| m.income.minor > 0 || m.expense.minor > 0)
        .unwrap_or(all.len().saturating_sub(1));
    let flow = &all[start..];
    let done = complete(flow);
    let (Some(first), Some(last)) = (done.first(), done.last()) else {
        return Ok(t(
            lang,
            "Полных месяцев истории у клиента ещё нет: доход оценивать рано.".into(),
            "The client has no complete month of history yet: too early to judge income.".into(),
        ));
    };
    let sum: i64 = done.iter().map(|m| m.income.minor).sum();
    let avg = average(sum, done.len());
    let mut out = t(
        lang,
        format!(
            "Поступления клиента за {} {} ({} – {}): {}, в среднем {} в месяц.\n\nПо месяцам:\n",
            done.len(),
            format::ru_plural(done.len() as u64, "полный месяц", "полных месяца", "полных месяцев"),
            format::format_month_key(&first.month, lang),
            format::format_month_key(&last.month, lang),
            money(&rub(sum, &base), lang),
            amount(avg, &base, lang)
        ),
        format!(
            "The client's income over {} complete month{} ({} – {}): {}, on average {} a month.\n\nBy month:\n",
            done.len(),
            if done.len() == 1 { "" } else { "s" },
            format::format_month_key(&first.month, lang),
            format::format_month_key(&last.month, lang),
            money(&rub(sum, &base), lang),
            amount(avg, &base, lang)
        ),
    );
    for (i, m) in flow.iter().enumerate() {
        let note = if i + 1 == flow.len() {
            t(
                lang,
                " (текущий месяц, неполный)".into(),
                " (current month, partial)".into(),
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "• {}{note} — {}\n",
            format::format_month_key(&m.month, lang),
            money(&m.income, lang)
        ));
    }
    let paid: Vec<&MonthFlow> = done.iter().filter(|m| m.income.minor > 0).collect();
    let min = paid.iter().map(|m| &m.income).min_by_key(|m| m.minor);
    let max = paid.iter().map(|m| &m.income).max_by_key(|m| m.minor);
    out.push('\n');
    out.push_str(&match (min, max) {
        (Some(min), Some(max)) if paid.len() == done.len() => {
            // Steady: the smallest month is within 20% of the largest (in whole minor units).
            let steady = i128::from(max.minor - min.minor) * 5 <= i128::from(max.minor);
            match (lang, steady) {
                (Language::Ru, true) => format!(
                    "Доход регулярный и стабильный: поступления были каждый месяц, от {} до {}.",
                    money(min, lang),
                    money(max, lang)
                ),
                (Language::Ru, false) => format!(
                    "Доход регулярный, но неровный: поступления были каждый месяц, от {} до {}.",
                    money(min, lang),
                    money(max, lang)
                ),
                (Language::En, true) => format!(
                    "Income is regular and steady: money came in every month, from {} to {}.",
                    money(min, lang),
                    money(max, lang)
                ),
                (Language::En, false) => format!(
                    "Income is regular but uneven: money came in every month, from {} to {}.",
                    money(min, lang),
                    money(max, lang)
                ),
            }
        }
        (Some(_), Some(_)) => t(
            lang,
            format!(
                "Доход нерегулярный: поступления были в {} из {} месяцев.",
                paid.len(),
                done.len()
            ),
            format!(
                "Income is irregular: money came in in {} of {} months.",
                paid.len(),
                done.len()
            ),
        ),
        _ => t(
            lang,
            "За эти месяцы поступлений не было.".into(),
            "Nothing came in during these months.".into(),
        ),
    });
    let (first_year, first_month) = first_year_month(first);
    let salary_filter = TransactionFilter {
        from: Some(month_period(first_year, first_month).from),
        category: Some(Category::Salary),
        ..Default::default()
    };
    let salaries = core.count_transactions(id, &salary_filter).await?;
    if let Some(last_salary) = latest(core, id, salary_filter, 1).await?.into_iter().next() {
        out.push_str(&t(
            lang,
            format!(
                "\nЗарплата: {} {} за эти месяцы, последнее — {}: {}.",
                salaries,
                format::ru_plural(salaries, "зачисление", "зачисления", "зачислений"),
                format::format_date_of(last_salary.booked_at, lang),
                money(&last_salary.amount, lang)
            ),
            format!(
                "\nSalary: {} payment{} in these months, the latest on {}: {}.",
                salaries,
                if salaries == 1 { "" } else { "s" },
                format::format_date_of(last_salary.booked_at, lang),
                money(&last_salary.amount, lang)
            ),
        ));
    }
    let profile = core.income_profile(id, now).await?;
    if let (Some(employer), Some(typical)) = (&profile.employer, &profile.typical_amount) {
        let day = profile.typical_day.map(|d| {
            if d >= 31 {
                t(
                    lang,
                    "в последний день месяца".into(),
                    "on the last day of the month".into(),
                )
            } else {
                t(
                    lang,
                    format!("около {d}-го числа"),
                    format!("around day {d}"),
                )
            }
        });
        let next = profile
            .next_expected_at
            .map(|n| format::format_date_of(n, lang));
        out.push_str(&t(
            lang,
            format!(
                "\nЗарплата распознана: {employer}, обычно {} {}, выплачена в {} из {} месяцев{}.",
                money(typical, lang),
                day.clone().unwrap_or_default(),
                profile.months_paid,
                profile.months_expected,
                next.as_ref()
                    .map(|n| format!("; следующая ожидается {n}"))
                    .unwrap_or_default()
            ),
            format!(
                "\nSalary detected: {employer}, usually {} {}, paid in {} of {} months{}.",
                money(typical, lang),
                day.unwrap_or_default(),
                profile.months_paid,
                profile.months_expected,
                next.map(|n| format!("; the next is expected on {n}"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(out.trim_end().to_owned())
}

fn first_year_month(m: &MonthFlow) -> (i32, u32) {
    let (y, mo) = m.month.split_once('-').unwrap_or(("1970", "1"));
    (y.parse().unwrap_or(1970), mo.parse().unwrap_or(1))
}

async fn balances(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let accounts = core
        .accounts_of_clients(&[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let mut out = if accounts.is_empty() {
        t(
            lang,
            "У клиента пока нет счетов в CRM.".into(),
            "The client has no accounts in the CRM yet.".into(),
        )
    } else {
        let totals: Vec<String> = total_by_currency(accounts.iter())
            .iter()
            .map(|m| money(m, lang))
            .collect();
        let k = accounts.len() as u64;
        let mut s = t(
            lang,
            format!(
                "Остатки на счетах клиента: всего {} ({k} {}).\n",
                totals.join(" и "),
                ru_accounts(k)
            ),
            format!(
                "The client's balances: {} in total ({k} account{}).\n",
                totals.join(" and "),
                if k == 1 { "" } else { "s" }
            ),
        );
        for a in &accounts {
            let bank = core.bank_name(&a.bank_code);
            let balance = a
                .balance
                .as_ref()
                .map(|b| money(b, lang))
                .unwrap_or_else(|| t(lang, "нет данных".into(), "unknown".into()));
            s.push_str(&format!("• {bank}, «{}» — {balance}\n", a.name));
        }
        s
    };
    let flow = core.cashflow(id, 4, &base, now).await?;
    let done = complete(&flow);
    let (i, e): (i64, i64) = done.iter().fold((0, 0), |(i, e), m| {
        (i + m.income.minor, e + m.expense.minor)
    });
    let net = rub(i - e, &base);
    if let (Some(first), Some(last)) = (done.first(), done.last()) {
        let span = format!(
            "{} – {}",
            format::format_month_key(&first.month, lang),
            format::format_month_key(&last.month, lang)
        );
        out.push('\n');
        if i == 0 && e == 0 {
            out.push_str(&t(
                lang,
                format!("За 3 полных месяца ({span}) движения денег не было."),
                format!("No money moved in the 3 complete months ({span})."),
            ));
        } else if i > 0 {
            let rate = (i - e) as f64 / i as f64 * 100.0;
            let verdict = if i >= e {
                t(
                    lang,
                    format!(
                        "клиент откладывает {} поступлений",
                        format::format_percent_points(rate, lang)
                    ),
                    format!(
                        "the client keeps {} of income",
                        format::format_percent_points(rate, lang)
                    ),
                )
            } else {
                t(
                    lang,
                    "расходы превысили поступления".into(),
                    "spending exceeded income".into(),
                )
            };
            out.push_str(&t(
                lang,
                format!("Сбережения за 3 полных месяца ({span}): поступления {}, расходы {}, итог {} — {verdict}.", money(&rub(i, &base), lang), money(&rub(e, &base), lang), signed_money(&net, lang)),
                format!("Savings over 3 complete months ({span}): income {}, spending {}, net {} — {verdict}.", money(&rub(i, &base), lang), money(&rub(e, &base), lang), signed_money(&net, lang)),
            ));
        } else {
            out.push_str(&t(
                lang,
                format!(
                    "За 3 полных месяца ({span}) поступлений не было, расходы — {}.",
                    money(&rub(e, &base), lang)
                ),
                format!(
                    "Nothing came in over 3 complete months ({span}); spending was {}.",
                    money(&rub(e, &base), lang)
                ),
            ));
        }
    }
    Ok(out.trim_end().to_owned())
}

/// The two months to compare, oldest first.
fn months_to_compare(plan: &Plan, now: DateTime<Utc>) -> ((i32, u32), (i32, u32)) {
    let mut named = plan.months.clone();
    named.sort();
    match named.as_slice() {
        [a, b, ..] => (*a, *b),
        [one] => (previous_month(one.0, one.1), *one),
        [] => match plan.period.as_ref().map(|p| p.kind) {
            Some(PeriodKind::Month { year, month }) => (previous_month(year, month), (year, month)),
            _ => {
                let last = previous_month(now.year(), now.month());
                (previous_month(last.0, last.1), last)
            }
        },
    }
}

async fn comparison(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let (a, b) = months_to_compare(plan, now);
    let back = (now.year() - a.0) * 12 + now.month() as i32 - a.1 as i32 + 1;
    if back < 1 || back > MAX_CASHFLOW_MONTHS as i32 || b > (now.year(), now.month()) {
        return Ok(t(
            lang,
            format!("Сравнивать можно месяцы за последние {MAX_CASHFLOW_MONTHS} месяцев, не позже текущего."),
            format!("I can compare months within the last {MAX_CASHFLOW_MONTHS} months, up to the current one."),
        ));
    }
    let flow = core.cashflow(id, back as u32, &base, now).await?;
    let key = |(y, m): (i32, u32)| format!("{y:04}-{m:02}");
    let zero = MonthFlow {
        month: String::new(),
        income: rub(0, &base),
        expense: rub(0, &base),
        net: rub(0, &base),
        moved_out: rub(0, &base),
        moved_in: rub(0, &base),
    };
    let fa = flow.iter().find(|m| m.month == key(a)).unwrap_or(&zero);
    let fb = flow.iter().find(|m| m.month == key(b)).unwrap_or(&zero);
    let change = |x: &Money, y: &Money| {
        let d = rub(y.minor - x.minor, &base);
        let pct = if x.minor > 0 {
            format!(
                ", {}",
                signed_percent((y.minor - x.minor) as f64 / x.minor as f64 * 100.0, lang)
            )
        } else {
            String::new()
        };
        format!(
            "{} → {} ({}{pct})",
            money(x, lang),
            money(y, lang),
            signed_money(&d, lang)
        )
    };
    let partial = if b == (now.year(), now.month()) {
        t(
            lang,
            " (текущий месяц ещё не закончился)".into(),
            " (the current month is not over yet)".into(),
        )
    } else {
        String::new()
    };
    let (ma, mb) = (
        format::format_month(a.0, a.1, lang),
        format::format_month(b.0, b.1, lang),
    );
    let mut out = t(
        lang,
        format!(
            "Сравнение: {ma} и {mb}{partial}.\n• Поступления: {}\n• Расходы: {}\n• Итог месяца: {} → {}\n",
            change(&fa.income, &fb.income), change(&fa.expense, &fb.expense),
            signed_money(&fa.net, lang), signed_money(&fb.net, lang)
        ),
        format!(
            "Comparing {ma} and {mb}{partial}.\n• Income: {}\n• Spending: {}\n• Net: {} → {}\n",
            change(&fa.income, &fb.income), change(&fa.expense, &fb.expense),
            signed_money(&fa.net, lang), signed_money(&fb.net, lang)
        ),
    );
    let pa = month_period(a.0, a.1);
    let pb = month_period(b.0, b.1);
    let sa = core.spending_by_category(id, pa.from, pa.to, &base).await?;
    let sb = core.spending_by_category(id, pb.from, pb.to, &base).await?;
    let amount_in = |rows: &[CategorySpend], c: Category| {
        rows.iter()
            .find(|r| r.category == c)
            .map(|r| r.amount.minor)
            .unwrap_or(0)
    };
    let mut moves: Vec<(Category, i64, i64)> = Category::ALL
        .iter()
        .map(|c| (*c, amount_in(&sa, *c), amount_in(&sb, *c)))
        .filter(|(_, x, y)| x != y)
        .collect();
    if let Some(c) = plan.category {
        let (x, y) = (amount_in(&sa, c), amount_in(&sb, c));
        out.push_str(&format!(
            "\n{}: {} → {} ({})\n",
            cap(&cat(c, lang)),
            money(&rub(x, &base), lang),
            money(&rub(y, &base), lang),
            signed_money(&rub(y - x, &base), lang)
        ));
    }
    moves.sort_by_key(|(_, x, y)| std::cmp::Reverse(y - x));
    let up: Vec<_> = moves.iter().filter(|(_, x, y)| y > x).take(3).collect();
    let down: Vec<_> = moves
        .iter()
        .rev()
        .filter(|(_, x, y)| y < x)
        .take(3)
        .collect();
    let line = |(c, x, y): &(Category, i64, i64)| {
        format!(
            "• {}: {} → {} ({})\n",
            cat(*c, lang),
            money(&rub(*x, &base), lang),
            money(&rub(*y, &base), lang),
            signed_money(&rub(y - x, &base), lang)
        )
    };
    if !up.is_empty() {
        out.push_str(&t(
            lang,
            "\nСильнее всего выросли расходы:\n".into(),
            "\nSpending grew most in:\n".into(),
        ));
        for m in up {
            out.push_str(&line(m));
        }
    }
    if !down.is_empty() {
        out.push_str(&t(
            lang,
            "\nСильнее всего снизились:\n".into(),
            "\nSpending fell most in:\n".into(),
        ));
        for m in down {
            out.push_str(&line(m));
        }
    }
    Ok(out.trim_end().to_owned())
}

async fn cashflow(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let flow = core.cashflow(id, 6, &base, now).await?;
    let mut out = t(
        lang,
        format!("Поступления и расходы по месяцам ({base}):\n"),
        format!("Income and spending by month ({base}):\n"),
    );
    for m in &flow {
        out.push_str(&t(
            lang,
            format!(
                "• {} — поступления {}, расходы {}, итог {}\n",
                format::format_month_key(&m.month, lang),
                money(&m.income, lang),
                money(&m.expense, lang),
                signed_money(&m.net, lang)
            ),
            format!(
                "• {} — income {}, spending {}, net {}\n",
                format::format_month_key(&m.month, lang),
                money(&m.income, lang),
                money(&m.expense, lang),
                signed_money(&m.net, lang)
            ),
        ));
    }
    let (i, e): (i64, i64) = flow.iter().fold((0, 0), |(i, e), m| {
        (i + m.income.minor, e + m.expense.minor)
    });
    out.push_str(&t(
        lang,
        format!(
            "\nИтого за {} месяцев: поступления {}, расходы {}, итог {}. Текущий месяц неполный.",
            flow.len(),
            money(&rub(i, &base), lang),
            money(&rub(e, &base), lang),
            signed_money(&rub(i - e, &base), lang)
        ),
        format!(
            "\nOver {} months: income {}, spending {}, net {}. The current month is partial.",
            flow.len(),
            money(&rub(i, &base), lang),
            money(&rub(e, &base), lang),
            signed_money(&rub(i - e, &base), lang)
        ),
    ));
    Ok(out)
}

/// A factor's name as people read it (`savings_rate` → `savings rate`).
pub fn factor_name(name: &str) -> String {
    name.replace('_', " ")
}

fn points_word(impact: f64, lang: Language) -> &'static str {
    let whole = impact.fract() == 0.0;
    match lang {
        Language::Ru if whole => format::ru_plural(impact.abs() as u64, "балл", "балла", "баллов"),
        Language::Ru => "балла",
        Language::En if whole && impact.abs() == 1.0 => "point",
        Language::En => "points",
    }
}

async fn rating(core: &dyn ClientData, id: i64, plan: &Plan) -> CoreResult<String> {
    let lang = plan.language;
    let Some(r) = core.ratings_of_clients(&[id]).await?.remove(&id) else {
        return Ok(t(
            lang,
            "У клиента пока нет рейтинга: он рассчитывается по данным счетов и операций. Когда рейтинг появится, я объясню, из чего он сложился.".into(),
            "The client has no rating yet: it is computed from accounts and transactions. Once it exists, I will explain what it is made of.".into(),
        ));
    };
    let mut out = t(
        lang,
        format!(
            "Рейтинг клиента — {} ({} из 100), рассчитан {}.",
            r.grade,
            r.score,
            format::format_date_of(r.computed_at, lang)
        ),
        format!(
            "The client's rating is {} ({} out of 100), computed on {}.",
            r.grade,
            r.score,
            format::format_date_of(r.computed_at, lang)
        ),
    );
    if let Some(asked) = plan.grade.filter(|g| *g != r.grade) {
        out.push_str(&t(
            lang,
            format!(" Обратите внимание: рейтинг {}, а не {asked}.", r.grade),
            format!(" Note: the rating is {}, not {asked}.", r.grade),
        ));
    }
    if r.factors.is_empty() {
        out.push_str(&t(
            lang,
            "\nФакторы рейтинга не сохранены.".into(),
            "\nNo factors were stored with the rating.".into(),
        ));
        return Ok(out);
    }
    let mut factors = r.factors.clone();
    factors.sort_by(|a, b| b.impact.abs().total_cmp(&a.impact.abs()));
    out.push_str(&t(
        lang,
        "\n\nИз чего он сложился:\n".into(),
        "\n\nWhat it is made of:\n".into(),
    ));
    for f in &factors {
        out.push_str(&format!(
            "• {}: {} — {} {}\n",
            factor_name(&f.name),
            f.value,
            format::format_points(f.impact, lang),
            points_word(f.impact, lang)
        ));
    }
    let up = factors
        .iter()
        .filter(|f| f.impact > 0.0)
        .max_by(|a, b| a.impact.total_cmp(&b.impact));
    let down = factors
        .iter()
        .filter(|f| f.impact < 0.0)
        .min_by(|a, b| a.impact.total_cmp(&b.impact));
    let mut parts = Vec::new();
    if let Some(f) = up {
        parts.push(t(
            lang,
            format!(
                "сильнее всего повышает оценку {} ({})",
                factor_name(&f.name),
                format::format_points(f.impact, lang)
            ),
            format!(
                "{} raises it most ({})",
                factor_name(&f.name),
                format::format_points(f.impact, lang)
            ),
        ));
    }
    if let Some(f) = down {
        parts.push(t(
            lang,
            format!(
                "сильнее всего понижает {} ({})",
                factor_name(&f.name),
                format::format_points(f.impact, lang)
            ),
            format!(
                "{} lowers it most ({})",
                factor_name(&f.name),
                format::format_points(f.impact, lang)
            ),
        ));
    }
    if !parts.is_empty() {
        out.push_str(&format!("\n{}.", cap(&parts.join("; "))));
    }
    Ok(out.trim_end().to_owned())
}

fn interval(i: crate::analytics::Interval, lang: Language) -> String {
    use crate::analytics::Interval;
    let (ru, en) = match i {
        Interval::Weekly => ("раз в неделю", "weekly"),
        Interval::Biweekly => ("раз в две недели", "every two weeks"),
        Interval::Monthly => ("раз в месяц", "monthly"),
        Interval::Quarterly => ("раз в квартал", "quarterly"),
    };
    t(lang, ru.into(), en.into())
}

const RECURRING_CATEGORIES: &[Category] = &[
    Category::Subscriptions,
    Category::Telecom,
    Category::Utilities,
    Category::LoanPayments,
];

async fn recurring(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let list = core.recurring_payments(id, now).await?;
    if !list.is_empty() {
        let mut out = t(
            lang,
            "Регулярные платежи клиента:\n".into(),
            "The client's recurring payments:\n".into(),
        );
        for r in list {
            out.push_str(&format!(
                "• {} — {} ({}), {} {}, {} {}\n",
                r.merchant,
                money(&r.typical_amount, lang),
                interval(r.interval, lang),
                t(lang, "последний".into(), "last".into()),
                format::format_date_of(r.last_at, lang),
                t(lang, "следующий".into(), "next".into()),
                format::format_date_of(r.next_expected_at, lang)
            ));
        }
        return Ok(out.trim_end().to_owned());
    }
    let base = core.base_currency();
    let period = plan.period.clone().unwrap_or_else(|| last_days(now, 90));
    let rows = core
        .spending_by_category(id, period.from, period.to, &base)
        .await?;
    let phrase = period_phrase(&period, lang);
    let mut out = t(
        lang,
        format!("Регулярных платежей (тот же получатель, ровный интервал, похожая сумма) не найдено. Категории, где они обычно бывают, {phrase}:\n"),
        format!("No recurring payments (same payee, regular interval, similar amount) were found. The categories where they usually are, {phrase}:\n"),
    );
    let mut any = false;
    for c in RECURRING_CATEGORIES {
        let Some(r) = rows.iter().find(|r| r.category == *c) else {
            continue;
        };
        any = true;
        let last = latest(
            core,
            id,
            TransactionFilter {
                from: Some(period.from),
                to: Some(period.to),
                category: Some(*c),
                ..Default::default()
            },
            1,
        )
        .await?;
        let tail = match last.first() {
            Some(tx) => t(
                lang,
                format!(
                    "; последний платёж {}: {} — {}",
                    format::format_date_of(tx.booked_at, lang),
                    what(tx),
                    money(&tx.amount, lang)
                ),
                format!(
                    "; the latest on {}: {} — {}",
                    format::format_date_of(tx.booked_at, lang),
                    what(tx),
                    money(&tx.amount, lang)
                ),
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "• {} — {}, {}{tail}\n",
            cat(*c, lang),
            money(&r.amount, lang),
            format::format_transactions(r.count, lang)
        ));
    }
    if !any {
        out.push_str(&t(
            lang,
            "расходов в этих категориях не было.".into(),
            "there was no spending in these categories.".into(),
        ));
    }
    Ok(out.trim_end().to_owned())
}

fn product_type(kind: &str, lang: Language) -> String {
    let (ru, en) = match kind {
        "deposit" => ("вклад", "deposit"),
        "savings" => ("накопительный счёт", "savings account"),
        "loan" => ("кредит", "loan"),
        "credit_card" => ("кредитная карта", "credit card"),
        "card" => ("карта", "card"),
        other => (other, other),
    };
    t(lang, ru.into(), en.into())
}

async fn offers(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let list = core.offers(id, now).await?;
    if !list.is_empty() {
        let mut out = t(
            lang,
            "Что можно предложить клиенту:\n".into(),
            "What to offer the client:\n".into(),
        );
        for o in list {
            out.push_str(&format!(
                "• {}: «{}» — {}\n",
                core.bank_name(&o.product.bank_code),
                o.product.name,
                o.reason.get(lang)
            ));
        }
        return Ok(out.trim_end().to_owned());
    }
    let base = core.base_currency();
    let accounts = core
        .accounts_of_clients(&[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let totals: Vec<String> = total_by_currency(accounts.iter())
        .iter()
        .map(|m| money(m, lang))
        .collect();
    let flow = core.cashflow(id, 4, &base, now).await?;
    let done = complete(&flow);
    let (i, e): (i64, i64) = done.iter().fold((0, 0), |(i, e), m| {
        (i + m.income.minor, e + m.expense.minor)
    });
    let window = last_days(now, 90);
    let spend = core
        .spending_by_category(id, window.from, window.to, &base)
        .await?;
    let mut out = t(
        lang,
        "Ни одно правило подбора продуктов сейчас не срабатывает. Факты, на которые можно опереться:\n"
            .into(),
        "No offer rule fits the client right now. Facts to build on:\n".into(),
    );
    if !totals.is_empty() {
        out.push_str(&t(
            lang,
            format!("• средства на счетах: {}\n", totals.join(" и ")),
            format!("• money on accounts: {}\n", totals.join(" and ")),
        ));
    }
    out.push_str(&t(
        lang,
        format!(
            "• итог за 3 полных месяца: {} (поступления {}, расходы {})\n",
            signed_money(&rub(i - e, &base), lang),
            money(&rub(i, &base), lang),
            money(&rub(e, &base), lang)
        ),
        format!(
            "• net over 3 complete months: {} (income {}, spending {})\n",
            signed_money(&rub(i - e, &base), lang),
            money(&rub(i, &base), lang),
            money(&rub(e, &base), lang)
        ),
    ));
    if let Some(top) = spend.first() {
        out.push_str(&t(
            lang,
            format!(
                "• крупнейшая статья расходов за 90 дней: {} — {}\n",
                cat(top.category, lang),
                money(&top.amount, lang)
            ),
            format!(
                "• largest spending item over 90 days: {} — {}\n",
                cat(top.category, lang),
                money(&top.amount, lang)
            ),
        ));
    }
    let products = bank_products(core, id, None).await?;
    if products.is_empty() {
        out.push_str(&t(
            lang,
            "\nКаталоги продуктов банков клиента пока пусты: они обновляются при синхронизации.".into(),
            "\nThe product catalogues of the client's banks are empty so far: they refresh with each sync.".into(),
        ));
        return Ok(out);
    }
    out.push_str(&t(
        lang,
        "\nПродукты в каталогах банков клиента:\n".into(),
        "\nProducts in the catalogues of the client's banks:\n".into(),
    ));
    for p in products.iter().take(8) {
        let mut line = format!(
            "• {}: «{}» ({})",
            core.bank_name(&p.bank_code),
            p.name,
            product_type(&p.product_type, lang)
        );
        if let Some(rate) = p.rate {
            let rate = rate
                .to_string()
                .replace('.', if lang == Language::Ru { "," } else { "." });
            line.push_str(&t(
                lang,
                format!(", {rate} % годовых"),
                format!(", {rate}% a year"),
            ));
        }
        if let Some(min) = &p.min_amount {
            line.push_str(&t(
                lang,
                format!(", от {}", money(min, lang)),
                format!(", from {}", money(min, lang)),
            ));
        }
        if let Some(term) = p.term_months {
            line.push_str(&t(
                lang,
                format!(", на {term} мес."),
                format!(", for {term} months"),
            ));
        }
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out.trim_end().to_owned())
}

async fn overview(
    core: &dyn ClientData,
    id: i64,
    plan: &Plan,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let lang = plan.language;
    let base = core.base_currency();
    let accounts = core
        .accounts_of_clients(&[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let totals: Vec<String> = total_by_currency(accounts.iter())
        .iter()
        .map(|m| money(m, lang))
        .collect();
    let rating = core.ratings_of_clients(&[id]).await?.remove(&id);
    let flow = core.cashflow(id, 2, &base, now).await?;
    let window = last_days(now, 90);
    let spend = core
        .spending_by_category(id, window.from, window.to, &base)
        .await?;
    let mut out = t(
        lang,
        "Коротко о клиенте:\n".into(),
        "The client in brief:\n".into(),
    );
    let k = accounts.len() as u64;
    out.push_str(&match totals.is_empty() {
        true => t(
            lang,
            "• Счетов в CRM пока нет\n".into(),
            "• No accounts in the CRM yet\n".into(),
        ),
        false => t(
            lang,
            format!(
                "• Остатки на счетах: {} ({k} {})\n",
                totals.join(" и "),
                ru_accounts(k)
            ),
            format!(
                "• Balances: {} ({k} account{})\n",
                totals.join(" and "),
                if k == 1 { "" } else { "s" }
            ),
        ),
    });
    out.push_str(&match &rating {
        Some(r) => t(
            lang,
            format!("• Рейтинг: {} ({} из 100)\n", r.grade, r.score),
            format!("• Rating: {} ({} out of 100)\n", r.grade, r.score),
        ),
        None => t(
            lang,
            "• Рейтинга пока нет\n".into(),
            "• Not rated yet\n".into(),
        ),
    });
    if let Some(m) = complete(&flow).last() {
        out.push_str(&t(
            lang,
            format!(
                "• {}: поступления {}, расходы {}, итог {}\n",
                cap(&format::format_month_key(&m.month, lang)),
                money(&m.income, lang),
                money(&m.expense, lang),
                signed_money(&m.net, lang)
            ),
            format!(
                "• {}: income {}, spending {}, net {}\n",
                format::format_month_key(&m.month, lang),
                money(&m.income, lang),
                money(&m.expense, lang),
                signed_money(&m.net, lang)
            ),
        ));
    }
    if !spend.is_empty() {
        let top: Vec<String> = spend
            .iter()
            .take(3)
            .map(|s| format!("{} — {}", cat(s.category, lang), money(&s.amount, lang)))
            .collect();
        out.push_str(&t(
            lang,
            format!(
                "• Крупнейшие статьи расходов за 90 дней: {}\n",
                top.join(", ")
            ),
            format!(
                "• Largest spending items over 90 days: {}\n",
                top.join(", ")
            ),
        ));
    }
    out.push_str(&t(
        lang,
        "\nСпросите подробнее о расходах, доходах, остатках, рейтинге или предложениях.".into(),
        "\nAsk for details on spending, income, balances, the rating or offers.".into(),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_example_is_understood_as_its_intent() {
        let now = Utc
            .with_ymd_and_hms(2025, 6, 12, 12, 0, 0)
            .single()
            .expect("now");
        for (intent, ru, en) in EXAMPLES {
            assert_eq!(intent::plan(ru, now).intent, Some(*intent), "{ru}");
            assert_eq!(intent::plan(en, now).intent, Some(*intent), "{en}");
            assert_eq!(intent::plan(ru, now).language, Language::Ru);
            assert_eq!(intent::plan(en, now).language, Language::En);
        }
    }

    #[test]
    fn chunks_rejoin_to_the_answer_and_keep_figures_whole() {
        let text = "Расходы клиента в марте 2025: 15\u{a0}240\u{a0}₽, 12 операций.\n\nСтруктура расходов:\n• «Кафе и рестораны» — 1\u{a0}250,50\u{a0}₽";
        let parts = chunks(text);
        assert!(parts.len() > 3);
        assert_eq!(parts.concat(), text);
        for p in &parts {
            assert!(!p.ends_with("15") && !p.starts_with("240"), "{parts:?}");
        }
        assert_eq!(chunks(""), Vec::<&str>::new());
    }

    #[test]
    fn period_phrases() {
        let now = Utc
            .with_ymd_and_hms(2025, 6, 12, 12, 0, 0)
            .single()
            .expect("now");
        assert_eq!(
            period_phrase(&last_days(now, 90), Language::Ru),
            "за последние 90 дней (15.03.2025 – 12.06.2025)"
        );
        assert_eq!(
            period_phrase(&month_period(2025, 3), Language::En),
            "in March 2025"
        );
    }

    #[test]
    fn comparison_months() {
        let now = Utc
            .with_ymd_and_hms(2025, 6, 12, 12, 0, 0)
            .single()
            .expect("now");
        let p = |q: &str| months_to_compare(&intent::plan(q, now), now);
        assert_eq!(p("Сравни расходы за май и апрель"), ((2025, 4), (2025, 5)));
        assert_eq!(p("Compare spending"), ((2025, 4), (2025, 5)));
        assert_eq!(p("как изменились расходы в марте"), ((2025, 2), (2025, 3)));
        assert_eq!(
            p("how did spending change this month"),
            ((2025, 5), (2025, 6))
        );
        assert_eq!(p("compare January and December"), ((2024, 12), (2025, 1)));
    }
}
