//! What stands between the network and the protocol handlers: configured latency, counting of
//! request ids, and the queue of injected faults (5xx, 429, delays, cut-off bodies, wrong JSON,
//! HTML proxy pages, token expiry, a rate limit with a long reset). Faults apply to every protocol call but the token calls
//! (those too when `faults_on_token_calls` is set).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::{detail, json_response, Shared};
use crate::state::Fault;

/// Latency for every call, and whether the call carried an `x-fapi-interaction-id`.
pub(crate) async fn observe(State(bank): State<Shared>, req: Request, next: Next) -> Response {
    let latency = {
        let mut rt = bank.rt();
        rt.calls += 1;
        if !req.headers().contains_key("x-fapi-interaction-id") {
            rt.calls_without_request_id += 1;
        }
        rt.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let interaction = req.headers().get("x-fapi-interaction-id").cloned();
    let mut res = next.run(req).await;
    if let Some(id) = interaction {
        res.headers_mut().insert("x-fapi-interaction-id", id);
    }
    res
}

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

const PROXY_PAGE: &str = "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Проверка безопасности</title></head><body><h1>Проверяем ваш браузер…</h1><p>Это займёт несколько секунд.</p></body></html>";

fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

fn status_page(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if matches!(status, 502 | 504) {
        return html(
            code,
            NGINX_502.replace(
                "502 Bad Gateway",
                &format!("{status} {}", code.canonical_reason().unwrap_or("Error")),
            ),
        );
    }
    detail(code, code.canonical_reason().unwrap_or("Error"))
}

/// Wrong-shaped JSON, in turns.
fn wrong_shape(n: u64) -> Response {
    let bodies = [
        r#"{"data": "временно недоступно", "status": "maintenance"}"#,
        r#"{"result": {"items": []}, "ok": true}"#,
        r#"[{"data": null}]"#,
        r#"{"data": {"account": "n/a", "transaction": "n/a", "balance": "n/a", "product": "n/a", "status": 7}}"#,
    ];
    json_response(
        StatusCode::OK,
        bodies[(n as usize) % bodies.len()].as_bytes().to_vec(),
    )
}

/// A 200 JSON body of `bytes` bytes (a string of padding), streamed in 64 KiB chunks with no
/// `Content-Length`, so a client learns its size only by reading.
fn oversize(bytes: u64) -> Response {
    const CHUNK: u64 = 64 * 1024;
    let (head, tail) = (r#"{"data":{"padding":""#, r#""}}"#);
    let pad = bytes.saturating_sub((head.len() + tail.len()) as u64);
    let full = pad / CHUNK;
    let chunks = std::iter::once(head.to_owned())
        .chain((0..full).map(|_| "x".repeat(CHUNK as usize)))
        .chain(std::iter::once("x".repeat((pad % CHUNK) as usize)))
        .chain(std::iter::once(tail.to_owned()))
        .map(Ok::<_, std::convert::Infallible>);
    let mut res = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Applies the next queued fault, if any, to this call.
pub(crate) async fn inject(State(bank): State<Shared>, req: Request, next: Next) -> Response {
    let token_call = matches!(req.uri().path(), "/auth/bank-token" | "/oauth2/token");
    if token_call && !bank.rt().faults_on_token_calls {
        return next.run(req).await;
    }
    let (fault, turn) = {
        let mut rt = bank.rt();
        let fault = rt.faults.pop_front().flatten();
        if matches!(fault, Some(Fault::WrongShape)) {
            rt.wrong_shapes += 1;
        }
        (fault, rt.wrong_shapes)
    };
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    tracing::debug!(bank = bank.code(), ?fault, "injecting a fault");
    match fault {
        Fault::Status { status } => status_page(status),
        Fault::RateLimit { seconds } => {
            let mut res = detail(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Fault::RateLimitReset { seconds } => {
            let mut res = detail(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            let headers = res.headers_mut();
            headers.insert(
                "x-ratelimit-requests-remaining",
                HeaderValue::from_static("0"),
            );
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                headers.insert("x-ratelimit-requests-reset", v);
            }
            res
        }
        Fault::Oversize { bytes } => oversize(bytes),
        Fault::Delay { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Fault::Truncate => {
            let res = next.run(req).await;
            let (parts, body) = res.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut res = Response::from_parts(parts, Body::from(cut));
            res.headers_mut().remove(header::CONTENT_LENGTH);
            res
        }
        Fault::WrongShape => wrong_shape(turn.saturating_sub(1)),
        Fault::Html => html(StatusCode::OK, PROXY_PAGE.to_owned()),
        Fault::ExpireTokens => {
            bank.rt().epoch += 1;
            next.run(req).await
        }
    }
}
