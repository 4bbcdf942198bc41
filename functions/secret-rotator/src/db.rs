//! What the rotation steps need from a database, whatever the engine: can these credentials
//! log in, and change a password (single user) or maintain the alternate user (alternating
//! users). Engine modules implement the statements; this module holds the shared vocabulary
//! and the bounded retry of testSecret.

use std::time::Duration;

use crate::credentials::Credentials;
use crate::rotation::Engine;
use ecs_secrets_shared::secret::SecretString;

/// Why a database operation failed. Messages come from the driver or server and never contain
/// a password (servers do not echo them; statements carrying verifiers are not included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("statement failed: {0}")]
    Query(String),
}

/// Longest username the engine accepts.
pub fn max_username(engine: Engine) -> usize {
    match engine {
        Engine::Postgres => crate::postgres::MAX_USERNAME,
        Engine::MySql | Engine::Generic => crate::mysql::MAX_USERNAME,
    }
}

fn no_database() -> DbError {
    DbError::Query("the generic engine has no database".into())
}

/// Can `c` log in (and run `SELECT 1`)? `Ok(false)` when the server rejects the credentials;
/// `Err` when the server cannot be reached or fails otherwise.
pub async fn can_login(engine: Engine, c: &Credentials) -> Result<bool, DbError> {
    let result = match engine {
        Engine::Postgres => crate::postgres::check_login(c).await,
        Engine::MySql => crate::mysql::check_login(c).await,
        Engine::Generic => return Err(no_database()),
    };
    match result {
        Ok(()) => Ok(true),
        Err(DbError::Auth(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Logs in as `login` and sets the password of `role` (the login's own user) to `password`.
pub async fn set_password(
    engine: Engine,
    login: &Credentials,
    role: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    match engine {
        Engine::Postgres => {
            let client = crate::postgres::connect(login, None).await?;
            crate::postgres::set_password(&client, role, password).await
        }
        Engine::MySql => crate::mysql::set_own_password(login, password).await,
        Engine::Generic => Err(no_database()),
    }
}

/// Logs in as the administrator and makes `user` exist with `password`: created as a copy of
/// `base`'s privileges on first use, afterwards only its password changes.
pub async fn ensure_alternate(
    engine: Engine,
    admin: &Credentials,
    dbname: Option<&str>,
    base: &str,
    user: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    match engine {
        Engine::Postgres => {
            let client = crate::postgres::connect(admin, dbname).await?;
            if crate::postgres::role_exists(&client, user).await? {
                crate::postgres::set_password(&client, user, password).await
            } else {
                crate::postgres::create_clone(&client, base, user, password).await
            }
        }
        Engine::MySql => crate::mysql::ensure_alternate(admin, base, user, password).await,
        Engine::Generic => Err(no_database()),
    }
}

/// testSecret's check: log in with the pending credentials, retrying briefly (a new password
/// can take a moment to reach every node of a cluster) instead of sleeping a fixed time.
pub async fn check_with_retry(
    engine: Engine,
    c: &Credentials,
    attempts: u32,
) -> Result<(), DbError> {
    let mut delay = Duration::from_millis(200);
    let mut last = DbError::Query("no attempt made".into());
    for attempt in 1..=attempts.max(1) {
        match can_login(engine, c).await {
            Ok(true) => return Ok(()),
            Ok(false) => last = DbError::Auth("the pending credentials were rejected".into()),
            Err(e) => last = e,
        }
        if attempt < attempts {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
    Err(last)
}
