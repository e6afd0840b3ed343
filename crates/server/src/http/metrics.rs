//! Prometheus metrics: requests by route and status, a latency histogram, GraphQL errors by
//! code, and database statements. Hand-rolled: a few atomics and one small map.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) -> count
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Cumulative histogram buckets over all requests, plus +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
    latency_count: AtomicU64,
    graphql_errors: Mutex<BTreeMap<String, u64>>,
    /// Session checks of open websockets (each a database read).
    ws_session_checks: AtomicU64,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.buckets[BUCKETS.len()].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn graphql_error(&self, code: &str) {
        if let Ok(mut map) = self.graphql_errors.lock() {
            *map.entry(code.to_owned()).or_default() += 1;
        }
    }

    pub fn ws_session_check(&self) {
        self.ws_session_checks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, db_statements: u64) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        if let Ok(map) = self.requests.lock() {
            for ((method, route, status), n) in map.iter() {
                let _ = writeln!(out, "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        out.push_str("# HELP http_request_duration_seconds Time to produce the response.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            self.buckets[BUCKETS.len()].load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "http_request_duration_seconds_count {count}");
        out.push_str("# HELP graphql_errors_total GraphQL errors by extensions.code.\n");
        out.push_str("# TYPE graphql_errors_total counter\n");
        if let Ok(map) = self.graphql_errors.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(out, "graphql_errors_total{{code=\"{code}\"}} {n}");
            }
        }
        out.push_str(
            "# HELP db_statements_total SQL statements run.\n# TYPE db_statements_total counter\n",
        );
        let _ = writeln!(out, "db_statements_total {db_statements}");
        out.push_str("# HELP ws_session_checks_total Session checks of open websockets.\n# TYPE ws_session_checks_total counter\n");
        let _ = writeln!(
            out,
            "ws_session_checks_total {}",
            self.ws_session_checks.load(Ordering::Relaxed)
        );
        out
    }
}

/// Records every request. Routes are the matched patterns, never raw paths (bounded labels).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "static".to_owned());
    let res = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}

/// Compares without an early exit, so the time taken says nothing about the token.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/metrics`: open in development, behind `METRICS_TOKEN` (a bearer token) when it is set,
/// off in production without one.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.settings.metrics {
        super::MetricsAccess::Open => {}
        super::MetricsAccess::Off => {
            return super::json_error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "metrics are off in production until METRICS_TOKEN is set",
            )
        }
        super::MetricsAccess::Token(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !same_secret(given.trim().as_bytes(), token.as_bytes()) {
                let mut res = super::json_error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "send the metrics token: Authorization: Bearer <METRICS_TOKEN>",
                );
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"metrics\""),
                );
                return res;
            }
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.core.db().statement_count()),
    )
        .into_response()
}
