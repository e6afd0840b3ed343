//! A client's timeline: one stored row per thing that happened to the client (a note, a task
//! created or completed, a bank linked, a consent's state, a sync that brought transactions, a
//! large transaction, a rating change, an edit, an assistant conversation).
//!
//! Each row is written by [`record`] in the transaction of the change it records, so a change
//! that rolls back leaves no entry, and a page of the timeline is read, not recomputed: one
//! query for the rows, then one per kind of object the page names (notes, tasks, users), so the
//! first page costs the same few statements however long the history is.
//!
//! A row holds ids, codes and amounts ([`EventData`], JSON); the one-line summary is written
//! when read, in Russian and English ([`Localized`]), from the row and the objects it names as
//! they are now (an edited note's entry shows its current text; a deleted note's entry goes
//! with it).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::access::Need;
use crate::auth::Actor;
use crate::domain::format::format_date_of;
use crate::domain::{format_money, Currency, Lang, Localized, Money, TimelineKind};
use crate::entity::{client_events, clients, notes, tasks, users};
use crate::error::{CoreError, CoreResult};
use crate::events::Event;
use crate::Core;

/// Most entries one page returns.
pub const PAGE_MAX: u64 = 100;
/// Characters of a note or a description a summary quotes.
const QUOTE_MAX: usize = 90;

/// What an entry records, beyond its kind: ids, codes and amounts, never free text a person
/// wrote (that stays with its object and is read with it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum EventData {
    Note {
        note_kind: String,
    },
    Task {
        title: String,
    },
    Bank {
        bank: String,
    },
    Consent {
        bank: String,
        from: String,
        to: String,
    },
    Sync {
        bank: String,
        added: u32,
        /// Booked money out among the new rows, per currency (minor units).
        out: Vec<(String, i64)>,
        /// Booked money in among the new rows, per currency (minor units).
        #[serde(default)]
        r#in: Vec<(String, i64)>,
    },
    LargeTransaction {
        minor: i64,
        currency: String,
        credit: bool,
        description: String,
    },
    Rating {
        from: Option<String>,
        to: String,
        factor_ru: Option<String>,
        factor_en: Option<String>,
    },
    Edited {
        fields: Vec<String>,
    },
    Assigned {
        to: Option<i64>,
    },
    Shared {
        user: i64,
        until: Option<DateTime<Utc>>,
    },
    /// A signal raised (`resolution` none) or closed (`TASK_DONE`, `NO_LONGER_APPLIES`,
    /// `DISMISSED`).
    Signal {
        kind: String,
        resolution: Option<String>,
    },
    Plain,
}

/// An entry to write.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub client_id: i64,
    pub kind: TimelineKind,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub object: Option<(&'static str, i64)>,
    pub data: EventData,
}

impl NewEvent {
    pub fn new(client_id: i64, kind: TimelineKind, data: EventData) -> Self {
        NewEvent {
            client_id,
            kind,
            at: Utc::now(),
            actor_id: None,
            object: None,
            data,
        }
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }

    /// The user who made the change (none for the system; a bootstrap actor has no row).
    pub fn by(mut self, actor: &Actor) -> Self {
        self.actor_id = Some(actor.user_id).filter(|id| *id > 0);
        self
    }

    pub fn object(mut self, kind: &'static str, id: i64) -> Self {
        self.object = Some((kind, id));
        self
    }
}

/// Writes `event` on `conn` (the change's transaction). Returns the entry's id.
pub(crate) async fn record<C: ConnectionTrait>(conn: &C, event: NewEvent) -> CoreResult<i64> {
    let data = serde_json::to_string(&event.data)
        .map_err(|e| CoreError::Internal(format!("timeline entry: {e}")))?;
    let row = client_events::ActiveModel {
        client_id: Set(event.client_id),
        kind: Set(event.kind.as_str().to_owned()),
        occurred_at: Set(event.at),
        recorded_at: Set(Utc::now()),
        actor_id: Set(event.actor_id),
        object_type: Set(event.object.map(|(t, _)| t.to_owned())),
        object_id: Set(event.object.map(|(_, id)| id)),
        data: Set(data),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    touch_clients(conn, &[event.client_id]).await?;
    Ok(row.id)
}

/// Marks the clients as active now (`clients.last_activity_at`), with their entries.
async fn touch_clients<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> CoreResult<()> {
    clients::Entity::update_many()
        .col_expr(clients::Column::LastActivityAt, Expr::value(Utc::now()))
        .filter(clients::Column::Id.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Writes several entries in one statement (a sync's large transactions).
pub(crate) async fn record_many<C: ConnectionTrait>(
    conn: &C,
    events: Vec<NewEvent>,
) -> CoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut touched: Vec<i64> = events.iter().map(|e| e.client_id).collect();
    touched.sort_unstable();
    touched.dedup();
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let data = serde_json::to_string(&event.data)
            .map_err(|e| CoreError::Internal(format!("timeline entry: {e}")))?;
        rows.push(client_events::ActiveModel {
            client_id: Set(event.client_id),
            kind: Set(event.kind.as_str().to_owned()),
            occurred_at: Set(event.at),
            recorded_at: Set(now),
            actor_id: Set(event.actor_id),
            object_type: Set(event.object.map(|(t, _)| t.to_owned())),
            object_id: Set(event.object.map(|(_, id)| id)),
            data: Set(data),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(200) {
        client_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    touch_clients(conn, &touched).await
}

/// Removes the entries that record `object` (a deleted note's), in the deletion's transaction.
pub(crate) async fn forget_object<C: ConnectionTrait>(
    conn: &C,
    kind: &'static str,
    id: i64,
) -> CoreResult<()> {
    client_events::Entity::delete_many()
        .filter(client_events::Column::ObjectType.eq(kind))
        .filter(client_events::Column::ObjectId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Keeps a note's entry in step with the note after an edit (its kind and when it happened),
/// in the edit's transaction.
pub(crate) async fn follow_note<C: ConnectionTrait>(
    conn: &C,
    note: &notes::Model,
) -> CoreResult<()> {
    let data = serde_json::to_string(&EventData::Note {
        note_kind: note.kind.clone(),
    })
    .map_err(|e| CoreError::Internal(format!("timeline entry: {e}")))?;
    client_events::Entity::update_many()
        .col_expr(
            client_events::Column::OccurredAt,
            Expr::value(note.occurred_at),
        )
        .col_expr(client_events::Column::Data, Expr::value(data))
        .filter(client_events::Column::ObjectType.eq("note"))
        .filter(client_events::Column::ObjectId.eq(note.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// One entry as read.
#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub id: i64,
    pub client_id: i64,
    pub kind: TimelineKind,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    /// The actor's user name, when there is one.
    pub actor_name: Option<String>,
    /// What the entry links to: `("note", 12)`, `("task", 3)`, `("conversation", 9)`, …
    pub object: Option<(String, i64)>,
    pub summary: Localized,
    /// When the row was written (not when the thing happened): live feeds follow this.
    pub recorded_at: DateTime<Utc>,
}

/// A page of entries, newest first, and whether older ones follow.
#[derive(Clone, Debug)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub has_next: bool,
}

/// Where a page starts: after the entry at `(at, id)` (exclusive).
pub type TimelineCursor = (DateTime<Utc>, i64);

/// How long after its `recorded_at` an entry may still become visible (its transaction was
/// open): a live feed looks this far back each time, and drops what it already sent.
const COMMIT_MARGIN: chrono::Duration = chrono::Duration::minutes(2);
/// A live feed looks again at least this often, even when nothing was announced (a change
/// made by a part that does not announce, or an announcement lost between replicas).
const FEED_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// The entries of `client_id`'s timeline written from now on, as they commit, for `actor`
/// (who must see the client; the feed ends with `NOT_FOUND` once the client leaves their
/// book). Woken by the bus (this replica's and the others' announcements, and syncs of the
/// client), and every [`FEED_POLL`] at the latest.
pub fn live_feed(
    core: std::sync::Arc<Core>,
    actor: Actor,
    client_id: i64,
) -> impl futures_util::Stream<Item = CoreResult<TimelineEntry>> {
    use tokio::sync::broadcast::error::RecvError;
    async_stream::try_stream! {
        core.client_for(&actor, client_id, Need::Read).await?;
        let mut timeline = core.events().timeline_changes();
        let mut syncs = core.sync().sync_events();
        let mut poll = tokio::time::interval(FEED_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let start = Utc::now();
        let mut since = start;
        let mut sent: HashMap<i64, DateTime<Utc>> = HashMap::new();
        loop {
            tokio::select! {
                got = timeline.recv() => match got {
                    Ok(id) if id != client_id => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                got = syncs.recv() => match got {
                    Ok(crate::domain::SyncEvent::LinkDone { client_id: c, .. }) if c == client_id => {}
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = poll.tick() => {}
            }
            if !core.sees_client(&actor, client_id).await? {
                Err(CoreError::not_found("client", client_id))?;
            }
            let looked_at = Utc::now();
            for entry in core.timeline_recorded_since(client_id, since).await? {
                if sent.insert(entry.id, entry.recorded_at).is_none() {
                    yield entry;
                }
            }
            since = (looked_at - COMMIT_MARGIN).max(start);
            sent.retain(|_, recorded| *recorded >= since);
        }
    }
}

impl Core {
    /// A page of the client's timeline, newest first: `first` entries (at most [`PAGE_MAX`])
    /// older than `after`, of `kinds` (all when empty). The client must be in `actor`'s book.
    pub async fn timeline(
        &self,
        actor: &Actor,
        client_id: i64,
        first: u64,
        after: Option<TimelineCursor>,
        kinds: &[TimelineKind],
    ) -> CoreResult<TimelinePage> {
        self.client_for(actor, client_id, Need::Read).await?;
        let first = first.clamp(1, PAGE_MAX);
        let mut q =
            client_events::Entity::find().filter(client_events::Column::ClientId.eq(client_id));
        if !kinds.is_empty() {
            q = q.filter(client_events::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
        }
        if let Some((at, id)) = after {
            // A forged cursor's time beyond the stored years is out of PostgreSQL's range.
            let at = crate::domain::clamp_to_stored_years(at);
            q = q.filter(
                Condition::any()
                    .add(client_events::Column::OccurredAt.lt(at))
                    .add(
                        Condition::all()
                            .add(client_events::Column::OccurredAt.eq(at))
                            .add(client_events::Column::Id.lt(id)),
                    ),
            );
        }
        let mut rows = q
            .order_by_desc(client_events::Column::OccurredAt)
            .order_by_desc(client_events::Column::Id)
            .limit(first + 1)
            .all(self.db.conn())
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(TimelinePage {
            entries: self.entries_of(rows).await?,
            has_next,
        })
    }

    /// Entries recorded for `client_id` since `since` (by when they were written), oldest
    /// first: what a live subscriber has not seen yet. No access check: the caller made it.
    pub(crate) async fn timeline_recorded_since(
        &self,
        client_id: i64,
        since: DateTime<Utc>,
    ) -> CoreResult<Vec<TimelineEntry>> {
        let rows = client_events::Entity::find()
            .filter(client_events::Column::ClientId.eq(client_id))
            .filter(client_events::Column::RecordedAt.gte(since))
            .order_by_asc(client_events::Column::Id)
            .limit(PAGE_MAX * 5)
            .all(self.db.conn())
            .await?;
        self.entries_of(rows).await
    }

    /// The summaries of stored rows: one query per kind of object named (notes, tasks, users).
    async fn entries_of(&self, rows: Vec<client_events::Model>) -> CoreResult<Vec<TimelineEntry>> {
        let ids_of = |kind: &str| -> Vec<i64> {
            rows.iter()
                .filter(|r| r.object_type.as_deref() == Some(kind))
                .filter_map(|r| r.object_id)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect()
        };
        let (note_ids, task_ids) = (ids_of("note"), ids_of("task"));
        let conn = self.db.conn();
        let notes: HashMap<i64, notes::Model> = if note_ids.is_empty() {
            HashMap::new()
        } else {
            notes::Entity::find()
                .filter(notes::Column::Id.is_in(note_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|n| (n.id, n))
                .collect()
        };
        let tasks: HashMap<i64, tasks::Model> = if task_ids.is_empty() {
            HashMap::new()
        } else {
            tasks::Entity::find()
                .filter(tasks::Column::Id.is_in(task_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect()
        };
        let mut parsed = Vec::with_capacity(rows.len());
        let mut user_ids: HashSet<i64> = HashSet::new();
        for row in rows {
            let kind = TimelineKind::parse(&row.kind)?;
            let data: EventData = serde_json::from_str(&row.data).map_err(|e| {
                CoreError::Internal(format!("timeline entry {} is unreadable: {e}", row.id))
            })?;
            user_ids.extend(row.actor_id);
            match &data {
                EventData::Assigned { to: Some(u) } => {
                    user_ids.insert(*u);
                }
                EventData::Shared { user, .. } => {
                    user_ids.insert(*user);
                }
                _ => {}
            }
            parsed.push((row, kind, data));
        }
        let names: HashMap<i64, String> = if user_ids.is_empty() {
            HashMap::new()
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect()
        };
        Ok(parsed
            .into_iter()
            .map(|(row, kind, data)| {
                let object = row.object_type.clone().zip(row.object_id);
                let summary = Localized::new(
                    summary(kind, &data, &row, (&notes, &tasks, &names), Lang::Ru),
                    summary(kind, &data, &row, (&notes, &tasks, &names), Lang::En),
                );
                TimelineEntry {
                    id: row.id,
                    client_id: row.client_id,
                    kind,
                    at: row.occurred_at,
                    actor_id: row.actor_id,
                    actor_name: row.actor_id.and_then(|id| names.get(&id).cloned()),
                    object,
                    summary,
                    recorded_at: row.recorded_at,
                }
            })
            .collect())
    }

    /// Tells live subscribers (here and on other replicas) that `client_id`'s timeline grew.
    /// Call after the change's transaction committed.
    pub(crate) fn announce_timeline(&self, client_id: i64) {
        self.events().publish(Event::Timeline { client_id });
    }
}

type Lookups<'a> = (
    &'a HashMap<i64, notes::Model>,
    &'a HashMap<i64, tasks::Model>,
    &'a HashMap<i64, String>,
);

/// At most [`QUOTE_MAX`] characters of the first line of `text`, with an ellipsis when cut.
fn quote(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line = line.trim();
    if line.chars().count() > QUOTE_MAX {
        let cut: String = line.chars().take(QUOTE_MAX - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        line.to_owned()
    }
}

/// A title in the language's quotation marks: «…» / “…”.
fn quoted(text: &str, lang: Lang) -> String {
    match lang {
        Lang::Ru => format!("«{text}»"),
        Lang::En => format!("“{text}”"),
    }
}

fn note_kind_word(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "CALL" => lang.pick("Звонок", "Call"),
        "MEETING" => lang.pick("Встреча", "Meeting"),
        "EMAIL" => lang.pick("Письмо", "E-mail"),
        _ => lang.pick("Заметка", "Note"),
    }
}

fn consent_word(status: &str, lang: Lang) -> String {
    match status {
        "NONE" => lang.pick("нет", "none"),
        "AWAITING_AUTHORIZATION" => lang.pick("ждёт клиента", "awaiting the client"),
        "AUTHORIZED" => lang.pick("действует", "authorised"),
        "REJECTED" => lang.pick("отклонено", "rejected"),
        "REVOKED" => lang.pick("отозвано", "revoked"),
        "EXPIRED" => lang.pick("истекло", "expired"),
        other => other,
    }
    .to_owned()
}

fn field_word(field: &str, lang: Lang) -> String {
    match field {
        "name" => lang.pick("имя", "name"),
        "email" => lang.pick("почта", "e-mail"),
        "phone" => lang.pick("телефон", "phone"),
        "status" => lang.pick("статус", "status"),
        other => other,
    }
    .to_owned()
}

/// "12 новых операций" / "12 new transactions".
fn count_phrase(n: u32, lang: Lang) -> String {
    match lang {
        Lang::En if n == 1 => "1 new transaction".to_owned(),
        Lang::En => format!("{n} new transactions"),
        Lang::Ru => {
            let (last, last2) = (n % 10, n % 100);
            let word = if last == 1 && last2 != 11 {
                "новая операция"
            } else if (2..=4).contains(&last) && !(12..=14).contains(&last2) {
                "новые операции"
            } else {
                "новых операций"
            };
            format!("{n} {word}")
        }
    }
}

fn money_list(amounts: &[(String, i64)], lang: Lang) -> String {
    amounts
        .iter()
        .filter_map(|(cur, minor)| {
            let currency = Currency::stored(cur)?;
            Some(format_money(&Money::new(*minor, currency), lang))
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn summary(
    kind: TimelineKind,
    data: &EventData,
    row: &client_events::Model,
    (notes, tasks, names): Lookups<'_>,
    lang: Lang,
) -> String {
    let user = |id: &i64| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| lang.pick("удалённый пользователь", "a deleted user").into())
    };
    let task_title = |fallback: &str| {
        row.object_id
            .and_then(|id| tasks.get(&id))
            .map(|t| t.title.clone())
            .unwrap_or_else(|| fallback.to_owned())
    };
    match (kind, data) {
        (TimelineKind::SignalRaised, EventData::Signal { kind, .. }) => {
            let name = crate::domain::SignalKind::parse(kind)
                .map(|k| k.title(lang))
                .unwrap_or(kind.as_str());
            format!("{}: {name}", lang.pick("Сигнал", "Signal"))
        }
        (TimelineKind::SignalClosed, EventData::Signal { kind, resolution }) => {
            let name = crate::domain::SignalKind::parse(kind)
                .map(|k| k.title(lang))
                .unwrap_or(kind.as_str());
            let how = match resolution.as_deref() {
                Some("TASK_DONE") => lang.pick("задача выполнена", "task done"),
                Some("DISMISSED") => lang.pick("отклонён", "dismissed"),
                _ => lang.pick("больше не актуален", "no longer applies"),
            };
            format!(
                "{} ({how}): {name}",
                lang.pick("Сигнал закрыт", "Signal closed")
            )
        }
        (TimelineKind::Note, EventData::Note { note_kind }) => {
            let body = row
                .object_id
                .and_then(|id| notes.get(&id))
                .map(|n| quote(&n.body))
                .unwrap_or_default();
            format!("{}: {body}", note_kind_word(note_kind, lang))
        }
        (TimelineKind::TaskCreated, EventData::Task { title }) => {
            format!(
                "{} {}",
                lang.pick("Новая задача", "New task"),
                quoted(&task_title(title), lang)
            )
        }
        (TimelineKind::TaskCompleted, EventData::Task { title }) => {
            format!(
                "{} {}",
                lang.pick("Выполнена задача", "Task done:"),
                quoted(&task_title(title), lang)
            )
        }
        (TimelineKind::TaskCancelled, EventData::Task { title }) => {
            format!(
                "{} {}",
                lang.pick("Отменена задача", "Task cancelled:"),
                quoted(&task_title(title), lang)
            )
        }
        (TimelineKind::TaskReopened, EventData::Task { title }) => {
            format!(
                "{} {}",
                lang.pick("Снова открыта задача", "Task reopened:"),
                quoted(&task_title(title), lang)
            )
        }
        (TimelineKind::BankLinked, EventData::Bank { bank }) => match lang {
            Lang::Ru => format!("Подключён банк {bank}"),
            Lang::En => format!("Bank {bank} linked"),
        },
        (TimelineKind::BankUnlinked, EventData::Bank { bank }) => match lang {
            Lang::Ru => format!("Банк {bank} отключён, согласие отозвано"),
            Lang::En => format!("Bank {bank} unlinked, consent revoked"),
        },
        (TimelineKind::ConsentChanged, EventData::Consent { bank, from, to }) => format!(
            "{} {bank}: {} → {}",
            lang.pick("Согласие", "Consent at"),
            consent_word(from, lang),
            consent_word(to, lang)
        ),
        (
            TimelineKind::SyncImported,
            EventData::Sync {
                bank,
                added,
                out,
                r#in,
            },
        ) => {
            let mut s = format!("{bank}: {}", count_phrase(*added, lang));
            let mut part = |amounts: &[(String, i64)], ru: &str, en: &str| {
                if amounts.is_empty() {
                    return;
                }
                let money = money_list(amounts, lang);
                s.push_str(&match lang {
                    Lang::Ru => format!(", {ru} {money}"),
                    Lang::En => format!(", {money} {en}"),
                });
            };
            part(out, "списано", "out");
            part(r#in, "поступило", "in");
            s
        }
        (
            TimelineKind::LargeTransaction,
            EventData::LargeTransaction {
                minor,
                currency,
                credit,
                description,
            },
        ) => {
            let amount = Currency::stored(currency)
                .map(|c| format_money(&Money::new(*minor, c), lang))
                .unwrap_or_else(|| format!("{minor} {currency}"));
            let what = if *credit {
                lang.pick("Крупное поступление", "Large credit")
            } else {
                lang.pick("Крупное списание", "Large debit")
            };
            let description = quote(description);
            if description.is_empty() {
                format!("{what} {amount}")
            } else {
                format!("{what} {amount}: {description}")
            }
        }
        (
            TimelineKind::RatingChanged,
            EventData::Rating {
                from,
                to,
                factor_ru,
                factor_en,
            },
        ) => {
            let change = match from {
                Some(from) => format!("{from} → {to}"),
                None => to.clone(),
            };
            let factor = lang.pick(
                factor_ru.as_deref().unwrap_or(""),
                factor_en.as_deref().unwrap_or(""),
            );
            let head = format!("{} {change}", lang.pick("Рейтинг", "Rating"));
            if factor.is_empty() {
                head
            } else {
                format!("{head}: {factor}")
            }
        }
        (TimelineKind::ClientCreated, _) => lang.pick("Клиент заведён", "Client created").into(),
        (TimelineKind::ClientEdited, EventData::Edited { fields }) => {
            let list: Vec<String> = fields.iter().map(|f| field_word(f, lang)).collect();
            format!(
                "{}: {}",
                lang.pick("Изменены данные", "Details changed"),
                list.join(", ")
            )
        }
        (TimelineKind::ClientAssigned, EventData::Assigned { to }) => match to {
            Some(to) => format!(
                "{} {}",
                lang.pick("Передан менеджеру", "Assigned to"),
                user(to)
            ),
            None => lang.pick("Снят с менеджера", "Unassigned").into(),
        },
        (TimelineKind::ClientShared, EventData::Shared { user: u, until }) => {
            let mut s = format!(
                "{} {}",
                lang.pick("Открыт доступ для", "Shared with"),
                user(u)
            );
            if let Some(until) = until {
                s.push_str(&format!(
                    " {} {}",
                    lang.pick("до", "until"),
                    format_date_of(*until, lang)
                ));
            }
            s
        }
        (TimelineKind::ClientUnshared, EventData::Shared { user: u, .. }) => {
            format!(
                "{} {}",
                lang.pick("Закрыт доступ для", "Access withdrawn from"),
                user(u)
            )
        }
        (TimelineKind::BriefGenerated, _) => lang
            .pick("Подготовлен бриф к встрече", "Meeting brief prepared")
            .into(),
        (TimelineKind::AssistantConversation, _) => lang
            .pick("Разговор с ассистентом", "Conversation with the assistant")
            .into(),
        // A row whose data does not fit its kind (never written so): its kind, plainly.
        (kind, _) => kind.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_take_the_first_line_and_cut_long_ones() {
        assert_eq!(quote("\n  Позвонил клиенту  \nвторая"), "Позвонил клиенту");
        let long = "я".repeat(200);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX);
        assert!(q.ends_with('…'));
    }

    #[test]
    fn russian_counts_agree_with_their_number() {
        assert_eq!(count_phrase(1, Lang::Ru), "1 новая операция");
        assert_eq!(count_phrase(3, Lang::Ru), "3 новые операции");
        assert_eq!(count_phrase(12, Lang::Ru), "12 новых операций");
        assert_eq!(count_phrase(21, Lang::Ru), "21 новая операция");
        assert_eq!(count_phrase(111, Lang::Ru), "111 новых операций");
        assert_eq!(count_phrase(1, Lang::En), "1 new transaction");
    }

    #[test]
    fn a_sync_summary_names_the_money_in_both_languages() {
        let row = client_events::Model {
            id: 1,
            client_id: 1,
            kind: "SYNC_IMPORTED".into(),
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
            actor_id: None,
            object_type: None,
            object_id: None,
            data: String::new(),
        };
        let data = EventData::Sync {
            bank: "abank".into(),
            added: 12,
            out: vec![("RUB".into(), 358_000)],
            r#in: vec![],
        };
        let (n, t, u) = (HashMap::new(), HashMap::new(), HashMap::new());
        let ru = summary(
            TimelineKind::SyncImported,
            &data,
            &row,
            (&n, &t, &u),
            Lang::Ru,
        );
        assert_eq!(ru, "abank: 12 новых операций, списано 3\u{a0}580\u{a0}₽");
        let en = summary(
            TimelineKind::SyncImported,
            &data,
            &row,
            (&n, &t, &u),
            Lang::En,
        );
        assert_eq!(en, "abank: 12 new transactions, ₽3,580 out");
    }

    #[test]
    fn data_survives_its_json() {
        let data = EventData::Rating {
            from: Some("B".into()),
            to: "A".into(),
            factor_ru: Some("Доход 52 000 ₽/мес".into()),
            factor_en: None,
        };
        let json = serde_json::to_string(&data).expect("json");
        assert_eq!(
            serde_json::from_str::<EventData>(&json).expect("back"),
            data
        );
    }
}
