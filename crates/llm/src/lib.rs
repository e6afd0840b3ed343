//! `crm-llm`: a client of any OpenAI-compatible chat-completions endpoint (OpenRouter, Ollama,
//! vLLM, OpenAI). Answers stream as server-sent events and come out as [`ChatEvent`]s the moment
//! their bytes arrive; streamed tool calls are assembled from their fragments; every failure is
//! an [`LlmError`] that says whether a retry can help; four timeouts (connect, first byte, idle
//! between chunks, total) make sure no call hangs.
//!
//! It knows HTTP and this wire format only: nothing of the CRM, its data or its configuration.

mod client;
mod error;
pub mod sse;
mod types;
mod wire;

pub use client::{ApiKey, ChatStream, LlmClient, LlmSettings, Timeouts};
pub use error::{LlmError, TimeoutPhase};
pub use types::{
    ChatEvent, ChatMessage, ChatRequest, FinishReason, ToolCall, ToolChoice, ToolSpec, Usage,
};
