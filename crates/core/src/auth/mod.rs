//! Who is asking: users, roles, password login with throttling, and server-side sessions.

mod password;
mod sessions;
mod throttle;
mod users;

pub use password::{check_new_password, check_phc_hash, hash_password, PasswordService};
pub use sessions::SessionSettings;
pub use throttle::ThrottlePolicy;
pub use users::{BootstrapPassword, User, UserChanges};

/// Who is asking; defined with the domain values so that the audit log can name it without
/// depending on authentication.
pub use crate::domain::Actor;

use chrono::{DateTime, Utc};

/// What a login attempt carries besides the credentials.
#[derive(Clone, Debug, Default)]
pub struct LoginContext {
    /// The client's address as the server saw it (never taken from a spoofable header unless the
    /// operator said a trusted proxy sets it).
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session the browser already had, if any: it is ended, so a login always gets a new id.
    pub previous_token: Option<String>,
}

/// A successful login: the opaque token for the cookie and when it expires at the latest.
#[derive(Clone, Debug)]
pub struct LoginOutcome {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}
