//! What the transport puts into each GraphQL request, and how resolvers read the caller.

use std::sync::Arc;

use async_graphql::Context;
use chrono::{DateTime, Utc};
use crm_core::auth::Actor;

use crate::error::{ApiError, ApiResult};

/// Lets the login and logout mutations set and clear the session cookie without the schema
/// knowing how cookies are written (the server crate implements it).
pub trait SessionCookies: Send + Sync {
    fn set_session(&self, token: &str, expires_at: DateTime<Utc>);
    fn clear_session(&self);
}

/// Per-request facts supplied by the transport.
#[derive(Clone, Default)]
pub struct RequestContext {
    /// The signed-in user, when the request carried a valid session.
    pub actor: Option<Actor>,
    /// The raw session token from the cookie (for logout and login's "new id" rule).
    pub session_token: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub cookies: Option<Arc<dyn SessionCookies>>,
}

/// The caller, or `UNAUTHENTICATED`; `PASSWORD_CHANGE_REQUIRED` while the caller signed in
/// with a temporary password (see [`signed_in`]).
pub fn actor<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Actor> {
    let who = signed_in(ctx)?;
    if who.password_change_required {
        return Err(ApiError::new(
            crate::error::code::PASSWORD_CHANGE_REQUIRED,
            "choose a new password first (changePassword): you signed in with a temporary one",
        ));
    }
    Ok(who)
}

/// The caller even with a temporary password: only for `me` and `changePassword`.
pub fn signed_in<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Actor> {
    ctx.data_opt::<RequestContext>()
        .and_then(|r| r.actor.as_ref())
        .ok_or_else(ApiError::unauthenticated)
}

pub fn request(ctx: &Context<'_>) -> RequestContext {
    ctx.data_opt::<RequestContext>()
        .cloned()
        .unwrap_or_default()
}

pub fn core<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Arc<crm_core::Core>> {
    ctx.data::<Arc<crm_core::Core>>()
        .map_err(|_| ApiError::internal("core services missing from the schema data"))
}
