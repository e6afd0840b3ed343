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

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::AuditLog;
use crate::db::Database;
use crate::error::CoreResult;
use crate::events::EventBus;

/// What authentication is configured with.
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    pub sessions: SessionSettings,
    pub throttle: ThrottlePolicy,
    /// Mixed into session-token hashes, so a leaked database alone does not give valid cookies.
    pub secret_key: Vec<u8>,
    /// Password hashes computed at once (each takes 19 MiB and a core for ~50 ms).
    pub max_concurrent_hashes: usize,
}

/// Users, password logins (throttled), and server-side sessions. Built where the application
/// is assembled ([`crate::Core::new`]) from the parts it uses.
pub struct Auth {
    db: Database,
    settings: AuthSettings,
    passwords: PasswordService,
    /// Where ended sessions are announced (open websockets re-check theirs, on every replica).
    events: Arc<EventBus>,
    audit: Arc<AuditLog>,
    /// Sessions this process checked recently (see [`sessions::SessionMemo`]).
    memo: sessions::SessionMemo,
}

impl Auth {
    pub fn new(
        db: Database,
        settings: AuthSettings,
        events: Arc<EventBus>,
        audit: Arc<AuditLog>,
    ) -> CoreResult<Self> {
        Ok(Auth {
            passwords: PasswordService::new(settings.max_concurrent_hashes)?,
            db,
            settings,
            events,
            audit,
            memo: sessions::SessionMemo::default(),
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }
}

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
