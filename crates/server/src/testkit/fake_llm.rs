//! A local fake of an OpenAI-compatible chat-completions server for tests and benchmarks. It
//! records every request it receives and answers each with the next scripted [`Reply`]: streams
//! of chunks with delays, tool calls, error statuses, stalls, malformed events, cut-off streams.
//! It notices when a client goes away before a stream ends.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

/// One step of a streamed answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// A chunk with this content delta.
    Text(String),
    /// A tool call, streamed as a name and three fragments of its arguments.
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// The chunk that ends the answer, with this `finish_reason`.
    Finish(String),
    /// A usage chunk.
    Usage {
        prompt: u32,
        completion: u32,
    },
    /// `data: [DONE]`.
    Done,
    /// Bytes written as they are (malformed events, comments, error events).
    Raw(String),
    Sleep(Duration),
    /// Waits until the test calls `notify_one` on it.
    Gate(Arc<Notify>),
    /// Sends nothing more, keeping the connection open.
    Hang,
    /// Breaks the connection in the middle of the body.
    Cut,
}

/// How the fake answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Stream(Vec<Step>),
    Status {
        status: u16,
        body: String,
        retry_after: Option<u64>,
    },
    /// Never answers (not even headers).
    NoAnswer,
}

impl Reply {
    /// A complete streamed answer made of these pieces.
    pub fn text(pieces: &[&str]) -> Reply {
        let mut steps: Vec<Step> = pieces.iter().map(|p| Step::Text((*p).to_owned())).collect();
        steps.extend(Reply::ending("stop"));
        Reply::Stream(steps)
    }

    /// The steps that end an answer: finish, usage, `[DONE]`.
    pub fn ending(reason: &str) -> Vec<Step> {
        vec![
            Step::Finish(reason.to_owned()),
            Step::Usage {
                prompt: 120,
                completion: 30,
            },
            Step::Done,
        ]
    }

    /// An answer that asks for one tool.
    pub fn tool_call(id: &str, name: &str, arguments: Value) -> Reply {
        let mut steps = vec![Step::ToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_string(),
        }];
        steps.extend(Reply::ending("tool_calls"));
        Reply::Stream(steps)
    }

    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Status {
            status,
            body: body.to_owned(),
            retry_after: None,
        }
    }
}

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub body: String,
    pub json: Value,
    pub authorization: Option<String>,
    pub at: Instant,
}

impl Recorded {
    /// The texts of all messages, in order.
    pub fn message_texts(&self) -> Vec<String> {
        self.json["messages"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| match &m["content"] {
                        Value::String(s) => s.clone(),
                        _ => String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// When the fake handed a content chunk to the HTTP layer.
#[derive(Clone, Debug)]
pub struct SentChunk {
    pub text: String,
    pub at: Instant,
}

#[derive(Default)]
struct FakeState {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    sent: Mutex<Vec<SentChunk>>,
    completed: AtomicUsize,
    dropped: AtomicUsize,
    dropped_signal: Notify,
}

/// The running fake; it stops when dropped.
pub struct FakeLlm {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeLlm {
    pub async fn start() -> anyhow::Result<FakeLlm> {
        let state = Arc::new(FakeState::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Like a real provider's edge: each chunk leaves at once.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeLlm { addr, state, task })
    }

    /// The value for `AI_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues the reply to the next request (without any queued, the fake answers "ok").
    pub fn push(&self, reply: Reply) {
        lock(&self.state.script).push_back(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    pub fn sent(&self) -> Vec<SentChunk> {
        lock(&self.state.sent).clone()
    }

    pub fn clear_sent(&self) {
        lock(&self.state.sent).clear();
    }

    /// Streams the fake sent to the end.
    pub fn completed(&self) -> usize {
        self.state.completed.load(Ordering::SeqCst)
    }

    /// Streams whose client went away before their end.
    pub fn dropped(&self) -> usize {
        self.state.dropped.load(Ordering::SeqCst)
    }

    /// Waits until a client has gone away mid-stream; false on timeout.
    pub async fn wait_dropped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.dropped() > 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(
                left.min(Duration::from_millis(50)),
                self.state.dropped_signal.notified(),
            )
            .await;
        }
    }
}

async fn completions(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    lock(&state.requests).push(Recorded {
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
        body: text,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        at: Instant::now(),
    });
    let reply = lock(&state.script)
        .pop_front()
        .unwrap_or_else(|| Reply::text(&["ok"]));
    match reply {
        Reply::Status {
            status,
            body,
            retry_after,
        } => {
            let mut res = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [("content-type", "application/json")],
                body,
            )
                .into_response();
            if let Some(secs) = retry_after {
                if let Ok(v) = secs.to_string().parse() {
                    res.headers_mut().insert("retry-after", v);
                }
            }
            res
        }
        Reply::NoAnswer => {
            std::future::pending::<()>().await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::Stream(steps) => {
            let body = Body::from_stream(stream(state, steps));
            (
                StatusCode::OK,
                [
                    ("content-type", "text/event-stream"),
                    ("cache-control", "no-cache"),
                ],
                body,
            )
                .into_response()
        }
    }
}

/// Counts a stream as dropped unless it was marked complete.
struct Guard {
    state: Arc<FakeState>,
    complete: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.complete {
            self.state.completed.fetch_add(1, Ordering::SeqCst);
        } else {
            self.state.dropped.fetch_add(1, Ordering::SeqCst);
            self.state.dropped_signal.notify_waiters();
        }
    }
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let event = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "fake/model",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {event}\n\n")
}

fn stream(
    state: Arc<FakeState>,
    steps: Vec<Step>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let guard = Guard {
        state,
        complete: false,
    };
    let steps: VecDeque<Step> = steps.into();
    futures_util::stream::unfold(
        (steps, guard, true),
        |(mut steps, mut guard, first)| async move {
            let mut out = String::new();
            if first {
                out.push_str(&chunk(json!({ "role": "assistant", "content": "" }), None));
            }
            loop {
                let Some(step) = steps.pop_front() else {
                    guard.complete = true;
                    if out.is_empty() {
                        return None;
                    }
                    break;
                };
                match step {
                    Step::Text(t) => {
                        lock(&guard.state.sent).push(SentChunk {
                            text: t.clone(),
                            at: Instant::now(),
                        });
                        out.push_str(&chunk(json!({ "content": t }), None));
                        break;
                    }
                    Step::ToolCall {
                        id,
                        name,
                        arguments,
                    } => {
                        out.push_str(&chunk(
                            json!({ "tool_calls": [{ "index": 0, "id": id, "type": "function",
                                "function": { "name": name, "arguments": "" } }] }),
                            None,
                        ));
                        let chars: Vec<char> = arguments.chars().collect();
                        let third = chars.len().div_ceil(3).max(1);
                        for part in chars.chunks(third) {
                            let part: String = part.iter().collect();
                            out.push_str(&chunk(
                                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": part } }] }),
                                None,
                            ));
                        }
                        break;
                    }
                    Step::Finish(reason) => {
                        out.push_str(&chunk(json!({}), Some(&reason)));
                    }
                    Step::Usage { prompt, completion } => {
                        let event = json!({
                            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake/model",
                            "choices": [],
                            "usage": { "prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion },
                        });
                        out.push_str(&format!("data: {event}\n\n"));
                    }
                    Step::Done => out.push_str("data: [DONE]\n\n"),
                    Step::Raw(raw) => {
                        out.push_str(&raw);
                        break;
                    }
                    Step::Sleep(d) => {
                        if !out.is_empty() {
                            steps.push_front(Step::Sleep(d));
                            break;
                        }
                        tokio::time::sleep(d).await;
                    }
                    Step::Gate(gate) => {
                        if !out.is_empty() {
                            steps.push_front(Step::Gate(gate));
                            break;
                        }
                        gate.notified().await;
                    }
                    Step::Hang => {
                        if !out.is_empty() {
                            steps.push_front(Step::Hang);
                            break;
                        }
                        std::future::pending::<()>().await;
                    }
                    Step::Cut => {
                        if !out.is_empty() {
                            steps.push_front(Step::Cut);
                            break;
                        }
                        // Let what was sent reach the client first, then break.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        // Not counted as a client going away: the fake broke it.
                        guard.complete = true;
                        return Some((
                            Err(std::io::Error::other("cut")),
                            (VecDeque::new(), guard, false),
                        ));
                    }
                }
            }
            Some((Ok(Bytes::from(out)), (steps, guard, false)))
        },
    )
}
