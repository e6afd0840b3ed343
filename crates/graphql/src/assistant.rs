//! The one entry to the assistant that the mutation and the subscription share.

use async_graphql::{Context, ID};
use crm_core::assistant::{AnswerStream, AskRequest};

use crate::context::{actor, core};
use crate::cursor::parse_id;
use crate::error::ApiResultExt;

pub async fn ask(
    ctx: &Context<'_>,
    question: String,
    client_id: Option<ID>,
    conversation_id: Option<ID>,
) -> async_graphql::Result<AnswerStream> {
    let who = actor(ctx).api()?;
    let client_id = client_id
        .as_ref()
        .map(|id| parse_id(id, "client"))
        .transpose()
        .api()?;
    let conversation_id = conversation_id
        .as_ref()
        .map(|id| parse_id(id, "conversation"))
        .transpose()
        .api()?;
    let core = core(ctx).api()?;
    // The assistant reads through the core's read API, nothing else.
    core.assistant()
        .ask(
            core.clone(),
            who,
            AskRequest {
                question,
                client_id,
                conversation_id,
            },
        )
        .await
        .api()
}
