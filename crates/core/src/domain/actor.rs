//! The signed-in user behind a request.

use super::Role;
use crate::error::{CoreError, CoreResult};

/// The signed-in user behind a request, as resolved from a valid session.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub session_id: i64,
    /// Signed in with a temporary password an administrator set: until the user chooses a new
    /// one, they may only read who they are, change the password or sign out.
    pub password_change_required: bool,
}

impl Actor {
    /// Fails with `Forbidden` unless the actor's role includes `needed`.
    pub fn require(&self, needed: Role) -> CoreResult<()> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "this action needs the {needed} role; you are signed in as {}",
                self.role
            )))
        }
    }
}
