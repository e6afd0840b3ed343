//! The assistant's GraphQL types: answers, streamed chunks, conversations and their turns.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::assistant::{self as core_assistant, AnswerSummary, Conversation, Turn};

use super::client::ClientObject;
use super::objects::User;
use crate::context::core;
use crate::error::ApiResultExt;

/// The language of generated questions.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum AssistantLanguage {
    #[default]
    Ru,
    En,
}

impl From<AssistantLanguage> for core_assistant::Language {
    fn from(l: AssistantLanguage) -> Self {
        match l {
            AssistantLanguage::Ru => core_assistant::Language::Ru,
            AssistantLanguage::En => core_assistant::Language::En,
        }
    }
}

/// Tokens an answer took.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub total_tokens: u32,
    /// True when counted by us (the built-in analyst), not reported by a provider.
    pub estimated: bool,
}

impl From<core_assistant::TokenUsage> for TokenUsage {
    fn from(u: core_assistant::TokenUsage) -> Self {
        TokenUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens.saturating_add(u.completion_tokens),
            estimated: u.estimated,
        }
    }
}

/// A whole answer of the assistant.
#[derive(SimpleObject, Clone, Debug)]
pub struct AssistantAnswer {
    /// The stored answer's id.
    pub id: ID,
    /// The conversation it belongs to: pass it as `conversationId` to ask a follow-up.
    pub conversation_id: ID,
    pub answer: String,
    /// The model that wrote it, or `builtin-analyst`.
    pub model: String,
    /// Whether the answer was grounded in the client's data.
    pub has_context: bool,
    pub usage: TokenUsage,
    /// Why the built-in analyst answered instead of the model (e.g. `timeout_first_byte`,
    /// `rate_limited`, `upstream`), when it did.
    pub fallback_reason: Option<String>,
}

impl AssistantAnswer {
    pub fn new(answer: String, s: AnswerSummary) -> Self {
        AssistantAnswer {
            id: ID(s.message_id.to_string()),
            conversation_id: ID(s.conversation_id.to_string()),
            answer,
            model: s.model,
            has_context: s.has_context,
            usage: s.usage.into(),
            fallback_reason: s.fallback_reason,
        }
    }
}

/// One event of a streamed answer: a piece of text, or (last, with `done: true`) where the
/// whole answer is stored.
#[derive(SimpleObject, Clone, Debug)]
pub struct AssistantChunk {
    /// The next piece of the answer ("" in the last event).
    pub delta: String,
    pub done: bool,
    pub model: String,
    /// Set in the last event.
    pub id: Option<ID>,
    /// Set in the last event.
    pub conversation_id: Option<ID>,
    pub has_context: Option<bool>,
    pub usage: Option<TokenUsage>,
    pub fallback_reason: Option<String>,
}

impl AssistantChunk {
    pub fn piece(text: String, model: String) -> Self {
        AssistantChunk {
            delta: text,
            done: false,
            model,
            id: None,
            conversation_id: None,
            has_context: None,
            usage: None,
            fallback_reason: None,
        }
    }

    pub fn last(s: AnswerSummary) -> Self {
        AssistantChunk {
            delta: String::new(),
            done: true,
            model: s.model,
            id: Some(ID(s.message_id.to_string())),
            conversation_id: Some(ID(s.conversation_id.to_string())),
            has_context: Some(s.has_context),
            usage: Some(s.usage.into()),
            fallback_reason: s.fallback_reason,
        }
    }
}

/// One question and its answer.
#[derive(SimpleObject, Clone, Debug)]
pub struct AssistantTurn {
    /// The answer's id.
    pub id: ID,
    pub question: String,
    pub answer: String,
    pub model: Option<String>,
    pub asked_at: DateTime<Utc>,
    pub answered_at: DateTime<Utc>,
    pub usage: Option<TokenUsage>,
}

impl From<Turn> for AssistantTurn {
    fn from(t: Turn) -> Self {
        AssistantTurn {
            id: ID(t.id.to_string()),
            question: t.question,
            answer: t.answer,
            model: t.model,
            asked_at: t.asked_at,
            answered_at: t.answered_at,
            usage: t.usage.map(Into::into),
        }
    }
}

/// A conversation with the assistant: one user's questions, optionally about one client.
pub struct ConversationObject(pub Conversation);

#[Object(name = "Conversation")]
impl ConversationObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The first question, shortened.
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The client it is about; null for questions about the portfolio.
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ClientObject>> {
        match self.0.client_id {
            None => Ok(None),
            Some(id) => Ok(Some(ClientObject(core(ctx).api()?.client(id).await.api()?))),
        }
    }
    /// Who asked.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let user = core(ctx).api()?.auth().user(self.0.user_id).await.api()?;
        Ok(User::from(&user))
    }
    /// The questions and answers, oldest first.
    async fn turns(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AssistantTurn>> {
        Ok(core(ctx)
            .api()?
            .assistant()
            .conversation_turns(self.0.id)
            .await
            .api()?
            .into_iter()
            .map(AssistantTurn::from)
            .collect())
    }
}
