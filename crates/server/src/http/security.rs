//! Cross-site protections and security headers for every response.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{json_error, AppState};

/// Strict for the app: no inline script or style, nothing from other origins, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// GraphiQL's editor sets inline styles; scripts stay strict.
pub const CSP_GRAPHIQL: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// Browsers reach us only over https for a year once they saw this (sent when `PUBLIC_URL` is
/// https; a browser ignores it on a plain-http answer). Sub-domains are the operator's to
/// decide, so they are not included.
pub const HSTS: &str = "max-age=31536000";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let graphiql = req.uri().path().starts_with("/graphiql");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // API answers (client data, sessions, health) are never stored by a browser or a proxy;
    // the web app's files say how they may be cached themselves.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state
        .settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    let csp = if graphiql { CSP_GRAPHIQL } else { CSP };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    res
}

/// The origins a browser may call us from: `PUBLIC_URL`, `ALLOWED_ORIGINS`, and the origin the
/// request itself names in `Host` (so a development server works on any port).
fn origin_allowed(state: &AppState, req: &Request<Body>, origin: &str) -> bool {
    if origin_listed(state, origin) {
        return true;
    }
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if state.settings.public_url.is_none() {
        if let Some(host) = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            let host = host.to_ascii_lowercase();
            return origin == format!("http://{host}") || origin == format!("https://{host}");
        }
    }
    false
}

/// Whether `origin` is one the operator named (`PUBLIC_URL`, `ALLOWED_ORIGINS`).
fn origin_listed(state: &AppState, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    state.settings.public_url.as_deref() == Some(origin.as_str())
        || state.settings.allowed_origins.contains(&origin)
}

/// Refuses browser requests from other sites (CSRF, cross-site websocket hijacking): a present
/// `Origin` must be ours, and a browser's `Sec-Fetch-Site` must say `same-origin` or `none`
/// (typed by the user) — `same-site` (a sibling subdomain, which `SameSite=Strict` cookies do
/// not stop) and `cross-site` pass only with an `Origin` the operator allow-listed.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin requests are not accepted",
        )
            .into_response();
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("\u{0}").to_owned());
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        let site = site.trim().to_ascii_lowercase();
        let ours = site == "same-origin" || site == "none";
        let listed = origin.as_deref().is_some_and(|o| origin_listed(&state, o));
        if !ours && !listed {
            tracing::warn!(site = %site, "refused a request from another site");
            return json_error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "cross-site requests are not accepted",
            );
        }
    }
    if let Some(origin) = &origin {
        if !origin_allowed(&state, &req, origin) {
            tracing::warn!("refused a request from a foreign origin");
            return json_error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "this origin may not call the API (set ALLOWED_ORIGINS to allow it)",
            );
        }
    }
    next.run(req).await
}
