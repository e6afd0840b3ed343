//! Questions that fit a client's data, for the assistant's "try asking" list. Each is phrased so
//! the built-in analyst understands it (a test asks every suggestion and checks the answer is
//! not the "I did not understand" help).

use chrono::{DateTime, Datelike, Utc};

use super::data::ClientData;
use super::intent::{last_days, month_period, previous_month};
use super::Assistant;
use super::Language;
use crate::auth::Actor;
use crate::domain::format;
use crate::domain::Role;
use crate::error::CoreResult;

fn t(lang: Language, ru: &str, en: &str) -> String {
    match lang {
        Language::Ru => ru.to_owned(),
        Language::En => en.to_owned(),
    }
}

impl Assistant {
    /// Questions worth asking about the client (or the portfolio when `client_id` is `None`).
    pub async fn suggestions(
        &self,
        data: &dyn ClientData,
        actor: &Actor,
        client_id: Option<i64>,
        lang: Language,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<String>> {
        actor.require(Role::Viewer)?;
        let Some(id) = client_id else {
            return Ok(vec![
                t(
                    lang,
                    "Сводка по портфелю клиентов",
                    "A summary of the client portfolio",
                ),
                t(
                    lang,
                    "Сколько у нас клиентов и какие обороты?",
                    "How many clients do we have and what are the totals?",
                ),
            ]);
        };
        data.client(actor, id).await?;
        let base = data.base_currency();
        let mut out = Vec::new();
        let window = last_days(now, 90);
        let spending = data
            .spending_by_category(id, window.from, window.to, &base)
            .await?;
        let flow = data.cashflow(id, 3, &base, now).await?;
        let accounts = data
            .accounts_of_clients(&[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let rating = data.ratings_of_clients(&[id]).await?.remove(&id);

        if !spending.is_empty() {
            out.push(t(
                lang,
                "Проанализируй расходы клиента",
                "Analyse this client's spending",
            ));
        }
        // The top category of the last month that had spending.
        let (py, pm) = previous_month(now.year(), now.month());
        for (y, m) in [(now.year(), now.month()), (py, pm)] {
            let p = month_period(y, m);
            let rows = data.spending_by_category(id, p.from, p.to, &base).await?;
            if let Some(top) = rows.first() {
                let (ru, en) = top.category.names();
                out.push(match lang {
                    Language::Ru => format!(
                        "Сколько клиент потратил на «{ru}» в {}?",
                        format::month_name_in(m, lang)
                    ),
                    Language::En => format!(
                        "How much did the client spend on {} in {}?",
                        en.to_lowercase(),
                        format::month_name_in(m, lang)
                    ),
                });
                break;
            }
        }
        if flow.iter().any(|m| m.income.minor > 0) {
            out.push(t(
                lang,
                "Насколько регулярен доход клиента?",
                "How regular is the client's income?",
            ));
        }
        let months_with_data = flow
            .iter()
            .filter(|m| m.income.minor > 0 || m.expense.minor > 0)
            .count();
        if months_with_data >= 2 {
            let (ay, am) = previous_month(py, pm);
            out.push(match lang {
                Language::Ru => format!(
                    "Сравни расходы за {} и {}",
                    format::format_month(ay, am, lang)
                        .split(' ')
                        .next()
                        .unwrap_or_default(),
                    format::format_month(py, pm, lang)
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                ),
                Language::En => format!(
                    "Compare spending in {} and {}",
                    format::month_name_in(am, lang),
                    format::month_name_in(pm, lang)
                ),
            });
        }
        if !accounts.is_empty() {
            out.push(t(
                lang,
                "Какие остатки на счетах и сколько клиент откладывает?",
                "What are the balances and how much does the client save?",
            ));
        }
        if let Some(r) = rating {
            out.push(match lang {
                Language::Ru => format!("Почему у клиента рейтинг {}?", r.grade),
                Language::En => format!("Why is the client's rating {}?", r.grade),
            });
        }
        if !spending.is_empty() {
            out.push(t(
                lang,
                "Какие у клиента регулярные платежи?",
                "What recurring payments does the client have?",
            ));
        }
        if !accounts.is_empty() || !spending.is_empty() {
            out.push(t(
                lang,
                "Что можно предложить клиенту?",
                "What can we offer this client?",
            ));
        }
        if out.is_empty() {
            out.push(t(
                lang,
                "Расскажи о клиенте коротко",
                "Give me a short overview of the client",
            ));
        }
        Ok(out)
    }
}
