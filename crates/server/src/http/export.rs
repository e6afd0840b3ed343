//! `GET /export/clients/{id}/transactions.csv|.xlsx` and `GET /export/portfolio.xlsx`: file
//! downloads behind the same cookie session as `/graphql` (401 JSON without one) and the same
//! cross-site checks. Each export is recorded in the audit log when it starts.
//!
//! `GET /clients/{id}/brief/{briefId}.pdf`: a stored meeting brief as a PDF (`brief_pdf`),
//! behind the same session, access and audit as the exports.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_core::auth::Actor;
use crm_core::export::{ExportContext, ExportCursor, ExportRecord, EXPORT_PAGE};
use crm_core::Core;
use futures_util::stream;
use serde::Deserialize;
use tower_cookies::Cookies;

use super::session::session_token;
use super::{json_error, AppState};
use crate::export::{csv_header, csv_rows, portfolio_xlsx, TransactionsXlsx, XLSX_MAX_ROWS};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A core error as the JSON error body GraphQL would give.
fn core_error(e: crm_core::CoreError) -> Response {
    let err = crm_graphql::ApiError::from(e);
    let status = match err.code {
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_error(status, err.code, &err.message)
}

/// An internal failure of `what` as the masked JSON error GraphQL would give.
fn internal_error(what: &str, e: &dyn std::fmt::Display) -> Response {
    let err = crm_graphql::ApiError::internal(format!("{what}: {e}"));
    json_error(StatusCode::INTERNAL_SERVER_ERROR, err.code, &err.message)
}

/// The signed-in user, or a 401 JSON error.
async fn signed_in(state: &AppState, cookies: &Cookies) -> Result<Actor, Box<Response>> {
    let unauthenticated = || {
        Box::new(json_error(
            StatusCode::UNAUTHORIZED,
            crm_graphql::code::UNAUTHENTICATED,
            "sign in first: exports need a valid session",
        ))
    };
    let Some(token) = session_token(cookies, state.settings.secure_cookies) else {
        return Err(unauthenticated());
    };
    match state.core.auth().authenticate(&token).await {
        Ok(Some(actor)) if actor.password_change_required => Err(Box::new(json_error(
            StatusCode::FORBIDDEN,
            crm_graphql::code::PASSWORD_CHANGE_REQUIRED,
            "choose a new password first: you signed in with a temporary one",
        ))),
        Ok(Some(actor)) => Ok(actor),
        Ok(None) => Err(unauthenticated()),
        Err(e) => Err(Box::new(core_error(e))),
    }
}

#[derive(Deserialize)]
pub struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

/// An export's time range: `from` inclusive, `to` exclusive.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `from` (inclusive) and `to` (exclusive) as RFC 3339 times, or dates: a date `from` is that
/// day's start, a date `to` includes that whole day (UTC). The error is the message to show.
fn parse_range(p: &RangeParams) -> Result<Range, String> {
    let parse = |name: &str, value: &str, end: bool| -> Result<DateTime<Utc>, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(value) {
            return Ok(t.with_timezone(&Utc));
        }
        if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            let d = if end { d + Duration::days(1) } else { d };
            if let Some(t) = d.and_hms_opt(0, 0, 0) {
                return Ok(t.and_utc());
            }
        }
        Err(format!(
            "`{name}` must be a date (2025-10-31) or an RFC 3339 time"
        ))
    };
    let from = p
        .from
        .as_deref()
        .map(|v| parse("from", v, false))
        .transpose()?;
    let to = p.to.as_deref().map(|v| parse("to", v, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err("`from` must be before `to`".to_owned());
        }
    }
    Ok((from, to))
}

fn attachment(content_type: &'static str, filename: &str, body: Body) -> Response {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The name is built from digits and ASCII letters only, so it needs no escaping.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `transactions.csv` or `transactions.xlsx` of client `id`.
pub async fn client_file(
    State(state): State<AppState>,
    cookies: Cookies,
    Path((id, file)): Path<(String, String)>,
    Query(params): Query<RangeParams>,
) -> Response {
    let actor = match signed_in(&state, &cookies).await {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let format = match file.as_str() {
        "transactions.csv" => "csv",
        "transactions.xlsx" => "xlsx",
        _ => {
            return json_error(
                StatusCode::NOT_FOUND,
                crm_graphql::code::NOT_FOUND,
                "exports of a client: transactions.csv or transactions.xlsx",
            )
        }
    };
    let Some(client_id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return json_error(
            StatusCode::NOT_FOUND,
            crm_graphql::code::NOT_FOUND,
            &format!("client {id:?} not found"),
        );
    };
    let (from, to) = match parse_range(&params) {
        Ok(r) => r,
        Err(message) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                crm_graphql::code::BAD_USER_INPUT,
                &message,
            )
        }
    };
    let core = state.core.clone();
    let ctx = match core.export_context(&actor, client_id).await {
        Ok(c) => c,
        Err(e) => return core_error(e),
    };
    if let Err(e) = core
        .record_export(
            &actor,
            ExportRecord {
                what: "client.transactions",
                format,
                client_id: Some(client_id),
                from,
                to,
                rows: None,
            },
        )
        .await
    {
        return core_error(e);
    }
    let filename = format!(
        "client-{client_id}-transactions-{}.{format}",
        Utc::now().format("%Y%m%d")
    );
    if format == "csv" {
        let body = csv_stream(core, ctx, client_id, from, to);
        return attachment("text/csv; charset=utf-8", &filename, body);
    }
    match xlsx_file(&core, &ctx, client_id, from, to).await {
        Ok(bytes) => attachment(XLSX, &filename, Body::from(bytes)),
        Err(res) => *res,
    }
}

/// The CSV body: the header, then one chunk per page of rows read from core. A failure half
/// way ends the body with an error, so the client sees a broken download, not a short file.
fn csv_stream(
    core: Arc<Core>,
    ctx: ExportContext,
    client_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Body {
    struct St {
        core: Arc<Core>,
        ctx: ExportContext,
        after: Option<ExportCursor>,
        started: bool,
        done: bool,
    }
    let state = St {
        core,
        ctx,
        after: None,
        started: false,
        done: false,
    };
    let s = stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        if !st.started {
            st.started = true;
            let chunk = csv_header();
            return Some((chunk, st));
        }
        let page = st
            .core
            .export_transactions_page(&st.ctx, client_id, from, to, st.after, EXPORT_PAGE)
            .await;
        match page {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                if (rows.len() as u64) < EXPORT_PAGE {
                    st.done = true;
                }
                st.after = rows.last().map(|r| ExportCursor {
                    booked_at: r.booked_at,
                    id: r.id,
                });
                let chunk = csv_rows(&rows);
                Some((chunk, st))
            }
            Err(e) => {
                tracing::error!(client = client_id, "CSV export failed: {e}");
                st.done = true;
                Some((Err(std::io::Error::other("export failed")), st))
            }
        }
    });
    Body::from_stream(s)
}

async fn xlsx_file(
    core: &Core,
    ctx: &ExportContext,
    client_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<u8>, Box<Response>> {
    let internal = |e: &dyn std::fmt::Display| {
        let err = crm_graphql::ApiError::internal(format!("xlsx export: {e}"));
        Box::new(json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            err.code,
            &err.message,
        ))
    };
    let mut book = TransactionsXlsx::new(&format!("Операции клиента {client_id}"))
        .map_err(|e| internal(&e))?;
    let mut after = None;
    loop {
        let rows = core
            .export_transactions_page(ctx, client_id, from, to, after, EXPORT_PAGE)
            .await
            .map_err(|e| Box::new(core_error(e)))?;
        if book.rows_written() + rows.len() as u64 > XLSX_MAX_ROWS {
            return Err(Box::new(json_error(
                StatusCode::BAD_REQUEST,
                crm_graphql::code::BAD_USER_INPUT,
                "more rows than one Excel sheet holds: narrow the range with from/to or use .csv",
            )));
        }
        book.write(&rows).map_err(|e| internal(&e))?;
        if (rows.len() as u64) < EXPORT_PAGE {
            break;
        }
        after = rows.last().map(|r| ExportCursor {
            booked_at: r.booked_at,
            id: r.id,
        });
    }
    tokio::task::spawn_blocking(move || book.finish())
        .await
        .map_err(|e| internal(&e))?
        .map_err(|e| internal(&e))
}

/// `{briefId}.pdf` of client `id`: the stored brief as a PDF. 404 for a brief that is not the
/// client's or a client outside the user's book.
pub async fn brief_pdf(
    State(state): State<AppState>,
    cookies: Cookies,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let actor = match signed_in(&state, &cookies).await {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let not_found = |what: &str| {
        json_error(
            StatusCode::NOT_FOUND,
            crm_graphql::code::NOT_FOUND,
            &format!("{what} not found"),
        )
    };
    let Some(client_id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return not_found("client");
    };
    let Some(brief_id) = file
        .strip_suffix(".pdf")
        .and_then(|b| b.parse::<i64>().ok())
        .filter(|n| *n > 0)
    else {
        return not_found("brief (ask for {briefId}.pdf)");
    };
    let brief = match state.core.brief(&actor, brief_id).await {
        Ok(b) if b.client_id == client_id => b,
        Ok(_) => return not_found("brief"),
        Err(e) => return core_error(e),
    };
    let client = match state
        .core
        .client_for(&actor, client_id, crm_core::access::Need::Read)
        .await
    {
        Ok(c) => c,
        Err(e) => return core_error(e),
    };
    let record = ExportRecord {
        what: "client.brief",
        format: "pdf",
        client_id: Some(client_id),
        from: Some(brief.since),
        to: Some(brief.created_at),
        rows: None,
    };
    if let Err(e) = state.core.record_export(&actor, record).await {
        return core_error(e);
    }
    let lang = brief.lang;
    let subtitle = format!(
        "{} {}",
        lang.pick("Подготовлен", "Prepared on"),
        crm_core::domain::format::format_date_of(brief.created_at, lang)
    );
    let (title, text) = (client.display_name.clone(), brief.text.clone());
    let code = lang.pick("ru", "en");
    let started = std::time::Instant::now();
    let made = tokio::task::spawn_blocking(move || {
        crate::brief_pdf::render(&title, &subtitle, &text, code)
    })
    .await;
    match made {
        Ok(Ok(bytes)) => {
            tracing::info!(
                brief = brief_id,
                bytes = bytes.len(),
                millis = started.elapsed().as_millis() as u64,
                "brief PDF made"
            );
            let filename = format!(
                "brief-{client_id}-{brief_id}-{}.pdf",
                brief.created_at.format("%Y%m%d")
            );
            attachment("application/pdf", &filename, Body::from(bytes))
        }
        Ok(Err(e)) => internal_error("brief pdf", &e),
        Err(e) => internal_error("brief pdf", &e),
    }
}

/// `portfolio.xlsx`: clients with grade, score, balances, banks and totals; totals per category
/// and per bank.
pub async fn portfolio(State(state): State<AppState>, cookies: Cookies) -> Response {
    let actor = match signed_in(&state, &cookies).await {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let report = match state.core.portfolio_report(&actor).await {
        Ok(r) => r,
        Err(e) => return core_error(e),
    };
    if let Err(e) = state
        .core
        .record_export(
            &actor,
            ExportRecord {
                what: "portfolio",
                format: "xlsx",
                client_id: None,
                from: None,
                to: None,
                rows: Some(report.clients.len() as u64),
            },
        )
        .await
    {
        return core_error(e);
    }
    let bytes = match tokio::task::spawn_blocking(move || portfolio_xlsx(&report)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return internal_error("portfolio xlsx", &e),
        Err(e) => return internal_error("portfolio xlsx", &e),
    };
    let filename = format!("portfolio-{}.xlsx", Utc::now().format("%Y%m%d"));
    attachment(XLSX, &filename, Body::from(bytes))
}
