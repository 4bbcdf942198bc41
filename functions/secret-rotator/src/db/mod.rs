//! What the rotation steps need from a database, whatever the engine: can these credentials
//! log in, and change a password (single user) or maintain the alternate user (alternating
//! users).
//!
//! Why a trait ([`Database`]), and a second one that picks it ([`Databases`]): the rotation
//! steps decide *which* login to use and *what* to change — the AWSPREVIOUS fallback, the
//! alternating pair, the refusals — and that logic is tested against an in-memory database
//! (`db::memory`, in test builds); the engines' statements are tested against real servers
//! by the integration tests. The engine implementations are [`postgres::Postgres`] and
//! [`mysql::MySql`]; [`servers::Servers`] is the real [`Databases`], choosing between them by
//! [`DbEngine`].
//!
//! Why the settings are passed in: [`DbSettings`] are read once at start-up (`main`) and given
//! to the implementations, so nothing reads a process-wide global and a test can run with any
//! settings.
//!
//! This module holds only the shared vocabulary (errors, settings, the traits, the bounded
//! timeout). The engine modules import it and [`servers`] imports them; this module imports
//! none of its children, so the layer has no cycle.

pub mod mysql;
pub mod postgres;
pub mod servers;

#[cfg(test)]
pub mod memory;

use std::future::Future;
use std::time::Duration;

use ecs_secrets_shared::secret::SecretString;
use ecs_secrets_shared::ConfigError;

use crate::credentials::Credentials;
use crate::engine::DbEngine;
use crate::tls::CaBundle;

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

impl DbSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = ecs_secrets_shared::env::Env::new(lookup);
        let number = |name: &str, range: std::ops::RangeInclusive<u64>, default: u64| {
            env.number(name, range, default)
        };
        let ca_bundle = env
            .text("DB_CA_BUNDLE")
            .map(|path| {
                CaBundle::load(std::path::Path::new(&path))
                    .map_err(|cause| ConfigError::invalid("DB_CA_BUNDLE", cause))
            })
            .transpose()?;
        Ok(Self {
            timeout: Duration::from_secs(number("DB_TIMEOUT_SECONDS", 1..=60, 5)?),
            mysql_max_username: number("MYSQL_MAX_USERNAME_LENGTH", 16..=80, 32)? as usize,
            ca_bundle,
        })
    }
}

/// Bounds a whole operation by `limit` (the settings' timeout), not just the TCP connect: a
/// hung server accepts the connection (the kernel does) and then never answers the start-up or
/// the statement.
pub async fn bounded<T>(
    limit: Duration,
    what: &str,
    f: impl Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    tokio::time::timeout(limit, f).await.unwrap_or_else(|_| {
        Err(DbError::Unreachable(format!(
            "{what}: no answer within {limit:?}"
        )))
    })
}

/// Why a database operation failed. Messages come from the driver or server and never contain
/// a password (servers do not echo them; statements carrying verifiers are not included).
/// The rotation steps turn it into the crate's [`crate::ErrorKind`], adding the endpoint.
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

/// What a successful login of the current credentials proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The user the server says logged in (PostgreSQL: `current_user`; MySQL: the user part
    /// of `CURRENT_USER()`), always equal to the credentials' `username`.
    pub user: String,
    /// MySQL/MariaDB: the host part of the account that matched (`'%'`, `'10.0.%'`, …).
    pub host: Option<String>,
}

/// One database engine's logins and statements.
///
/// Implementations provide the required methods; the provided ones ([`Database::can_login`],
/// [`Database::prove_login`], [`Database::check_with_retry`]) give them their engine-neutral
/// meaning and are not meant to be overridden.
pub trait Database: Sync {
    /// Longest username the engine accepts.
    fn max_username(&self) -> usize;

    /// Logs in with `c` and runs `SELECT 1`. Credentials the server rejects are
    /// [`DbError::Auth`].
    fn check_login(&self, c: &Credentials) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Logs in with `c` and asks the server which account that is (see [`Proven`]).
    /// Credentials the server rejects are [`DbError::Auth`].
    fn current_account(
        &self,
        c: &Credentials,
    ) -> impl Future<Output = Result<Proven, DbError>> + Send;

    /// Logs in as `login` and sets the password of `role` (the login's own user) to
    /// `password`.
    fn set_password(
        &self,
        login: &Credentials,
        role: &str,
        password: &SecretString,
    ) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Logs in as the administrator and makes `user` a working alternate of `base` with
    /// `password`, for a secret whose current credentials proved `current`. Refused (before
    /// any change) when a user of the pair is a superuser, may create roles / users or grant
    /// privileges, or is a member of the administrator's role; when the current user does not
    /// already hold `base`'s privileges but asks for `base`'s password; or when an existing
    /// alternate holds more than `base`. On every call the alternate's privileges are
    /// (re-)applied before its password is set, so a clone never logs in with fewer
    /// privileges than `base` once setSecret reports success.
    fn ensure_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> impl Future<Output = Result<(), DbError>> + Send;

    /// testSecret's check of an alternate: `pending` (the clone) holds the privileges of
    /// `base` (PostgreSQL: membership in `base`; MySQL/MariaDB: the same grants and TLS
    /// requirement).
    fn verify_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        pending: &Credentials,
        base: &str,
    ) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Can `c` log in (and run `SELECT 1`)? `Ok(false)` when the server rejects the
    /// credentials; `Err` when the server cannot be reached or fails otherwise.
    fn can_login(&self, c: &Credentials) -> impl Future<Output = Result<bool, DbError>> + Send {
        async move {
            match self.check_login(c).await {
                Ok(()) => Ok(true),
                Err(DbError::Auth(_)) => Ok(false),
                Err(e) => Err(e),
            }
        }
    }

    /// Logs in with `c` and asks the server which account that is. `Ok(None)` when the server
    /// rejects the credentials; refused when another account matched (an anonymous MySQL
    /// account accepts any user name).
    fn prove_login(
        &self,
        c: &Credentials,
    ) -> impl Future<Output = Result<Option<Proven>, DbError>> + Send {
        async move {
            match self.current_account(c).await {
                Ok(proven) if proven.user == c.username => Ok(Some(proven)),
                Ok(proven) => Err(DbError::Refused(format!(
                    "the current credentials log in as `{}`, not as `{}`; the administrator acts only for the account the secret names",
                    proven.user, c.username
                ))),
                Err(DbError::Auth(_)) => Ok(None),
                Err(e) => Err(e),
            }
        }
    }

    /// testSecret's check: log in with the pending credentials, retrying briefly (a new
    /// password can take a moment to reach every node of a cluster) instead of sleeping a
    /// fixed time.
    fn check_with_retry(
        &self,
        c: &Credentials,
        attempts: u32,
    ) -> impl Future<Output = Result<(), DbError>> + Send {
        async move {
            let mut delay = Duration::from_millis(200);
            let mut last = DbError::Query("no attempt made".into());
            for attempt in 1..=attempts.max(1) {
                match self.can_login(c).await {
                    Ok(true) => return Ok(()),
                    Ok(false) => {
                        last = DbError::Auth("the pending credentials were rejected".into())
                    }
                    Err(e) => last = e,
                }
                if attempt < attempts {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
            Err(last)
        }
    }
}

/// The databases a rotator can reach, one per engine: what the rotation steps hold, so a
/// generic secret (which has no [`DbEngine`]) cannot ask for one.
pub trait Databases: Sync {
    type Database: Database;

    fn database(&self, engine: DbEngine) -> &Self::Database;
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

    #[tokio::test]
    async fn bounded_turns_a_silent_server_into_unreachable() {
        let e = bounded(Duration::from_millis(10), "login", async {
            std::future::pending::<Result<(), DbError>>().await
        })
        .await
        .unwrap_err();
        assert_eq!(
            e,
            DbError::Unreachable("login: no answer within 10ms".into())
        );
        assert_eq!(
            bounded(Duration::from_millis(10), "login", async { Ok(7) }).await,
            Ok(7)
        );
    }
}
