//! The manager's work: tasks and a client's timeline.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::domain::{
    TaskPriority as CorePriority, TaskSource as CoreSource, TaskStatus as CoreStatus,
    TimelineKind as CoreKind,
};
use crm_core::tasks::Task;
use crm_core::timeline::TimelineEntry;

use super::objects::{PageInfo, User};
use super::teams::user_by_id;
use super::Lang;
use crate::context::{actor, core};
use crate::cursor::parse_id;
use crate::error::{ApiError, ApiResult, ApiResultExt};

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $core:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
        pub enum $name { $($variant),+ }

        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => $core::$variant),+ }
            }
        }

        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                match v { $($core::$variant => $name::$variant),+ }
            }
        }
    };
}

pub(crate) use mirror_enum;

mirror_enum!(
    /// Where a task stands.
    TaskStatus => CoreStatus { Open, Done, Cancelled }
);
mirror_enum!(
    /// How urgent a task is.
    TaskPriority => CorePriority { Low, Normal, High, Urgent }
);
mirror_enum!(
    /// Who made a task: a person, a signal, the assistant.
    TaskSource => CoreSource { Manual, Signal, Assistant }
);
mirror_enum!(
    /// What a timeline entry records.
    TimelineKind => CoreKind {
        Note,
        TaskCreated,
        TaskCompleted,
        TaskCancelled,
        TaskReopened,
        BankLinked,
        BankUnlinked,
        ConsentChanged,
        SyncImported,
        LargeTransaction,
        RatingChanged,
        ClientCreated,
        ClientEdited,
        ClientAssigned,
        ClientShared,
        ClientUnshared,
        AssistantConversation,
        SignalRaised,
        SignalClosed,
        BriefGenerated,
    }
);

/// Which tasks by due time, in the user's days (`User.timeZone`).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TaskDue {
    /// Open and past its due time.
    Overdue,
    /// Due during the user's today (earlier today included).
    Today,
    /// Due from the start of the user's today to the end of the seventh day.
    Week,
}

impl From<TaskDue> for crm_core::tasks::Due {
    fn from(d: TaskDue) -> Self {
        match d {
            TaskDue::Overdue => crm_core::tasks::Due::Overdue,
            TaskDue::Today => crm_core::tasks::Due::Today,
            TaskDue::Week => crm_core::tasks::Due::Week,
        }
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct TaskFilterInput {
    /// `OPEN` unless given (`due: OVERDUE` is always open tasks).
    pub status: Option<TaskStatus>,
    pub due: Option<TaskDue>,
    pub client_id: Option<ID>,
}

#[derive(InputObject, Clone, Debug)]
pub struct CreateTaskInput {
    /// The client it is about (none: a task of one's own work).
    pub client_id: Option<ID>,
    /// One line, at most 200 characters.
    pub title: String,
    /// Plain text, at most 20 000 characters.
    #[graphql(default)]
    pub details: String,
    /// When it is due (UTC; the web app sends the user's local time converted).
    pub due_at: Option<DateTime<Utc>>,
    /// Who does it (default: you). They must be an active manager or administrator who can see
    /// the client.
    pub assignee_id: Option<ID>,
    #[graphql(default_with = "TaskPriority::Normal")]
    pub priority: TaskPriority,
    #[graphql(default_with = "TaskSource::Manual")]
    pub source: TaskSource,
    /// A reference to the evidence (a signal's id, a conversation), at most 200 characters.
    pub source_ref: Option<String>,
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct UpdateTaskInput {
    pub title: Option<String>,
    pub details: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// True removes the due time.
    #[graphql(default)]
    pub clear_due_at: bool,
    pub assignee_id: Option<ID>,
    pub priority: Option<TaskPriority>,
}

impl CreateTaskInput {
    pub(crate) fn into_core(self) -> ApiResult<crm_core::tasks::NewTask> {
        Ok(crm_core::tasks::NewTask {
            client_id: self
                .client_id
                .as_ref()
                .map(|id| parse_id(id, "client"))
                .transpose()?,
            title: self.title,
            details: self.details,
            due_at: self.due_at,
            assignee_id: self
                .assignee_id
                .as_ref()
                .map(|id| parse_id(id, "user"))
                .transpose()?,
            priority: self.priority.into(),
            source: self.source.into(),
            source_ref: self.source_ref,
        })
    }
}

impl UpdateTaskInput {
    pub(crate) fn into_core(self) -> ApiResult<crm_core::tasks::TaskPatch> {
        if self.clear_due_at && self.due_at.is_some() {
            return Err(ApiError::bad_input(
                "give either `dueAt` or `clearDueAt`, not both",
            ));
        }
        Ok(crm_core::tasks::TaskPatch {
            title: self.title,
            details: self.details,
            due_at: if self.clear_due_at {
                Some(None)
            } else {
                self.due_at.map(Some)
            },
            assignee_id: self
                .assignee_id
                .as_ref()
                .map(|id| parse_id(id, "user"))
                .transpose()?,
            priority: self.priority.map(Into::into),
        })
    }
}

impl TaskFilterInput {
    pub(crate) fn into_core(self) -> ApiResult<crm_core::tasks::TaskFilter> {
        Ok(crm_core::tasks::TaskFilter {
            status: self.status.map(Into::into),
            due: self.due.map(Into::into),
            client_id: self
                .client_id
                .as_ref()
                .map(|id| parse_id(id, "client"))
                .transpose()?,
        })
    }
}

/// Something a user is to do, about a client or not.
pub struct TaskObject(pub Task);

#[Object(name = "Task")]
impl TaskObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn details(&self) -> &str {
        &self.0.details
    }
    /// When it is due (UTC); null: no due time.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    /// Open and past its due time, now.
    async fn overdue(&self) -> bool {
        self.0.overdue_at(Utc::now())
    }
    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }
    async fn priority(&self) -> TaskPriority {
        self.0.priority.into()
    }
    async fn source(&self) -> TaskSource {
        self.0.source.into()
    }
    /// The evidence the task came from (a signal, a conversation), when it has one.
    async fn source_ref(&self) -> Option<&str> {
        self.0.source_ref.as_deref()
    }
    /// The signal the task was made for (its rule), when it was.
    async fn signal(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::SignalObject>> {
        if self.0.source != CoreSource::Signal {
            return Ok(None);
        }
        Ok(ctx
            .data_unchecked::<async_graphql::dataloader::DataLoader<crate::loaders::CoreLoader>>()
            .load_one(crate::loaders::SignalOfTask(self.0.id))
            .await
            .api()?
            .map(super::SignalObject))
    }
    /// The client's id (null: a task without a client).
    async fn client_id(&self) -> Option<ID> {
        self.0.client_id.map(|id| ID(id.to_string()))
    }
    /// The client it is about (a task is only ever shown to those who see its client).
    async fn client(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::ClientObject>> {
        let Some(id) = self.0.client_id else {
            return Ok(None);
        };
        Ok(ctx
            .data_unchecked::<async_graphql::dataloader::DataLoader<crate::loaders::CoreLoader>>()
            .load_one(crate::loaders::ClientById(id))
            .await
            .api()?
            .map(super::ClientObject))
    }
    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.assignee_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.creator_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When it was completed or cancelled.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
}

/// What a timeline entry links to.
#[derive(SimpleObject, Clone, Debug)]
pub struct TimelineObjectRef {
    /// `note`, `task`, `link` (a bank link), `account`, `conversation`.
    pub kind: String,
    pub id: ID,
}

/// One thing that happened to a client.
pub struct TimelineEntryObject(pub TimelineEntry);

#[Object(name = "TimelineEntry")]
impl TimelineEntryObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> TimelineKind {
        self.0.kind.into()
    }
    /// When it happened (a note's call time, a transaction's booking time, a change's time).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Who did it (null: the system, a sync, a deleted user).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.actor_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    /// One line saying what happened, in `lang`.
    async fn summary(&self, #[graphql(default)] lang: Lang) -> &str {
        self.0.summary.get(lang.into())
    }
    /// What the entry links to.
    async fn object(&self) -> Option<TimelineObjectRef> {
        self.0.object.as_ref().map(|(kind, id)| TimelineObjectRef {
            kind: kind.clone(),
            id: ID(id.to_string()),
        })
    }
}

#[derive(SimpleObject)]
pub struct TimelineEdge {
    pub cursor: String,
    pub node: TimelineEntryObject,
}

/// A page of a client's timeline, newest first (Relay connection).
#[derive(SimpleObject)]
pub struct TimelineConnection {
    pub edges: Vec<TimelineEdge>,
    pub page_info: PageInfo,
}

/// `Client.timeline`.
pub(crate) async fn client_timeline(
    ctx: &Context<'_>,
    client_id: i64,
    first: Option<i32>,
    after: Option<String>,
    kinds: Option<Vec<TimelineKind>>,
) -> async_graphql::Result<TimelineConnection> {
    let first = crate::cursor::page_size(first, 20)?;
    let after = after
        .as_deref()
        .map(crate::cursor::decode_timeline)
        .transpose()?;
    let kinds: Vec<CoreKind> = kinds
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    if first == 0 {
        return Ok(TimelineConnection {
            edges: Vec::new(),
            page_info: PageInfo {
                has_next_page: false,
                has_previous_page: after.is_some(),
                start_cursor: None,
                end_cursor: None,
            },
        });
    }
    let page = core(ctx)
        .api()?
        .timeline(actor(ctx).api()?, client_id, first, after, &kinds)
        .await
        .api()?;
    let edges: Vec<TimelineEdge> = page
        .entries
        .into_iter()
        .map(|e| TimelineEdge {
            cursor: crate::cursor::encode_timeline(e.at, e.id),
            node: TimelineEntryObject(e),
        })
        .collect();
    Ok(TimelineConnection {
        page_info: PageInfo {
            has_next_page: page.has_next,
            has_previous_page: after.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    })
}
