//! The stored history: conversations (of one user, optionally about one client) and their turns
//! (a question, its answer, the model, token usage, times). A turn is stored once its answer is
//! complete, question and answer in one database transaction. A user sees their own
//! conversations; administrators see everyone's but continue only their own.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Assistant;
use super::TokenUsage;
use crate::auth::Actor;
use crate::domain::Role;
use crate::entity::{assistant_messages, conversations};
use crate::error::{CoreError, CoreResult};

const USER: &str = "user";
const ASSISTANT: &str = "assistant";
const TITLE_MAX: usize = 100;

#[derive(Clone, Debug)]
pub struct Conversation {
    pub id: i64,
    pub client_id: Option<i64>,
    pub user_id: i64,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<conversations::Model> for Conversation {
    fn from(m: conversations::Model) -> Self {
        Conversation {
            id: m.id,
            client_id: m.client_id,
            user_id: m.user_id,
            title: m.title,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One question and its answer.
#[derive(Clone, Debug)]
pub struct Turn {
    /// The id of the answer's message (what `askAssistant` returns as `id`).
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub model: Option<String>,
    pub asked_at: DateTime<Utc>,
    pub answered_at: DateTime<Utc>,
    pub usage: Option<TokenUsage>,
}

/// What a finished answer stores.
pub(crate) struct NewTurn<'a> {
    pub conversation_id: Option<i64>,
    pub client_id: Option<i64>,
    pub question: &'a str,
    pub asked_at: DateTime<Utc>,
    pub answer: &'a str,
    pub model: &'a str,
    pub usage: TokenUsage,
}

fn title_of(question: &str) -> String {
    let one_line = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= TITLE_MAX {
        one_line
    } else {
        let mut t: String = one_line.chars().take(TITLE_MAX - 1).collect();
        t.push('…');
        t
    }
}

fn tokens(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Assistant {
    fn visible(actor: &Actor, c: &conversations::Model) -> bool {
        c.user_id == actor.user_id || actor.role.allows(Role::Admin)
    }

    /// A conversation the actor may read; others' are `NOT_FOUND` (their existence is private).
    pub async fn conversation(&self, actor: &Actor, id: i64) -> CoreResult<Conversation> {
        actor.require(Role::Viewer)?;
        let model = conversations::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .filter(|c| Self::visible(actor, c))
            .ok_or_else(|| CoreError::not_found("conversation", id))?;
        Ok(model.into())
    }

    /// A conversation the actor may continue: their own.
    pub(crate) async fn conversation_to_continue(
        &self,
        actor: &Actor,
        id: i64,
    ) -> CoreResult<Conversation> {
        let c = self.conversation(actor, id).await?;
        if c.user_id != actor.user_id {
            return Err(CoreError::Forbidden(
                "only the user who started a conversation can continue it; ask without conversationId to start your own".into(),
            ));
        }
        Ok(c)
    }

    /// The conversations about a client the actor may read, most recent first.
    pub async fn conversations_of_client(
        &self,
        actor: &Actor,
        client_id: i64,
        first: u64,
    ) -> CoreResult<Vec<Conversation>> {
        actor.require(Role::Viewer)?;
        let mut q =
            conversations::Entity::find().filter(conversations::Column::ClientId.eq(client_id));
        if !actor.role.allows(Role::Admin) {
            q = q.filter(conversations::Column::UserId.eq(actor.user_id));
        }
        Ok(q.order_by_desc(conversations::Column::UpdatedAt)
            .order_by_desc(conversations::Column::Id)
            .limit(first)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Conversation::from)
            .collect())
    }

    /// The turns of a conversation, oldest first. The caller has checked visibility (by holding
    /// a [`Conversation`] from [`Assistant::conversation`] or [`Assistant::conversations_of_client`]).
    pub async fn conversation_turns(&self, conversation_id: i64) -> CoreResult<Vec<Turn>> {
        let rows = assistant_messages::Entity::find()
            .filter(assistant_messages::Column::ConversationId.eq(conversation_id))
            .order_by_asc(assistant_messages::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut turns = Vec::new();
        let mut question: Option<assistant_messages::Model> = None;
        for row in rows {
            match row.role.as_str() {
                USER => question = Some(row),
                ASSISTANT => {
                    if let Some(q) = question.take() {
                        let usage = match (row.prompt_tokens, row.completion_tokens) {
                            (None, None) => None,
                            (p, c) => Some(TokenUsage {
                                prompt_tokens: p.unwrap_or(0).max(0) as u32,
                                completion_tokens: c.unwrap_or(0).max(0) as u32,
                                estimated: row.model.as_deref() == Some(super::ANALYST_MODEL),
                            }),
                        };
                        turns.push(Turn {
                            id: row.id,
                            question: q.content,
                            answer: row.content,
                            model: row.model,
                            asked_at: q.created_at,
                            answered_at: row.created_at,
                            usage,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(turns)
    }

    /// Stores a finished turn (creating the conversation for a first question). Returns the
    /// conversation id and the answer's message id.
    pub(crate) async fn store_turn(
        &self,
        actor: &Actor,
        turn: NewTurn<'_>,
    ) -> CoreResult<(i64, i64)> {
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let conversation_id = match turn.conversation_id {
            Some(id) => {
                conversations::Entity::update_many()
                    .col_expr(
                        conversations::Column::UpdatedAt,
                        sea_orm::sea_query::Expr::value(now),
                    )
                    .filter(conversations::Column::Id.eq(id))
                    .exec(&txn)
                    .await?;
                id
            }
            None => {
                let id = conversations::ActiveModel {
                    client_id: Set(turn.client_id),
                    user_id: Set(actor.user_id),
                    title: Set(title_of(turn.question)),
                    created_at: Set(turn.asked_at),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id;
                if let Some(client_id) = turn.client_id {
                    crate::timeline::record(
                        &txn,
                        crate::timeline::NewEvent::new(
                            client_id,
                            crate::domain::TimelineKind::AssistantConversation,
                            crate::timeline::EventData::Plain,
                        )
                        .at(turn.asked_at)
                        .by(actor)
                        .object("conversation", id),
                    )
                    .await?;
                }
                id
            }
        };
        assistant_messages::ActiveModel {
            conversation_id: Set(conversation_id),
            role: Set(USER.to_owned()),
            content: Set(turn.question.to_owned()),
            model: Set(None),
            prompt_tokens: Set(None),
            completion_tokens: Set(None),
            created_at: Set(turn.asked_at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let answer = assistant_messages::ActiveModel {
            conversation_id: Set(conversation_id),
            role: Set(ASSISTANT.to_owned()),
            content: Set(turn.answer.to_owned()),
            model: Set(Some(turn.model.to_owned())),
            prompt_tokens: Set(Some(tokens(turn.usage.prompt_tokens))),
            completion_tokens: Set(Some(tokens(turn.usage.completion_tokens))),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok((conversation_id, answer.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_short_line() {
        assert_eq!(title_of("  Почему\n рейтинг   B? "), "Почему рейтинг B?");
        let long = title_of(&"слово ".repeat(50));
        assert_eq!(long.chars().count(), TITLE_MAX);
        assert!(long.ends_with('…'));
    }
}
