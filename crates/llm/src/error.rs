//! What a call to the model provider can fail with, and whether trying again can help.

use std::time::Duration;

/// The stage of a call a timeout hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the TCP/TLS connection.
    Connect,
    /// Waiting for the response headers and the first bytes of the body.
    FirstByte,
    /// Waiting for the next chunk of a stream that had started.
    Idle,
    /// The whole call took longer than allowed.
    Total,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::FirstByte => "waiting for the first byte",
            TimeoutPhase::Idle => "waiting for the next chunk",
            TimeoutPhase::Total => "the whole answer",
        })
    }
}

/// Every way a chat completion can fail. Messages never contain the API key or the prompt.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The settings cannot work (bad URL, client construction failed).
    #[error("model provider settings: {0}")]
    Config(String),
    /// The provider could not be reached.
    #[error("cannot reach the model provider: {0}")]
    Connect(String),
    #[error("the model provider timed out ({phase}, after {after:?})")]
    Timeout {
        phase: TimeoutPhase,
        after: Duration,
    },
    /// HTTP 429.
    #[error("the model provider is rate limiting requests (HTTP 429){}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// HTTP 5xx (and 408): the provider's trouble.
    #[error("the model provider failed (HTTP {status}): {message}")]
    Upstream { status: u16, message: String },
    /// HTTP 401/403: the key is wrong or lacks access.
    #[error("the model provider refused the API key (HTTP {status}): check AI_API_KEY")]
    Unauthorized { status: u16 },
    /// Any other 4xx: the request itself is wrong (unknown model, too long a prompt, …).
    #[error("the model provider refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// An error event inside a stream that had started.
    #[error("the model provider reported an error: {0}")]
    Provider(String),
    /// An event that is not what the protocol promises.
    #[error("malformed answer from the model provider: {0}")]
    Malformed(String),
    /// The stream ended before the model said it had finished.
    #[error("the model provider's stream ended before the answer was complete")]
    Truncated,
    /// The connection broke while reading the stream.
    #[error("the model provider's stream broke: {0}")]
    Broken(String),
}

impl LlmError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::Connect(_)
                | LlmError::Timeout { .. }
                | LlmError::RateLimited { .. }
                | LlmError::Upstream { .. }
                | LlmError::Provider(_)
                | LlmError::Truncated
                | LlmError::Broken(_)
        )
    }

    /// How long the provider asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// A short stable name for logs, metrics and audit entries.
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Config(_) => "config",
            LlmError::Connect(_) => "connect",
            LlmError::Timeout { phase, .. } => match phase {
                TimeoutPhase::Connect => "timeout_connect",
                TimeoutPhase::FirstByte => "timeout_first_byte",
                TimeoutPhase::Idle => "timeout_idle",
                TimeoutPhase::Total => "timeout_total",
            },
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Upstream { .. } => "upstream",
            LlmError::Unauthorized { .. } => "unauthorized",
            LlmError::Rejected { .. } => "rejected",
            LlmError::Provider(_) => "provider",
            LlmError::Malformed(_) => "malformed",
            LlmError::Truncated => "truncated",
            LlmError::Broken(_) => "broken",
        }
    }
}

/// Maps an HTTP error status and the provider's message to an error.
pub(crate) fn from_status(status: u16, message: String, retry_after: Option<Duration>) -> LlmError {
    match status {
        429 => LlmError::RateLimited { retry_after },
        401 | 403 => LlmError::Unauthorized { status },
        408 | 500..=599 => LlmError::Upstream { status, message },
        _ => LlmError::Rejected { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_whether_to_retry() {
        assert!(from_status(429, String::new(), None).is_retryable());
        assert!(from_status(503, String::new(), None).is_retryable());
        assert!(from_status(408, String::new(), None).is_retryable());
        assert!(!from_status(401, String::new(), None).is_retryable());
        assert!(!from_status(400, String::new(), None).is_retryable());
        assert!(!from_status(404, String::new(), None).is_retryable());
        let limited = from_status(429, String::new(), Some(Duration::from_secs(7)));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        assert!(limited.to_string().contains("retry after 7 s"));
    }
}
