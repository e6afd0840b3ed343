//! Meeting briefs: what a manager reads before meeting a client, kept as written.
//!
//! [`Core::generate_brief`] reads the client's data and writes the brief from exact figures,
//! each with the rows it comes from ([`BriefContent`], stored as JSON beside the text):
//!
//! - **What changed since the last contact.** `since` is the latest note of any kind (note,
//!   call, meeting, e-mail) before the brief; a brief is not a contact, so generating it again
//!   covers the same period. Without a note, the last [`DEFAULT_DAYS`] days. Products opened
//!   or closed at any bank in the period (agreements and accounts); the rating then (the
//!   grade of the last `RATING_CHANGED` timeline entry before `since`, else the grade the first
//!   change after it started from, else today's) and now (with its score); the client's money
//!   per currency then and now (the forecast's definition: open, non-debt accounts in credit,
//!   less what they booked after the moment); spending in the period against the same number
//!   of days before it (the aggregates, own transfers left out, base currency).
//! - **Open work.** The client's open tasks and open signals.
//! - **Held away.** Products at banks other than `HOME_BANK`, from the held-away radar
//!   ([`held_away_for_brief`] over `crate::wallet`).
//! - **Offers.** The best two of [`crate::offers`], with their reasons.
//! - **Talking points.** Three, by rules over the figures above (`text::talking_points`).
//!
//! The text (markdown, in the reader's language) is written by the built-in analyst
//! (`text.rs`). With a model configured, the model may reword it (`polish`); its text replaces
//! the analyst's only when every figure in it equals the analyst's (`figures.rs`: numbers,
//! money with currency and sign, percentages and dates, compared as multisets); otherwise the
//! analyst's text is kept and the reason logged. The brief, its timeline entry
//! (`BRIEF_GENERATED`) and its audit row are written in one transaction.

pub mod figures;
mod text;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::access::Need;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::domain::{Lang, Localized, Money, TaskStatus, TimelineKind};
use crate::entity::{accounts, briefs, client_events, notes, product_agreements, users};
use crate::error::{CoreError, CoreResult};
use crate::signals::SignalFilter;
use crate::timeline::{EventData, NewEvent};
use crate::Core;

pub use text::{render, talking_points};

/// The period a brief covers when the client has no note yet, in days.
pub const DEFAULT_DAYS: i64 = 30;
/// Most briefs one page returns.
pub const PAGE_MAX: u64 = 50;
/// Most open tasks and signals a brief lists (the counts are always exact).
const LIST_MAX: usize = 10;

/// Where `since` comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum SinceSource {
    /// The latest note (`NOTE`, `CALL`, `MEETING`, `EMAIL`).
    Note { id: i64, kind: String },
    /// No note: the last [`DEFAULT_DAYS`] days.
    Default,
}

/// A product opened or closed, or held at another bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    /// `agreement` or `account`, and its id.
    pub source: (String, i64),
    pub bank_code: String,
    pub bank_name: String,
    /// `DEPOSIT`, `LOAN`, `CREDIT_LINE`, `OTHER` for agreements; the account kind for accounts
    /// (`ACCOUNT` when the bank gave none).
    pub kind: String,
    pub name: String,
    /// Principal (agreements) or balance (accounts), minor units.
    pub amount_minor: Option<i64>,
    pub currency: String,
    pub at: Option<DateTime<Utc>>,
}

/// The rating then and now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingDrift {
    /// `None` when the client had no rating then.
    pub then_grade: Option<String>,
    pub now_grade: String,
    pub now_score: i32,
    /// The timeline entries (`RATING_CHANGED`) the grade then is read from.
    pub timeline_ids: Vec<i64>,
}

/// The client's money in one currency at `since` and now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceDrift {
    pub currency: String,
    pub then_minor: i64,
    pub now_minor: i64,
}

impl BalanceDrift {
    pub fn then(&self) -> Money {
        money_in(self.then_minor, &self.currency)
    }
    pub fn now(&self) -> Money {
        money_in(self.now_minor, &self.currency)
    }
}

fn money_in(minor: i64, currency: &str) -> Money {
    Money::new(minor, crate::domain::Currency::from_db(currency.to_owned()))
}

/// Spending (debits, own transfers left out) in the period and in as many days before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendingDrift {
    pub currency: String,
    pub days: i64,
    pub period_minor: i64,
    pub before_minor: i64,
}

impl SpendingDrift {
    pub fn period(&self) -> Money {
        money_in(self.period_minor, &self.currency)
    }
    pub fn before(&self) -> Money {
        money_in(self.before_minor, &self.currency)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalLine {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub summary: Localized,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferLine {
    pub bank_code: String,
    pub bank_name: String,
    pub product: String,
    pub reason_code: String,
    pub reason: Localized,
}

/// Everything a brief says, with the rows it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefContent {
    pub client_id: i64,
    pub at: DateTime<Utc>,
    pub since: DateTime<Utc>,
    pub since_source: SinceSource,
    pub opened: Vec<ProductLine>,
    pub closed: Vec<ProductLine>,
    pub rating: Option<RatingDrift>,
    pub balances: Vec<BalanceDrift>,
    pub spending: SpendingDrift,
    pub open_tasks: u64,
    pub overdue_tasks: u64,
    pub tasks: Vec<TaskLine>,
    pub open_signals: u64,
    pub signals: Vec<SignalLine>,
    /// `None` when no `HOME_BANK` is configured (nothing is "elsewhere").
    pub held_away: Option<Vec<ProductLine>>,
    pub offers: Vec<OfferLine>,
}

/// A stored brief.
#[derive(Clone, Debug)]
pub struct Brief {
    pub id: i64,
    pub client_id: i64,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lang: Lang,
    pub since: DateTime<Utc>,
    pub content: BriefContent,
    /// Markdown.
    pub text: String,
    pub polished: bool,
}

fn lang_code(lang: Lang) -> &'static str {
    lang.pick("ru", "en")
}

fn parse_lang(s: &str) -> Lang {
    if s == "en" {
        Lang::En
    } else {
        Lang::Ru
    }
}

impl Brief {
    fn from_row(m: briefs::Model, author_name: Option<String>) -> CoreResult<Self> {
        let content: BriefContent = serde_json::from_str(&m.content)
            .map_err(|e| CoreError::Internal(format!("brief {}: unreadable content: {e}", m.id)))?;
        Ok(Brief {
            id: m.id,
            client_id: m.client_id,
            author_id: m.author_id,
            author_name,
            created_at: m.created_at,
            lang: parse_lang(&m.lang),
            since: m.since,
            content,
            text: m.text,
            polished: m.polished,
        })
    }
}

/// The products the client holds at banks other than the home bank, from the held-away radar
/// (`crate::wallet`): listed products and those only the payments show, each with its amount
/// when a bank gives one (payments alone give none).
/// `None` without a home bank.
pub(crate) async fn held_away_for_brief(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Vec<ProductLine>>> {
    if core.home_bank().is_none() {
        return Ok(None);
    }
    let products = core.held_away(client_id, now).await?;
    Ok(Some(
        products
            .into_iter()
            .map(|p| {
                let source = if let Some(id) = p.key.strip_prefix("account:") {
                    ("account".to_owned(), id.parse().unwrap_or_default())
                } else if let Some(id) = p.key.strip_prefix("agreement:") {
                    ("agreement".to_owned(), id.parse().unwrap_or_default())
                } else {
                    (
                        "transaction".to_owned(),
                        p.transaction_ids.first().copied().unwrap_or_default(),
                    )
                };
                let (amount_minor, currency) = match &p.amount {
                    Some(a) => (Some(a.minor), a.currency.as_str().to_owned()),
                    None => (None, core.settings.base_currency.as_str().to_owned()),
                };
                ProductLine {
                    source,
                    bank_code: p.bank_code.clone().unwrap_or_default(),
                    name: p
                        .product_name
                        .clone()
                        .unwrap_or_else(|| p.bank_name.clone()),
                    bank_name: p.bank_name,
                    kind: p.kind.as_str().to_owned(),
                    amount_minor,
                    currency,
                    at: None,
                }
            })
            .collect(),
    ))
}

fn opened_at(d: Option<chrono::NaiveDate>) -> Option<DateTime<Utc>> {
    d.map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

fn agreement_line(
    core: &Core,
    a: product_agreements::Model,
    at: impl Fn(&product_agreements::Model) -> Option<DateTime<Utc>>,
) -> ProductLine {
    ProductLine {
        source: ("agreement".into(), a.id),
        bank_name: core.banks.describe(&a.bank_code).name,
        at: at(&a),
        bank_code: a.bank_code,
        kind: a.kind,
        name: a.product_name,
        amount_minor: Some(a.amount_minor),
        currency: a.currency,
    }
}

fn account_line(
    core: &Core,
    a: accounts::Model,
    at: impl Fn(&accounts::Model) -> Option<DateTime<Utc>>,
) -> ProductLine {
    ProductLine {
        source: ("account".into(), a.id),
        bank_name: core.banks.describe(&a.bank_code).name,
        at: at(&a),
        kind: a.kind.clone().unwrap_or_else(|| "ACCOUNT".to_owned()),
        bank_code: a.bank_code,
        name: a.name,
        amount_minor: a.balance_minor,
        currency: a.currency,
    }
}

impl Core {
    /// The start of the period a brief at `now` covers, and where it comes from.
    async fn brief_since(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<(DateTime<Utc>, SinceSource)> {
        let last = notes::Entity::find()
            .filter(notes::Column::ClientId.eq(client_id))
            .filter(notes::Column::OccurredAt.lt(now))
            .order_by_desc(notes::Column::OccurredAt)
            .order_by_desc(notes::Column::Id)
            .one(self.db.conn())
            .await?;
        Ok(match last {
            Some(n) => (
                n.occurred_at,
                SinceSource::Note {
                    id: n.id,
                    kind: n.kind,
                },
            ),
            None => (now - Duration::days(DEFAULT_DAYS), SinceSource::Default),
        })
    }

    /// The products opened and closed in `[since, now)` at any bank.
    async fn products_changed(
        &self,
        client_id: i64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> CoreResult<(Vec<ProductLine>, Vec<ProductLine>)> {
        let conn = self.db.conn();
        let in_period = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at >= since && at < now);
        let (mut opened, mut closed) = (Vec::new(), Vec::new());
        let agreements = product_agreements::Entity::find()
            .filter(product_agreements::Column::ClientId.eq(client_id))
            .order_by_asc(product_agreements::Column::Id)
            .all(conn)
            .await?;
        for a in agreements {
            // Closed: the bank says so (seen in the period) or stopped listing it in the period.
            let closed_at = a
                .delisted_at
                .or_else(|| (a.status == "CLOSED").then_some(a.updated_at));
            if in_period(closed_at) {
                closed.push(agreement_line(self, a.clone(), |_| closed_at));
            }
            if in_period(a.opened_at) {
                opened.push(agreement_line(self, a, |a| a.opened_at));
            }
        }
        let accounts = accounts::Entity::find()
            .filter(accounts::Column::ClientId.eq(client_id))
            .filter(accounts::Column::BankCode.ne(crate::banks::MANUAL_BANK_CODE))
            .order_by_asc(accounts::Column::Id)
            .all(conn)
            .await?;
        for a in accounts {
            if in_period(a.closed_at) {
                closed.push(account_line(self, a.clone(), |a| a.closed_at));
            }
            if in_period(opened_at(a.opened_on)) {
                opened.push(account_line(self, a, |a| opened_at(a.opened_on)));
            }
        }
        Ok((opened, closed))
    }

    /// The grade at `since` (from the timeline's rating changes) and the stored rating now.
    async fn rating_drift(
        &self,
        client_id: i64,
        since: DateTime<Utc>,
    ) -> CoreResult<Option<RatingDrift>> {
        let Some(now) = self.rating(client_id).await? else {
            return Ok(None);
        };
        let conn = self.db.conn();
        let changes = |before: bool| {
            let q = client_events::Entity::find()
                .filter(client_events::Column::ClientId.eq(client_id))
                .filter(client_events::Column::Kind.eq(TimelineKind::RatingChanged.as_str()));
            if before {
                q.filter(client_events::Column::OccurredAt.lt(since))
                    .order_by_desc(client_events::Column::OccurredAt)
                    .order_by_desc(client_events::Column::Id)
            } else {
                q.filter(client_events::Column::OccurredAt.gte(since))
                    .order_by_asc(client_events::Column::OccurredAt)
                    .order_by_asc(client_events::Column::Id)
            }
        };
        let grades = |row: &client_events::Model| -> CoreResult<(Option<String>, String)> {
            match serde_json::from_str::<EventData>(&row.data) {
                Ok(EventData::Rating { from, to, .. }) => Ok((from, to)),
                _ => Err(CoreError::Internal(format!(
                    "timeline entry {} is not a rating change",
                    row.id
                ))),
            }
        };
        let now_grade = now.grade.as_str().to_owned();
        let (then_grade, ids) = if let Some(row) = changes(true).one(conn).await? {
            (Some(grades(&row)?.1), vec![row.id])
        } else if let Some(row) = changes(false).one(conn).await? {
            (grades(&row)?.0, vec![row.id])
        } else {
            (Some(now_grade.clone()), Vec::new())
        };
        Ok(Some(RatingDrift {
            then_grade,
            now_grade,
            now_score: now.score,
            timeline_ids: ids,
        }))
    }

    /// The client's money per currency at `since` and at `now`: open, non-debt accounts in
    /// credit (`Account::asset`), less what they booked (or hold pending) after the moment.
    async fn balance_drift(
        &self,
        client_id: i64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<BalanceDrift>> {
        let accounts = self
            .accounts_of_clients(&[client_id])
            .await?
            .remove(&client_id)
            .unwrap_or_default();
        let money: Vec<&Money> = accounts.iter().filter_map(|a| a.asset()).collect();
        let ids: Vec<i64> = accounts
            .iter()
            .filter(|a| a.asset().is_some())
            .map(|a| a.id)
            .collect();
        let mut today: BTreeMap<String, i64> = BTreeMap::new();
        for m in money {
            *today.entry(m.currency.as_str().to_owned()).or_default() += m.minor;
        }
        let after_now = crate::forecast::net_flows_after(self.db.conn(), &ids, now).await?;
        let after_since = crate::forecast::net_flows_after(self.db.conn(), &ids, since).await?;
        let mut currencies: Vec<String> = today.keys().cloned().collect();
        currencies.extend(after_since.keys().map(|c| c.as_str().to_owned()));
        currencies.sort_by_key(|c| (c != self.settings.base_currency.as_str(), c.clone()));
        currencies.dedup();
        Ok(currencies
            .into_iter()
            .map(|c| {
                let held = today.get(&c).copied().unwrap_or(0);
                let flow = |m: &std::collections::HashMap<crate::domain::Currency, i64>| {
                    m.iter()
                        .find(|(k, _)| k.as_str() == c)
                        .map_or(0, |(_, v)| *v)
                };
                BalanceDrift {
                    then_minor: held.saturating_sub(flow(&after_since)),
                    now_minor: held.saturating_sub(flow(&after_now)),
                    currency: c,
                }
            })
            .collect())
    }

    async fn spending_drift(
        &self,
        client_id: i64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> CoreResult<SpendingDrift> {
        let base = self.settings.base_currency.clone();
        let days = (now - since).num_days().max(1);
        let before_from = since - (now - since);
        let sum = |from, to| {
            let base = base.clone();
            async move {
                let rows = crate::aggregates::category_totals(
                    self.db.conn(),
                    crate::aggregates::Scope::Client(client_id),
                    &base,
                    Some(crate::domain::Direction::Debit),
                    from,
                    to,
                )
                .await?;
                CoreResult::Ok(rows.iter().map(|r| r.amount_minor).sum::<i64>())
            }
        };
        Ok(SpendingDrift {
            currency: base.as_str().to_owned(),
            days,
            period_minor: sum(since, now).await?,
            before_minor: sum(before_from, since).await?,
        })
    }

    /// Computes the brief of a client (no access check: the caller made it).
    pub(crate) async fn brief_content(
        &self,
        actor: &Actor,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<BriefContent> {
        let (since, since_source) = self.brief_since(client_id, now).await?;
        let (opened, closed) = self.products_changed(client_id, since, now).await?;
        let rating = self.rating_drift(client_id, since).await?;
        let balances = self.balance_drift(client_id, since, now).await?;
        let spending = self.spending_drift(client_id, since, now).await?;
        let open: Vec<_> = self
            .client_tasks(actor, client_id, Some(TaskStatus::Open))
            .await?;
        let overdue_tasks = open.iter().filter(|t| t.overdue_at(now)).count() as u64;
        let tasks: Vec<TaskLine> = open
            .iter()
            .take(LIST_MAX)
            .map(|t| TaskLine {
                id: t.id,
                title: t.title.clone(),
                due_at: t.due_at,
                overdue: t.overdue_at(now),
            })
            .collect();
        let filter = SignalFilter {
            client_id: Some(client_id),
            ..Default::default()
        };
        let open_signals = self.count_signals(actor, &filter).await?;
        let signals = self
            .signals(actor, &filter, LIST_MAX as u64, None)
            .await?
            .items
            .into_iter()
            .map(|s| SignalLine {
                id: s.id,
                kind: s.kind.as_str().to_owned(),
                severity: s.severity.as_str().to_owned(),
                summary: s.summary,
            })
            .collect();
        let held_away = held_away_for_brief(self, client_id, now).await?;
        let offers = self
            .offers(client_id, now)
            .await?
            .into_iter()
            .take(2)
            .map(|o| OfferLine {
                bank_name: self.banks.describe(&o.product.bank_code).name,
                bank_code: o.product.bank_code,
                product: o.product.name,
                reason_code: o.reason_code.to_owned(),
                reason: o.reason,
            })
            .collect();
        Ok(BriefContent {
            client_id,
            at: now,
            since,
            since_source,
            opened,
            closed,
            rating,
            balances,
            spending,
            open_tasks: open.len() as u64,
            overdue_tasks,
            tasks,
            open_signals,
            signals,
            held_away,
            offers,
        })
    }

    /// Writes a meeting brief of a client in `actor`'s book (who may change it: viewers may
    /// not) as of `now`, in `lang`; stores it with its timeline entry and audit row.
    pub async fn generate_brief(
        &self,
        actor: &Actor,
        client_id: i64,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> CoreResult<Brief> {
        self.client_for(actor, client_id, Need::Change).await?;
        let started = std::time::Instant::now();
        let content = self.brief_content(actor, client_id, now).await?;
        let analyst = render(&content, lang);
        let (text, polished) = self.polish_brief(client_id, &analyst, lang).await;
        let body = serde_json::to_string(&content)
            .map_err(|e| CoreError::Internal(format!("brief content: {e}")))?;
        let txn = self.db.begin_write().await?;
        let row = briefs::ActiveModel {
            client_id: Set(client_id),
            author_id: Set(Some(actor.user_id).filter(|id| *id > 0)),
            created_at: Set(now),
            lang: Set(lang_code(lang).to_owned()),
            since: Set(content.since),
            content: Set(body),
            text: Set(text),
            polished: Set(polished),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::timeline::record(
            &txn,
            NewEvent::new(client_id, TimelineKind::BriefGenerated, EventData::Plain)
                .at(now)
                .by(actor)
                .object("brief", row.id),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("brief.generate")
                .actor(actor)
                .entity("client", client_id)
                .detail("brief", row.id)
                .detail("polished", polished),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        tracing::info!(
            client_id,
            brief = row.id,
            polished,
            millis = started.elapsed().as_millis() as u64,
            "brief generated"
        );
        Brief::from_row(
            row,
            Some(actor.username.clone()).filter(|_| actor.user_id > 0),
        )
    }

    /// The model's rewording of the analyst's text when a model is configured and it keeps
    /// every figure; else the analyst's text. Never fails: a failing model leaves the analyst's.
    async fn polish_brief(&self, client_id: i64, analyst: &str, lang: Lang) -> (String, bool) {
        let assistant = self.assistant();
        let send_pii = assistant.settings().send_pii;
        let redactor = match self.client(client_id).await {
            Ok(c) => crate::assistant::privacy::Redactor::for_client(self, &c, send_pii).await,
            Err(e) => Err(e),
        };
        let redactor = match redactor {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(client_id, "brief kept as written: no redactor: {e}");
                return (analyst.to_owned(), false);
            }
        };
        let Some(answer) = assistant
            .reword(text::polish_instructions(lang), analyst, &redactor)
            .await
        else {
            return (analyst.to_owned(), false);
        };
        match answer {
            Err(e) => {
                tracing::warn!(
                    client_id,
                    kind = e.kind(),
                    "brief kept as written: the model failed"
                );
                (analyst.to_owned(), false)
            }
            Ok(reworded) => match figures::rewording_refused(analyst, &reworded, lang) {
                Some(reason) => {
                    tracing::warn!(client_id, reason = %reason, "brief kept as written: the model's text was refused");
                    (analyst.to_owned(), false)
                }
                None => (reworded.trim().to_owned(), true),
            },
        }
    }

    /// One brief of a client in `actor`'s book.
    pub async fn brief(&self, actor: &Actor, id: i64) -> CoreResult<Brief> {
        let row = briefs::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("brief", id))?;
        match self.client_for(actor, row.client_id, Need::Read).await {
            Err(CoreError::NotFound { .. }) => return Err(CoreError::not_found("brief", id)),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let names = self.user_names(row.author_id.into_iter().collect()).await?;
        let name = row.author_id.and_then(|a| names.get(&a).cloned());
        Brief::from_row(row, name)
    }

    /// The client's briefs, newest first (at most `first`, capped at [`PAGE_MAX`]).
    pub async fn briefs(
        &self,
        actor: &Actor,
        client_id: i64,
        first: u64,
    ) -> CoreResult<Vec<Brief>> {
        self.client_for(actor, client_id, Need::Read).await?;
        let rows = briefs::Entity::find()
            .filter(briefs::Column::ClientId.eq(client_id))
            .order_by_desc(briefs::Column::CreatedAt)
            .order_by_desc(briefs::Column::Id)
            .limit(first.clamp(1, PAGE_MAX))
            .all(self.db.conn())
            .await?;
        let names = self
            .user_names(rows.iter().filter_map(|r| r.author_id).collect())
            .await?;
        rows.into_iter()
            .map(|r| {
                let name = r.author_id.and_then(|a| names.get(&a).cloned());
                Brief::from_row(r, name)
            })
            .collect()
    }

    async fn user_names(
        &self,
        ids: Vec<i64>,
    ) -> CoreResult<std::collections::HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect())
    }
}
