//! What the rotation steps need from a database, whatever the engine: can these credentials
//! log in, and change a password (single user) or maintain the alternate user (alternating
//! users). Engine modules implement the statements; this module holds the shared vocabulary
//! and the bounded retry of testSecret.

use std::sync::OnceLock;
use std::time::Duration;

use ecs_secrets_shared::ConfigError;

use crate::credentials::Credentials;
use crate::tls::CaBundle;
use ecs_secrets_shared::secret::SecretString;

/// Database settings from the environment, validated at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// `DB_TIMEOUT_SECONDS` (1-60, default 5): bounds each login and each statement.
    pub timeout: Duration,
    /// `MYSQL_MAX_USERNAME_LENGTH` (16-80, default 32): the server's user name limit.
    pub mysql_max_username: usize,
    /// `DB_CA_BUNDLE`: a PEM file of CA certificates trusted in addition to the default roots
    /// (the RDS global bundle for Amazon RDS), read once at start-up.
    pub ca_bundle: Option<CaBundle>,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            mysql_max_username: 32,
            ca_bundle: None,
        }
    }
}

static SETTINGS: OnceLock<DbSettings> = OnceLock::new();

impl DbSettings {
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &str,
                      range: std::ops::RangeInclusive<u64>,
                      default: u64|
         -> Result<u64, ConfigError> {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|raw| ecs_secrets_shared::env::number(name, &raw, range))
                .transpose()
                .map(|n| n.unwrap_or(default))
        };
        let ca_bundle = env("DB_CA_BUNDLE")
            .filter(|v| !v.trim().is_empty())
            .map(|path| {
                CaBundle::load(std::path::Path::new(path.trim()))
                    .map_err(|cause| ConfigError::invalid("DB_CA_BUNDLE", cause))
            })
            .transpose()?;
        Ok(Self {
            timeout: Duration::from_secs(number("DB_TIMEOUT_SECONDS", 1..=60, 5)?),
            mysql_max_username: number("MYSQL_MAX_USERNAME_LENGTH", 16..=80, 32)? as usize,
            ca_bundle,
        })
    }

    /// Makes these the process's settings (once, at start-up).
    pub fn install(self) {
        let _ = SETTINGS.set(self);
    }

    pub fn current() -> &'static DbSettings {
        static DEFAULT: OnceLock<DbSettings> = OnceLock::new();
        SETTINGS
            .get()
            .unwrap_or_else(|| DEFAULT.get_or_init(DbSettings::default))
    }
}

/// The bound on each login and statement.
pub fn timeout() -> Duration {
    DbSettings::current().timeout
}

/// Bounds a whole operation, not just the TCP connect: a hung server accepts the connection
/// (the kernel does) and then never answers the start-up or the statement.
pub async fn bounded<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    let limit = timeout();
    tokio::time::timeout(limit, f).await.unwrap_or_else(|_| {
        Err(DbError::Unreachable(format!(
            "{what}: no answer within {limit:?}"
        )))
    })
}

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
    /// The server shows that acting would hand out access the secret's owner does not have.
    #[error("{0}")]
    Refused(String),
}

/// A database engine: what the database code is for. A generic secret has none, so no path
/// from it reaches this module ([`crate::rotation::Engine`] holds one only for a database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEngine {
    Postgres,
    MySql,
}

impl DbEngine {
    pub fn as_str(self) -> &'static str {
        match self {
            DbEngine::Postgres => "postgres",
            DbEngine::MySql => "mysql",
        }
    }
}

/// Longest username the engine accepts.
pub fn max_username(engine: DbEngine) -> usize {
    match engine {
        DbEngine::Postgres => crate::postgres::MAX_USERNAME,
        DbEngine::MySql => DbSettings::current().mysql_max_username,
    }
}

/// Can `c` log in (and run `SELECT 1`)? `Ok(false)` when the server rejects the credentials;
/// `Err` when the server cannot be reached or fails otherwise.
pub async fn can_login(engine: DbEngine, c: &Credentials) -> Result<bool, DbError> {
    let result = match engine {
        DbEngine::Postgres => crate::postgres::check_login(c).await,
        DbEngine::MySql => crate::mysql::check_login(c).await,
    };
    match result {
        Ok(()) => Ok(true),
        Err(DbError::Auth(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Logs in as `login` and sets the password of `role` (the login's own user) to `password`.
pub async fn set_password(
    engine: DbEngine,
    login: &Credentials,
    role: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    match engine {
        DbEngine::Postgres => {
            let client = crate::postgres::connect(login, None).await?;
            crate::postgres::set_password(&client, role, password).await
        }
        DbEngine::MySql => crate::mysql::set_own_password(login, password).await,
    }
}

/// What a successful login of the current credentials proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The user the server says logged in (PostgreSQL: `current_user`; MySQL: the user part
    /// of `CURRENT_USER()`), always equal to the credentials' `username`.
    pub user: String,
    /// MySQL/MariaDB: the host part of the account that matched (`'%'`, `'10.0.%'`, …).
    pub host: Option<String>,
}

/// Logs in with `c` and asks the server which account that is. `Ok(None)` when the server
/// rejects the credentials; refused when another account matched (an anonymous MySQL account
/// accepts any user name).
pub async fn prove_login(engine: DbEngine, c: &Credentials) -> Result<Option<Proven>, DbError> {
    let result = match engine {
        DbEngine::Postgres => crate::postgres::prove_login(c).await,
        DbEngine::MySql => crate::mysql::prove_login(c).await,
    };
    match result {
        Ok(proven) if proven.user == c.username => Ok(Some(proven)),
        Ok(proven) => Err(DbError::Refused(format!(
            "the current credentials log in as `{}`, not as `{}`; the administrator acts only for the account the secret names",
            proven.user, c.username
        ))),
        Err(DbError::Auth(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Logs in as the administrator and makes `user` a working alternate of `base` with
/// `password`, for a secret whose current credentials proved `current`. Refused (before any
/// change) when a user of the pair is a superuser, may create roles / users or grant
/// privileges, or is a member of the administrator's role; when the current user does not
/// already hold `base`'s privileges but asks for `base`'s password; or when an existing
/// alternate holds more than `base`. On every call the alternate's privileges are
/// (re-)applied before its password is set, so a clone never logs in with fewer privileges
/// than `base` once setSecret reports success.
pub async fn ensure_alternate(
    engine: DbEngine,
    admin: &Credentials,
    current: &Proven,
    base: &str,
    user: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    match engine {
        DbEngine::Postgres => {
            // The administrator's own database, never one the secret names: a database the
            // secret's owner controls can carry settings and objects that run as the caller.
            let client = crate::postgres::connect(admin, None).await?;
            crate::postgres::ensure_alternate(&client, &current.user, base, user, password).await
        }
        DbEngine::MySql => {
            crate::mysql::ensure_alternate(admin, current, base, user, password).await
        }
    }
}

/// testSecret's check of an alternate: `pending` (the clone) holds the privileges of `base`
/// (PostgreSQL: membership in `base`; MySQL/MariaDB: the same grants and TLS requirement).
pub async fn verify_alternate(
    engine: DbEngine,
    admin: &Credentials,
    current: &Proven,
    pending: &Credentials,
    base: &str,
) -> Result<(), DbError> {
    match engine {
        DbEngine::Postgres => crate::postgres::verify_alternate(pending, base).await,
        DbEngine::MySql => {
            crate::mysql::verify_alternate(admin, current, base, &pending.username).await
        }
    }
}

/// testSecret's check: log in with the pending credentials, retrying briefly (a new password
/// can take a moment to reach every node of a cluster) instead of sleeping a fixed time.
pub async fn check_with_retry(
    engine: DbEngine,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<DbSettings, String> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        DbSettings::from_lookup(|k| map.get(k).map(|v| v.to_string())).map_err(|e| e.to_string())
    }

    #[test]
    fn settings_defaults_values_and_errors() {
        assert_eq!(settings(&[]).unwrap(), DbSettings::default());
        let s = settings(&[
            ("DB_TIMEOUT_SECONDS", "12"),
            ("MYSQL_MAX_USERNAME_LENGTH", "80"),
        ])
        .unwrap();
        assert_eq!(
            (s.timeout, s.mysql_max_username),
            (Duration::from_secs(12), 80)
        );
        for (pairs, needle) in [
            (vec![("DB_TIMEOUT_SECONDS", "0")], "DB_TIMEOUT_SECONDS"),
            (vec![("DB_TIMEOUT_SECONDS", "61")], "1 to 60"),
            (
                vec![("MYSQL_MAX_USERNAME_LENGTH", "x")],
                "MYSQL_MAX_USERNAME_LENGTH",
            ),
        ] {
            let err = settings(&pairs).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
