use std::time::Duration;

/// What went wrong talking to a bank, and whether trying again can help.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// Connection refused, reset, DNS, TLS, or a timeout. Retryable.
    #[error("{bank}: network error: {detail}")]
    Network { bank: String, detail: String },
    /// The bank answered 5xx (or a proxy's error page). Retryable.
    #[error("{bank}: unavailable (HTTP {status})")]
    Unavailable { bank: String, status: u16 },
    /// The bank answered 429. Retryable after `retry_after` when the bank said.
    #[error("{bank}: rate limited")]
    RateLimited {
        bank: String,
        retry_after: Option<Duration>,
    },
    /// Our team credentials were refused. Not retryable: an operator must fix them.
    #[error("{bank}: credentials refused: {detail}")]
    Unauthorized { bank: String, detail: String },
    /// No valid consent for this client (missing, pending, rejected, revoked or expired).
    #[error("{bank}: consent required: {detail}")]
    ConsentRequired { bank: String, detail: String },
    /// The consent is valid but lacks a permission this call needs (e.g. `ReadCards` on a
    /// consent given before cards were asked for). Not retryable: ask the client for a new
    /// consent holding it; the rest of the link still works.
    #[error("{bank}: the consent lacks the {permission} permission")]
    PermissionMissing { bank: String, permission: String },
    /// The bank does not offer this kind of data (`what`: `cards`, `product agreements`).
    /// Not an error of the link: skip it quietly and say so.
    #[error("{bank}: does not provide {what}")]
    Unsupported { bank: String, what: String },
    /// The client or account is unknown to the bank.
    #[error("{bank}: not found: {detail}")]
    NotFound { bank: String, detail: String },
    /// The bank refused our request as malformed (400/422): a bug on our side.
    #[error("{bank}: request refused (HTTP {status}): {detail}")]
    Rejected {
        bank: String,
        status: u16,
        detail: String,
    },
    /// The bank's answer could not be understood (cut-off body, HTML, wrong shape). The bank's fault.
    #[error("{bank}: malformed response: {detail}")]
    Malformed { bank: String, detail: String },
}

pub type ConnectorResult<T> = Result<T, ConnectorError>;

impl ConnectorError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Network { .. }
                | ConnectorError::Unavailable { .. }
                | ConnectorError::RateLimited { .. }
        )
    }

    /// How long the bank asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the bank simply does not offer what was asked ([`ConnectorError::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, ConnectorError::Unsupported { .. })
    }

    pub fn bank(&self) -> &str {
        match self {
            ConnectorError::Network { bank, .. }
            | ConnectorError::Unavailable { bank, .. }
            | ConnectorError::RateLimited { bank, .. }
            | ConnectorError::Unauthorized { bank, .. }
            | ConnectorError::ConsentRequired { bank, .. }
            | ConnectorError::PermissionMissing { bank, .. }
            | ConnectorError::Unsupported { bank, .. }
            | ConnectorError::NotFound { bank, .. }
            | ConnectorError::Rejected { bank, .. }
            | ConnectorError::Malformed { bank, .. } => bank,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retryable() {
        let bank = || "abank".to_owned();
        assert!(ConnectorError::Network {
            bank: bank(),
            detail: "reset".into()
        }
        .is_retryable());
        assert!(ConnectorError::Unavailable {
            bank: bank(),
            status: 503
        }
        .is_retryable());
        let limited = ConnectorError::RateLimited {
            bank: bank(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert!(limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert!(!ConnectorError::Unauthorized {
            bank: bank(),
            detail: "x".into()
        }
        .is_retryable());
        assert!(!ConnectorError::ConsentRequired {
            bank: bank(),
            detail: "x".into()
        }
        .is_retryable());
        let unsupported = ConnectorError::Unsupported {
            bank: bank(),
            what: "cards".into(),
        };
        assert!(unsupported.is_unsupported() && !unsupported.is_retryable());
        assert!(!ConnectorError::PermissionMissing {
            bank: bank(),
            permission: "ReadCards".into()
        }
        .is_retryable());
        assert!(!ConnectorError::Malformed {
            bank: bank(),
            detail: "x".into()
        }
        .is_retryable());
        assert_eq!(
            ConnectorError::NotFound {
                bank: bank(),
                detail: "x".into()
            }
            .bank(),
            "abank"
        );
    }
}
