//! `/graphql/ws`: GraphQL over websockets, `graphql-transport-ws` only. Around async-graphql's
//! protocol engine this enforces what the library leaves open: a session at upgrade (and for as
//! long as the socket lives), `connection_init` within a deadline (4408), unique subscription ids
//! (4409) and a cap on subscriptions per connection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tower_cookies::Cookies;

use super::graphql::request_context;
use super::{json_error, AppState};

const SESSION_RECHECK: Duration = Duration::from_secs(60);
pub const MAX_SUBSCRIPTIONS: usize = 16;
const PROTOCOL: &str = "graphql-transport-ws";

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
    if ctx.actor.is_none() {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in first: websockets need a valid session",
        );
    }
    // A message is a GraphQL request: it gets the body limit of POST /graphql.
    let limit = state.settings.body_limit_bytes;
    ws.protocols([PROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            serve(state, socket, ctx).await;
        })
        .into_response()
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

async fn close(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &str,
) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })))
        .await;
}

async fn serve(state: AppState, socket: WebSocket, ctx: crm_graphql::RequestContext) {
    let token = ctx.session_token.clone();
    // The upgrade refused sockets without a signed-in user.
    let user_id = ctx.actor.as_ref().map_or(0, |a| a.user_id);
    let mut data = Data::default();
    data.insert(ctx);
    let (mut sink, mut source) = socket.split();
    let (to_engine, from_socket) = tokio::sync::mpsc::channel::<String>(32);
    let input = futures_util::stream::unfold(from_socket, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let mut engine = Box::pin(
        async_graphql::http::WebSocket::new(
            crm_graphql::SignedIn(state.api.clone()),
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
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                if let Ok(msg) = serde_json::from_str::<Incoming>(&text) {
                    match msg.kind.as_str() {
                        "connection_init" => initialised = true,
                        "subscribe" => {
                            let id = msg.id.unwrap_or_default();
                            if active.contains(&id) {
                                close(&mut sink, 4409, &format!("Subscriber for {id} already exists")).await;
                                break;
                            }
                            if active.len() >= MAX_SUBSCRIPTIONS {
                                close(&mut sink, 4429, "too many subscriptions on one connection").await;
                                break;
                            }
                            active.insert(id);
                        }
                        "complete" => { if let Some(id) = msg.id { active.remove(&id); } }
                        _ => {}
                    }
                }
                if to_engine.send(text).await.is_err() {
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
                        close(&mut sink, code, &reason).await;
                        break;
                    }
                    None => break,
                }
            }
            _ = &mut init_deadline, if !initialised => {
                close(&mut sink, 4408, "Connection initialisation timeout").await;
                break;
            }
            changed = session_changes.changed() => {
                if changed.is_err() || !session_alive(&state, token.as_deref()).await {
                    close(&mut sink, 4401, "session ended").await;
                    break;
                }
            }
            _ = recheck.tick() => {
                if !session_alive(&state, token.as_deref()).await {
                    close(&mut sink, 4401, "session ended").await;
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
