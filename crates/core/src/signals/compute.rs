//! Computing signals: the inputs of a chunk of clients read in a few statements (links,
//! agreements, accounts, month totals, recent large credits, rating changes; the salary per
//! client through the analytics' bounded history read), the rules applied, then one write
//! transaction per chunk that inserts the new facts (`ON CONFLICT DO NOTHING` on the dedupe
//! key), escalates open ones, closes conditions that stopped holding, and creates the tasks.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TryInsertResult,
};

use super::detect::{
    self, AccountFact, AgreementFact, ClientInputs, Fact, InflowFact, LinkFact, LowPointFact,
    RatingChangeFact, SalaryFact,
};
use super::{can_take_tasks, task_due, task_title, NO_LONGER_APPLIES};
use crate::analytics::history;
use crate::domain::{
    Category, Direction, Grade, SignalSeverity, SignalState, TaskSource, TaskStatus, TimelineKind,
    TransactionStatus,
};
use crate::entity::{
    accounts, bank_links, client_events, client_month_totals, clients, product_agreements, signals,
    tasks, transactions, users,
};
use crate::error::CoreResult;
use crate::events::Event;
use crate::timeline::{EventData, NewEvent};
use crate::Core;

/// Clients read and written together.
const CHUNK: usize = 500;
/// Clients whose salary and forecast are read at once.
const PER_CLIENT_READS: usize = 4;

/// What one computation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComputeReport {
    pub clients: usize,
    pub raised: usize,
    pub escalated: usize,
    pub closed: usize,
    pub tasks: usize,
}

pub(super) async fn run(
    core: &Core,
    client_ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> CoreResult<ComputeReport> {
    let ids: Vec<i64> = match client_ids {
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            ids
        }
        None => {
            clients::Entity::find()
                .select_only()
                .column(clients::Column::Id)
                .order_by_asc(clients::Column::Id)
                .into_tuple()
                .all(core.db.conn())
                .await?
        }
    };
    let mut report = ComputeReport::default();
    for chunk in ids.chunks(CHUNK) {
        let inputs = read_inputs(core, chunk, now).await?;
        let settings = &core.settings.signals;
        let base = core.settings.base_currency.as_str().to_owned();
        let facts: Vec<Fact> = inputs
            .iter()
            .flat_map(|i| detect::detect(i, settings, &base, now))
            .collect();
        let done = store(core, chunk, facts, now).await?;
        report.clients += inputs.len();
        report.raised += done.raised;
        report.escalated += done.escalated;
        report.closed += done.closed;
        report.tasks += done.tasks;
    }
    Ok(report)
}

fn month_index(at: &DateTime<Utc>) -> i32 {
    at.year() * 12 + at.month0() as i32
}

async fn read_inputs(
    core: &Core,
    ids: &[i64],
    now: DateTime<Utc>,
) -> CoreResult<Vec<ClientInputs>> {
    let conn = core.db.conn();
    let settings = &core.settings.signals;
    let mut by_client: BTreeMap<i64, ClientInputs> = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .filter(clients::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .map(|id| {
            (
                id,
                ClientInputs {
                    client_id: id,
                    ..Default::default()
                },
            )
        })
        .collect();
    if by_client.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = by_client.keys().copied().collect();

    // Links a manager has not unlinked.
    let links = bank_links::Entity::find()
        .filter(bank_links::Column::ClientId.is_in(ids.iter().copied()))
        .filter(bank_links::Column::UnlinkedAt.is_null())
        .all(conn)
        .await?;
    let link_created: HashMap<i64, DateTime<Utc>> =
        links.iter().map(|l| (l.id, l.created_at)).collect();
    for l in links {
        if let Some(c) = by_client.get_mut(&l.client_id) {
            c.links.push(LinkFact {
                id: l.id,
                bank_code: l.bank_code,
                consent_status: l.consent_status,
                consent_expires_at: l.consent_expires_at,
            });
        }
    }

    // Active agreements the banks still list.
    let agreements = product_agreements::Entity::find()
        .filter(product_agreements::Column::ClientId.is_in(ids.iter().copied()))
        .filter(product_agreements::Column::Status.eq("ACTIVE"))
        .filter(product_agreements::Column::DelistedAt.is_null())
        .all(conn)
        .await?;
    // The forecast's own view of the same rows (read once here, not per client).
    let mut forecast_agreements: HashMap<i64, Vec<crate::holdings::ProductAgreement>> =
        HashMap::new();
    for a in &agreements {
        forecast_agreements
            .entry(a.client_id)
            .or_default()
            .push(crate::holdings::ProductAgreement::try_from(a.clone())?);
    }
    for a in agreements {
        if let Some(c) = by_client.get_mut(&a.client_id) {
            c.agreements.push(AgreementFact {
                id: a.id,
                link_created_at: a.link_id.and_then(|l| link_created.get(&l).copied()),
                bank_code: a.bank_code,
                kind: a.kind,
                product_name: a.product_name,
                amount_minor: a.amount_minor,
                currency: a.currency,
                opened_at: a.opened_at,
                ends_at: a.ends_at,
                first_seen_at: a.created_at,
            });
        }
    }

    // Open accounts of the client's money (the one definition: not a loan or credit card).
    let accs = accounts::Entity::find()
        .filter(accounts::Column::ClientId.is_in(ids.iter().copied()))
        .filter(accounts::Column::ClosedAt.is_null())
        .filter(accounts::Column::Status.is_not_in(["CLOSED", "DISABLED"]))
        .all(conn)
        .await?;
    let bank_of_account: HashMap<i64, String> =
        accs.iter().map(|a| (a.id, a.bank_code.clone())).collect();
    let mut forecast_accounts: HashMap<i64, Vec<crate::accounts::Account>> = HashMap::new();
    for a in &accs {
        forecast_accounts
            .entry(a.client_id)
            .or_default()
            .push(crate::accounts::Account::try_from(a.clone())?);
    }
    for a in accs {
        let debt = matches!(a.kind.as_deref(), Some("LOAN" | "CREDIT_CARD"));
        let (Some(balance), false) = (a.balance_minor, debt) else {
            continue;
        };
        if let Some(c) = by_client.get_mut(&a.client_id) {
            c.accounts.push(AccountFact {
                id: a.id,
                bank_code: a.bank_code,
                balance_minor: balance,
                currency: a.currency,
                number_masked: a.number_masked,
            });
        }
    }

    // Income per month in the base currency: credits except refunds and own transfers.
    let base = core.settings.base_currency.as_str().to_owned();
    let first_month = crate::domain::month_key(&(now - Duration::days(400)));
    let months: Vec<(i64, i32, Option<i64>)> = client_month_totals::Entity::find()
        .select_only()
        .column(client_month_totals::Column::ClientId)
        .column(client_month_totals::Column::Month)
        .column_as(
            Expr::cust("CAST(SUM(client_month_totals.amount_minor) AS BIGINT)"),
            "amount",
        )
        .filter(client_month_totals::Column::ClientId.is_in(ids.iter().copied()))
        .filter(client_month_totals::Column::Currency.eq(base.as_str()))
        .filter(client_month_totals::Column::Direction.eq(Direction::Credit.as_str()))
        .filter(client_month_totals::Column::Month.gte(first_month))
        .filter(
            client_month_totals::Column::Category
                .is_not_in([Category::Refunds.as_str(), crate::aggregates::OWN_TRANSFER]),
        )
        .group_by(client_month_totals::Column::ClientId)
        .group_by(client_month_totals::Column::Month)
        .into_tuple()
        .all(conn)
        .await?;
    for (client, month, amount) in months {
        if let Some(c) = by_client.get_mut(&client) {
            c.month_income.insert(month, amount.unwrap_or(0));
        }
    }

    // Large credits of the recent days (few), then the usual credit of their clients only.
    let since = now - Duration::days(settings.large_inflow_days);
    let large: Vec<(i64, i64, i64, DateTime<Utc>, i64, String)> = transactions::Entity::find()
        .select_only()
        .columns([
            transactions::Column::Id,
            transactions::Column::ClientId,
            transactions::Column::AccountId,
            transactions::Column::BookedAt,
            transactions::Column::AmountMinor,
            transactions::Column::Currency,
        ])
        .filter(transactions::Column::ClientId.is_in(ids.iter().copied()))
        .filter(transactions::Column::BookedAt.gte(since))
        .filter(transactions::Column::BookedAt.lte(now))
        .filter(transactions::Column::Direction.eq(Direction::Credit.as_str()))
        .filter(transactions::Column::Status.eq(TransactionStatus::Booked.as_str()))
        .filter(transactions::Column::ReplacedById.is_null())
        .filter(transactions::Column::AmountMinor.gte(settings.large_inflow_min_minor))
        .filter(transactions::Column::Currency.eq(base.as_str()))
        // Not money the client earns as usual (the salary, interest) or moves (own transfers),
        // nor a purchase given back.
        .filter(transactions::Column::Category.is_not_in([
            Category::Refunds.as_str(),
            Category::Salary.as_str(),
            Category::Interest.as_str(),
            crate::aggregates::OWN_TRANSFER,
        ]))
        .into_tuple()
        .all(conn)
        .await?;
    for (id, client, account, booked_at, amount, currency) in large {
        let Some(c) = by_client.get_mut(&client) else {
            continue;
        };
        // The usual month: the median income of the (up to 12) months before the credit's
        // month that had income; three of them at least, or the credit is not judged.
        let month = crate::domain::month_key(&booked_at);
        let mut before: Vec<i64> = c
            .month_income
            .range(..month)
            .rev()
            .take(12)
            .map(|(_, v)| *v)
            .filter(|v| *v > 0)
            .collect();
        if before.len() < 3 {
            continue;
        }
        before.sort_unstable();
        let usual = before[before.len() / 2];
        c.inflows.push(InflowFact {
            transaction_id: id,
            bank_code: bank_of_account.get(&account).cloned().unwrap_or_default(),
            booked_at,
            amount_minor: amount,
            currency,
            usual_month_minor: usual,
        });
    }

    // Rating changes of the recent days, from the timeline.
    let changes = client_events::Entity::find()
        .filter(client_events::Column::ClientId.is_in(ids.iter().copied()))
        .filter(client_events::Column::Kind.eq(TimelineKind::RatingChanged.as_str()))
        .filter(
            client_events::Column::OccurredAt
                .gte(now - Duration::days(settings.rating_lookback_days)),
        )
        .all(conn)
        .await?;
    for e in changes {
        let Ok(EventData::Rating { from, to, .. }) = serde_json::from_str::<EventData>(&e.data)
        else {
            continue;
        };
        let Ok(to) = Grade::parse(&to) else { continue };
        let from = from.and_then(|f| Grade::parse(&f).ok());
        if let Some(c) = by_client.get_mut(&e.client_id) {
            c.rating_changes.push(RatingChangeFact {
                event_id: e.id,
                at: e.occurred_at,
                from,
                to,
            });
        }
    }

    // The salary: per client through the bounded history read the analytics use.
    let from = crate::aggregates::months_before(now, history::WINDOW_MONTHS);
    let account_banks: HashMap<i64, String> = accounts::Entity::find()
        .select_only()
        .column(accounts::Column::Id)
        .column(accounts::Column::BankCode)
        .filter(accounts::Column::ClientId.is_in(ids.iter().copied()))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    // The salary and the forecast's low point: per client through the analytics' bounded
    // reads, a few clients at a time (each is a handful of indexed reads).
    let horizon = now + Duration::days(settings.low_balance_days);
    let todo: Vec<(i64, bool)> = by_client
        .values()
        .map(|c| (c.client_id, !c.accounts.is_empty()))
        .collect();
    // The window's rows of the whole chunk, read a few statements at a time: the salary's
    // credits and the forecast's credits and debits.
    let mut credits = history::load_many(conn, &ids, Direction::Credit, from, now).await?;
    let mut debits = history::load_many(conn, &ids, Direction::Debit, from, now).await?;
    let account_banks = &account_banks;
    let (forecast_accounts, forecast_agreements) = (&forecast_accounts, &forecast_agreements);
    let todo: Vec<(
        i64,
        bool,
        Vec<history::HistoryRow>,
        Vec<history::HistoryRow>,
    )> = todo
        .into_iter()
        .map(|(id, has_money)| {
            (
                id,
                has_money,
                credits.remove(&id).unwrap_or_default(),
                debits.remove(&id).unwrap_or_default(),
            )
        })
        .collect();
    let per_client: Vec<(i64, Option<SalaryFact>, Vec<LowPointFact>)> =
        futures_util::stream::iter(todo)
            .map(|(client_id, has_money, credits, debits)| async move {
                let salary = salary_of(&credits, now, account_banks);
                let low = if has_money {
                    let pre = crate::forecast::Preloaded {
                        accounts: forecast_accounts.get(&client_id).map_or(&[], Vec::as_slice),
                        agreements: forecast_agreements
                            .get(&client_id)
                            .map_or(&[], Vec::as_slice),
                        debits: &debits,
                        credits: &credits,
                    };
                    low_points(core, client_id, now, horizon, &pre).await?
                } else {
                    Vec::new()
                };
                Ok::<_, crate::error::CoreError>((client_id, salary, low))
            })
            .buffer_unordered(PER_CLIENT_READS)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<CoreResult<_>>()?;
    for (client_id, salary, low) in per_client {
        if let Some(c) = by_client.get_mut(&client_id) {
            c.salary = salary;
            c.low_points = low;
        }
    }
    Ok(by_client.into_values().collect())
}

/// The client's detected salary and, per month, the bank of its largest payment.
fn salary_of(
    credits: &[history::HistoryRow],
    now: DateTime<Utc>,
    account_banks: &HashMap<i64, String>,
) -> Option<SalaryFact> {
    let s = crate::analytics::income::detect_salary(credits, now)?;
    // The month's largest payment of the employer decides the month's bank.
    let mut months: BTreeMap<i32, (i64, i64, String)> = BTreeMap::new();
    for r in credits
        .iter()
        .filter(|r| r.key == s.key && r.currency == s.currency)
    {
        let bank = account_banks
            .get(&r.account_id)
            .cloned()
            .unwrap_or_default();
        let e =
            months
                .entry(month_index(&r.booked_at))
                .or_insert((r.amount_minor, r.id, bank.clone()));
        if r.amount_minor > e.0 {
            *e = (r.amount_minor, r.id, bank);
        }
    }
    Some(SalaryFact {
        employer: s.employer.clone(),
        currency: s.currency.as_str().to_owned(),
        typical_minor: s.typical_minor,
        typical_day: s.typical_day,
        last_paid_at: s.last_paid_at,
        next_expected_at: s.next_expected_at,
        months: months
            .into_iter()
            .map(|(m, (amount, id, bank))| {
                (
                    m.div_euclid(12) * 100 + m.rem_euclid(12) + 1,
                    bank,
                    id,
                    amount,
                )
            })
            .collect(),
    })
}

/// Per currency, the forecast's lowest balance up to `horizon` and the first day below the
/// floor.
async fn low_points(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
    pre: &crate::forecast::Preloaded<'_>,
) -> CoreResult<Vec<LowPointFact>> {
    let floor = core.settings.signals.low_balance_floor_minor;
    let forecast = core.forecast_of(client_id, 30, now, Some(pre)).await?;
    Ok(forecast
        .currencies
        .iter()
        .filter_map(|cur| {
            let low = cur
                .points
                .iter()
                .filter(|p| p.at <= horizon)
                .min_by_key(|p| p.balance.minor)?;
            Some(LowPointFact {
                currency: cur.currency.as_str().to_owned(),
                today_minor: cur.start.minor,
                lowest_minor: low.balance.minor,
                lowest_on: low.at,
                below_on: cur
                    .first_below(floor)
                    .map(|p| p.at)
                    .filter(|at| *at <= horizon),
            })
        })
        .collect())
}

#[derive(Default)]
struct Stored {
    raised: usize,
    escalated: usize,
    closed: usize,
    tasks: usize,
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "CRITICAL" => 2,
        "WARNING" => 1,
        _ => 0,
    }
}

/// Writes a chunk's facts in one transaction.
async fn store(
    core: &Core,
    ids: &[i64],
    facts: Vec<Fact>,
    now: DateTime<Utc>,
) -> CoreResult<Stored> {
    let conn = core.db.conn();
    let mut done = Stored::default();
    // The signals already stored for these clients (every state): what is new, what escalates,
    // which open conditions no longer hold.
    let existing = signals::Entity::find()
        .filter(signals::Column::ClientId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let by_key: HashMap<&str, &signals::Model> = existing
        .iter()
        .map(|s| (s.dedupe_key.as_str(), s))
        .collect();
    let found: HashSet<&str> = facts.iter().map(|f| f.key.as_str()).collect();
    let open = |s: &signals::Model| {
        s.state == SignalState::Open.as_str() || s.state == SignalState::Acknowledged.as_str()
    };
    let stale: Vec<&signals::Model> = existing
        .iter()
        .filter(|s| open(s))
        .filter(|s| {
            crate::domain::SignalKind::parse(&s.kind).is_ok_and(detect::is_condition)
                && !found.contains(s.dedupe_key.as_str())
        })
        .collect();
    let mut new = Vec::new();
    let mut escalate = Vec::new();
    let mut rearm = Vec::new();
    for f in &facts {
        match by_key.get(f.key.as_str()) {
            None => new.push(f),
            Some(s) if open(s) => {
                if severity_rank(f.severity.as_str()) > severity_rank(&s.severity) {
                    escalate.push((s.id, f));
                }
            }
            // A condition closed because it stopped holding, and holding again.
            Some(s)
                if s.resolution.as_deref() == Some(NO_LONGER_APPLIES)
                    && detect::is_condition(f.kind) =>
            {
                rearm.push((s.id, f))
            }
            Some(_) => {}
        }
    }
    if new.is_empty() && escalate.is_empty() && rearm.is_empty() && stale.is_empty() {
        return Ok(done);
    }
    // The owners who take the tasks.
    let owner_of: Vec<(i64, Option<i64>)> = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .column(clients::Column::OwnerId)
        .filter(clients::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let owner_ids: HashSet<i64> = owner_of.iter().filter_map(|(_, o)| *o).collect();
    let able: HashSet<i64> = if owner_ids.is_empty() {
        HashSet::new()
    } else {
        users::Entity::find()
            .filter(users::Column::Id.is_in(owner_ids))
            .all(conn)
            .await?
            .into_iter()
            .filter(|u| can_take_tasks(&u.role, u.disabled))
            .map(|u| u.id)
            .collect()
    };
    let owners: HashMap<i64, i64> = owner_of
        .into_iter()
        .filter_map(|(client, owner)| Some((client, owner.filter(|o| able.contains(o))?)))
        .collect();
    let namer = core.bank_namer();
    let txn = core.db.begin_write().await?;
    let mut raised_ids: Vec<(i64, i64)> = Vec::new();
    let mut touched: HashSet<i64> = HashSet::new();
    let mut task_changes: Vec<(i64, i64)> = Vec::new();
    let mut opened: Vec<(i64, &Fact)> = Vec::new();
    for f in new {
        let evidence = f.evidence.to_json()?;
        let row = signals::ActiveModel {
            client_id: Set(f.client_id),
            kind: Set(f.kind.as_str().to_owned()),
            severity: Set(f.severity.as_str().to_owned()),
            dedupe_key: Set(f.key.clone()),
            state: Set(SignalState::Open.as_str().to_owned()),
            resolution: Set(None),
            reason: Set(None),
            evidence: Set(evidence),
            fact_at: Set(f.fact_at),
            task_id: Set(None),
            raised_at: Set(now),
            updated_at: Set(now),
            closed_at: Set(None),
            closed_by: Set(None),
            ..Default::default()
        };
        let inserted = signals::Entity::insert(row)
            .on_conflict(
                OnConflict::column(signals::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(&*txn)
            .await?;
        let TryInsertResult::Inserted(r) = inserted else {
            // Another replica's computation stored it first.
            continue;
        };
        opened.push((r.last_insert_id, f));
    }
    for (id, f) in rearm {
        let n = signals::Entity::update_many()
            .col_expr(
                signals::Column::State,
                Expr::value(SignalState::Open.as_str()),
            )
            .col_expr(
                signals::Column::Resolution,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                signals::Column::ClosedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(signals::Column::ClosedBy, Expr::value(Option::<i64>::None))
            .col_expr(signals::Column::Severity, Expr::value(f.severity.as_str()))
            .col_expr(
                signals::Column::Evidence,
                Expr::value(f.evidence.to_json()?),
            )
            .col_expr(signals::Column::FactAt, Expr::value(f.fact_at))
            .col_expr(signals::Column::RaisedAt, Expr::value(now))
            .col_expr(signals::Column::UpdatedAt, Expr::value(now))
            .filter(signals::Column::Id.eq(id))
            .filter(signals::Column::Resolution.eq(NO_LONGER_APPLIES))
            .exec(&*txn)
            .await?
            .rows_affected;
        if n > 0 {
            opened.push((id, f));
        }
    }
    // Raised for the first time or again: on the timeline, with the rule's task.
    for (id, f) in opened {
        raised(&*txn, f, id, now).await?;
        done.raised += 1;
        raised_ids.push((id, f.client_id));
        touched.insert(f.client_id);
        if let Some(task) =
            make_task(core, &txn, f, id, owners.get(&f.client_id), now, &namer).await?
        {
            done.tasks += 1;
            task_changes.push(task);
        }
    }
    for (id, f) in escalate {
        signals::Entity::update_many()
            .col_expr(signals::Column::Severity, Expr::value(f.severity.as_str()))
            .col_expr(
                signals::Column::Evidence,
                Expr::value(f.evidence.to_json()?),
            )
            .col_expr(signals::Column::UpdatedAt, Expr::value(now))
            .filter(signals::Column::Id.eq(id))
            .exec(&*txn)
            .await?;
        done.escalated += 1;
        raised_ids.push((id, f.client_id));
    }
    for s in stale {
        signals::Entity::update_many()
            .col_expr(
                signals::Column::State,
                Expr::value(SignalState::Done.as_str()),
            )
            .col_expr(signals::Column::Resolution, Expr::value(NO_LONGER_APPLIES))
            .col_expr(signals::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(signals::Column::UpdatedAt, Expr::value(now))
            .filter(signals::Column::Id.eq(s.id))
            .exec(&*txn)
            .await?;
        crate::timeline::record(
            &*txn,
            NewEvent::new(
                s.client_id,
                TimelineKind::SignalClosed,
                EventData::Signal {
                    kind: s.kind.clone(),
                    resolution: Some(NO_LONGER_APPLIES.to_owned()),
                },
            )
            .at(now)
            .object("signal", s.id),
        )
        .await?;
        touched.insert(s.client_id);
        done.closed += 1;
    }
    txn.commit().await?;
    for (signal_id, client_id) in raised_ids {
        core.events().publish(Event::SignalRaised {
            signal_id,
            client_id,
        });
    }
    for (task_id, assignee) in task_changes {
        core.events().publish(Event::TaskChanged {
            task_id,
            assignee_id: Some(assignee),
            previous_assignee_id: None,
        });
    }
    for client in touched {
        core.announce_timeline(client);
    }
    Ok(done)
}

/// The timeline entry of a raised signal.
async fn raised<C: ConnectionTrait>(
    conn: &C,
    f: &Fact,
    id: i64,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    crate::timeline::record(
        conn,
        NewEvent::new(
            f.client_id,
            TimelineKind::SignalRaised,
            EventData::Signal {
                kind: f.kind.as_str().to_owned(),
                resolution: None,
            },
        )
        .at(now)
        .object("signal", id),
    )
    .await?;
    Ok(())
}

/// The task the kind's rule asks for, for the client's owner (none without a rule or an owner
/// who can take tasks). Returns `(task id, assignee)`.
async fn make_task(
    core: &Core,
    conn: &crate::db::WriteTxn,
    f: &Fact,
    signal_id: i64,
    owner: Option<&i64>,
    now: DateTime<Utc>,
    namer: &(dyn Fn(&str) -> String + Sync),
) -> CoreResult<Option<(i64, i64)>> {
    let (Some(rule), Some(owner)) = (core.settings.signals.task_rule(f.kind), owner) else {
        return Ok(None);
    };
    let title = task_title(f.kind, &f.evidence, namer);
    let details = super::summary(f.kind, &f.evidence, namer, crate::domain::Lang::En);
    let priority = match f.severity {
        SignalSeverity::Critical if rule.priority < crate::domain::TaskPriority::High => {
            crate::domain::TaskPriority::High
        }
        _ => rule.priority,
    };
    let task = tasks::ActiveModel {
        client_id: Set(Some(f.client_id)),
        title: Set(title.clone()),
        details: Set(details),
        due_at: Set(Some(task_due(&rule, f.fact_at, now))),
        assignee_id: Set(Some(*owner)),
        creator_id: Set(None),
        priority: Set(priority.as_str().to_owned()),
        status: Set(TaskStatus::Open.as_str().to_owned()),
        source: Set(TaskSource::Signal.as_str().to_owned()),
        source_ref: Set(Some(format!("signal:{signal_id}"))),
        created_at: Set(now),
        updated_at: Set(now),
        closed_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    signals::Entity::update_many()
        .col_expr(signals::Column::TaskId, Expr::value(task.id))
        .filter(signals::Column::Id.eq(signal_id))
        .exec(conn)
        .await?;
    crate::timeline::record(
        conn,
        NewEvent::new(
            f.client_id,
            TimelineKind::TaskCreated,
            EventData::Task { title },
        )
        .at(now)
        .object("task", task.id),
    )
    .await?;
    crate::audit::record_in(
        conn,
        crate::audit::AuditEvent::new("task.create")
            .entity("task", task.id)
            .detail("assignee", *owner)
            .detail("source", TaskSource::Signal.as_str())
            .detail("signal", signal_id)
            .detail("client", f.client_id),
    )
    .await?;
    Ok(Some((task.id, *owner)))
}
