//! Signals: moments a manager should act on, found in the stored data of every linked bank (a
//! consent about to lapse, a deposit maturing here or elsewhere, a salary that stopped or moved
//! to another bank, an income drop, a large inflow, an overdraft, a rating downgrade, a product
//! taken at another bank, a balance heading below its floor).
//!
//! - **Computed** by [`SignalsJob`]: after every sync run for the run's clients, and every
//!   morning at [`DAILY_HOUR_UTC`] for every client (time-based kinds: expiries, maturities,
//!   late salaries). The rules
//!   are pure functions (`detect.rs`); the inputs are read in batches (`compute.rs`).
//! - **Once per fact.** Each signal has a `dedupe_key` naming its fact, unique in the table:
//!   a rerun, or two replicas computing at once, inserts it once (`ON CONFLICT DO NOTHING`).
//!   A condition that stops holding (the consent was renewed, the salary came) closes its
//!   signal as `NO_LONGER_APPLIES`, and the same fact opens it again if it returns; a fact a
//!   person dismissed, or whose task they completed, is never raised again.
//! - **Work.** Per-kind rules ([`TaskRule`], configurable) create a task for the client's
//!   owner, due when the kind implies, linked both ways (`signals.task_id`, the task's
//!   `source_ref` `signal:<id>`). Completing the task closes the signal (`TASK_DONE`);
//!   reopening it opens the signal again; dismissing the signal (with a reason) cancels its
//!   open task.
//! - **Seen.** Raising and closing write timeline entries in the same transaction; the bus
//!   carries `SignalRaised` to `signalRaised` subscribers of every replica.
//!
//! Evidence holds figures (amounts in minor units with their currency, dates, numbers) and the
//! ids of the rows they come from; the one-line summary is written from it when read, in
//! Russian and English.

mod compute;
pub(crate) mod detect;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::access::Need;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::domain::format::{format_date_of, format_month, format_number};
use crate::domain::{
    format_money, Currency, Lang, Localized, Money, Role, SignalKind, SignalSeverity, SignalState,
    TaskPriority, TaskStatus, TimelineKind,
};
use crate::entity::{clients, signals, tasks};
use crate::error::{CoreError, CoreResult};
use crate::events::Event;
use crate::insights::Figure;
use crate::jobs::{self, Job, Schedule};
use crate::timeline::{EventData, NewEvent};
use crate::Core;

pub use compute::ComputeReport;

/// Most signals one page returns.
pub const PAGE_MAX: u64 = 200;
/// Longest dismissal reason, in characters.
pub const REASON_MAX: usize = 1_000;

/// How `resolution` says a signal closed.
pub const TASK_DONE: &str = "TASK_DONE";
pub const NO_LONGER_APPLIES: &str = "NO_LONGER_APPLIES";
pub const DISMISSED: &str = "DISMISSED";

/// The task a kind's signal creates for the client's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRule {
    /// Due this many days after the signal is raised (never later than a day before its fact:
    /// a maturity, an expiry).
    pub due_in_days: i64,
    pub priority: TaskPriority,
}

/// Thresholds of the rules and the task rules (`SIGNAL_*` in the configuration).
#[derive(Clone, Debug)]
pub struct SignalSettings {
    /// Days before a consent's expiry at which it is raised and escalated (`14,7,1`).
    pub consent_days: Vec<i64>,
    /// Deposits maturing and loans ending within this many days (30).
    pub maturity_days: i64,
    /// Days after its usual date a salary counts as missing (5).
    pub salary_grace_days: i64,
    /// A month's income this many percent below the usual is a drop (30).
    pub income_drop_percent: u32,
    /// Usual monthly income (base currency, minor units) below which drops are not judged.
    pub income_drop_min_minor: i64,
    /// A credit of at least this much (minor units of its currency) … (100 000 ₽)
    pub large_inflow_min_minor: i64,
    /// … and this many times the client's usual monthly income (the median of the months
    /// before) is a large inflow (5). Salaries, interest, refunds and own transfers never are.
    pub large_inflow_multiple: u32,
    /// Credits of the last this many days are looked at (14).
    pub large_inflow_days: i64,
    /// The forecast horizon for a low balance, in days (14).
    pub low_balance_days: i64,
    /// The floor a balance should stay above (minor units; 0).
    pub low_balance_floor_minor: i64,
    /// Rating changes of the last this many days are looked at (30).
    pub rating_lookback_days: i64,
    /// A product at another bank opened (or first seen) within this many days is new (60).
    pub new_product_days: i64,
    /// The bank whose managers use AI-CRM (`HOME_BANK`): products elsewhere are "held away".
    /// Without it nothing is "elsewhere".
    pub home_bank: Option<String>,
    /// Which kinds create a task, due when, how urgent (`None`: no task).
    pub task_rules: HashMap<SignalKind, Option<TaskRule>>,
}

impl SignalSettings {
    /// The default task rule of each kind.
    pub fn default_task_rule(kind: SignalKind) -> Option<TaskRule> {
        use SignalKind::*;
        use TaskPriority::*;
        let (due_in_days, priority) = match kind {
            ConsentExpiring => (3, Normal),
            ConsentLost => (1, High),
            DepositMaturing => (5, Normal),
            LoanEnding => (10, Low),
            SalaryMissing => (2, High),
            SalaryMoved => (2, High),
            IncomeDrop => (5, Normal),
            LargeInflow => (2, High),
            LowBalanceAhead => (2, High),
            Overdraft => (1, Urgent),
            RatingDowngrade => (5, Normal),
            NewExternalProduct => (5, Normal),
        };
        Some(TaskRule {
            due_in_days,
            priority,
        })
    }

    /// The rule for `kind`: the configured one, else the default.
    pub fn task_rule(&self, kind: SignalKind) -> Option<TaskRule> {
        match self.task_rules.get(&kind) {
            Some(rule) => *rule,
            None => Self::default_task_rule(kind),
        }
    }
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            consent_days: vec![14, 7, 1],
            maturity_days: 30,
            salary_grace_days: 5,
            income_drop_percent: 30,
            income_drop_min_minor: 1_000_000,
            large_inflow_min_minor: 10_000_000,
            large_inflow_multiple: 5,
            large_inflow_days: 14,
            low_balance_days: 14,
            low_balance_floor_minor: 0,
            rating_lookback_days: 30,
            new_product_days: 60,
            home_bank: None,
            task_rules: HashMap::new(),
        }
    }
}

/// What a signal rests on: figures and the rows they come from. Stored as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `(name, minor units, currency)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub money: Vec<(String, i64, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<(String, DateTime<Utc>)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<(String, Decimal)>,
    /// Codes and names as the banks wrote them: `bank`, `product`, `employer`, grades.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<(String, String)>,
    /// `(type, id)`: `transaction`, `agreement`, `link`, `account`, `timeline`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<(String, i64)>,
}

impl Evidence {
    pub(crate) fn money(mut self, name: &str, minor: i64, currency: &str) -> Self {
        self.money
            .push((name.to_owned(), minor, currency.to_owned()));
        self
    }
    pub(crate) fn date(mut self, name: &str, at: DateTime<Utc>) -> Self {
        self.dates.push((name.to_owned(), at));
        self
    }
    pub(crate) fn number(mut self, name: &str, value: Decimal) -> Self {
        self.numbers.push((name.to_owned(), value));
        self
    }
    pub(crate) fn code(mut self, name: &str, value: &str) -> Self {
        self.codes.push((name.to_owned(), value.to_owned()));
        self
    }
    pub(crate) fn refer(mut self, kind: &str, id: i64) -> Self {
        self.refs.push((kind.to_owned(), id));
        self
    }

    pub fn code_of(&self, name: &str) -> Option<&str> {
        self.codes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn number_of(&self, name: &str) -> Option<Decimal> {
        self.numbers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
    pub fn money_of(&self, name: &str) -> Option<Money> {
        self.money
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, minor, cur)| Money::new(*minor, Currency::from_db(cur.clone())))
    }
    pub fn date_of(&self, name: &str) -> Option<DateTime<Utc>> {
        self.dates.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }
    /// The ids of the rows of one type.
    pub fn ids_of(&self, kind: &str) -> Vec<i64> {
        self.refs
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| *id)
            .collect()
    }

    /// The figures, as the insights give theirs (money, numbers, dates).
    pub fn figures(&self) -> Vec<Figure> {
        let mut out: Vec<Figure> = self
            .money
            .iter()
            .map(|(name, minor, cur)| {
                Figure::money(name, Money::new(*minor, Currency::from_db(cur.clone())))
            })
            .collect();
        out.extend(self.numbers.iter().map(|(name, v)| Figure {
            name: name.clone(),
            value: crate::insights::FigureValue::Number(*v),
        }));
        out.extend(self.dates.iter().map(|(name, at)| Figure::date(name, *at)));
        out
    }

    fn to_json(&self) -> CoreResult<String> {
        serde_json::to_string(self).map_err(|e| CoreError::Internal(format!("evidence: {e}")))
    }

    fn from_json(text: &str, id: i64) -> CoreResult<Self> {
        serde_json::from_str(text)
            .map_err(|e| CoreError::Internal(format!("signal {id}: unreadable evidence: {e}")))
    }
}

/// A signal as read.
#[derive(Clone, Debug)]
pub struct Signal {
    pub id: i64,
    pub client_id: i64,
    pub kind: SignalKind,
    pub severity: SignalSeverity,
    pub state: SignalState,
    /// `TASK_DONE`, `NO_LONGER_APPLIES` or `DISMISSED` once closed.
    pub resolution: Option<String>,
    /// Why a person dismissed it.
    pub reason: Option<String>,
    pub evidence: Evidence,
    pub fact_at: Option<DateTime<Utc>>,
    pub task_id: Option<i64>,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// One line in Russian and English, from the evidence.
    pub summary: Localized,
}

impl Signal {
    fn from_row(m: signals::Model, bank_name: &dyn Fn(&str) -> String) -> CoreResult<Self> {
        let kind = SignalKind::parse(&m.kind)?;
        let evidence = Evidence::from_json(&m.evidence, m.id)?;
        let summary = Localized::new(
            summary(kind, &evidence, bank_name, Lang::Ru),
            summary(kind, &evidence, bank_name, Lang::En),
        );
        Ok(Signal {
            id: m.id,
            client_id: m.client_id,
            kind,
            severity: SignalSeverity::parse(&m.severity)?,
            state: SignalState::parse(&m.state)?,
            resolution: m.resolution,
            reason: m.reason,
            evidence,
            fact_at: m.fact_at,
            task_id: m.task_id,
            raised_at: m.raised_at,
            updated_at: m.updated_at,
            closed_at: m.closed_at,
            summary,
        })
    }

    /// Open or acknowledged: still wants attention.
    pub fn is_open(&self) -> bool {
        matches!(self.state, SignalState::Open | SignalState::Acknowledged)
    }
}

/// Which signals a list returns.
#[derive(Clone, Debug, Default)]
pub struct SignalFilter {
    /// Open and acknowledged ones when empty.
    pub states: Vec<SignalState>,
    /// Every kind when empty.
    pub kinds: Vec<SignalKind>,
    pub client_id: Option<i64>,
    pub min_severity: Option<SignalSeverity>,
}

fn severity_rank(s: SignalSeverity) -> u8 {
    match s {
        SignalSeverity::Info => 0,
        SignalSeverity::Warning => 1,
        SignalSeverity::Critical => 2,
    }
}

fn kind_title(kind: SignalKind, lang: Lang) -> &'static str {
    kind.title(lang)
}

/// The signal's one line, from its evidence.
pub fn summary(
    kind: SignalKind,
    e: &Evidence,
    bank_name: &dyn Fn(&str) -> String,
    lang: Lang,
) -> String {
    use SignalKind::*;
    let bank = e.code_of("bank").map(bank_name).unwrap_or_default();
    let money = |name: &str| {
        e.money_of(name)
            .map(|m| format_money(&m, lang))
            .unwrap_or_default()
    };
    let date = |name: &str| {
        e.date_of(name)
            .map(|d| format_date_of(d, lang))
            .unwrap_or_default()
    };
    let number = |name: &str| {
        e.number_of(name)
            .map(|n| format_number(crate::domain::format::to_f64(n), 1, lang))
            .unwrap_or_default()
    };
    let days = |name: &str| {
        e.number_of(name)
            .map(|n| n.trunc().to_string())
            .unwrap_or_default()
    };
    let product = e.code_of("product").unwrap_or("");
    let elsewhere = e.code_of("held") == Some("ELSEWHERE");
    match (kind, lang) {
        (ConsentExpiring, Lang::Ru) => format!(
            "Согласие {bank} истекает {} (осталось дней: {})",
            date("expires_at"),
            days("days_left")
        ),
        (ConsentExpiring, Lang::En) => format!(
            "{bank} consent expires on {} ({} days left)",
            date("expires_at"),
            days("days_left")
        ),
        (ConsentLost, _) => {
            let status = e.code_of("consent_status").unwrap_or("");
            let word = match (status, lang) {
                ("REVOKED", Lang::Ru) => "отозвано",
                ("EXPIRED", Lang::Ru) => "истекло",
                ("REJECTED", Lang::Ru) => "отклонено",
                ("REVOKED", Lang::En) => "revoked",
                ("EXPIRED", Lang::En) => "expired",
                ("REJECTED", Lang::En) => "rejected",
                (other, _) => other,
            };
            match lang {
                Lang::Ru => format!("Согласие {bank} {word}: данные банка больше не обновляются"),
                Lang::En => format!("{bank} consent {word}: the bank's data is no longer updated"),
            }
        }
        (DepositMaturing | LoanEnding, Lang::Ru) => format!(
            "{} «{product}» в {bank}{} на {} {} {}",
            if kind == DepositMaturing {
                "Вклад"
            } else {
                "Кредит"
            },
            if elsewhere {
                " (другой банк)"
            } else {
                ""
            },
            money("amount"),
            if kind == DepositMaturing {
                "погашается"
            } else {
                "заканчивается"
            },
            date("ends_at")
        ),
        (DepositMaturing | LoanEnding, Lang::En) => format!(
            "{} “{product}” at {bank}{} for {} {} on {}",
            if kind == DepositMaturing {
                "Deposit"
            } else {
                "Loan"
            },
            if elsewhere { " (another bank)" } else { "" },
            money("amount"),
            if kind == DepositMaturing {
                "matures"
            } else {
                "ends"
            },
            date("ends_at")
        ),
        (SalaryMissing, Lang::Ru) => format!(
            "Зарплата от {} (обычно {}) не пришла: ожидалась {}",
            e.code_of("employer").unwrap_or(""),
            money("typical_amount"),
            date("expected_at")
        ),
        (SalaryMissing, Lang::En) => format!(
            "Salary from {} (usually {}) has not arrived: expected on {}",
            e.code_of("employer").unwrap_or(""),
            money("typical_amount"),
            date("expected_at")
        ),
        (SalaryMoved, _) => {
            let from = e.code_of("from_bank").map(bank_name).unwrap_or_default();
            let employer = e.code_of("employer").unwrap_or("");
            match lang {
                Lang::Ru => format!(
                    "Зарплата от {employer} ({}) теперь приходит в {bank}, а не в {from}",
                    money("amount")
                ),
                Lang::En => format!(
                    "Salary from {employer} ({}) now arrives at {bank} instead of {from}",
                    money("amount")
                ),
            }
        }
        (IncomeDrop, _) => {
            // `month` is `YYYYMM`.
            let month = e
                .number_of("month")
                .and_then(|m| rust_decimal::prelude::ToPrimitive::to_i64(&m))
                .map(|m| format_month((m / 100) as i32, (m % 100) as u32, lang))
                .unwrap_or_default();
            match lang {
                Lang::Ru => format!(
                    "Доход за {month}: {}, на {} % ниже обычного ({})",
                    money("month_income"),
                    number("drop_percent"),
                    money("usual_income")
                ),
                Lang::En => format!(
                    "Income in {month}: {}, {}% below the usual {}",
                    money("month_income"),
                    number("drop_percent"),
                    money("usual_income")
                ),
            }
        }
        (LargeInflow, Lang::Ru) => format!(
            "Поступление {} в {bank} {}: в {} раза больше обычного месячного дохода ({}) — повод предложить вклад",
            money("amount"),
            date("booked_at"),
            number("multiple"),
            money("usual_monthly_income")
        ),
        (LargeInflow, Lang::En) => format!(
            "{} came in at {bank} on {}: {}× the usual monthly income ({}), a deposit opportunity",
            money("amount"),
            date("booked_at"),
            number("multiple"),
            money("usual_monthly_income")
        ),
        (LowBalanceAhead, Lang::Ru) => format!(
            "По прогнозу остаток станет меньше {} {} и опустится до {} к {} (сейчас {})",
            money("floor"),
            date("below_on"),
            money("lowest_balance"),
            date("lowest_on"),
            money("balance_today")
        ),
        (LowBalanceAhead, Lang::En) => format!(
            "The forecast balance goes below {} on {} and down to {} by {} (now {})",
            money("floor"),
            date("below_on"),
            money("lowest_balance"),
            date("lowest_on"),
            money("balance_today")
        ),
        (Overdraft, Lang::Ru) => format!(
            "Счёт {} в {bank} в минусе: {}",
            e.code_of("account_number").unwrap_or(""),
            money("balance")
        ),
        (Overdraft, Lang::En) => format!(
            "Account {} at {bank} is overdrawn: {}",
            e.code_of("account_number").unwrap_or(""),
            money("balance")
        ),
        (RatingDowngrade, Lang::Ru) => format!(
            "Рейтинг снизился: {} → {}",
            e.code_of("from_grade").unwrap_or("?"),
            e.code_of("to_grade").unwrap_or("?")
        ),
        (RatingDowngrade, Lang::En) => format!(
            "Rating downgraded: {} → {}",
            e.code_of("from_grade").unwrap_or("?"),
            e.code_of("to_grade").unwrap_or("?")
        ),
        (NewExternalProduct, _) => {
            let what = match (e.code_of("agreement_kind"), lang) {
                (Some("DEPOSIT"), Lang::Ru) => "вклад",
                (Some("DEPOSIT"), Lang::En) => "deposit",
                (Some("CREDIT_LINE"), Lang::Ru) => "кредитная линия",
                (Some("CREDIT_LINE"), Lang::En) => "credit line",
                (_, Lang::Ru) => "кредит",
                (_, Lang::En) => "loan",
            };
            match lang {
                Lang::Ru => format!("Новый {what} в {bank}: «{product}» на {}", money("amount")),
                Lang::En => format!("New {what} at {bank}: “{product}” for {}", money("amount")),
            }
        }
    }
}

/// Computes the signals of some clients (all when `None`) at the time the job runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SignalsJob {
    pub client_ids: Option<Vec<i64>>,
}

impl Job for SignalsJob {
    const KIND: &'static str = "signals";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        let report = core
            .compute_signals(self.client_ids.as_deref(), Utc::now())
            .await?;
        tracing::info!(
            clients = report.clients,
            raised = report.raised,
            escalated = report.escalated,
            closed = report.closed,
            tasks = report.tasks,
            "signals computed"
        );
        Ok(())
    }
}

/// Queues the signals of the clients a sync run touched (in its own statement; a lost queueing
/// is made good by the daily run).
pub(crate) async fn enqueue_for<C: sea_orm::ConnectionTrait>(
    conn: &C,
    run_id: i64,
    client_ids: Vec<i64>,
) -> CoreResult<()> {
    if client_ids.is_empty() {
        return Ok(());
    }
    jobs::enqueue_in(
        conn,
        &SignalsJob {
            client_ids: Some(client_ids),
        },
        Schedule::once(format!("signals:run:{run_id}")),
    )
    .await?;
    Ok(())
}

/// The hour (UTC) of the daily computation: 06:00 in Moscow, before the working day, so "My
/// day" holds the day's expiries, maturities and late salaries when managers start.
pub const DAILY_HOUR_UTC: u32 = 3;

/// Queues the next daily computation for every client (the next [`DAILY_HOUR_UTC`] after
/// `now`), once per day across replicas. Never due at once: a server that starts mid-day waits
/// for the next morning (syncs compute their clients' signals meanwhile).
pub(crate) async fn enqueue_daily<C: sea_orm::ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    let at = next_daily_run(now);
    let queued = jobs::enqueue_in(
        conn,
        &SignalsJob { client_ids: None },
        Schedule {
            run_at: Some(at),
            unique_key: Some(format!("signals:daily:{}", at.date_naive())),
        },
    )
    .await?;
    Ok(queued.is_some())
}

/// The first [`DAILY_HOUR_UTC`] o'clock strictly after `now`.
fn next_daily_run(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now
        .date_naive()
        .and_hms_opt(DAILY_HOUR_UTC, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// The task `task_id` moved to `to` (in that change's transaction): its signal follows.
/// Completing closes the signal (`TASK_DONE`); reopening opens a signal its completion had
/// closed.
pub(crate) async fn follow_task<C: sea_orm::ConnectionTrait>(
    conn: &C,
    task_id: i64,
    to: TaskStatus,
    actor: &Actor,
) -> CoreResult<Option<i64>> {
    let Some(signal) = signals::Entity::find()
        .filter(signals::Column::TaskId.eq(task_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    let open = [
        SignalState::Open.as_str(),
        SignalState::Acknowledged.as_str(),
    ];
    let update = match to {
        TaskStatus::Done if open.contains(&signal.state.as_str()) => Some((
            SignalState::Done,
            Some(TASK_DONE),
            Some(now),
            Some(actor.user_id).filter(|id| *id > 0),
        )),
        TaskStatus::Open
            if signal.state == SignalState::Done.as_str()
                && signal.resolution.as_deref() == Some(TASK_DONE) =>
        {
            Some((SignalState::Open, None, None, None))
        }
        _ => None,
    };
    let Some((state, resolution, closed_at, closed_by)) = update else {
        return Ok(None);
    };
    signals::Entity::update_many()
        .col_expr(signals::Column::State, Expr::value(state.as_str()))
        .col_expr(signals::Column::Resolution, Expr::value(resolution))
        .col_expr(signals::Column::ClosedAt, Expr::value(closed_at))
        .col_expr(signals::Column::ClosedBy, Expr::value(closed_by))
        .col_expr(signals::Column::UpdatedAt, Expr::value(now))
        .filter(signals::Column::Id.eq(signal.id))
        .exec(conn)
        .await?;
    if state == SignalState::Done {
        crate::timeline::record(
            conn,
            NewEvent::new(
                signal.client_id,
                TimelineKind::SignalClosed,
                EventData::Signal {
                    kind: signal.kind.clone(),
                    resolution: Some(TASK_DONE.to_owned()),
                },
            )
            .at(now)
            .by(actor)
            .object("signal", signal.id),
        )
        .await?;
    }
    Ok(Some(signal.client_id))
}

impl Core {
    fn bank_namer(&self) -> impl Fn(&str) -> String + '_ {
        move |code: &str| self.banks.describe(code).name
    }

    pub(crate) fn signal_from_row(&self, m: signals::Model) -> CoreResult<Signal> {
        let namer = self.bank_namer();
        Signal::from_row(m, &namer)
    }

    /// The signals of `actor`'s book matching `filter`, newest first, a page of `first` after
    /// the position `after` (`(raised_at, id)` of the last one seen). The access rule is part of the
    /// query, so the total and the pages are the book's.
    pub async fn signals(
        &self,
        actor: &Actor,
        filter: &SignalFilter,
        first: u64,
        after: Option<(DateTime<Utc>, i64)>,
    ) -> CoreResult<crate::Page<Signal>> {
        let first = first.clamp(1, PAGE_MAX);
        let mut q = self.signal_query(actor, filter).await?;
        if let Some((at, id)) = after {
            let at = crate::domain::clamp_to_stored_years(at);
            q = q.filter(
                Condition::any().add(signals::Column::RaisedAt.lt(at)).add(
                    Condition::all()
                        .add(signals::Column::RaisedAt.eq(at))
                        .add(signals::Column::Id.lt(id)),
                ),
            );
        }
        let rows = q
            .order_by_desc(signals::Column::RaisedAt)
            .order_by_desc(signals::Column::Id)
            .limit(first + 1)
            .all(self.db.conn())
            .await?;
        crate::Page::from_overfetch(rows, first, |m| self.signal_from_row(m))
    }

    /// How many signals `signals` would list in all.
    pub async fn count_signals(&self, actor: &Actor, filter: &SignalFilter) -> CoreResult<u64> {
        use sea_orm::PaginatorTrait;
        Ok(self
            .signal_query(actor, filter)
            .await?
            .count(self.db.conn())
            .await?)
    }

    async fn signal_query(
        &self,
        actor: &Actor,
        filter: &SignalFilter,
    ) -> CoreResult<sea_orm::Select<signals::Entity>> {
        let mut q = signals::Entity::find();
        let states: Vec<&str> = if filter.states.is_empty() {
            vec![
                SignalState::Open.as_str(),
                SignalState::Acknowledged.as_str(),
            ]
        } else {
            filter.states.iter().map(|s| s.as_str()).collect()
        };
        q = q.filter(signals::Column::State.is_in(states));
        if !filter.kinds.is_empty() {
            q = q.filter(signals::Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
        }
        if let Some(min) = filter.min_severity {
            let allowed: Vec<&str> = SignalSeverity::ALL
                .iter()
                .filter(|s| severity_rank(**s) >= severity_rank(min))
                .map(|s| s.as_str())
                .collect();
            q = q.filter(signals::Column::Severity.is_in(allowed));
        }
        if let Some(client_id) = filter.client_id {
            self.client_for(actor, client_id, Need::Read).await?;
            q = q.filter(signals::Column::ClientId.eq(client_id));
        } else if let Some(cond) = crate::access::visible_condition(actor, Utc::now()) {
            let visible = Query::select()
                .column(clients::Column::Id)
                .from(clients::Entity)
                .cond_where(cond)
                .to_owned();
            q = q.filter(signals::Column::ClientId.in_subquery(visible));
        }
        Ok(q)
    }

    /// One signal of `actor`'s book.
    pub async fn signal(&self, actor: &Actor, id: i64) -> CoreResult<Signal> {
        let row = self.signal_row(id).await?;
        match self.client_for(actor, row.client_id, Need::Read).await {
            Err(CoreError::NotFound { .. }) => Err(CoreError::not_found("signal", id)),
            Err(e) => Err(e),
            Ok(_) => self.signal_from_row(row),
        }
    }

    async fn signal_row(&self, id: i64) -> CoreResult<signals::Model> {
        signals::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("signal", id))
    }

    /// The signals of several tasks (`source_ref` and `task_id`), one query.
    pub async fn signals_of_tasks(&self, task_ids: &[i64]) -> CoreResult<HashMap<i64, Signal>> {
        if task_ids.is_empty() {
            return Ok(HashMap::new());
        }
        signals::Entity::find()
            .filter(signals::Column::TaskId.is_in(task_ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .filter_map(|m| m.task_id.map(|t| (t, m)))
            .map(|(t, m)| Ok((t, self.signal_from_row(m)?)))
            .collect()
    }

    /// A signal `actor` may act on (not as a viewer; the client changeable by them).
    async fn signal_for_change(&self, actor: &Actor, id: i64) -> CoreResult<signals::Model> {
        let row = self.signal_row(id).await?;
        match self.client_for(actor, row.client_id, Need::Change).await {
            Err(CoreError::NotFound { .. }) => Err(CoreError::not_found("signal", id)),
            Err(e) => Err(e),
            Ok(_) => Ok(row),
        }
    }

    /// Marks an open signal as seen: it stays on the lists until done or dismissed.
    pub async fn acknowledge_signal(&self, actor: &Actor, id: i64) -> CoreResult<Signal> {
        let row = self.signal_for_change(actor, id).await?;
        if row.state != SignalState::Open.as_str() {
            return Err(CoreError::invalid(format!(
                "the signal is {}: only an open signal is acknowledged",
                row.state
            )));
        }
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        signals::Entity::update_many()
            .col_expr(
                signals::Column::State,
                Expr::value(SignalState::Acknowledged.as_str()),
            )
            .col_expr(signals::Column::UpdatedAt, Expr::value(now))
            .filter(signals::Column::Id.eq(id))
            .filter(signals::Column::State.eq(SignalState::Open.as_str()))
            .exec(&txn)
            .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("signal.acknowledge")
                .actor(actor)
                .entity("signal", id)
                .detail("client", row.client_id),
        )
        .await?;
        txn.commit().await?;
        self.signal(actor, id).await
    }

    /// Dismisses an open or acknowledged signal with a reason; its open task is cancelled.
    /// The fact is not raised again.
    pub async fn dismiss_signal(&self, actor: &Actor, id: i64, reason: &str) -> CoreResult<Signal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::invalid("say why the signal is dismissed"));
        }
        let n = reason.chars().count();
        if n > REASON_MAX || crate::domain::has_hidden_controls(reason) {
            return Err(CoreError::invalid(format!(
                "a reason is plain text of at most {REASON_MAX} characters; this one has {n}"
            )));
        }
        let row = self.signal_for_change(actor, id).await?;
        if !matches!(
            SignalState::parse(&row.state)?,
            SignalState::Open | SignalState::Acknowledged
        ) {
            return Err(CoreError::invalid(format!(
                "the signal is {}: it cannot be dismissed",
                row.state
            )));
        }
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        signals::Entity::update_many()
            .col_expr(
                signals::Column::State,
                Expr::value(SignalState::Dismissed.as_str()),
            )
            .col_expr(signals::Column::Resolution, Expr::value(DISMISSED))
            .col_expr(signals::Column::Reason, Expr::value(reason))
            .col_expr(signals::Column::ClosedAt, Expr::value(now))
            .col_expr(
                signals::Column::ClosedBy,
                Expr::value(Some(actor.user_id).filter(|id| *id > 0)),
            )
            .col_expr(signals::Column::UpdatedAt, Expr::value(now))
            .filter(signals::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let mut cancelled = None;
        if let Some(task_id) = row.task_id {
            let n = tasks::Entity::update_many()
                .col_expr(
                    tasks::Column::Status,
                    Expr::value(TaskStatus::Cancelled.as_str()),
                )
                .col_expr(tasks::Column::ClosedAt, Expr::value(Some(now)))
                .col_expr(tasks::Column::UpdatedAt, Expr::value(now))
                .filter(tasks::Column::Id.eq(task_id))
                .filter(tasks::Column::Status.eq(TaskStatus::Open.as_str()))
                .exec(&txn)
                .await?
                .rows_affected;
            if n > 0 {
                cancelled = Some(task_id);
                crate::audit::record_in(
                    &txn,
                    AuditEvent::new("task.cancel")
                        .actor(actor)
                        .entity("task", task_id)
                        .detail("signal", id),
                )
                .await?;
            }
        }
        crate::timeline::record(
            &txn,
            NewEvent::new(
                row.client_id,
                TimelineKind::SignalClosed,
                EventData::Signal {
                    kind: row.kind.clone(),
                    resolution: Some(DISMISSED.to_owned()),
                },
            )
            .at(now)
            .by(actor)
            .object("signal", id),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("signal.dismiss")
                .actor(actor)
                .entity("signal", id)
                .detail("client", row.client_id),
        )
        .await?;
        txn.commit().await?;
        if let Some(task_id) = cancelled {
            let assignee = tasks::Entity::find_by_id(task_id)
                .one(self.db.conn())
                .await?
                .and_then(|t| t.assignee_id);
            self.events().publish(Event::TaskChanged {
                task_id,
                assignee_id: assignee,
                previous_assignee_id: None,
            });
        }
        self.announce_timeline(row.client_id);
        self.signal(actor, id).await
    }

    /// Computes the signals of `client_ids` (every client when `None`) at `now`: raises new
    /// facts (with their tasks), escalates open ones, closes conditions that stopped holding.
    pub async fn compute_signals(
        &self,
        client_ids: Option<&[i64]>,
        now: DateTime<Utc>,
    ) -> CoreResult<ComputeReport> {
        compute::run(self, client_ids, now).await
    }
}

/// The signals raised from now on in `actor`'s book, as they commit (on any replica).
pub fn live_feed(
    core: Arc<Core>,
    actor: Actor,
) -> impl futures_util::Stream<Item = CoreResult<Signal>> {
    use tokio::sync::broadcast::error::RecvError;
    async_stream::try_stream! {
        let mut raised = core.events().signals_raised();
        loop {
            let (signal_id, client_id) = match raised.recv().await {
                Ok(ids) => ids,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            if !core.sees_client(&actor, client_id).await? {
                continue;
            }
            match core.signal(&actor, signal_id).await {
                Ok(signal) => yield signal,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => Err(e)?,
            }
        }
    }
}

/// The due time of a signal's task raised at `now`: the rule's days, but no later than a day
/// before the fact; never sooner than [`TASK_LEAD`] from now (a task is not born overdue), and
/// never after the fact itself.
pub(crate) fn task_due(
    rule: &TaskRule,
    fact_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut due = now + Duration::days(rule.due_in_days.max(0));
    if let Some(fact) = fact_at.filter(|f| *f > now) {
        due = due.min(fact - Duration::days(1));
    }
    due = due.max(now + TASK_LEAD);
    if let Some(fact) = fact_at.filter(|f| *f > now) {
        due = due.min(fact);
    }
    due
}

/// The least time a signal's task gets.
const TASK_LEAD: Duration = Duration::hours(4);

/// The owner of a client as a task's assignee: an active manager or administrator.
pub(crate) fn can_take_tasks(role: &str, disabled: bool) -> bool {
    !disabled && matches!(Role::parse(role), Ok(Role::Manager | Role::Admin))
}

/// The task title of a signal (Russian, the language of the bank's staff; the web app shows
/// the signal's own summary in the reader's language beside it).
pub(crate) fn task_title(
    kind: SignalKind,
    evidence: &Evidence,
    bank_name: &dyn Fn(&str) -> String,
) -> String {
    let line = summary(kind, evidence, bank_name, Lang::Ru);
    let title = format!("{}: {line}", kind_title(kind, Lang::Ru));
    if title.chars().count() > crate::domain::TASK_TITLE_MAX {
        let cut: String = title
            .chars()
            .take(crate::domain::TASK_TITLE_MAX - 1)
            .collect();
        format!("{cut}…")
    } else {
        title
    }
}

/// The kind's short name, for lists and the timeline.
pub fn kind_name(kind: SignalKind, lang: Lang) -> &'static str {
    kind_title(kind, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_due_by_its_rule_but_a_day_before_its_fact() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let rule = TaskRule {
            due_in_days: 5,
            priority: TaskPriority::Normal,
        };
        assert_eq!(task_due(&rule, None, now), now + Duration::days(5));
        assert_eq!(
            task_due(&rule, Some(now + Duration::days(3)), now),
            now + Duration::days(2)
        );
        // Never born overdue: four hours at least, but not past the fact.
        assert_eq!(
            task_due(&rule, Some(now + Duration::hours(5)), now),
            now + Duration::hours(4)
        );
        assert_eq!(
            task_due(&rule, Some(now + Duration::hours(2)), now),
            now + Duration::hours(2)
        );
        let today = TaskRule {
            due_in_days: 0,
            priority: TaskPriority::Urgent,
        };
        assert_eq!(task_due(&today, None, now), now + Duration::hours(4));
    }

    #[test]
    fn every_kind_has_a_summary_in_both_languages_and_a_default_rule() {
        let e = Evidence::default()
            .code("bank", "vbank")
            .money("amount", 12_345_600, "RUB")
            .date("ends_at", Utc::now());
        let namer = |c: &str| c.to_uppercase();
        for kind in SignalKind::ALL {
            for lang in [Lang::Ru, Lang::En] {
                assert!(!summary(*kind, &e, &namer, lang).is_empty(), "{kind:?}");
            }
            assert!(SignalSettings::default_task_rule(*kind).is_some());
        }
        let line = summary(SignalKind::DepositMaturing, &e, &namer, Lang::Ru);
        assert!(
            line.contains("VBANK")
                && line
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .contains("123456₽"),
            "{line}"
        );
    }

    #[test]
    fn the_daily_run_is_the_next_morning_never_now() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(
            next_daily_run(at("2026-12-07T01:00:00Z")),
            at("2026-12-07T03:00:00Z")
        );
        assert_eq!(
            next_daily_run(at("2026-12-07T03:00:00Z")),
            at("2026-12-08T03:00:00Z")
        );
        assert_eq!(
            next_daily_run(at("2026-12-07T22:00:00Z")),
            at("2026-12-08T03:00:00Z")
        );
    }

    #[test]
    fn evidence_round_trips_as_json() {
        let e = Evidence::default()
            .money("amount", -1_500, "RUB")
            .number("multiple", Decimal::new(755, 1))
            .refer("transaction", 42);
        let back = Evidence::from_json(&e.to_json().expect("json"), 1).expect("read");
        assert_eq!(back, e);
        assert_eq!(back.ids_of("transaction"), vec![42]);
    }
}
