//! Argon2id password hashing with OWASP parameters, run off the async threads and capped in
//! concurrency so a login flood cannot exhaust memory (each hash takes 19 MiB).

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{CoreError, CoreResult};

/// OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// Shortest password we accept when one is set.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password we hash (longer input is refused before any work is done).
pub const MAX_PASSWORD_CHARS: usize = 128;

fn argon2() -> CoreResult<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| CoreError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password against the policy, with a message a person can act on.
pub fn check_new_password(password: &str) -> CoreResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(CoreError::invalid(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters long"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(CoreError::invalid(format!(
            "the password must be at most {MAX_PASSWORD_CHARS} characters long"
        )));
    }
    Ok(())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). Blocking.
pub fn hash_password(password: &str) -> CoreResult<String> {
    check_new_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("argon2 hash: {e}")))
}

/// Whether `hash` is a PHC string we can verify against, with parameters at least as strong as
/// ours. Used to validate `AUTH_PASSWORD_HASH` at start.
pub fn check_phc_hash(hash: &str) -> CoreResult<()> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| CoreError::invalid(format!("not an argon2 PHC string: {e}")))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(CoreError::invalid(
            "the hash must be argon2id (use `ai-crm hash-password`)",
        ));
    }
    let m = parsed.params.get_decimal("m").unwrap_or(0);
    let t = parsed.params.get_decimal("t").unwrap_or(0);
    if m < MEMORY_KIB || t < ITERATIONS {
        return Err(CoreError::invalid(format!(
            "the hash is weaker than m={MEMORY_KIB},t={ITERATIONS} (use `ai-crm hash-password`)"
        )));
    }
    Ok(())
}

/// Verifies without allocating a hasher per call. Blocking.
fn verify_blocking(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(argon) = argon2() else {
        return false;
    };
    argon.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// The async front: bounded concurrency, blocking work on the blocking pool.
#[derive(Clone)]
pub struct PasswordService {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified when the user does not exist so that an unknown
    /// user and a wrong password take the same time.
    dummy_hash: Arc<str>,
}

impl PasswordService {
    pub fn new(max_concurrent: usize) -> CoreResult<Self> {
        let random: String = uuid::Uuid::new_v4().simple().to_string();
        let dummy_hash = hash_password(&random)?;
        Ok(PasswordService {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Verifies `password` against `hash`, or against the dummy hash when `hash` is `None`
    /// (and then always answers false).
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> CoreResult<bool> {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Ok(false);
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("password hasher closed".into()))?;
        let known = hash.is_some();
        let hash = hash
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&hash, &password))
            .await
            .map_err(|e| CoreError::Internal(format!("password task: {e}")))?;
        Ok(known && ok)
    }

    pub async fn hash(&self, password: &str) -> CoreResult<String> {
        check_new_password(password)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("password hasher closed".into()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| CoreError::Internal(format!("password task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_owasp_parameters_and_verifies() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(check_phc_hash(&hash).is_ok());
        assert!(verify_blocking(&hash, "correct horse battery"));
        assert!(!verify_blocking(&hash, "correct horse batterY"));
    }

    #[test]
    fn policy_refuses_short_and_huge_passwords() {
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(check_phc_hash("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA").is_err());
        assert!(check_phc_hash("plain").is_err());
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let svc = PasswordService::new(1).expect("service");
        assert!(!svc.verify(None, "anything at all").await.expect("verify"));
    }
}
