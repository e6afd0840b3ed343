//! The tools a model may call: each is a JSON schema and a core call that returns exact figures,
//! so the model copies numbers instead of computing them. Every tool is bound to the question's
//! client on the server (no tool takes a client id), reads only, and returns minimised data:
//! no ids, account numbers, counterparties or card numbers; bank text scrubbed.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use super::context::{names_a_person, plain};
use super::data::ClientData;
use super::intent::last_days;
use super::privacy::Redactor;
use crate::accounts::total_by_currency;
use crate::domain::{Category, Direction, Money};
use crate::error::{CoreError, CoreResult};
use crate::insights::FigureValue;
use crate::offers::Product;
use crate::transactions::TransactionFilter;
use crm_llm::{ToolCall, ToolSpec};

/// Longest list of transactions one call returns.
const MAX_ROWS: u64 = 50;
/// Notes `manager_notes` shows, and the characters of each.
const NOTES_SHOWN: u64 = 20;
const NOTE_CHARS: usize = 1000;

fn date_param(what: &str) -> Value {
    json!({ "type": "string", "description": format!("{what}, YYYY-MM-DD") })
}

/// The tools for a question about one client.
pub fn specs() -> Vec<ToolSpec> {
    let codes: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let mut out = vec![
        ToolSpec {
            name: "spending_by_category".into(),
            description: "The client's booked spending per category in a date range, largest first, with the total, counts and shares. Default range: the last 90 days.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "from": date_param("first day of the range (inclusive)"),
                    "to": date_param("last day of the range (inclusive)"),
                },
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "cashflow".into(),
            description: "Booked income, spending and net per calendar month for the last N months (the current month included, partial), with totals.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "months": { "type": "integer", "minimum": 1, "maximum": 24, "description": "how many months, default 6" },
                },
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "find_transactions".into(),
            description: "The client's transactions matching a filter, newest first (at most 50 shown), with the number of matches and their booked totals per direction.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "from": date_param("first day (inclusive)"),
                    "to": date_param("last day (inclusive)"),
                    "category": { "type": "string", "enum": codes },
                    "direction": { "type": "string", "enum": ["CREDIT", "DEBIT"], "description": "CREDIT is money in, DEBIT money out" },
                    "search": { "type": "string", "description": "words of the merchant or the bank's description" },
                    "limit": { "type": "integer", "minimum": 1, "maximum": 50 },
                },
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "balances".into(),
            description: "The client's accounts with their latest balances and the totals per currency.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "rating".into(),
            description: "The client's A/B/C grade, the score (0-100) and the factors behind it with their values and impacts in points.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "bank_products".into(),
            description: "Products in the catalogues of the client's banks (deposits, savings, cards, loans) with rates, amounts and terms.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "type": { "type": "string", "description": "deposit, savings, card, credit_card or loan" },
                },
                "additionalProperties": false,
            }),
        },
    ];
    out.extend([
        ToolSpec {
            name: "top_merchants".into(),
            description: "The merchants the client spent most with in a date range, largest first, with amounts, counts and shares of all spending in the range. Default range: the last 90 days.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "from": date_param("first day of the range (inclusive)"),
                    "to": date_param("last day of the range (inclusive)"),
                    "limit": { "type": "integer", "minimum": 1, "maximum": 20 },
                },
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "recurring_payments".into(),
            description: "Payments that repeat over the last 12 months (subscriptions, rent, utilities, loans): typical amount, amount per month, interval, last and next expected date.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "income_profile".into(),
            description: "The client's income over the last 12 months: whether a salary is detected (employer, typical amount and day, regularity, next date) and the average monthly income.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "insights".into(),
            description: "Observations about the client computed by the CRM (spending changes, savings, buffer, debt load, cash, overdrafts…), each with its figures.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "manager_notes".into(),
            description: "The relationship manager's own notes on the client (calls, meetings, e-mails, notes; newest first, at most 20, each cut to 1000 characters, personal data removed) and the client's open tasks with their due dates. What the client said and what was agreed; not bank data.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
        ToolSpec {
            name: "offers".into(),
            description: "Products of the banks' catalogues that fit the client, each with the reason and the figures behind it.".into(),
            parameters: json!({ "type": "object", "properties": {}, "additionalProperties": false }),
        },
    ]);
    out
}

fn day(args: &Value, key: &str) -> CoreResult<Option<NaiveDate>> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let text = s.get(..10).unwrap_or(s);
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    CoreError::invalid(format!("{key} must be a date YYYY-MM-DD, got {s:?}"))
                })
        }
        Some(other) => Err(CoreError::invalid(format!(
            "{key} must be a date string, got {other}"
        ))),
    }
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `[from, to)` from inclusive dates, defaulting to the last 90 days.
fn range(args: &Value, now: DateTime<Utc>) -> CoreResult<(DateTime<Utc>, DateTime<Utc>)> {
    let default = last_days(now, 90);
    let from = day(args, "from")?.map(at).unwrap_or(default.from);
    let to = day(args, "to")?
        .map(|d| at(d) + Duration::days(1))
        .unwrap_or(default.to);
    if from >= to {
        return Err(CoreError::invalid("from must not be after to"));
    }
    Ok((from, to))
}

fn last_day(to: DateTime<Utc>) -> String {
    (to - Duration::days(1)).format("%Y-%m-%d").to_string()
}

/// Runs one tool call for the client and returns its result as JSON text. Errors the model can
/// fix (bad arguments, unknown tools) come back as `{"error": …}` for it to read; errors of ours
/// fail the answer.
pub async fn execute(
    core: &dyn ClientData,
    client_id: i64,
    call: &ToolCall,
    redactor: &Redactor,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let args: Value = match serde_json::from_str(&call.arguments) {
        Ok(v @ Value::Object(_)) => v,
        Ok(Value::Null) => json!({}),
        _ => {
            return Ok(json!({ "error": "the arguments must be a JSON object" }).to_string());
        }
    };
    match run(core, client_id, &call.name, &args, redactor, now).await {
        Ok(v) => Ok(v.to_string()),
        Err(CoreError::InvalidInput(m)) => Ok(json!({ "error": m }).to_string()),
        Err(e) => Err(e),
    }
}

async fn run(
    core: &dyn ClientData,
    id: i64,
    name: &str,
    args: &Value,
    redactor: &Redactor,
    now: DateTime<Utc>,
) -> CoreResult<Value> {
    let base = core.base_currency();
    match name {
        "spending_by_category" => {
            let (from, to) = range(args, now)?;
            let rows = core.spending_by_category(id, from, to, &base).await?;
            let total: i64 = rows.iter().map(|r| r.amount.minor).sum();
            Ok(json!({
                "from": from.format("%Y-%m-%d").to_string(),
                "to": last_day(to),
                "currency": base.as_str(),
                "total": Money::new(total, base.clone()).amount().to_string(),
                "categories": rows.iter().map(|r| json!({
                    "category": r.category.as_str(),
                    "name": r.category.names().1,
                    "amount": r.amount.amount().to_string(),
                    "count": r.count,
                    "share_percent": format!("{:.1}", r.share * 100.0),
                })).collect::<Vec<_>>(),
            }))
        }
        "cashflow" => {
            let months = match args.get("months") {
                None | Some(Value::Null) => 6,
                Some(v) => v.as_u64().filter(|m| (1..=24).contains(m)).ok_or_else(|| {
                    CoreError::invalid("months must be a whole number from 1 to 24")
                })? as u32,
            };
            let rows = core.cashflow(id, months, &base, now).await?;
            let (i, e): (i64, i64) = rows.iter().fold((0, 0), |(i, e), m| {
                (i + m.income.minor, e + m.expense.minor)
            });
            let money = |minor: i64| Money::new(minor, base.clone()).amount().to_string();
            Ok(json!({
                "currency": base.as_str(),
                "months": rows.iter().map(|m| json!({
                    "month": m.month,
                    "income": m.income.amount().to_string(),
                    "expense": m.expense.amount().to_string(),
                    "net": m.net.amount().to_string(),
                })).collect::<Vec<_>>(),
                "current_month_is_partial": true,
                "totals": { "income": money(i), "expense": money(e), "net": money(i - e) },
            }))
        }
        "find_transactions" => {
            let has_range = args.get("from").is_some() || args.get("to").is_some();
            let (from, to) = if has_range {
                let (f, t) = range(args, now)?;
                (Some(f), Some(t))
            } else {
                (None, None)
            };
            let category = match args.get("category").and_then(Value::as_str) {
                Some(c) => Some(Category::parse(c.trim())?),
                None => None,
            };
            let direction = match args.get("direction").and_then(Value::as_str) {
                Some(d) => Some(Direction::parse(d.trim())?),
                None => None,
            };
            let search = args
                .get("search")
                .and_then(Value::as_str)
                .map(|s| s.chars().take(100).collect::<String>());
            let limit = args
                .get("limit")
                .and_then(Value::as_u64)
                .unwrap_or(20)
                .clamp(1, MAX_ROWS);
            let filter = TransactionFilter {
                from,
                to,
                category,
                direction,
                account_id: None,
                search,
                status: None,
            };
            let page = core.list_transactions(id, &filter, limit).await?;
            let count = core.count_transactions(id, &filter).await?;
            let totals = core.transaction_totals(id, &filter).await?;
            Ok(json!({
                "matching": count,
                "shown": page.items.len(),
                "booked_totals": totals.iter().map(|t| json!({
                    "direction": t.direction.as_str(),
                    "amount": t.amount.amount().to_string(),
                    "currency": t.amount.currency.as_str(),
                    "count": t.count,
                })).collect::<Vec<_>>(),
                "transactions": page.items.iter().map(|t| {
                    let mut row = json!({
                        "date": t.booked_at.format("%Y-%m-%d").to_string(),
                        "direction": t.direction.as_str(),
                        "amount": t.amount.amount().to_string(),
                        "currency": t.amount.currency.as_str(),
                        "category": t.category.as_str(),
                        "status": t.status.as_str(),
                    });
                    if let Some(m) = &t.merchant {
                        row["merchant"] = json!(redactor.scrub(m));
                    }
                    if redactor.sends_pii() || !names_a_person(t.category) {
                        row["text"] = json!(redactor.scrub(&t.description));
                    }
                    row
                }).collect::<Vec<_>>(),
            }))
        }
        "balances" => {
            let accounts = core
                .accounts_of_clients(&[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            let totals = total_by_currency(accounts.iter());
            Ok(json!({
                "accounts": accounts.iter().map(|a| json!({
                    "bank": core.bank_name(&a.bank_code),
                    "name": redactor.scrub(&a.name),
                    "type": a.account_type,
                    "currency": a.currency.as_str(),
                    "status": a.status.as_str(),
                    "balance": a.balance.as_ref().map(|b| b.amount().to_string()),
                    "balance_at": a.balance_at.map(|t| t.format("%Y-%m-%d").to_string()),
                })).collect::<Vec<_>>(),
                "totals": totals.iter().map(plain).collect::<Vec<_>>(),
            }))
        }
        "rating" => {
            let rating = core.ratings_of_clients(&[id]).await?.remove(&id);
            Ok(match rating {
                None => json!({ "rated": false }),
                Some(r) => json!({
                    "rated": true,
                    "grade": r.grade.as_str(),
                    "score": r.score,
                    "computed_at": r.computed_at.format("%Y-%m-%d").to_string(),
                    "factors": r.factors.iter().map(|f| json!({
                        "name": f.name, "value": f.value, "impact_points": f.impact,
                    })).collect::<Vec<_>>(),
                }),
            })
        }
        "bank_products" => {
            let wanted = args
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_lowercase);
            let rows = bank_products(core, id, wanted.as_deref()).await?;
            Ok(
                json!({ "products": rows.iter().map(|p| product_json(core, p, redactor)).collect::<Vec<_>>() }),
            )
        }
        "top_merchants" => {
            let (from, to) = range(args, now)?;
            let limit = args
                .get("limit")
                .and_then(Value::as_u64)
                .unwrap_or(10)
                .clamp(1, 20) as u32;
            // A transfer's counterparty is often a person: named only when PII may leave.
            let rows = if redactor.sends_pii() {
                core.top_merchants(id, from, to, &base, limit).await?
            } else {
                core.top_merchants_without_counterparties(id, from, to, &base, limit)
                    .await?
            };
            Ok(json!({
                "from": from.format("%Y-%m-%d").to_string(),
                "to": last_day(to),
                "currency": base.as_str(),
                "merchants": rows.iter().map(|m| json!({
                    "merchant": redactor.scrub(&m.merchant),
                    "amount": m.amount.amount().to_string(),
                    "count": m.count,
                    "share_percent": format!("{:.1}", m.share * 100.0),
                })).collect::<Vec<_>>(),
            }))
        }
        "recurring_payments" => {
            let list = core.recurring_payments(id, now).await?;
            Ok(json!({ "payments": list.iter().map(|r| json!({
                "payee": payee(&r.merchant, r.category, redactor),
                "category": r.category.as_str(),
                "typical_amount": r.typical_amount.amount().to_string(),
                "monthly_amount": r.monthly_amount.amount().to_string(),
                "currency": r.typical_amount.currency.as_str(),
                "interval": r.interval.as_str(),
                "day_of_month": r.day_of_month,
                "occurrences": r.occurrences,
                "last": r.last_at.format("%Y-%m-%d").to_string(),
                "next_expected": r.next_expected_at.format("%Y-%m-%d").to_string(),
            })).collect::<Vec<_>>() }))
        }
        "income_profile" => {
            let p = core.income_profile(id, now).await?;
            Ok(json!({
                "salary_detected": p.salary_detected,
                "employer": p.employer.as_deref().map(|e| redactor.scrub(e)),
                "typical_amount": p.typical_amount.as_ref().map(plain),
                "typical_day": p.typical_day,
                "regularity_percent": format!("{:.0}", p.regularity * 100.0),
                "months_paid": p.months_paid,
                "months_expected": p.months_expected,
                "last_paid": p.last_paid_at.map(|t| t.format("%Y-%m-%d").to_string()),
                "next_expected": p.next_expected_at.map(|t| t.format("%Y-%m-%d").to_string()),
                "monthly_average_income": plain(&p.monthly_average_income),
                // One decimal: a long run of digits would look like an account number to the guard.
                "months_observed": format!("{:.1}", p.months_observed),
            }))
        }
        "insights" => {
            let list = core.insights(id, now).await?;
            // Payees that are people (transfers) are named in some texts: hidden unless PII
            // may leave.
            let people: Vec<String> = if redactor.sends_pii() {
                Vec::new()
            } else {
                core.recurring_payments(id, now)
                    .await?
                    .into_iter()
                    .filter(|r| names_a_person(r.category))
                    .map(|r| r.merchant)
                    .collect()
            };
            Ok(json!({ "insights": list.iter().map(|i| json!({
                "kind": i.kind,
                "severity": i.severity.as_str(),
                "text": withhold(&redactor.scrub(&i.text.en), &people),
                "figures": i.figures.iter().map(|f| json!({
                    "name": f.name,
                    "value": figure_value(&f.value),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>() }))
        }
        "offers" => {
            let list = core.offers(id, now).await?;
            Ok(json!({ "offers": list.iter().map(|o| json!({
                "product": o.product.name,
                "type": o.product.product_type,
                "bank": core.bank_name(&o.product.bank_code),
                "interest_rate_percent": o.product.rate.map(|r| r.to_string()),
                "reason_code": o.reason_code,
                "reason": redactor.scrub(&o.reason.en),
                "figures": o.figures.iter().map(|f| json!({
                    "name": f.name,
                    "value": figure_value(&f.value),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>() }))
        }
        "manager_notes" => {
            let (notes, tasks) = core.manager_record(id, NOTES_SHOWN).await?;
            let cut = |text: &str| -> String {
                let scrubbed = redactor.scrub(text);
                if scrubbed.chars().count() > NOTE_CHARS {
                    let mut s: String = scrubbed.chars().take(NOTE_CHARS - 1).collect();
                    s.push('…');
                    s
                } else {
                    scrubbed
                }
            };
            Ok(json!({
                "notes": notes.iter().map(|n| json!({
                    "kind": n.kind.as_str(),
                    "date": n.occurred_at.format("%Y-%m-%d").to_string(),
                    "text": cut(&n.body),
                })).collect::<Vec<_>>(),
                "open_tasks": tasks.iter().map(|t| json!({
                    "title": cut(&t.title),
                    "due": t.due_at.map(|d| d.format("%Y-%m-%d").to_string()),
                    "overdue": t.overdue_at(now),
                    "priority": t.priority.as_str(),
                })).collect::<Vec<_>>(),
            }))
        }
        other => Err(CoreError::invalid(format!(
            "there is no tool {other:?}; the tools are: {}",
            specs()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A recurring payee as sent out: a person paid by transfer is not named unless PII may leave.
fn payee(name: &str, category: Category, redactor: &Redactor) -> String {
    if names_a_person(category) && !redactor.sends_pii() {
        "[payee withheld]".to_owned()
    } else {
        redactor.scrub(name)
    }
}

/// `text` with each of `names` replaced.
fn withhold(text: &str, names: &[String]) -> String {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .fold(text.to_owned(), |t, n| {
            t.replace(n.as_str(), "[payee withheld]")
        })
}

/// A figure's value as exact JSON: money as a decimal string with its currency.
fn figure_value(v: &FigureValue) -> Value {
    match v {
        FigureValue::Money(m) => {
            json!({ "amount": m.amount().to_string(), "currency": m.currency.as_str() })
        }
        FigureValue::Percent(p) => json!({ "percent": p.to_string() }),
        FigureValue::Number(n) => json!(n.to_string()),
        FigureValue::Date(d) => json!(d.format("%Y-%m-%d").to_string()),
    }
}

/// Catalogue products of the banks the client is linked to (all banks when none is linked).
pub async fn bank_products(
    core: &dyn ClientData,
    client_id: i64,
    product_type: Option<&str>,
) -> CoreResult<Vec<Product>> {
    let banks: Vec<String> = core
        .links_of_clients(&[client_id])
        .await?
        .remove(&client_id)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.bank_code)
        .collect();
    core.products_of_banks(&banks, product_type, 30).await
}

fn product_json(core: &dyn ClientData, p: &Product, redactor: &Redactor) -> Value {
    json!({
        "bank": core.bank_name(&p.bank_code),
        "type": p.product_type,
        "name": p.name,
        "description": p.description.as_deref().map(|d| redactor.scrub(d)),
        "interest_rate_percent": p.rate.map(|r| r.to_string()),
        "min_amount": p.min_amount.as_ref().map(plain),
        "max_amount": p.max_amount.as_ref().map(plain),
        "term_months": p.term_months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_is_an_object_schema_without_a_client_id() {
        for s in specs() {
            assert_eq!(s.parameters["type"], "object", "{}", s.name);
            assert!(s.parameters["properties"].get("client_id").is_none());
            assert!(s.parameters["properties"].get("clientId").is_none());
        }
    }

    #[test]
    fn ranges_are_inclusive_dates() {
        let now = Utc
            .with_ymd_and_hms(2025, 6, 12, 10, 0, 0)
            .single()
            .expect("now");
        let (f, t) = range(&json!({"from": "2025-03-01", "to": "2025-03-31"}), now).expect("range");
        assert_eq!(
            f,
            Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
                .single()
                .expect("f")
        );
        assert_eq!(
            t,
            Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0)
                .single()
                .expect("t")
        );
        assert!(range(&json!({"from": "March"}), now).is_err());
        assert!(range(&json!({"from": "2025-04-01", "to": "2025-03-01"}), now).is_err());
        let (f, _) = range(&json!({"from": "2025-03-01T00:00:00Z"}), now).expect("rfc3339");
        assert_eq!(
            f,
            Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
                .single()
                .expect("f")
        );
    }
}
