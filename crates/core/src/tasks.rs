//! Tasks: something one user is to do, about a client or not, by a due time.
//!
//! - Who: a task is assigned to one active MANAGER or ADMIN (a viewer changes nothing) who can
//!   see its client; without a client, a manager assigns to themself or a member of their team,
//!   an administrator to anyone.
//! - Who changes it: its assignee, its creator, whoever may change its client, an
//!   administrator. A task whose client is outside a user's book does not exist for them.
//! - When: due times are stored in UTC. "Today" and "this week" are the user's days in their
//!   time zone (`users.time_zone`, Europe/Moscow by default): a task due at 23:30 Moscow time is
//!   due today in Moscow and tomorrow in Vladivostok. A task is overdue while it is open and its
//!   due time has passed, wherever it is shown.
//! - Where from: `MANUAL`, a `SIGNAL` or the `ASSISTANT`, with a reference to the evidence.
//!
//! Every change is audited, and a task about a client puts an entry on the client's timeline in
//! the same transaction; the bus then tells `myTasksChanged` subscribers.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::access::Need;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::domain::{check_user_time, Role, TaskPriority, TaskSource, TaskStatus, TimelineKind};
use crate::entity::{clients, tasks, users};
use crate::error::{CoreError, CoreResult};
use crate::events::Event;
use crate::timeline::{EventData, NewEvent};
use crate::Core;

/// Longest title, in characters.
pub const TITLE_MAX: usize = crate::domain::TASK_TITLE_MAX;
/// Longest details, in characters.
pub const DETAILS_MAX: usize = 20_000;
/// Most tasks one read returns.
pub const PAGE_MAX: u64 = 500;
/// The time zone of a user who chose none.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Moscow";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub client_id: Option<i64>,
    pub title: String,
    pub details: String,
    pub due_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<i64>,
    pub creator_id: Option<i64>,
    pub priority: TaskPriority,
    pub status: TaskStatus,
    pub source: TaskSource,
    pub source_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was completed or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Task {
    /// Open and past its due time at `now`.
    pub fn overdue_at(&self, now: DateTime<Utc>) -> bool {
        self.status == TaskStatus::Open && self.due_at.is_some_and(|due| due < now)
    }
}

impl TryFrom<tasks::Model> for Task {
    type Error = CoreError;
    fn try_from(m: tasks::Model) -> CoreResult<Self> {
        Ok(Task {
            id: m.id,
            client_id: m.client_id,
            title: m.title,
            details: m.details,
            due_at: m.due_at,
            assignee_id: m.assignee_id,
            creator_id: m.creator_id,
            priority: TaskPriority::parse(&m.priority)?,
            status: TaskStatus::parse(&m.status)?,
            source: TaskSource::parse(&m.source)?,
            source_ref: m.source_ref,
            created_at: m.created_at,
            updated_at: m.updated_at,
            closed_at: m.closed_at,
        })
    }
}

/// Which of a user's tasks by due time, in the user's days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Open and past due.
    Overdue,
    /// Due during the user's today (including earlier today).
    Today,
    /// Due from the start of the user's today to the end of the seventh day.
    Week,
}

/// What `my_tasks` returns.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// `OPEN` unless said.
    pub status: Option<TaskStatus>,
    pub due: Option<Due>,
    pub client_id: Option<i64>,
}

/// A task to create.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub client_id: Option<i64>,
    pub title: String,
    pub details: String,
    pub due_at: Option<DateTime<Utc>>,
    /// The creator when `None`.
    pub assignee_id: Option<i64>,
    pub priority: TaskPriority,
    pub source: TaskSource,
    pub source_ref: Option<String>,
}

/// A change to a task; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub details: Option<String>,
    /// `Some(None)` removes the due time.
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub assignee_id: Option<i64>,
    pub priority: Option<TaskPriority>,
}

/// A time zone by its IANA name, or an `INVALID` error naming it.
pub fn parse_time_zone(name: &str) -> CoreResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        CoreError::invalid(format!(
            "unknown time zone {name:?}: use an IANA name such as Europe/Moscow"
        ))
    })
}

/// The UTC instant the local day `date` starts in `tz` (the first instant that exists, when
/// midnight falls in a clock change).
fn start_of(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut local = date.and_time(chrono::NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += Duration::minutes(30);
    }
    // No zone skips two hours at midnight; as a last resort the UTC day.
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `[from, to)` in UTC of the user's `due` window at `now`, and whether only past-due rows
/// count.
fn due_window(due: Due, tz: Tz, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    let today = now.with_timezone(&tz).date_naive();
    let day_after = |days: i64| start_of(today + Duration::days(days), tz);
    match due {
        Due::Overdue => (None, now),
        Due::Today => (Some(start_of(today, tz)), day_after(1)),
        Due::Week => (Some(start_of(today, tz)), day_after(7)),
    }
}

fn clean_title(title: &str) -> CoreResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(CoreError::invalid("a task needs a title"));
    }
    let n = title.chars().count();
    if n > TITLE_MAX {
        return Err(CoreError::invalid(format!(
            "a task's title has at most {TITLE_MAX} characters; this one has {n}"
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "a task's title is one line without control characters",
        ));
    }
    Ok(title.to_owned())
}

fn clean_details(details: &str) -> CoreResult<String> {
    let details = details.trim();
    let n = details.chars().count();
    if n > DETAILS_MAX {
        return Err(CoreError::invalid(format!(
            "a task's details have at most {DETAILS_MAX} characters; these have {n}"
        )));
    }
    if crate::domain::has_hidden_controls(details) {
        return Err(CoreError::invalid(
            "a task's details cannot hold control or text-direction characters",
        ));
    }
    Ok(details.replace("\r\n", "\n"))
}

fn clean_source_ref(source_ref: Option<String>) -> CoreResult<Option<String>> {
    let Some(r) = source_ref
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
    else {
        return Ok(None);
    };
    if r.chars().count() > 200 || r.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "`sourceRef` is one line of at most 200 characters",
        ));
    }
    Ok(Some(r))
}

impl Core {
    /// The user's time zone (the default when unset or unknown).
    pub async fn time_zone_of(&self, user_id: i64) -> CoreResult<Tz> {
        let name = users::Entity::find_by_id(user_id)
            .one(self.db.conn())
            .await?
            .map(|u| u.time_zone);
        Ok(name
            .and_then(|n| n.parse::<Tz>().ok())
            .unwrap_or(chrono_tz::Europe::Moscow))
    }

    /// Sets the signed-in user's time zone.
    pub async fn set_time_zone(&self, actor: &Actor, name: &str) -> CoreResult<()> {
        let tz = parse_time_zone(name)?;
        let txn = self.db.begin_write().await?;
        users::Entity::update_many()
            .col_expr(users::Column::TimeZone, Expr::value(tz.name()))
            .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(users::Column::Id.eq(actor.user_id))
            .exec(&txn)
            .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.time_zone")
                .actor(actor)
                .entity("user", actor.user_id)
                .detail("time_zone", tz.name()),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The tasks assigned to `actor` that match `filter`, soonest due first (no due time last).
    /// Tasks about clients outside their book are left out.
    pub async fn my_tasks(&self, actor: &Actor, filter: &TaskFilter) -> CoreResult<Vec<Task>> {
        let now = Utc::now();
        let status = match filter.due {
            Some(Due::Overdue) => TaskStatus::Open,
            _ => filter.status.unwrap_or(TaskStatus::Open),
        };
        let mut q = tasks::Entity::find()
            .filter(tasks::Column::AssigneeId.eq(actor.user_id))
            .filter(tasks::Column::Status.eq(status.as_str()));
        if let Some(client_id) = filter.client_id {
            q = q.filter(tasks::Column::ClientId.eq(client_id));
        }
        if let Some(due) = filter.due {
            let tz = self.time_zone_of(actor.user_id).await?;
            let (from, to) = due_window(due, tz, now);
            q = q.filter(tasks::Column::DueAt.lt(to));
            if let Some(from) = from {
                q = q.filter(tasks::Column::DueAt.gte(from));
            }
        }
        if let Some(cond) = crate::access::visible_condition(actor, now) {
            let visible = Query::select()
                .column(clients::Column::Id)
                .from(clients::Entity)
                .cond_where(cond)
                .to_owned();
            q = q.filter(
                Condition::any()
                    .add(tasks::Column::ClientId.is_null())
                    .add(tasks::Column::ClientId.in_subquery(visible)),
            );
        }
        q.order_by_asc(Expr::col(tasks::Column::DueAt).is_null())
            .order_by_asc(tasks::Column::DueAt)
            .order_by_asc(tasks::Column::Id)
            .limit(PAGE_MAX)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Task::try_from)
            .collect()
    }

    /// A client's tasks (open ones first, then by due time), for anyone who sees the client.
    pub async fn client_tasks(
        &self,
        actor: &Actor,
        client_id: i64,
        status: Option<TaskStatus>,
    ) -> CoreResult<Vec<Task>> {
        self.client_for(actor, client_id, Need::Read).await?;
        let mut q = tasks::Entity::find().filter(tasks::Column::ClientId.eq(client_id));
        if let Some(status) = status {
            q = q.filter(tasks::Column::Status.eq(status.as_str()));
        }
        let mut list: Vec<Task> = q
            .order_by_asc(Expr::col(tasks::Column::DueAt).is_null())
            .order_by_asc(tasks::Column::DueAt)
            .order_by_desc(tasks::Column::Id)
            .limit(PAGE_MAX)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Task::try_from)
            .collect::<CoreResult<_>>()?;
        list.sort_by_key(|t| t.status != TaskStatus::Open);
        Ok(list)
    }

    /// A task `actor` can see (its client in their book, or assigned to or made by them).
    pub async fn task(&self, actor: &Actor, id: i64) -> CoreResult<Task> {
        let task = self.task_model(id).await?;
        self.check_task_visible(actor, &task).await?;
        task.try_into()
    }

    async fn task_model(&self, id: i64) -> CoreResult<tasks::Model> {
        tasks::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("task", id))
    }

    async fn check_task_visible(&self, actor: &Actor, task: &tasks::Model) -> CoreResult<()> {
        match task.client_id {
            Some(client_id) => match self.client_for(actor, client_id, Need::Read).await {
                Err(CoreError::NotFound { .. }) => Err(CoreError::not_found("task", task.id)),
                other => other.map(|_| ()),
            },
            None if actor.role == Role::Admin
                || task.assignee_id == Some(actor.user_id)
                || task.creator_id == Some(actor.user_id) =>
            {
                Ok(())
            }
            None => Err(CoreError::not_found("task", task.id)),
        }
    }

    /// The task `id` if `actor` may change it.
    async fn task_for_change(&self, actor: &Actor, id: i64) -> CoreResult<tasks::Model> {
        let task = self.task_model(id).await?;
        self.check_task_visible(actor, &task).await?;
        if actor.role == Role::Viewer {
            return Err(CoreError::Forbidden("a viewer changes no task".into()));
        }
        let own = task.assignee_id == Some(actor.user_id) || task.creator_id == Some(actor.user_id);
        if own || actor.role == Role::Admin {
            return Ok(task);
        }
        if let Some(client_id) = task.client_id {
            if self
                .client_for(actor, client_id, Need::Change)
                .await
                .is_ok()
            {
                return Ok(task);
            }
        }
        Err(CoreError::Forbidden(
            "only its assignee, its creator, whoever may change its client or an administrator may change a task"
                .into(),
        ))
    }

    /// Checks that `assignee_id` may take a task about `client_id` from `actor`.
    async fn check_assignee(
        &self,
        actor: &Actor,
        assignee_id: i64,
        client_id: Option<i64>,
    ) -> CoreResult<()> {
        let user = users::Entity::find_by_id(assignee_id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("user", assignee_id))?;
        let role = Role::parse(&user.role)?;
        if user.disabled {
            return Err(CoreError::invalid(format!(
                "{} is disabled and cannot take tasks",
                user.username
            )));
        }
        if role == Role::Viewer {
            return Err(CoreError::invalid(format!(
                "{} is a viewer and cannot take tasks",
                user.username
            )));
        }
        let as_actor = Actor {
            user_id: user.id,
            username: user.username.clone(),
            role,
            session_id: 0,
            password_change_required: false,
        };
        match client_id {
            Some(client_id) => {
                if !self.sees_client(&as_actor, client_id).await? {
                    return Err(CoreError::invalid(format!(
                        "{} cannot see this client: share it or assign it first",
                        user.username
                    )));
                }
            }
            None if actor.role == Role::Admin || assignee_id == actor.user_id => {}
            None => {
                let mine = users::Entity::find_by_id(actor.user_id)
                    .one(self.db.conn())
                    .await?
                    .and_then(|u| u.team_id);
                if mine.is_none() || mine != user.team_id {
                    return Err(CoreError::Forbidden(
                        "a task without a client goes to yourself or a member of your team".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Creates a task (not as a viewer); audited, and on the client's timeline.
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> CoreResult<Task> {
        if actor.role == Role::Viewer {
            return Err(CoreError::Forbidden("a viewer creates no task".into()));
        }
        if let Some(client_id) = new.client_id {
            self.client_for(actor, client_id, Need::Change).await?;
        }
        let title = clean_title(&new.title)?;
        let details = clean_details(&new.details)?;
        let source_ref = clean_source_ref(new.source_ref)?;
        let due_at = new
            .due_at
            .map(|at| check_user_time(at, "dueAt"))
            .transpose()?;
        let assignee_id = new.assignee_id.unwrap_or(actor.user_id);
        self.check_assignee(actor, assignee_id, new.client_id)
            .await?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let task = tasks::ActiveModel {
            client_id: Set(new.client_id),
            title: Set(title.clone()),
            details: Set(details),
            due_at: Set(due_at),
            assignee_id: Set(Some(assignee_id)),
            creator_id: Set(Some(actor.user_id).filter(|id| *id > 0)),
            priority: Set(new.priority.as_str().to_owned()),
            status: Set(TaskStatus::Open.as_str().to_owned()),
            source: Set(new.source.as_str().to_owned()),
            source_ref: Set(source_ref),
            created_at: Set(now),
            updated_at: Set(now),
            closed_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut audit = AuditEvent::new("task.create")
            .actor(actor)
            .entity("task", task.id)
            .detail("assignee", assignee_id)
            .detail("source", new.source.as_str());
        if let Some(client_id) = new.client_id {
            audit = audit.detail("client", client_id);
            crate::timeline::record(
                &txn,
                NewEvent::new(
                    client_id,
                    TimelineKind::TaskCreated,
                    EventData::Task { title },
                )
                .at(now)
                .by(actor)
                .object("task", task.id),
            )
            .await?;
        }
        crate::audit::record_in(&txn, audit).await?;
        txn.commit().await?;
        self.after_task_change(&task, None);
        task.try_into()
    }

    /// Changes a task's title, details, due time, assignee or priority.
    pub async fn update_task(&self, actor: &Actor, id: i64, patch: TaskPatch) -> CoreResult<Task> {
        let current = self.task_for_change(actor, id).await?;
        let title = patch.title.as_deref().map(clean_title).transpose()?;
        let details = patch.details.as_deref().map(clean_details).transpose()?;
        if let Some(Some(at)) = patch.due_at {
            check_user_time(at, "dueAt")?;
        }
        if let Some(assignee) = patch.assignee_id {
            if Some(assignee) != current.assignee_id {
                self.check_assignee(actor, assignee, current.client_id)
                    .await?;
            }
        }
        let previous_assignee = current.assignee_id;
        let mut active = current.into_active_model();
        let mut changed = Vec::new();
        if let Some(title) = title {
            active.title = Set(title);
            changed.push("title");
        }
        if let Some(details) = details {
            active.details = Set(details);
            changed.push("details");
        }
        if let Some(due) = patch.due_at {
            active.due_at = Set(due);
            changed.push("due");
        }
        if let Some(assignee) = patch.assignee_id {
            active.assignee_id = Set(Some(assignee));
            changed.push("assignee");
        }
        if let Some(priority) = patch.priority {
            active.priority = Set(priority.as_str().to_owned());
            changed.push("priority");
        }
        active.updated_at = Set(Utc::now());
        let txn = self.db.begin_write().await?;
        let task = active.update(&txn).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("task.update")
                .actor(actor)
                .entity("task", id)
                .detail("fields", changed.join(",")),
        )
        .await?;
        txn.commit().await?;
        self.after_task_change(&task, previous_assignee);
        task.try_into()
    }

    /// Completes an open task.
    pub async fn complete_task(&self, actor: &Actor, id: i64) -> CoreResult<Task> {
        self.move_task(actor, id, TaskStatus::Done).await
    }

    /// Cancels an open task.
    pub async fn cancel_task(&self, actor: &Actor, id: i64) -> CoreResult<Task> {
        self.move_task(actor, id, TaskStatus::Cancelled).await
    }

    /// Opens a completed or cancelled task again.
    pub async fn reopen_task(&self, actor: &Actor, id: i64) -> CoreResult<Task> {
        self.move_task(actor, id, TaskStatus::Open).await
    }

    async fn move_task(&self, actor: &Actor, id: i64, to: TaskStatus) -> CoreResult<Task> {
        let current = self.task_for_change(actor, id).await?;
        let from = TaskStatus::parse(&current.status)?;
        let allowed = match to {
            TaskStatus::Open => from != TaskStatus::Open,
            TaskStatus::Done | TaskStatus::Cancelled => from == TaskStatus::Open,
        };
        if !allowed {
            return Err(CoreError::invalid(format!(
                "the task is {}: it cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let now = Utc::now();
        let (client_id, title) = (current.client_id, current.title.clone());
        let mut active = current.into_active_model();
        active.status = Set(to.as_str().to_owned());
        active.closed_at = Set((to != TaskStatus::Open).then_some(now));
        active.updated_at = Set(now);
        let txn = self.db.begin_write().await?;
        let task = active.update(&txn).await?;
        let (action, kind) = match to {
            TaskStatus::Done => ("task.complete", TimelineKind::TaskCompleted),
            TaskStatus::Cancelled => ("task.cancel", TimelineKind::TaskCancelled),
            TaskStatus::Open => ("task.reopen", TimelineKind::TaskReopened),
        };
        // A signal's task: completing it closes the signal, reopening it opens the signal.
        crate::signals::follow_task(&*txn, id, to, actor).await?;
        if let Some(client_id) = client_id {
            crate::timeline::record(
                &txn,
                NewEvent::new(client_id, kind, EventData::Task { title })
                    .at(now)
                    .by(actor)
                    .object("task", id),
            )
            .await?;
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new(action).actor(actor).entity("task", id),
        )
        .await?;
        txn.commit().await?;
        self.after_task_change(&task, task.assignee_id);
        task.try_into()
    }

    /// After a task's change committed: its subscribers and its client's timeline hear of it.
    fn after_task_change(&self, task: &tasks::Model, previous_assignee_id: Option<i64>) {
        self.events().publish(Event::TaskChanged {
            task_id: task.id,
            assignee_id: task.assignee_id,
            previous_assignee_id: previous_assignee_id.filter(|p| Some(*p) != task.assignee_id),
        });
        if let Some(client_id) = task.client_id {
            self.announce_timeline(client_id);
        }
    }

    /// Tasks by id, one query, without an access check: for tasks shown beside something the
    /// caller may already see (a signal's task is about the signal's client).
    pub async fn tasks_by_ids(
        &self,
        ids: &[i64],
    ) -> CoreResult<std::collections::HashMap<i64, Task>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        tasks::Entity::find()
            .filter(tasks::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| Ok((m.id, Task::try_from(m)?)))
            .collect()
    }

    /// How many open tasks of the client's are overdue at `now`, per client (a page of clients
    /// in one query).
    pub async fn overdue_counts(
        &self,
        client_ids: &[i64],
    ) -> CoreResult<std::collections::HashMap<i64, u64>> {
        if client_ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(Option<i64>, i64)> = tasks::Entity::find()
            .select_only()
            .column(tasks::Column::ClientId)
            .column_as(tasks::Column::Id.count(), "n")
            .filter(tasks::Column::ClientId.is_in(client_ids.iter().copied()))
            .filter(tasks::Column::Status.eq(TaskStatus::Open.as_str()))
            .filter(tasks::Column::DueAt.lt(Utc::now()))
            .group_by(tasks::Column::ClientId)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, n)| Some((c?, n.max(0) as u64)))
            .collect())
    }
}

/// `actor`'s tasks as they change: each task assigned to them that is created or changed (and
/// one that was theirs and moved to someone else, when they can still see it), once committed,
/// on any replica.
pub fn live_feed(
    core: std::sync::Arc<Core>,
    actor: Actor,
) -> impl futures_util::Stream<Item = CoreResult<Task>> {
    use tokio::sync::broadcast::error::RecvError;
    async_stream::try_stream! {
        let mut changes = core.events().task_changes();
        loop {
            let change = match changes.recv().await {
                Ok(change) => change,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let me = Some(actor.user_id);
            if change.assignee_id != me && change.previous_assignee_id != me {
                continue;
            }
            match core.task(&actor, change.task_id).await {
                Ok(task) => yield task,
                // Its client is outside the book (or it was deleted): nothing to show.
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => Err(e)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a time")
            .with_timezone(&Utc)
    }

    #[test]
    fn today_is_the_users_day() {
        // 22:30 UTC on 7 Dec is 01:30 on 8 Dec in Moscow and 08:30 on 8 Dec in Vladivostok.
        let now = at("2026-12-07T22:30:00Z");
        let (from, to) = due_window(Due::Today, chrono_tz::Europe::Moscow, now);
        assert_eq!(from, Some(at("2026-12-07T21:00:00Z")));
        assert_eq!(to, at("2026-12-08T21:00:00Z"));
        let (from, to) = due_window(Due::Today, chrono_tz::Asia::Vladivostok, now);
        assert_eq!(from, Some(at("2026-12-07T14:00:00Z")));
        assert_eq!(to, at("2026-12-08T14:00:00Z"));
        let (from, to) = due_window(Due::Today, chrono_tz::America::New_York, now);
        assert_eq!(from, Some(at("2026-12-07T05:00:00Z")));
        assert_eq!(to, at("2026-12-08T05:00:00Z"));
    }

    #[test]
    fn a_week_is_seven_of_the_users_days_and_overdue_is_before_now() {
        let now = at("2026-12-07T10:00:00Z");
        let (from, to) = due_window(Due::Week, chrono_tz::Europe::Moscow, now);
        assert_eq!(from, Some(at("2026-12-06T21:00:00Z")));
        assert_eq!(to, at("2026-12-13T21:00:00Z"));
        assert_eq!(
            due_window(Due::Overdue, chrono_tz::Europe::Moscow, now),
            (None, now)
        );
    }

    #[test]
    fn days_across_a_clock_change_are_23_or_25_hours() {
        // Berlin moves to summer time on 29 March 2026.
        let now = at("2026-03-29T10:00:00Z");
        let (from, to) = due_window(Due::Today, chrono_tz::Europe::Berlin, now);
        assert_eq!(
            to - from.expect("a start"),
            Duration::hours(23),
            "{from:?}..{to}"
        );
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert!(parse_time_zone("Europe/Moscow").is_ok());
        assert!(parse_time_zone(" Asia/Vladivostok ").is_ok());
        assert!(parse_time_zone("Moscow").is_err());
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn titles_and_details_are_bounded() {
        assert_eq!(clean_title("  Позвонить  ").expect("valid"), "Позвонить");
        assert!(clean_title("").is_err());
        assert!(clean_title("a\nb").is_err());
        assert!(clean_title(&"я".repeat(TITLE_MAX + 1)).is_err());
        assert!(clean_details("").is_ok());
        assert!(clean_details(&"я".repeat(DETAILS_MAX + 1)).is_err());
        assert!(clean_details("x\u{202E}y").is_err());
    }

    #[test]
    fn overdue_means_open_and_past_due() {
        let now = at("2026-12-07T10:00:00Z");
        let mut t = Task {
            id: 1,
            client_id: None,
            title: "t".into(),
            details: String::new(),
            due_at: Some(at("2026-12-07T09:00:00Z")),
            assignee_id: None,
            creator_id: None,
            priority: TaskPriority::Normal,
            status: TaskStatus::Open,
            source: TaskSource::Manual,
            source_ref: None,
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        assert!(t.overdue_at(now));
        t.status = TaskStatus::Done;
        assert!(!t.overdue_at(now));
        t.status = TaskStatus::Open;
        t.due_at = None;
        assert!(!t.overdue_at(now));
    }
}
