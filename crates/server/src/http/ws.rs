//! `/graphql/ws`: GraphQL over websockets, `graphql-transport-ws` only. Around async-graphql's
//! protocol engine this enforces what the library leaves open: a session at upgrade (and for as
//! long as the socket lives), the protocol's close codes, a cap on sockets per user and on
//! subscriptions per connection.
//!
//! Close codes (every reason fits a close frame: at most [`MAX_REASON_BYTES`] bytes):
//! - 4400 a message that is not JSON, not one of the protocol's types or lacks a field;
//! - 4401 `subscribe` before `connection_init`, or the session ended (logout, password change,
//!   disable, role change, expiry);
//! - 4408 no `connection_init` within `WS_INIT_TIMEOUT_SECS`;
//! - 4409 a subscription id already in use;
//! - 4429 too many: a second `connection_init`, more than [`MAX_SUBSCRIPTIONS`] subscriptions
//!   on one connection, or more than `WS_MAX_SOCKETS_PER_USER` sockets of one user on this
//!   process (the reason says which);
//! - 1009 a message or frame larger than `BODY_LIMIT_BYTES`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tower_cookies::Cookies;

use super::graphql::request_context;
use super::{json_error, AppState};

const SESSION_RECHECK: Duration = Duration::from_secs(60);
pub const MAX_SUBSCRIPTIONS: usize = 16;
const PROTOCOL: &str = "graphql-transport-ws";
/// A close frame's payload is at most 125 bytes, two of them the code.
pub const MAX_REASON_BYTES: usize = 123;

/// Close codes of `graphql-transport-ws` (and RFC 6455's 1009).
pub mod code {
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY: u16 = 4429;
    pub const TOO_BIG: u16 = 1009;
}

/// Open websockets per user on this process, capped.
pub struct SocketCounts {
    max_per_user: usize,
    open: Mutex<HashMap<i64, usize>>,
}

/// One socket's place in [`SocketCounts`], given back when dropped.
pub struct SocketSlot {
    counts: Arc<SocketCounts>,
    user_id: i64,
}

impl SocketCounts {
    pub fn new(max_per_user: usize) -> Self {
        SocketCounts {
            max_per_user,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The map, also after a panic elsewhere held its lock (each change is one small update).
    fn open(&self) -> MutexGuard<'_, HashMap<i64, usize>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for one more socket of `user_id`, or `None` when the user has the most allowed.
    pub fn acquire(counts: &Arc<Self>, user_id: i64) -> Option<SocketSlot> {
        let mut open = counts.open();
        let n = open.entry(user_id).or_insert(0);
        if *n >= counts.max_per_user {
            return None;
        }
        *n += 1;
        Some(SocketSlot {
            counts: counts.clone(),
            user_id,
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open();
        if let Some(n) = open.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

/// `reason` cut to fit a close frame, on a character boundary.
pub fn short_reason(reason: &str) -> &str {
    &reason[..reason.floor_char_boundary(MAX_REASON_BYTES)]
}

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cookies: Cookies,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offered {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "use the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol: graphql-transport-ws)",
        );
    }
    let ctx = match request_context(&state, cookies, Some(peer), &headers).await {
        Ok(ctx) => ctx,
        Err(res) => return res,
    };
    let Some(user_id) = ctx.actor.as_ref().map(|a| a.user_id) else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in first: websockets need a valid session",
        );
    };
    // Taken before the upgrade, so sockets opened at once count each other.
    let slot = SocketCounts::acquire(&state.sockets, user_id);
    // A message is a GraphQL request: it gets the body limit of POST /graphql.
    let limit = state.settings.body_limit_bytes;
    ws.protocols([PROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            match slot {
                Some(slot) => serve(state, socket, ctx, slot).await,
                None => refuse_one_too_many(socket, user_id).await,
            }
        })
        .into_response()
}

/// The socket beyond `WS_MAX_SOCKETS_PER_USER`: upgraded only to say why it closes (4429), as
/// the protocol's clients read close codes, not HTTP statuses.
async fn refuse_one_too_many(socket: WebSocket, user_id: i64) {
    tracing::warn!(user_id, "websocket refused: too many sockets for this user");
    let (mut sink, _) = socket.split();
    close(&mut sink, code::TOO_MANY, "Too many sockets for this user").await;
}

#[derive(serde::Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

#[derive(serde::Deserialize)]
struct Outgoing {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

/// Why a client's message ends the connection.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("Invalid message: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("Invalid message type: {0}")]
    UnknownType(String),
    #[error("Unauthorized")]
    NotInitialised,
}

impl Refusal {
    fn code(&self) -> u16 {
        match self {
            Refusal::Invalid(_) | Refusal::UnknownType(_) => code::BAD_REQUEST,
            Refusal::NotInitialised => code::UNAUTHORIZED,
        }
    }
}

/// A client's message checked against the protocol: one of its five types with its fields,
/// `subscribe` only after `connection_init`. Returns the type with the message for the engine.
fn check(text: &str, initialised: bool) -> Result<(Incoming, ClientMessage), Refusal> {
    let head: Incoming = serde_json::from_str(text)?;
    match head.kind.as_str() {
        "connection_init" | "ping" | "pong" | "complete" => {}
        "subscribe" if !initialised => return Err(Refusal::NotInitialised),
        "subscribe" => {}
        _ => return Err(Refusal::UnknownType(head.kind)),
    }
    let message = ClientMessage::from_bytes(text)?;
    Ok((head, message))
}

/// Whether a socket error is a message or frame over the size limit.
fn too_big(error: axum::Error) -> bool {
    matches!(
        error.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

type Sink = SplitSink<WebSocket, Message>;

async fn close(socket: &mut Sink, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: short_reason(reason).to_owned().into(),
    };
    if let Err(e) = socket.send(Message::Close(Some(frame))).await {
        tracing::debug!(code, error = %e, "websocket: the close frame was not sent");
    }
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    ctx: crm_graphql::RequestContext,
    slot: SocketSlot,
) {
    let token = ctx.session_token.clone();
    let user_id = slot.user_id;
    let mut data = Data::default();
    data.insert(ctx);
    let (mut sink, mut source) = socket.split();
    let (to_engine, from_socket) =
        tokio::sync::mpsc::channel::<serde_json::Result<ClientMessage>>(32);
    let input = futures_util::stream::unfold(from_socket, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let mut engine = Box::pin(
        async_graphql::http::WebSocket::from_message_stream(
            crm_graphql::SignedIn(state.api.clone(), user_id),
            input,
            WebSocketProtocols::GraphQLWS,
        )
        .connection_data(data)
        .keepalive_timeout(Duration::from_secs(30)),
    );

    let mut initialised = false;
    let init_deadline = tokio::time::sleep(state.settings.ws_init_timeout);
    tokio::pin!(init_deadline);
    let mut active: HashSet<String> = HashSet::new();
    // This user's only: other users' logins and logouts never wake this socket.
    let mut session_changes = state.core.auth().session_changes(user_id);
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.tick().await;

    loop {
        tokio::select! {
            incoming = source.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(e)) => {
                        if too_big(e) {
                            let limit = state.settings.body_limit_bytes;
                            tracing::info!(user_id, limit, "websocket closed: message too big");
                            close(&mut sink, code::TOO_BIG, &format!("Message too big: the limit is {limit} bytes")).await;
                        }
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                let (head, message) = match check(&text, initialised) {
                    Ok(checked) => checked,
                    Err(refusal) => {
                        // Cut, and logged with Debug's escapes: it holds what the client sent.
                        let reason = refusal.to_string();
                        let reason = short_reason(&reason);
                        tracing::info!(user_id, code = refusal.code(), ?reason, "websocket closed: a protocol error");
                        close(&mut sink, refusal.code(), reason).await;
                        break;
                    }
                };
                match head.kind.as_str() {
                    "connection_init" => initialised = true,
                    "subscribe" => {
                        let id = head.id.unwrap_or_default();
                        if active.contains(&id) {
                            close(&mut sink, code::DUPLICATE_ID, &format!("Subscriber for {id} already exists")).await;
                            break;
                        }
                        if active.len() >= MAX_SUBSCRIPTIONS {
                            close(&mut sink, code::TOO_MANY, "too many subscriptions on one connection").await;
                            break;
                        }
                        active.insert(id);
                    }
                    "complete" => { if let Some(id) = head.id { active.remove(&id); } }
                    _ => {}
                }
                if to_engine.send(Ok(message)).await.is_err() {
                    break;
                }
            }
            outgoing = engine.next() => {
                match outgoing {
                    Some(WsMessage::Text(text)) => {
                        if let Ok(msg) = serde_json::from_str::<Outgoing>(&text) {
                            if msg.kind == "complete" || msg.kind == "error" {
                                if let Some(id) = msg.id { active.remove(&id); }
                            }
                        }
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(WsMessage::Close(code, reason)) => {
                        // The engine's 1002 is the protocol's "bad request".
                        let code = if code == 1002 { code::BAD_REQUEST } else { code };
                        close(&mut sink, code, &reason).await;
                        break;
                    }
                    None => break,
                }
            }
            _ = &mut init_deadline, if !initialised => {
                close(&mut sink, code::INIT_TIMEOUT, "Connection initialisation timeout").await;
                break;
            }
            changed = session_changes.changed() => {
                if changed.is_err() || !session_alive(&state, token.as_deref()).await {
                    close(&mut sink, code::UNAUTHORIZED, "session ended").await;
                    break;
                }
            }
            _ = recheck.tick() => {
                if !session_alive(&state, token.as_deref()).await {
                    close(&mut sink, code::UNAUTHORIZED, "session ended").await;
                    break;
                }
            }
        }
    }
}

/// Whether the socket's session still holds (a database read: counted in
/// `ws_session_checks_total`).
async fn session_alive(state: &AppState, token: Option<&str>) -> bool {
    state.metrics.ws_session_check();
    match token {
        Some(t) => matches!(state.core.auth().authenticate(t).await, Ok(Some(_))),
        None => false,
    }
}
