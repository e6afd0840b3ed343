//! The chat-completions wire format: the request body, streamed chunks (and whole non-streamed
//! answers, which some servers send instead), and the assembly of streamed tool-call fragments.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::LlmError;
use crate::types::{ChatMessage, ChatRequest, FinishReason, ToolCall, ToolChoice, Usage};

pub(crate) fn request_body(
    req: &ChatRequest,
    model: &str,
    max_tokens: u32,
    temperature: f32,
) -> Value {
    let messages: Vec<Value> = req.messages.iter().map(message).collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
        "max_tokens": max_tokens,
        "temperature": temperature,
    });
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect();
        body["tool_choice"] = json!(match req.tool_choice {
            ToolChoice::Auto => "auto",
            ToolChoice::None => "none",
        });
    }
    body
}

fn message(m: &ChatMessage) -> Value {
    match m {
        ChatMessage::System(c) => json!({ "role": "system", "content": c }),
        ChatMessage::User(c) => json!({ "role": "user", "content": c }),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } if tool_calls.is_empty() => json!({ "role": "assistant", "content": content }),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => json!({
            "role": "assistant",
            "content": if content.is_empty() { Value::Null } else { json!(content) },
            "tool_calls": tool_calls.iter().map(|c| json!({
                "id": c.id,
                "type": "function",
                "function": { "name": c.name, "arguments": c.arguments },
            })).collect::<Vec<_>>(),
        }),
        ChatMessage::Tool {
            tool_call_id,
            content,
        } => json!({ "role": "tool", "tool_call_id": tool_call_id, "content": content }),
    }
}

#[derive(Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub error: Option<WireError>,
}

#[derive(Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub index: u32,
    /// Streamed chunks carry `delta`; whole answers carry `message`.
    #[serde(default, alias = "message")]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
pub(crate) struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    /// Usually a string fragment; some servers send the whole arguments as an object.
    #[serde(default)]
    pub arguments: Option<Value>,
}

#[derive(Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: u32,
    #[serde(default)]
    pub completion_tokens: u32,
}

#[derive(Deserialize)]
pub(crate) struct WireError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<Value>,
}

impl WireError {
    pub fn describe(&self) -> String {
        let message = self.message.as_deref().unwrap_or("unknown error");
        match &self.code {
            Some(code) => clip(&format!("{message} (code {code})")),
            None => clip(message),
        }
    }
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        }
    }
}

/// Provider messages are shown to users and logged: keep them short.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 200;
    let text = text.trim();
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// The message of an error body (`{"error": {"message": …}}` or plain text).
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Option<ErrorField>,
        message: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ErrorField {
        Object(WireError),
        Text(String),
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body {
            error: Some(ErrorField::Object(e)),
            ..
        }) => e.describe(),
        Ok(Body {
            error: Some(ErrorField::Text(t)),
            ..
        }) => clip(&t),
        Ok(Body {
            message: Some(m), ..
        }) => clip(&m),
        _ => clip(&String::from_utf8_lossy(body)),
    }
}

/// Collects the fragments of streamed tool calls by their index.
#[derive(Default)]
pub(crate) struct ToolCallAssembler {
    calls: Vec<PartialCall>,
}

#[derive(Default)]
struct PartialCall {
    index: usize,
    id: String,
    name: String,
    arguments: String,
}

impl ToolCallAssembler {
    pub fn push(&mut self, position: usize, d: ToolCallDelta) {
        let index = d.index.unwrap_or(position);
        let slot = match self.calls.iter().position(|c| c.index == index) {
            Some(i) => &mut self.calls[i],
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..Default::default()
                });
                let last = self.calls.len() - 1;
                &mut self.calls[last]
            }
        };
        if let Some(id) = d.id.filter(|i| !i.is_empty()) {
            slot.id = id;
        }
        if let Some(f) = d.function {
            if let Some(name) = f.name {
                // Names arrive whole, but some servers repeat them with every fragment.
                if !slot.name.ends_with(&name) {
                    slot.name.push_str(&name);
                }
            }
            match f.arguments {
                Some(Value::String(s)) => slot.arguments.push_str(&s),
                Some(Value::Null) | None => {}
                Some(other) => slot.arguments.push_str(&other.to_string()),
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn finish(&mut self) -> Result<Vec<ToolCall>, LlmError> {
        let mut calls = std::mem::take(&mut self.calls);
        calls.sort_by_key(|c| c.index);
        calls
            .into_iter()
            .map(|c| {
                if c.name.is_empty() {
                    return Err(LlmError::Malformed(format!(
                        "tool call {} has no function name",
                        c.index
                    )));
                }
                Ok(ToolCall {
                    id: if c.id.is_empty() {
                        format!("call_{}", c.index)
                    } else {
                        c.id
                    },
                    name: c.name,
                    arguments: if c.arguments.trim().is_empty() {
                        "{}".to_owned()
                    } else {
                        c.arguments
                    },
                })
            })
            .collect()
    }
}

/// Reads the finish reason of a chunk's first choice.
pub(crate) fn finish_reason(text: &str) -> FinishReason {
    FinishReason::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ToolSpec;

    #[test]
    fn request_has_the_openai_shape() {
        let req = ChatRequest {
            messages: vec![
                ChatMessage::System("rules".into()),
                ChatMessage::User("q".into()),
                ChatMessage::Assistant {
                    content: String::new(),
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "cashflow".into(),
                        arguments: "{\"months\":3}".into(),
                    }],
                },
                ChatMessage::Tool {
                    tool_call_id: "c1".into(),
                    content: "{}".into(),
                },
            ],
            tools: vec![ToolSpec {
                name: "cashflow".into(),
                description: "d".into(),
                parameters: json!({"type": "object"}),
            }],
            tool_choice: ToolChoice::None,
            ..Default::default()
        };
        let body = request_body(&req, "m", 100, 0.5);
        assert_eq!(body["model"], "m");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"months\":3}"
        );
        assert_eq!(body["messages"][3]["role"], "tool");
        assert_eq!(body["tools"][0]["function"]["name"], "cashflow");
        assert_eq!(body["tool_choice"], "none");
    }

    fn delta(
        index: Option<usize>,
        id: Option<&str>,
        name: Option<&str>,
        args: &str,
    ) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            function: Some(FunctionDelta {
                name: name.map(str::to_owned),
                arguments: Some(Value::String(args.to_owned())),
            }),
        }
    }

    #[test]
    fn tool_call_fragments_assemble_by_index() {
        let mut a = ToolCallAssembler::default();
        a.push(0, delta(Some(1), Some("b"), Some("rating"), ""));
        a.push(0, delta(Some(0), Some("a"), Some("cashflow"), "{\"mon"));
        a.push(0, delta(Some(0), None, None, "ths\": 6}"));
        let calls = a.finish().expect("calls");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "cashflow");
        assert_eq!(calls[0].arguments, "{\"months\": 6}");
        assert_eq!(calls[1].id, "b");
        assert_eq!(calls[1].arguments, "{}");
        let mut nameless = ToolCallAssembler::default();
        nameless.push(0, delta(Some(0), Some("x"), None, "{}"));
        assert!(nameless.finish().is_err());
    }

    #[test]
    fn error_bodies_are_read_and_clipped() {
        assert_eq!(
            error_message(br#"{"error":{"message":"Rate limit exceeded","code":429}}"#),
            "Rate limit exceeded (code 429)"
        );
        assert_eq!(
            error_message(b"{\"error\":\"model not found\"}"),
            "model not found"
        );
        assert_eq!(error_message(b"Bad Gateway"), "Bad Gateway");
        assert!(error_message(&[b'x'; 1000]).chars().count() <= 201);
    }
}
