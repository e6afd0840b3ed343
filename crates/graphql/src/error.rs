//! The one mapping from core errors to GraphQL errors with `extensions.code`.
//! Internal errors are logged with an id and shown only as that id.

use async_graphql::ErrorExtensions;
use crm_core::CoreError;

/// Error codes clients can rely on (design.md).
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const BANK_UNAVAILABLE: &str = "BANK_UNAVAILABLE";
    pub const CONSENT_REQUIRED: &str = "CONSENT_REQUIRED";
    pub const AI_UNAVAILABLE: &str = "AI_UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
    /// Signed in with a temporary password: only `me`, `changePassword` and `logout` work.
    pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
}

/// An error ready for a GraphQL response.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(
            code::UNAUTHENTICATED,
            "sign in first: this needs a valid session",
        )
    }

    /// `RATE_LIMITED` with the seconds after which a retry may pass (`extensions.retryAfter`).
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError {
            code: code::RATE_LIMITED,
            message: message.into(),
            retry_after_secs: Some(retry_after_secs),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::new(code::BAD_USER_INPUT, message)
    }

    /// Logs the details with a fresh id and returns an error that shows only the id.
    pub fn internal(details: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let id = &id[..12];
        tracing::error!(error_id = id, "internal error: {details}");
        ApiError::new(
            code::INTERNAL,
            format!("internal error (id {id}); the details are in the server log"),
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Unauthenticated(m) => ApiError::new(code::UNAUTHENTICATED, m),
            CoreError::Forbidden(m) => ApiError::new(code::FORBIDDEN, m),
            e @ CoreError::NotFound { .. } => ApiError::new(code::NOT_FOUND, e.to_string()),
            CoreError::InvalidInput(m) => ApiError::new(code::BAD_USER_INPUT, m),
            CoreError::BankUnavailable { message, .. } => {
                ApiError::new(code::BANK_UNAVAILABLE, message)
            }
            CoreError::ConsentRequired(m) => ApiError::new(code::CONSENT_REQUIRED, m),
            CoreError::RateLimited { retry_after_secs } => ApiError {
                code: code::RATE_LIMITED,
                message: format!(
                    "too many failed attempts; try again in {} min",
                    retry_after_secs.div_ceil(60)
                ),
                retry_after_secs: Some(retry_after_secs),
            },
            CoreError::QuotaExceeded {
                message,
                retry_after_secs,
            } => ApiError {
                code: code::RATE_LIMITED,
                message,
                retry_after_secs: Some(retry_after_secs),
            },
            CoreError::AiUnavailable(m) => ApiError::new(code::AI_UNAVAILABLE, m),
            e @ (CoreError::Db(_) | CoreError::Internal(_)) => ApiError::internal(e),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", e.code);
            if let Some(secs) = e.retry_after_secs {
                ext.set("retryAfter", secs);
            }
        })
    }
}

/// Shorthand for resolvers: `core.call().await.api()?`.
pub trait ApiResultExt<T> {
    fn api(self) -> async_graphql::Result<T>;
}

impl<T> ApiResultExt<T> for Result<T, CoreError> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(|e| ApiError::from(e).into())
    }
}

impl<T> ApiResultExt<T> for Result<T, ApiError> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(Into::into)
    }
}
