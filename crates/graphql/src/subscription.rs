use async_graphql::{Context, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use async_graphql::ID;
use futures_util::StreamExt;

use crate::assistant::ask;
use crate::context::{actor, core};
use crate::cursor::parse_id;
use crate::error::ApiResultExt;
use crate::types::{AssistantChunk, SyncProgress, TaskObject, TimelineEntryObject};

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Progress of every bank sync from now on: one event when a run starts, one per link of
    /// a client in your book, one when it finishes. A subscriber that falls behind skips what
    /// it missed.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = SyncProgress>> {
        let who = actor(ctx).api()?.clone();
        let core = core(ctx).api()?.clone();
        let events = core.sync().sync_events();
        Ok(futures_util::stream::unfold(
            (events, core, who),
            |(mut rx, core, who)| async move {
                loop {
                    match rx.recv().await {
                        Ok(event) => {
                            if let crm_core::domain::SyncEvent::LinkDone { client_id, .. } = &event
                            {
                                // Another book's client: not this subscriber's business (a
                                // failed check hides the event rather than show it).
                                if !core.sees_client(&who, *client_id).await.unwrap_or(false) {
                                    continue;
                                }
                            }
                            return Some((SyncProgress::from(event), (rx, core, who)));
                        }
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }

    /// New entries of a client's timeline as they are committed (on any replica): notes,
    /// tasks, syncs, consents, ratings… The client must be in your book; the subscription ends
    /// with `NOT_FOUND` when it leaves your book.
    async fn client_events(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<TimelineEntryObject>>> {
        let who = actor(ctx).api()?.clone();
        let core = core(ctx).api()?.clone();
        let client_id = parse_id(&client_id, "client").api()?;
        // Refused at once (not as the stream's first item) when the client is not in the book.
        core.client_for(&who, client_id, crm_core::access::Need::Read)
            .await
            .api()?;
        Ok(
            crm_core::timeline::live_feed(core, who, client_id).map(|item| match item {
                Ok(entry) => Ok(TimelineEntryObject(entry)),
                Err(e) => Err(crate::error::ApiError::from(e).into()),
            }),
        )
    }

    /// Your tasks as they are created or changed (on any replica): each task assigned to you,
    /// and one that was yours and went to someone else.
    async fn my_tasks_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<TaskObject>>> {
        let who = actor(ctx).api()?.clone();
        let core = core(ctx).api()?.clone();
        Ok(
            crm_core::tasks::live_feed(core, who).map(|item| match item {
                Ok(task) => Ok(TaskObject(task)),
                Err(e) => Err(crate::error::ApiError::from(e).into()),
            }),
        )
    }

    /// Signals raised (or escalated) from now on for the clients of your book, as they are
    /// committed on any replica.
    async fn signal_raised(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<crate::types::SignalObject>>>
    {
        let who = actor(ctx).api()?.clone();
        let core = core(ctx).api()?.clone();
        Ok(
            crm_core::signals::live_feed(core, who).map(|item| match item {
                Ok(signal) => Ok(crate::types::SignalObject(signal)),
                Err(e) => Err(crate::error::ApiError::from(e).into()),
            }),
        )
    }

    /// The assistant's answer as it is written: one event per chunk, then a last event with
    /// `done: true` that says where the answer is stored. The same answer `askAssistant` gives.
    /// Closing the subscription (or the socket) cancels the answer, the model's request included.
    async fn assistant_stream(
        &self,
        ctx: &Context<'_>,
        question: String,
        client_id: Option<ID>,
        conversation_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AssistantChunk>>> {
        let stream = ask(ctx, question, client_id, conversation_id).await?;
        Ok(stream.map(|event| match event {
            Ok(crm_core::assistant::AnswerEvent::Delta { text, model }) => {
                Ok(AssistantChunk::piece(text, model))
            }
            Ok(crm_core::assistant::AnswerEvent::Done(summary)) => {
                Ok(AssistantChunk::last(summary))
            }
            Err(e) => Err(crate::error::ApiError::from(e).into()),
        }))
    }
}
