//! Client ratings: an A/B/C grade and a 0–100 score with the factors that explain them.
//!
//! **Inputs.** The last 12 months up to now across all of the client's banks — or less, from the
//! first booked transaction, when the history is shorter (a `history` factor then subtracts 2
//! points per month below 6). Only data in the base currency is rated: rows in other
//! currencies are not converted (there are no exchange rates to trust), and an
//! `other_currencies` factor says which were left out. Monthly figures are window totals divided
//! by the months of data (1 to 12). Income is every booked credit except refunds; spending is
//! every booked debit less refunds.
//!
//! **Factors and weights:** see [`model`]; `score = clamp(round(50 + Σ impacts), 0, 100)` and
//! the grade comes from `RATING_A_MIN` (default 70) and `RATING_B_MIN` (45).
//!
//! **No data, no rating.** A client without a booked transaction in the base currency in the
//! window is not rated (`None`, and a stored rating is removed): a grade needs evidence.
//!
//! **When.** After each sync for the clients it synced, after a manual entry or a
//! recategorisation, on demand (`recompute_rating`), and on first read for a client with data
//! that was never rated (data loaded before ratings existed). Computing one rating costs nine
//! indexed statements and one bounded read of the window's credits.

pub mod model;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use sea_orm::sea_query::{Condition, Expr, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

pub use model::{RatingInputs, RatingSettings, SalaryFacts};

use crate::aggregates::{category_totals, Scope};
use crate::analytics::history::{self, WINDOW_MONTHS};
use crate::analytics::income::{detect_salary, Salary};
use crate::auth::Actor;
use crate::domain::day_key;
use crate::domain::{Category, Currency, Direction, Grade, TimelineKind};
use crate::entity::{
    accounts, balances, client_day_totals, client_month_totals, ratings, transactions,
};
use crate::error::{CoreError, CoreResult};
use crate::timeline::{EventData, NewEvent};
use crate::Core;

/// One reason behind a score: its measured value (as people read it) and its signed contribution
/// in score points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingFactor {
    /// Stable code: `income_level`, `income_regularity`, `savings_rate`, `liquidity_buffer`,
    /// `debt_service`, `overdrafts`, `returned_payments`, `cash_share`, `history`,
    /// `other_currencies`.
    #[serde(default)]
    pub code: String,
    /// Russian name.
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// The measured value in Russian (`52 000 ₽/мес`, `35%`, `4,2 мес.`).
    pub value: String,
    #[serde(default)]
    pub value_en: String,
    /// Points added to (or taken from) the base score of 50, to 0.1.
    pub impact: f64,
}

#[derive(Clone, Debug)]
pub struct Rating {
    pub client_id: i64,
    pub grade: Grade,
    /// 0 to 100.
    pub score: i32,
    pub factors: Vec<RatingFactor>,
    pub computed_at: DateTime<Utc>,
}

impl Rating {
    /// The factor with this code.
    pub fn factor(&self, code: &str) -> Option<&RatingFactor> {
        self.factors.iter().find(|f| f.code == code)
    }
}

impl TryFrom<ratings::Model> for Rating {
    type Error = CoreError;
    fn try_from(m: ratings::Model) -> CoreResult<Self> {
        let factors = serde_json::from_str(&m.factors).map_err(|e| {
            CoreError::Internal(format!("rating factors of client {}: {e}", m.client_id))
        })?;
        Ok(Rating {
            client_id: m.client_id,
            grade: Grade::parse(&m.grade)?,
            score: m.score,
            factors,
            computed_at: m.computed_at,
        })
    }
}

/// Words in a (normalised) description, and bank statuses, that mark a payment that was
/// returned or refused.
const RETURNED_WORDS: &[&str] = &[
    "возврат платеж",
    "платеж возвращ",
    "возвращен банком",
    "платеж отклонен",
    "отказ в проведении",
    "недостаточно средств",
    "returned payment",
    "payment returned",
    "payment rejected",
    "insufficient funds",
];
const RETURNED_STATUSES: &[&str] = &["rejected", "returned", "failed", "declined", "reversed"];

/// Measures the model's inputs for one client; `None` without base-currency data in the window.
pub(crate) async fn measure<C: ConnectionTrait>(
    conn: &C,
    base: &Currency,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<RatingInputs>> {
    Ok(measure_with_salary(conn, base, client_id, now)
        .await?
        .map(|(inputs, _)| inputs))
}

/// [`measure`], with the detected salary in full (for insights and offers).
pub(crate) async fn measure_with_salary<C: ConnectionTrait>(
    conn: &C,
    base: &Currency,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<(RatingInputs, Option<Salary>)>> {
    let window = history::window(conn, client_id, base, now).await?;
    let Some(first_booked) = window.first_booked else {
        return Ok(None);
    };
    let totals =
        category_totals(conn, Scope::Client(client_id), base, None, window.from, now).await?;
    let sum = |pick: &dyn Fn(Category, Direction) -> bool| -> i64 {
        totals
            .iter()
            .filter(|t| pick(t.category, t.direction))
            .map(|t| t.amount_minor)
            .sum()
    };
    let income = sum(&|c, d| d == Direction::Credit && c != Category::Refunds);
    let refunds = sum(&|c, _| c == Category::Refunds);
    let debits = sum(&|_, d| d == Direction::Debit);
    let loans = sum(&|c, _| c == Category::LoanPayments);
    let cash = sum(&|c, _| c == Category::Cash);
    let monthly = |total: i64| window.per_month(total);

    let credits = history::load(conn, client_id, Direction::Credit, window.from, now).await?;
    let detected = detect_salary(&credits, now);
    let salary = detected.as_ref().map(|s| SalaryFacts {
        employer: s.employer.clone(),
        months_paid: s.months_paid,
        months_expected: s.months_expected,
    });

    // Complete months since the first data, and which of them had income.
    let current = now.year() * 100 + now.month() as i32;
    let first_month = first_booked.year() * 100 + first_booked.month() as i32;
    let keys: Vec<i32> = crate::analytics::last_months(now, WINDOW_MONTHS + 1)
        .into_iter()
        .filter(|k| *k >= first_month && *k < current)
        .collect();
    use client_month_totals::Column as M;
    let paid_months: HashSet<i32> = client_month_totals::Entity::find()
        .select_only()
        .column(M::Month)
        .distinct()
        .filter(M::ClientId.eq(client_id))
        .filter(M::Currency.eq(base.as_str()))
        .filter(M::Direction.eq(Direction::Credit.as_str()))
        .filter(M::Category.ne(Category::Refunds.as_str()))
        .filter(M::Category.ne(Category::OwnTransfer.as_str()))
        .filter(M::Month.gte(first_month))
        .into_tuple::<i32>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let income_months = if keys.is_empty() {
        (u32::from(paid_months.contains(&current)), 1)
    } else {
        (
            keys.iter().filter(|k| paid_months.contains(k)).count() as u32,
            keys.len() as u32,
        )
    };

    // Only the client's money: closed accounts and debts (a loan's balance is no overdraft
    // either) are left out.
    let accounts: Vec<accounts::Model> = accounts::Entity::find()
        .filter(accounts::Column::ClientId.eq(client_id))
        .all(conn)
        .await?
        .into_iter()
        .filter(crate::accounts::row_is_own_money)
        .collect();
    let balance: i64 = accounts
        .iter()
        .filter(|a| a.currency == base.as_str())
        .filter_map(|a| a.balance_minor)
        .sum();
    let mut overdrawn: HashSet<i64> = accounts
        .iter()
        .filter(|a| a.balance_minor.is_some_and(|b| b < 0))
        .map(|a| a.id)
        .collect();
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    if !ids.is_empty() {
        let negative: Vec<i64> = balances::Entity::find()
            .select_only()
            .column(balances::Column::AccountId)
            .distinct()
            .filter(balances::Column::AccountId.is_in(ids))
            .filter(balances::Column::AmountMinor.lt(0))
            .filter(balances::Column::AsOf.gte(window.from))
            .into_tuple()
            .all(conn)
            .await?;
        overdrawn.extend(negative);
    }

    let mut returned = Condition::any();
    for word in RETURNED_WORDS {
        returned = returned.add(transactions::Column::SearchText.like(format!("%{word}%")));
    }
    returned = returned.add(
        Expr::expr(Func::lower(Expr::col(transactions::Column::RawStatus)))
            .is_in(RETURNED_STATUSES.iter().copied()),
    );
    let returned_payments = transactions::Entity::find()
        .filter(transactions::Column::ClientId.eq(client_id))
        .filter(transactions::Column::BookedAt.gte(window.from))
        .filter(transactions::Column::BookedAt.lt(now))
        .filter(transactions::Column::ReplacedById.is_null())
        .filter(
            transactions::Column::Status.ne(crate::domain::TransactionStatus::Reversed.as_str()),
        )
        .filter(returned)
        .count(conn)
        .await?;

    let window_month = window.from.year() * 100 + window.from.month() as i32;
    let mut others: Vec<String> = client_month_totals::Entity::find()
        .select_only()
        .column(M::Currency)
        .distinct()
        .filter(M::ClientId.eq(client_id))
        .filter(M::Currency.ne(base.as_str()))
        .filter(M::Month.gte(window_month))
        .into_tuple()
        .all(conn)
        .await?;
    for a in &accounts {
        if a.currency != base.as_str() && a.balance_minor.is_some_and(|b| b != 0) {
            others.push(a.currency.clone());
        }
    }
    others.sort();
    others.dedup();

    let inputs = RatingInputs {
        currency: base.clone(),
        months: window.months(),
        income_minor: monthly(income)?,
        spending_minor: monthly((debits - refunds).max(0))?,
        loan_minor: monthly(loans)?,
        cash_minor: monthly(cash)?,
        balance_minor: balance,
        salary,
        income_months,
        overdraft_accounts: overdrawn.len() as u32,
        returned_payments: u32::try_from(returned_payments).unwrap_or(u32::MAX),
        other_currencies: others,
    };
    Ok(Some((inputs, detected)))
}

/// Computes and stores (or removes, without data) one client's rating (the test fixtures').
#[cfg(any(test, feature = "testing"))]
pub(crate) async fn compute_and_store<C: ConnectionTrait>(
    conn: &C,
    settings: &RatingSettings,
    base: &Currency,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Rating>> {
    Ok(store_rating(conn, settings, base, client_id, now).await?.0)
}

/// [`compute_and_store`], saying also whether the grade changed (and so the timeline grew).
#[cfg(any(test, feature = "testing"))]
async fn store_rating<C: ConnectionTrait>(
    conn: &C,
    settings: &RatingSettings,
    base: &Currency,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<(Option<Rating>, bool)> {
    let inputs = measure(conn, base, client_id, now).await?;
    store_measured(conn, settings, client_id, inputs, now).await
}

/// Stores (or removes, without data) the rating of measured `inputs`, saying whether the grade
/// changed (and so the timeline grew).
async fn store_measured<C: ConnectionTrait>(
    conn: &C,
    settings: &RatingSettings,
    client_id: i64,
    inputs: Option<RatingInputs>,
    now: DateTime<Utc>,
) -> CoreResult<(Option<Rating>, bool)> {
    let Some(inputs) = inputs else {
        ratings::Entity::delete_by_id(client_id).exec(conn).await?;
        return Ok((None, false));
    };
    let (score, grade, factors) = model::score(&inputs, settings);
    let previous = ratings::Entity::find_by_id(client_id)
        .one(conn)
        .await?
        .map(|m| m.grade);
    let changed = previous.as_deref() != Some(grade.as_str());
    if changed {
        // A new or changed grade is on the client's timeline, with the factor that weighs most
        // in the direction of the change.
        // Up: the strongest plus; down: the strongest minus. A first grade: an A by its
        // strongest plus, a C by its strongest minus, a B by whatever weighs most.
        let wanted = match previous.as_deref().and_then(|p| Grade::parse(p).ok()) {
            Some(p) => Some(grade < p),
            None if grade == Grade::A => Some(true),
            None if grade == Grade::C => Some(false),
            None => None,
        };
        let main = factors
            .iter()
            .filter(|f| match wanted {
                Some(true) => f.impact > 0.0,
                Some(false) => f.impact < 0.0,
                None => f.impact != 0.0,
            })
            .max_by(|a, b| a.impact.abs().total_cmp(&b.impact.abs()));
        crate::timeline::record(
            conn,
            NewEvent::new(
                client_id,
                TimelineKind::RatingChanged,
                EventData::Rating {
                    from: previous,
                    to: grade.as_str().to_owned(),
                    factor_ru: main.map(|f| format!("{} {}", f.name, f.value)),
                    factor_en: main.map(|f| format!("{} {}", f.name_en, f.value_en)),
                },
            )
            .at(now),
        )
        .await?;
    }
    let json = serde_json::to_string(&factors)
        .map_err(|e| CoreError::Internal(format!("rating factors: {e}")))?;
    ratings::Entity::insert(ratings::ActiveModel {
        client_id: Set(client_id),
        grade: Set(grade.as_str().to_owned()),
        score: Set(score),
        factors: Set(json),
        computed_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(ratings::Column::ClientId)
            .update_columns([
                ratings::Column::Grade,
                ratings::Column::Score,
                ratings::Column::Factors,
                ratings::Column::ComputedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok((
        Some(Rating {
            client_id,
            grade,
            score,
            factors,
            computed_at: now,
        }),
        changed,
    ))
}

/// [`compute_and_store`], stored in one write transaction of its own (the rating and its
/// timeline entry commit together); the client's timeline subscribers are told.
pub(crate) async fn rate_and_store(
    db: &crate::db::Database,
    events: &crate::events::EventBus,
    (settings, base): (&RatingSettings, &Currency),
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Rating>> {
    // Measured before the write transaction: on SQLite the writer lock is held only to store,
    // and several clients are measured at once.
    let inputs = measure(db.conn(), base, client_id, now).await?;
    let txn = db.begin_write().await?;
    let (rating, changed) = store_measured(&*txn, settings, client_id, inputs, now).await?;
    txn.commit().await?;
    // Only a changed grade wrote an entry: a nightly re-rating of unchanged clients tells
    // no subscriber (nor another replica) anything.
    if changed {
        events.publish(crate::events::Event::Timeline { client_id });
    }
    Ok(rating)
}

/// Clients measured at once by [`rate_clients`].
const RATING_CONCURRENCY: usize = 4;

/// Rates several existing clients (after a sync or a re-categorisation) and stores the
/// ratings; a failure is logged and does not stop the others. Returns how many were rated.
pub(crate) async fn rate_clients(
    db: &crate::db::Database,
    events: &crate::events::EventBus,
    settings: &RatingSettings,
    base: &Currency,
    client_ids: &[i64],
    now: DateTime<Utc>,
) -> usize {
    use futures_util::StreamExt;
    futures_util::stream::iter(client_ids.iter().copied())
        .map(|id| async move {
            match rate_and_store(db, events, (settings, base), id, now).await {
                Ok(Some(_)) => 1,
                Ok(None) => 0,
                Err(e) => {
                    tracing::warn!(client = id, "rating failed: {e}");
                    0
                }
            }
        })
        .buffer_unordered(RATING_CONCURRENCY)
        .fold(0, |rated, one| async move { rated + one })
        .await
}

impl Core {
    /// Computes the client's rating as of `now`, stores it and returns it; `None` (and no
    /// stored rating) when the client has no base-currency data in the window.
    pub async fn rate_client(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<Rating>> {
        self.client(client_id).await?;
        rate_and_store(
            &self.db,
            self.events(),
            (&self.settings.ratings, &self.settings.base_currency),
            client_id,
            now,
        )
        .await
    }

    /// The `recomputeRating` mutation: recomputes now.
    pub async fn recompute_rating(
        &self,
        actor: &Actor,
        client_id: i64,
    ) -> CoreResult<Option<Rating>> {
        self.client_for(actor, client_id, crate::access::Need::Change)
            .await?;
        self.rate_client(client_id, Utc::now()).await
    }

    /// The stored rating of a client.
    pub async fn rating(&self, client_id: i64) -> CoreResult<Option<Rating>> {
        ratings::Entity::find_by_id(client_id)
            .one(self.db.conn())
            .await?
            .map(Rating::try_from)
            .transpose()
    }

    /// Rates several clients (after a re-categorisation); a failure is logged and does not
    /// stop the others.
    pub async fn rate_clients(&self, client_ids: &[i64], now: DateTime<Utc>) -> usize {
        rate_clients(
            &self.db,
            self.events(),
            &self.settings.ratings,
            &self.settings.base_currency,
            client_ids,
            now,
        )
        .await
    }

    /// After a write to a client's transactions: the write is committed, so a failing rating
    /// is logged rather than reported as the write's failure.
    pub(crate) async fn refresh_rating_after_write(&self, client_id: i64) {
        if let Err(e) = self.rate_client(client_id, Utc::now()).await {
            tracing::warn!(client = client_id, "rating after a write failed: {e}");
        }
    }

    /// The ratings of several clients in one query; clients not rated yet are absent.
    pub async fn ratings_of_clients(&self, client_ids: &[i64]) -> CoreResult<HashMap<i64, Rating>> {
        let rows = ratings::Entity::find()
            .filter(ratings::Column::ClientId.is_in(client_ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        rows.into_iter()
            .map(|m| Rating::try_from(m).map(|r| (r.client_id, r)))
            .collect()
    }

    /// Like [`Core::ratings_of_clients`], but a client with rateable data that was never rated
    /// is rated now. With every client rated (the normal case) this is one query; otherwise
    /// one more to find which of the rest have data.
    pub async fn ratings_of_clients_computing_missing(
        &self,
        client_ids: &[i64],
        now: DateTime<Utc>,
    ) -> CoreResult<HashMap<i64, Rating>> {
        let mut found = self.ratings_of_clients(client_ids).await?;
        let missing: Vec<i64> = client_ids
            .iter()
            .copied()
            .filter(|id| !found.contains_key(id))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let from = crate::aggregates::months_before(now, WINDOW_MONTHS);
        use client_day_totals::Column as D;
        let with_data: Vec<i64> = client_day_totals::Entity::find()
            .select_only()
            .column(D::ClientId)
            .distinct()
            .filter(D::ClientId.is_in(missing))
            .filter(D::Currency.eq(self.settings.base_currency.as_str()))
            .filter(D::Day.gte(day_key(&from)))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        for id in with_data {
            if let Some(r) = rate_and_store(
                &self.db,
                self.events(),
                (&self.settings.ratings, &self.settings.base_currency),
                id,
                now,
            )
            .await?
            {
                found.insert(id, r);
            }
        }
        Ok(found)
    }
}
