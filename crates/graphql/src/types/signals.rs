//! Signals: moments a manager should act on, with their evidence and their task.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::domain::{
    SignalKind as CoreKind, SignalSeverity as CoreSeverity, SignalState as CoreState,
};
use crm_core::signals::{Signal, SignalFilter};

use super::analytics::Figure;
use super::objects::PageInfo;
use super::work::TaskObject;
use super::Lang;
use crate::context::{actor, core};
use crate::cursor::{decode_signal, encode_signal, page_size, parse_id};
use crate::error::{ApiResult, ApiResultExt};

super::work::mirror_enum!(
    /// What a signal is about.
    SignalKind => CoreKind {
        ConsentExpiring,
        ConsentLost,
        DepositMaturing,
        LoanEnding,
        SalaryMissing,
        SalaryMoved,
        IncomeDrop,
        LargeInflow,
        LowBalanceAhead,
        Overdraft,
        RatingDowngrade,
        NewExternalProduct,
    }
);
super::work::mirror_enum!(
    /// Where a signal stands: `OPEN` until acknowledged, `DONE` (its task completed, or the
    /// fact no longer holds) or `DISMISSED` with a reason.
    SignalState => CoreState { Open, Acknowledged, Done, Dismissed }
);
super::work::mirror_enum!(
    /// How soon a signal wants attention.
    SignalSeverity => CoreSeverity { Info, Warning, Critical }
);

/// Which signals: by default the open and acknowledged ones of your whole book.
#[derive(InputObject, Clone, Debug, Default)]
pub struct SignalFilterInput {
    /// `OPEN` and `ACKNOWLEDGED` when not given.
    pub states: Option<Vec<SignalState>>,
    /// Every kind when not given.
    pub kinds: Option<Vec<SignalKind>>,
    pub client_id: Option<ID>,
    /// This severity and above.
    pub min_severity: Option<SignalSeverity>,
}

impl SignalFilterInput {
    pub(crate) fn to_core(&self) -> ApiResult<SignalFilter> {
        Ok(SignalFilter {
            states: self.states.iter().flatten().map(|s| (*s).into()).collect(),
            kinds: self.kinds.iter().flatten().map(|k| (*k).into()).collect(),
            client_id: self
                .client_id
                .as_ref()
                .map(|id| parse_id(id, "client"))
                .transpose()?,
            min_severity: self.min_severity.map(Into::into),
        })
    }
}

/// A row a signal's figures come from.
#[derive(SimpleObject, Clone, Debug)]
pub struct EvidenceRef {
    /// `transaction`, `agreement`, `link` (a bank link), `account`, `timeline`.
    pub kind: String,
    pub id: ID,
}

/// A moment to act on, found in the client's data at every linked bank.
pub struct SignalObject(pub Signal);

#[Object(name = "Signal")]
impl SignalObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> SignalKind {
        self.0.kind.into()
    }
    /// The kind's short name, in `lang`.
    async fn title(&self, #[graphql(default)] lang: Lang) -> &str {
        self.0.kind.title(lang.into())
    }
    async fn severity(&self) -> SignalSeverity {
        self.0.severity.into()
    }
    async fn state(&self) -> SignalState {
        self.0.state.into()
    }
    /// How it closed: `TASK_DONE`, `NO_LONGER_APPLIES`, `DISMISSED`.
    async fn resolution(&self) -> Option<&str> {
        self.0.resolution.as_deref()
    }
    /// Why a person dismissed it.
    async fn dismiss_reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// One line with the figures, in `lang`.
    async fn summary(&self, #[graphql(default)] lang: Lang) -> &str {
        self.0.summary.get(lang.into())
    }
    /// The figures behind it (amounts, dates, numbers), by name.
    async fn figures(&self, #[graphql(default)] lang: Lang) -> Vec<Figure> {
        self.0
            .evidence
            .figures()
            .iter()
            .map(|f| Figure::new(f, lang.into()))
            .collect()
    }
    /// The rows the figures come from.
    async fn evidence(&self) -> Vec<EvidenceRef> {
        self.0
            .evidence
            .refs
            .iter()
            .map(|(kind, id)| EvidenceRef {
                kind: kind.clone(),
                id: ID(id.to_string()),
            })
            .collect()
    }
    /// When the fact is due: a maturity, a consent's expiry, an expected salary, the day a
    /// balance falls below its floor (null for something that happened).
    async fn due_on(&self) -> Option<DateTime<Utc>> {
        self.0.fact_at
    }
    async fn raised_at(&self) -> DateTime<Utc> {
        self.0.raised_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn client_id(&self) -> ID {
        ID(self.0.client_id.to_string())
    }
    /// The client (a signal is only ever shown to those who see its client).
    async fn client(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::ClientObject>> {
        Ok(ctx
            .data_unchecked::<async_graphql::dataloader::DataLoader<crate::loaders::CoreLoader>>()
            .load_one(crate::loaders::ClientById(self.0.client_id))
            .await
            .api()?
            .map(super::ClientObject))
    }
    /// The task its rule created for the client's owner (about the signal's client, so
    /// shown to whoever sees the signal).
    async fn task(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TaskObject>> {
        let Some(id) = self.0.task_id else {
            return Ok(None);
        };
        Ok(ctx
            .data_unchecked::<async_graphql::dataloader::DataLoader<crate::loaders::CoreLoader>>()
            .load_one(crate::loaders::TaskById(id))
            .await
            .api()?
            .map(TaskObject))
    }
}

#[derive(SimpleObject)]
pub struct SignalEdge {
    pub cursor: String,
    pub node: SignalObject,
}

/// A page of signals, newest first (Relay connection).
pub struct SignalConnection {
    edges: Vec<SignalEdge>,
    page_info: PageInfo,
    filter: SignalFilter,
}

impl SignalConnection {
    pub async fn load(
        ctx: &Context<'_>,
        filter: Option<SignalFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Self> {
        let filter = filter.unwrap_or_default().to_core()?;
        let first = page_size(first, 20)?;
        let after = after.as_deref().map(decode_signal).transpose()?;
        let core = core(ctx).api()?;
        let who = actor(ctx).api()?;
        let (items, has_next) = if first == 0 {
            (Vec::new(), false)
        } else {
            let page = core.signals(who, &filter, first, after).await.api()?;
            (page.items, page.has_next)
        };
        let edges: Vec<SignalEdge> = items
            .into_iter()
            .map(|s| SignalEdge {
                cursor: encode_signal(s.raised_at, s.id),
                node: SignalObject(s),
            })
            .collect();
        Ok(SignalConnection {
            page_info: PageInfo {
                has_next_page: has_next,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            filter,
        })
    }
}

#[Object]
impl SignalConnection {
    async fn edges(&self) -> &[SignalEdge] {
        &self.edges
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// All the signals of your book that match (not just this page).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        core(ctx)
            .api()?
            .count_signals(actor(ctx).api()?, &self.filter)
            .await
            .api()
    }
}
