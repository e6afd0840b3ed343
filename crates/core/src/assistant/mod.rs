//! The AI assistant: a manager asks about a client in Russian or English and reads the answer as
//! it is written. One code path ([`Assistant::ask`]) yields the answer as a stream of chunk events; the
//! GraphQL mutation collects it, the subscription forwards it.
//!
//! - With a model configured (`crm-llm`), the model gets a pseudonymised summary of the client
//!   (`context`), the conversation's earlier turns, and read-only tools that return exact
//!   figures from core (`tools`); everything that leaves passes the [`privacy::Redactor`].
//! - Without one, or when the model fails and the fallback is the analyst, the built-in analyst
//!   (`analyst`) answers from core's analytics, streamed in chunks like a model's answer.
//! - Each question is rate limited per user and audited; each finished turn is stored
//!   (`conversations`).

mod analyst;
mod context;
mod conversations;
mod data;
mod engine;
pub mod intent;
pub mod privacy;
mod suggestions;
mod tools;

use std::pin::Pin;
use std::sync::Arc;

use chrono::{Duration, Utc};
use futures_util::Stream;

/// The model client's types, for the server's configuration.
pub use crm_llm as llm;

pub use analyst::EXAMPLES;
pub use context::estimate_tokens;
pub use conversations::{Conversation, Turn};
pub use data::ClientData;

use crate::audit::AuditEvent;
use crate::audit::AuditLog;
use crate::auth::Actor;
use crate::db::Database;
use crate::domain::Role;
use crate::error::{CoreError, CoreResult};

/// The `model` of answers the built-in analyst writes.
pub const ANALYST_MODEL: &str = "builtin-analyst";
/// Longest question accepted.
pub const MAX_QUESTION_CHARS: usize = 2000;
/// The audit action of a question (also what the rate limit counts).
pub const AUDIT_ASK: &str = "assistant.ask";
/// The audit action of an answer's outcome.
pub const AUDIT_ANSWER: &str = "assistant.answer";

/// The language of a question and of its answer: core's one language type, so the analyst
/// writes numbers with `domain::format` like every other text core produces.
pub use crate::domain::format::Lang as Language;

/// What happens when the model cannot answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fallback {
    /// The built-in analyst answers instead.
    #[default]
    Analyst,
    /// The answer fails with `AI_UNAVAILABLE`.
    Error,
}

#[derive(Clone, Debug)]
pub struct AssistantSettings {
    /// The model provider; `None` means the built-in analyst answers everything.
    pub provider: Option<crm_llm::LlmSettings>,
    pub fallback: Fallback,
    /// Send names and contacts to the model (account and card numbers never leave).
    pub send_pii: bool,
    /// Questions one user may ask per minute.
    pub rate_limit_per_minute: u32,
    /// Upper bound of the client summary sent with a question, in (estimated) tokens.
    pub context_tokens: usize,
    /// Rounds in which the model may call tools before it must answer.
    pub max_tool_rounds: u32,
    /// Pause between the built-in analyst's chunks, so its answer is written out like a
    /// model's rather than appearing at once (zero: as fast as the consumer reads).
    pub analyst_chunk_delay: std::time::Duration,
}

impl Default for AssistantSettings {
    fn default() -> Self {
        AssistantSettings {
            provider: None,
            fallback: Fallback::Analyst,
            send_pii: false,
            rate_limit_per_minute: 20,
            context_tokens: 3000,
            max_tool_rounds: 4,
            analyst_chunk_delay: std::time::Duration::from_millis(15),
        }
    }
}

/// A question.
#[derive(Clone, Debug, Default)]
pub struct AskRequest {
    pub question: String,
    /// The client the question is about; `None` asks about the portfolio.
    pub client_id: Option<i64>,
    /// Continue this conversation (its earlier turns are context); `None` starts a new one.
    pub conversation_id: Option<i64>,
}

/// Tokens an answer took: from the provider, or estimated for the analyst.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub estimated: bool,
}

/// The end of an answer: where it is stored and how it was made.
#[derive(Clone, Debug)]
pub struct AnswerSummary {
    pub conversation_id: i64,
    /// The stored answer's id.
    pub message_id: i64,
    pub model: String,
    /// Whether the answer was grounded in a client's data.
    pub has_context: bool,
    pub usage: TokenUsage,
    /// Why the analyst answered instead of the model (an error kind), when it did.
    pub fallback_reason: Option<String>,
}

/// One event of an answer: pieces of text as they are written, then `Done` once.
#[derive(Clone, Debug)]
pub enum AnswerEvent {
    Delta { text: String, model: String },
    Done(AnswerSummary),
}

/// The answer as it is produced. Dropping it cancels the work (and the model's request).
pub type AnswerStream = Pin<Box<dyn Stream<Item = CoreResult<AnswerEvent>> + Send>>;

fn clean_question(question: &str) -> CoreResult<String> {
    let q = question.trim();
    if q.is_empty() {
        return Err(CoreError::invalid("question must not be empty"));
    }
    let n = q.chars().count();
    if n > MAX_QUESTION_CHARS {
        return Err(CoreError::invalid(format!(
            "question must be at most {MAX_QUESTION_CHARS} characters, got {n}"
        )));
    }
    Ok(q.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect())
}

/// The assistant: the model client (when one is configured), its settings, the conversations
/// it stores, and the audit log it records questions and answers in. What it reads of a client
/// is given to each question ([`ClientData`]). Cheap to clone (an answer's stream holds one).
#[derive(Clone)]
pub struct Assistant {
    db: Database,
    settings: Arc<AssistantSettings>,
    audit: Arc<AuditLog>,
    /// The model provider's client, when one is configured.
    llm: Option<crm_llm::LlmClient>,
}

impl Assistant {
    pub fn new(
        db: Database,
        settings: AssistantSettings,
        audit: Arc<AuditLog>,
    ) -> CoreResult<Self> {
        let llm = settings
            .provider
            .clone()
            .map(crm_llm::LlmClient::new)
            .transpose()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Assistant {
            db,
            settings: Arc::new(settings),
            audit,
            llm,
        })
    }

    pub fn settings(&self) -> &AssistantSettings {
        &self.settings
    }

    /// The model answers come from by default: the configured one, or the analyst.
    pub fn model(&self) -> &str {
        self.llm
            .as_ref()
            .map(|l| l.model())
            .unwrap_or(ANALYST_MODEL)
    }

    /// Asks the assistant. Checks run before the stream starts (`BAD_USER_INPUT`, `NOT_FOUND`,
    /// `FORBIDDEN`, `RATE_LIMITED`); the question is audited; then the answer streams.
    /// Any signed-in role may ask: the assistant reads what the user may already read.
    /// `data` is everything the answer may read.
    pub async fn ask(
        &self,
        data: Arc<dyn ClientData>,
        actor: &Actor,
        request: AskRequest,
    ) -> CoreResult<AnswerStream> {
        actor.require(Role::Viewer)?;
        let question = clean_question(&request.question)?;
        let client = match request.client_id {
            Some(id) => Some(data.client(actor, id).await?),
            None => None,
        };
        let history = match request.conversation_id {
            Some(id) => {
                let conversation = self.conversation_to_continue(actor, id).await?;
                if conversation.client_id != request.client_id {
                    return Err(CoreError::invalid(format!(
                        "conversation {id} is about {}; ask with that clientId or start a new conversation",
                        conversation
                            .client_id
                            .map(|c| format!("client {c}"))
                            .unwrap_or_else(|| "no client".into())
                    )));
                }
                self.conversation_turns(id).await?
            }
            None => Vec::new(),
        };
        self.check_assistant_quota(actor).await?;
        let mut event = AuditEvent::new(AUDIT_ASK)
            .actor(actor)
            .detail("question", question.as_str())
            .detail(
                "answerer",
                if self.llm.is_some() {
                    "model"
                } else {
                    "analyst"
                },
            );
        if let Some(c) = &client {
            event = event.entity("client", c.id);
        }
        if let Some(id) = request.conversation_id {
            event = event.detail("conversation", id);
        }
        self.audit.record(event).await?;
        Ok(engine::run(
            self.clone(),
            data,
            actor.clone(),
            engine::Job {
                actor: actor.clone(),
                question,
                client,
                conversation_id: request.conversation_id,
                history,
                asked_at: Utc::now(),
            },
        ))
    }

    /// Refuses a question when the user asked `AI_RATE_LIMIT_PER_MINUTE` in the last minute.
    /// Counted from the audit log, so every replica sees the same count.
    async fn check_assistant_quota(&self, actor: &Actor) -> CoreResult<()> {
        let limit = self.settings.rate_limit_per_minute.max(1);
        let now = Utc::now();
        let since = now - Duration::seconds(60);
        let recent = crate::audit::recent_times(
            self.db.conn(),
            AUDIT_ASK,
            actor.user_id,
            since,
            u64::from(limit),
        )
        .await?;
        if recent.len() as u64 >= u64::from(limit) {
            let oldest = recent[0];
            let wait = (oldest + Duration::seconds(60) - now).num_seconds().max(1) as u64;
            return Err(CoreError::QuotaExceeded {
                message: format!(
                    "at most {limit} assistant questions a minute; try again in {wait} s"
                ),
                retry_after_secs: wait,
            });
        }
        Ok(())
    }
}

impl Assistant {
    /// Has the configured model reword `text` (nothing else: no tools, no data beyond the
    /// text), after the redactor's guard; `None` when no model is configured. Used by the
    /// meeting brief, which checks the figures of the answer itself.
    pub(crate) async fn reword(
        &self,
        instructions: &str,
        text: &str,
        redactor: &privacy::Redactor,
    ) -> Option<Result<String, crm_llm::LlmError>> {
        use futures_util::StreamExt;
        let llm = self.llm.as_ref()?;
        let req = crm_llm::ChatRequest {
            messages: vec![
                crm_llm::ChatMessage::System(redactor.guard(instructions)),
                crm_llm::ChatMessage::User(redactor.guard(text)),
            ],
            tool_choice: crm_llm::ToolChoice::None,
            ..Default::default()
        };
        let mut stream = match llm.stream_chat(&req).await {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let mut out = String::new();
        while let Some(event) = stream.next().await {
            match event {
                Ok(crm_llm::ChatEvent::Delta(piece)) => out.push_str(&piece),
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_checked() {
        assert!(clean_question("   ").is_err());
        assert!(clean_question(&"я".repeat(MAX_QUESTION_CHARS + 1)).is_err());
        assert_eq!(
            clean_question(" Почему\u{7} рейтинг B? ").ok().as_deref(),
            Some("Почему  рейтинг B?")
        );
    }
}
