//! The one error type of `crm-core`. The GraphQL edge maps each variant to an `extensions.code`.

use sea_orm::DbErr;

/// Everything a core service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No session, or the session is not valid any more.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// The caller sent something we cannot accept; the message says what and how to fix it.
    #[error("{0}")]
    InvalidInput(String),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts, try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A quota of requests per time is used up (e.g. assistant questions per minute).
    #[error("{message}")]
    QuotaExceeded {
        message: String,
        retry_after_secs: u64,
    },
    /// The AI model could not answer (and no fallback was configured); the message says why.
    #[error("{0}")]
    AiUnavailable(String),
    /// A bank could not be reached or answered with an error; the message names the bank.
    /// `retry_after`: the bank said not to call before this long (a rate limit's reset).
    #[error("{message}")]
    BankUnavailable {
        kind: BankFailure,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// The bank needs a (new) consent from the client before it shares data.
    #[error("{0}")]
    ConsentRequired(String),
    /// The database failed. Details are logged, never shown.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// A bug or an environment fault. Details are logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crm_connector::ConnectorError> for CoreError {
    fn from(e: crm_connector::ConnectorError) -> Self {
        use crm_connector::ConnectorError as C;
        match e {
            C::ConsentRequired { bank, detail } => CoreError::ConsentRequired(format!(
                "{bank}: the client's consent is missing or no longer valid ({detail})"
            )),
            C::NotFound { bank, detail } => {
                CoreError::invalid(format!("{bank}: not found: {detail}"))
            }
            C::Unauthorized { bank, .. } => CoreError::bank(
                BankFailure::Credentials,
                format!("{bank} refused our credentials: check CLIENT_ID and CLIENT_SECRET"),
            ),
            other => {
                let kind = match &other {
                    C::Network { .. } => BankFailure::Network,
                    C::Unavailable { .. } => BankFailure::Down,
                    C::RateLimited { .. } => BankFailure::RateLimited,
                    C::Rejected { .. } => BankFailure::Refused,
                    _ => BankFailure::Malformed,
                };
                CoreError::BankUnavailable {
                    kind,
                    message: other.to_string(),
                    retry_after: other.retry_after(),
                }
            }
        }
    }
}

/// Which way a bank failed: a link's last error carries it as a code (`BankFailure::code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankFailure {
    /// Not reached: connection refused or reset, DNS, TLS, a timeout.
    Network,
    /// Answered 5xx or a proxy's error page.
    Down,
    /// Answered 429.
    RateLimited,
    /// Refused our team credentials.
    Credentials,
    /// An answer we could not understand (cut off, HTML, wrong shape).
    Malformed,
    /// Refused our request as malformed (400/422).
    Refused,
    /// Sent data that belongs to another client of ours.
    ForeignData,
}

impl BankFailure {
    pub fn code(self) -> &'static str {
        match self {
            BankFailure::Network => "NETWORK",
            BankFailure::Down => "BANK_DOWN",
            BankFailure::RateLimited => "RATE_LIMITED",
            BankFailure::Credentials => "CREDENTIALS",
            BankFailure::Malformed => "MALFORMED",
            BankFailure::Refused => "REQUEST_REFUSED",
            BankFailure::ForeignData => "FOREIGN_DATA",
        }
    }
}

impl CoreError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        CoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn bank(kind: BankFailure, message: impl Into<String>) -> Self {
        CoreError::BankUnavailable {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// How long the bank said not to be called again, when it said (a rate limit's reset).
    pub fn bank_retry_after(&self) -> Option<std::time::Duration> {
        match self {
            CoreError::BankUnavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        CoreError::InvalidInput(msg.into())
    }

    /// Whether the error is the caller's to fix (as opposed to ours).
    pub fn is_internal(&self) -> bool {
        matches!(self, CoreError::Db(_) | CoreError::Internal(_))
    }

    /// Whether the database aborted the transaction only because of a concurrent one (a
    /// deadlock, or a serialization failure): the transaction rolled back whole, and running it
    /// again is safe and will normally succeed.
    pub fn is_transient_conflict(&self) -> bool {
        use sea_orm::{sqlx, RuntimeErr};
        let e = match self {
            CoreError::Db(DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(e))))
            | CoreError::Db(DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(e)))) => e,
            _ => return false,
        };
        // PostgreSQL: 40P01 deadlock_detected, 40001 serialization_failure.
        matches!(e.code().as_deref(), Some("40P01") | Some("40001"))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
