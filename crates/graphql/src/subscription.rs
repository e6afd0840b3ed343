use async_graphql::{Context, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::context::{actor, core};
use crate::error::ApiResultExt;
use crate::types::SyncProgress;

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Progress of every bank sync from now on: one event when a run starts, one per link, one
    /// when it finishes. A subscriber that falls behind skips what it missed.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = SyncProgress>> {
        actor(ctx).api()?;
        let events = core(ctx).api()?.sync_events();
        Ok(futures_util::stream::unfold(events, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(event) => return Some((SyncProgress::from(event), rx)),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        }))
    }
}
