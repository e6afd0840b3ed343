//! The HTTP side: one POST to `{base}/chat/completions` with `stream: true`, read chunk by chunk
//! as the bytes arrive (nothing is buffered beyond one event), with four timeouts. Dropping the
//! returned stream drops the response, which closes the connection: the provider stops working
//! on an answer nobody reads.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::Instant;

use crate::error::{from_status, LlmError, TimeoutPhase};
use crate::sse::{SseEvent, SseParser};
use crate::types::{ChatEvent, ChatRequest, FinishReason, Usage};
use crate::wire::{self, Chunk, ToolCallAssembler};

/// The provider's API key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// How long each stage of a call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// From sending the request to the first bytes of the answer.
    pub first_byte: Duration,
    /// Between two chunks of a started stream.
    pub idle: Duration,
    /// The whole call.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Debug)]
pub struct LlmSettings {
    /// The API base, e.g. `https://openrouter.ai/api/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when present (local servers often need none).
    pub api_key: Option<ApiKey>,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: f32,
    pub timeouts: Timeouts,
}

/// A stream of answer events; see [`ChatEvent`] for their order. After an `Err` it ends.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, LlmError>> + Send>>;

/// Largest single event (or error body) we hold in memory.
const MAX_EVENT_BYTES: usize = 1 << 20;

/// A client of one OpenAI-compatible endpoint. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    settings: LlmSettings,
}

impl LlmClient {
    pub fn new(settings: LlmSettings) -> Result<Self, LlmError> {
        let base = settings.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "the API URL must start with http:// or https://, got {base:?}"
            )));
        }
        let url = if base.ends_with("/chat/completions") {
            base.to_owned()
        } else {
            format!("{base}/chat/completions")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeouts.connect)
            .user_agent(concat!("ai-crm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(LlmClient {
            http,
            url,
            settings,
        })
    }

    /// The model requests use unless they name another.
    pub fn model(&self) -> &str {
        &self.settings.model
    }

    pub fn settings(&self) -> &LlmSettings {
        &self.settings
    }

    /// Sends the request and returns the answer as a stream once the provider has accepted it
    /// (HTTP 2xx). Errors before that (connection, status, first-byte timeout) come back here;
    /// later ones as the stream's last item.
    pub async fn stream_chat(&self, req: &ChatRequest) -> Result<ChatStream, LlmError> {
        let t = self.settings.timeouts;
        let deadline = Instant::now() + t.total;
        let model = req.model.as_deref().unwrap_or(&self.settings.model);
        let body = wire::request_body(
            req,
            model,
            req.max_tokens.unwrap_or(self.settings.max_tokens),
            req.temperature.unwrap_or(self.settings.temperature),
        );
        let mut builder = self
            .http
            .post(&self.url)
            .header(ACCEPT, "text/event-stream")
            .header("X-Title", "AI-CRM")
            .json(&body);
        if let Some(key) = &self.settings.api_key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    LlmError::Config("the API key has characters a header cannot carry".into())
                })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        tracing::debug!(
            model,
            messages = req.messages.len(),
            tools = req.tools.len(),
            "chat completion requested"
        );
        let (limit, phase) = limit(t.first_byte, TimeoutPhase::FirstByte, deadline);
        let response = match tokio::time::timeout(limit, builder.send()).await {
            Err(_) => {
                return Err(LlmError::Timeout {
                    phase,
                    after: limit,
                })
            }
            Ok(Err(e)) if e.is_connect() => return Err(LlmError::Connect(describe_reqwest(e))),
            Ok(Err(e)) if e.is_timeout() => {
                return Err(LlmError::Timeout {
                    phase: TimeoutPhase::Connect,
                    after: t.connect,
                })
            }
            Ok(Err(e)) => return Err(LlmError::Connect(describe_reqwest(e))),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let message = read_error_body(response, deadline).await;
            tracing::warn!(status, "the model provider answered with an error status");
            return Err(from_status(status, message, retry_after));
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return whole_answer(response, deadline).await;
        }
        let state = StreamState {
            response,
            parser: SseParser::new(MAX_EVENT_BYTES),
            queue: VecDeque::new(),
            tools: ToolCallAssembler::default(),
            finish: None,
            model: None,
            usage: None,
            done: false,
            started: false,
            deadline,
            timeouts: t,
        };
        Ok(Box::pin(futures_util::stream::unfold(state, next_event)))
    }
}

fn describe_reqwest(e: reqwest::Error) -> String {
    // Without the URL: it may carry credentials in a query string.
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    wire::clip(&text)
}

/// The smaller of a stage's own limit and what is left of the total.
fn limit(stage: Duration, phase: TimeoutPhase, deadline: Instant) -> (Duration, TimeoutPhase) {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < stage {
        (left, TimeoutPhase::Total)
    } else {
        (stage, phase)
    }
}

async fn read_error_body(mut response: reqwest::Response, deadline: Instant) -> String {
    let mut body = Vec::new();
    let cap = Duration::from_secs(5).min(deadline.saturating_duration_since(Instant::now()));
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > 64 * 1024 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(cap, read).await;
    wire::error_message(&body)
}

/// A server that ignored `stream: true` and sent the whole answer as one JSON document.
async fn whole_answer(
    mut response: reqwest::Response,
    deadline: Instant,
) -> Result<ChatStream, LlmError> {
    let mut body = Vec::new();
    let left = deadline.saturating_duration_since(Instant::now());
    let read = async {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| LlmError::Broken(describe_reqwest(e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_EVENT_BYTES * 4 {
                return Err(LlmError::Malformed("the answer is too large".into()));
            }
        }
        Ok(())
    };
    tokio::time::timeout(left, read)
        .await
        .map_err(|_| LlmError::Timeout {
            phase: TimeoutPhase::Total,
            after: left,
        })??;
    let chunk: Chunk = serde_json::from_slice(&body)
        .map_err(|e| LlmError::Malformed(format!("the answer is not a chat completion: {e}")))?;
    let mut events = Vec::new();
    let mut state = Finish::default();
    apply_chunk(chunk, &mut events, &mut state)?;
    state.finalize(&mut events)?;
    Ok(Box::pin(futures_util::stream::iter(
        events.into_iter().map(Ok),
    )))
}

/// What is known about the end of an answer while its chunks arrive.
#[derive(Default)]
struct Finish {
    tools: ToolCallAssembler,
    reason: Option<FinishReason>,
    model: Option<String>,
    usage: Option<Usage>,
}

impl Finish {
    fn finalize(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), LlmError> {
        let had_tools = !self.tools.is_empty();
        if had_tools {
            out.push(ChatEvent::ToolCalls(self.tools.finish()?));
        }
        let reason = match self.reason.take() {
            Some(FinishReason::Stop) | None if had_tools => FinishReason::ToolCalls,
            Some(r) => r,
            None => FinishReason::Stop,
        };
        out.push(ChatEvent::Finished {
            reason,
            model: self.model.take(),
            usage: self.usage.take(),
        });
        Ok(())
    }
}

fn apply_chunk(chunk: Chunk, out: &mut Vec<ChatEvent>, f: &mut Finish) -> Result<(), LlmError> {
    if let Some(e) = chunk.error {
        return Err(LlmError::Provider(e.describe()));
    }
    if let Some(m) = chunk.model.filter(|m| !m.is_empty()) {
        f.model = Some(m);
    }
    if let Some(u) = chunk.usage {
        f.usage = Some(u.into());
    }
    for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
        if let Some(delta) = choice.delta {
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                out.push(ChatEvent::Delta(text));
            }
            for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                f.tools.push(position, call);
            }
        }
        if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
            f.reason = Some(wire::finish_reason(&reason));
        }
    }
    Ok(())
}

struct StreamState {
    response: reqwest::Response,
    parser: SseParser,
    queue: VecDeque<ChatEvent>,
    tools: ToolCallAssembler,
    finish: Option<FinishReason>,
    model: Option<String>,
    usage: Option<Usage>,
    done: bool,
    started: bool,
    deadline: Instant,
    timeouts: Timeouts,
}

impl StreamState {
    fn end(&mut self) -> Result<(), LlmError> {
        let mut f = Finish {
            tools: std::mem::take(&mut self.tools),
            reason: self.finish.take(),
            model: self.model.take(),
            usage: self.usage.take(),
        };
        let mut out = Vec::new();
        f.finalize(&mut out)?;
        self.queue.extend(out);
        self.done = true;
        Ok(())
    }

    fn event(&mut self, ev: SseEvent) -> Result<(), LlmError> {
        let data = ev.data.trim();
        if ev.event.as_deref() == Some("error") {
            let message = wire::error_message(data.as_bytes());
            return Err(LlmError::Provider(message));
        }
        if data == "[DONE]" {
            return self.end();
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            LlmError::Malformed(format!("an event of the stream is not a chunk: {e}"))
        })?;
        let mut f = Finish {
            tools: std::mem::take(&mut self.tools),
            reason: self.finish.take(),
            model: self.model.take(),
            usage: self.usage.take(),
        };
        let mut out = Vec::new();
        let applied = apply_chunk(chunk, &mut out, &mut f);
        self.tools = f.tools;
        self.finish = f.reason;
        self.model = f.model;
        self.usage = f.usage;
        applied?;
        self.queue.extend(out);
        Ok(())
    }

    async fn read(&mut self) -> Result<(), LlmError> {
        let (stage, phase) = if self.started {
            (self.timeouts.idle, TimeoutPhase::Idle)
        } else {
            (self.timeouts.first_byte, TimeoutPhase::FirstByte)
        };
        let (wait, phase) = limit(stage, phase, self.deadline);
        match tokio::time::timeout(wait, self.response.chunk()).await {
            Err(_) if self.finish.is_some() => self.end(),
            Err(_) => Err(LlmError::Timeout { phase, after: wait }),
            Ok(Err(_)) if self.finish.is_some() => self.end(),
            Ok(Err(e)) => Err(LlmError::Broken(describe_reqwest(e))),
            Ok(Ok(None)) => {
                if let Some(ev) = self
                    .parser
                    .finish()
                    .map_err(|e| LlmError::Malformed(e.to_string()))?
                {
                    self.event(ev)?;
                }
                if self.done {
                    Ok(())
                } else if self.finish.is_some() {
                    self.end()
                } else {
                    Err(LlmError::Truncated)
                }
            }
            Ok(Ok(Some(bytes))) => {
                self.started = true;
                let events = self
                    .parser
                    .feed(&bytes)
                    .map_err(|e| LlmError::Malformed(e.to_string()))?;
                for ev in events {
                    if self.done {
                        break;
                    }
                    self.event(ev)?;
                }
                Ok(())
            }
        }
    }
}

async fn next_event(mut state: StreamState) -> Option<(Result<ChatEvent, LlmError>, StreamState)> {
    loop {
        if let Some(ev) = state.queue.pop_front() {
            return Some((Ok(ev), state));
        }
        if state.done {
            return None;
        }
        if let Err(e) = state.read().await {
            tracing::warn!(kind = e.kind(), "the model provider's stream failed");
            state.done = true;
            state.queue.clear();
            return Some((Err(e), state));
        }
    }
}
