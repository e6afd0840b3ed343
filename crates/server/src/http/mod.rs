//! The HTTP surface: one router with GraphQL, the websocket, GraphiQL, health, metrics and the
//! web app, behind request ids, metrics, security headers, a body limit and a timeout.

pub mod cache;
pub mod conn;
pub mod export;
pub mod graphql;
pub mod metrics;
pub mod security;
pub mod session;
pub mod web;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use crm_core::Core;
use crm_graphql::Api;
use tower_cookies::CookieManagerLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

pub use metrics::Metrics;

/// What the HTTP layer needs to know from the configuration.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub secure_cookies: bool,
    pub public_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub trust_proxy: bool,
    pub graphiql: bool,
    /// Serve the web app from this folder instead of the copy inside the binary (`WEB_DIR`).
    pub web_dir: Option<PathBuf>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// How long a websocket may wait before `connection_init` (then it is closed with 4408).
    pub ws_init_timeout: Duration,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
}

/// Who may read `/metrics`.
#[derive(Clone)]
pub enum MetricsAccess {
    /// Anyone who reaches the port (development).
    Open,
    /// Requests with `Authorization: Bearer <token>` (`METRICS_TOKEN`).
    Token(String),
    /// Nobody (production without `METRICS_TOKEN`).
    Off,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MetricsAccess::Open => "Open",
            MetricsAccess::Token(_) => "Token(..)",
            MetricsAccess::Off => "Off",
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    /// The GraphQL schema behind the checks every request gets.
    pub api: Api,
    pub settings: Arc<HttpSettings>,
    pub metrics: Arc<Metrics>,
    /// Query responses reused while the data has not changed.
    pub cache: Arc<cache::ResponseCache>,
    /// Open websockets per user (the per-user cap).
    pub sockets: Arc<ws::SocketCounts>,
}

/// A JSON error body in GraphQL's shape, for refusals before GraphQL runs.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Gives each request an id (kept from `X-Request-Id` when it looks sane), a tracing span and a
/// completion log line; echoes the id in the response.
async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "done"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Turns a panic in a handler into a 500 with an error id (the details go to the log), so a
/// bug answers like any internal error and the server keeps serving.
async fn catch_panic(req: Request, next: Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            let err = crm_graphql::ApiError::internal(format!("handler panicked: {what}"));
            json_error(StatusCode::INTERNAL_SERVER_ERROR, err.code, &err.message)
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.core.db().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!("readiness check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The router with `extra` routes behind the same layers (tests add routes that misbehave).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let settings = state.settings.clone();
    let api = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/export/clients/{id}/{file}", get(export::client_file))
        .route("/export/portfolio.xlsx", get(export::portfolio))
        .route("/clients/{id}/brief/{file}", get(export::brief_pdf))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            security::same_origin,
        ));

    let mut app = Router::new()
        .merge(api)
        .merge(extra)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render));
    let graphiql = settings.graphiql;
    app = match &settings.web_dir {
        Some(dir) => {
            if graphiql {
                app = app.route_service("/graphiql", ServeFile::new(dir.join(web::GRAPHIQL_PAGE)));
            }
            app.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        }
        None => {
            if graphiql {
                app = app.route(
                    "/graphiql",
                    get(|method: Method, headers: HeaderMap| async move {
                        web::serve(&method, web::GRAPHIQL_PAGE, &headers, true)
                    }),
                );
            }
            app.fallback(
                move |method: Method, uri: Uri, headers: HeaderMap| async move {
                    web::serve(&method, uri.path(), &headers, graphiql)
                },
            )
        }
    };
    app.layer(middleware::from_fn(catch_panic))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CookieManagerLayer::new())
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}
