//! What goes into a chat completion and what comes out of it, independent of the wire format.

use serde_json::Value;

/// One message of a conversation with the model.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatMessage {
    System(String),
    User(String),
    /// An earlier answer of the model, possibly asking for tools.
    Assistant {
        content: String,
        tool_calls: Vec<ToolCall>,
    },
    /// The result of a tool the model asked for.
    Tool {
        tool_call_id: String,
        content: String,
    },
}

impl ChatMessage {
    /// The text of the message (for tool calls: their arguments too), e.g. to check what leaves.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            ChatMessage::System(t) | ChatMessage::User(t) => vec![t],
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => std::iter::once(content.as_str())
                .chain(tool_calls.iter().map(|c| c.arguments.as_str()))
                .collect(),
            ChatMessage::Tool { content, .. } => vec![content],
        }
    }
}

/// A function the model may call: a name, what it does, and a JSON schema of its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// A call the model asked for. `arguments` is the JSON text the model wrote (it may be invalid:
/// the caller parses it and reports errors back to the model).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Whether the model may call tools in this round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ToolChoice {
    #[default]
    Auto,
    /// Tools are described but must not be called: the model has to answer now.
    None,
}

/// One request. Model, token limit and temperature default to the client's settings.
#[derive(Clone, Debug, Default)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub tool_choice: ToolChoice,
    pub model: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// Token counts as the provider reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl Usage {
    pub fn total(&self) -> u32 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    /// The answer hit the token limit.
    Length,
    /// The model wants tool results before it goes on.
    ToolCalls,
    ContentFilter,
    Other(String),
}

impl FinishReason {
    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "stop" | "end_turn" | "eos" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

/// What a streamed completion yields, in order: text deltas as they arrive, then (once) the
/// complete tool calls if the model asked for any, then `Finished`.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// The next piece of the answer's text.
    Delta(String),
    /// The tool calls of this answer, their arguments assembled from the streamed fragments.
    ToolCalls(Vec<ToolCall>),
    /// The end of the answer.
    Finished {
        reason: FinishReason,
        /// The model that answered, as the provider named it.
        model: Option<String>,
        usage: Option<Usage>,
    },
}
