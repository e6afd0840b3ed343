//! `POST /graphql` (JSON only) and `GET /graphql` (queries only), executed with the caller's
//! session. The body is parsed here, not by a lenient extractor, so every refusal is explicit.

use std::net::SocketAddr;

use async_graphql::parser::types::OperationType;
use async_graphql::{Request as GqlRequest, Response as GqlResponse, Variables};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use crm_graphql::RequestContext;
use serde::Deserialize;
use tower_cookies::Cookies;

use super::cache::{CacheKey, Flight};
use super::session::{client_ip, cookie_jar, session_token};
use super::{json_error, AppState};

/// Builds the per-request context: the session (if valid), address, agent, cookie writer.
pub async fn request_context(
    state: &AppState,
    cookies: Cookies,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<RequestContext, Response> {
    let token = session_token(&cookies, state.settings.secure_cookies);
    let actor = match &token {
        Some(t) => state.core.auth().authenticate(t).await.map_err(|e| {
            let err = crm_graphql::ApiError::from(e);
            json_error(StatusCode::SERVICE_UNAVAILABLE, err.code, &err.message)
        })?,
        None => None,
    };
    Ok(RequestContext {
        actor,
        session_token: token,
        client_ip: client_ip(peer, headers, state.settings.trust_proxy),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        cookies: Some(cookie_jar(state, cookies)),
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cookies: Cookies,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL requests as POST with Content-Type: application/json",
        );
    }
    let value = match strict_json(&body) {
        Ok(v) => v,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not valid JSON: {e}"),
            )
        }
    };
    if value.is_array() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "batched requests are not supported: send one operation per request",
        );
    }
    if !value.get("query").is_some_and(serde_json::Value::is_string) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the body needs a `query` string: {\"query\": \"...\", \"variables\": {...}}",
        );
    }
    let request: GqlRequest = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("expected {{\"query\": \"...\", \"variables\": {{...}}, \"operationName\": \"...\"}}: {e}"),
            )
        }
    };
    execute(&state, request, Some(peer), cookies, &headers).await
}

/// Parses JSON, refusing an object that names a key twice (at any depth). Parsers disagree on
/// which of two `query` keys wins (serde_json takes the last, a proxy or a WAF may read the
/// first), so such a body is refused instead of guessed at.
fn strict_json(body: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = StrictJson.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct StrictJson;

impl<'de> serde::de::DeserializeSeed<'de> for StrictJson {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StrictJson {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictJson)? {
            out.push(v);
        }
        Ok(out.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            let value = map.next_value_seed(StrictJson)?;
            out.insert(key, value);
        }
        Ok(out.into())
    }
}

#[derive(Deserialize)]
pub struct GetParams {
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

/// Queries over GET (cacheable, bookmarkable). Mutations are refused with 405: a GET must never
/// change anything, or a link or an image tag could.
pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cookies: Cookies,
    headers: HeaderMap,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "GET /graphql needs a `query` parameter",
        );
    };
    let doc = match async_graphql::parser::parse_query(&params.query) {
        Ok(doc) => doc,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &e.to_string()),
    };
    if crm_graphql::operation_kind(&doc, params.operation_name.as_deref())
        != Some(OperationType::Query)
    {
        let mut res = json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "only queries may be sent with GET; send mutations with POST and Content-Type: application/json",
        );
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
        return res;
    }
    let mut request = GqlRequest::new(params.query);
    request.set_parsed_query(doc);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(Variables::from_json(v)),
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("`variables` is not JSON: {e}"),
                )
            }
        }
    }
    execute(&state, request, Some(peer), cookies, &headers).await
}

async fn execute(
    state: &AppState,
    request: GqlRequest,
    peer: Option<SocketAddr>,
    cookies: Cookies,
    headers: &HeaderMap,
) -> Response {
    let ctx = match request_context(state, cookies, peer, headers).await {
        Ok(ctx) => ctx,
        Err(res) => return res,
    };
    let clock = state.core.db().writes();
    // Signed in, cache on: a query answered since the last write is answered again.
    // (Only queries are ever kept, so a hit needs no parsing.)
    let mut cached = match (&ctx.actor, state.cache.enabled()) {
        (Some(actor), true) => Some((CacheKey::new(actor, &request), state.cache.mark(clock))),
        _ => None,
    };
    let user = ctx.actor.as_ref().map(|a| a.user_id);
    // Held while this request computes an answer others wait for (single flight).
    let mut leading = None;
    if let Some((key, mark)) = &mut cached {
        if let Some(body) = state.cache.get(key, clock) {
            return reused(state, user, body, clock).await;
        }
        if mark.keepable() {
            match state.cache.flight(key) {
                Flight::Lead(guard) => leading = Some(guard),
                Flight::Follow(leader) => {
                    Flight::wait(&leader).await;
                    if let Some(body) = state.cache.get(key, clock) {
                        return reused(state, user, body, clock).await;
                    }
                    // Not kept (an error, a write meanwhile) or the leader went away.
                    *mark = state.cache.mark(clock);
                }
            }
        }
    }
    let (response, kind) = state.api.execute(request, ctx).await;
    let cached = cached.filter(|_| kind == Some(OperationType::Query));
    let answer = respond(state, &response, cached, clock);
    // Kept by now (when it could be): the followers find it.
    drop(leading);
    answer
}

/// A reused answer, counted against the user's request rate like a computed one.
async fn reused(
    state: &AppState,
    user: Option<i64>,
    body: Bytes,
    clock: &crm_core::db::WriteClock,
) -> Response {
    match state.api.check_rate(user).await {
        Some(refused) => respond(state, &refused, None, clock),
        None => json_body(body),
    }
}

/// The JSON answer for `response`; kept for reuse under `cache` (a query's key and mark) when
/// it holds no error.
fn respond(
    state: &AppState,
    response: &GqlResponse,
    cache: Option<(CacheKey, super::cache::Mark)>,
    clock: &crm_core::db::WriteClock,
) -> Response {
    count_errors(state, response);
    match serde_json::to_vec(response) {
        Ok(body) => {
            let body = Bytes::from(body);
            if let Some((key, mark)) = cache {
                if response.errors.is_empty() {
                    state.cache.put(key, body.clone(), mark, clock);
                }
            }
            json_body(body)
        }
        Err(e) => {
            let err = crm_graphql::ApiError::internal(format!("serialising a response: {e}"));
            json_error(StatusCode::INTERNAL_SERVER_ERROR, err.code, &err.message)
        }
    }
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Counts the response's errors by code for /metrics (every error has a code by now).
fn count_errors(state: &AppState, response: &GqlResponse) {
    for err in &response.errors {
        if let Some(async_graphql::Value::String(code)) =
            err.extensions.as_ref().and_then(|e| e.get("code"))
        {
            state.metrics.graphql_error(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strict_json;

    #[test]
    fn a_key_named_twice_is_refused_at_any_depth() {
        let ok = strict_json(
            br#"{"query": "{ me { id } }", "variables": {"a": [1, 2.5, null, true, {"b": "c"}]}}"#,
        )
        .expect("a plain body");
        assert_eq!(ok["variables"]["a"][4]["b"], "c");
        assert_eq!(ok["variables"]["a"][1], 2.5);
        let top = strict_json(br#"{"query": "{ me { id } }", "query": "mutation { logout }"}"#)
            .expect_err("two queries");
        assert!(top.to_string().contains("\"query\" appears twice"), "{top}");
        assert!(strict_json(br#"{"query": "q", "variables": {"x": {"y": 1, "y": 2}}}"#).is_err());
        assert!(strict_json(br#"{"query": "q"} trailing"#).is_err());
    }
}
