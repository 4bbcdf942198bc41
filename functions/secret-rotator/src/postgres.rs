//! PostgreSQL: log in, change a role's password, create the alternate role.
//!
//! Passwords never reach the server in clear: the SCRAM-SHA-256 verifier is computed here and
//! sent as `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'`, which PostgreSQL stores as is, so server
//! logs (`log_statement = ddl`) show a verifier, never a password. Identifiers and literals go
//! through the driver's escaping (`postgres_protocol::escape`), and the connection is made
//! from structured parameters, so every character of a password is safe.

use postgres_protocol::escape::{escape_identifier, escape_literal};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

use crate::credentials::Credentials;
use crate::db::{bounded, DbError};
use ecs_secrets_shared::secret::SecretString;

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
pub const MAX_USERNAME: usize = 63;

fn config(c: &Credentials, dbname: Option<&str>) -> Config {
    let mut config = Config::new();
    config
        .host(&c.host)
        .port(c.port)
        .user(&c.username)
        .password(c.password.expose().as_bytes())
        .dbname(dbname.or(c.dbname.as_deref()).unwrap_or("postgres"))
        .connect_timeout(crate::db::timeout())
        .options(format!(
            "-c statement_timeout={}",
            crate::db::timeout().as_millis()
        ))
        .application_name("ecs-secrets-rotator");
    config
}

fn classify(e: tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        // 28P01 invalid_password, 28000 invalid_authorization_specification (no such role,
        // or pg_hba rejects it): the credentials do not work.
        Some(db) if matches!(db.code().code(), "28P01" | "28000") => {
            DbError::Auth(db.message().to_owned())
        }
        Some(db) => DbError::Query(format!("{} ({})", db.message(), db.code().code())),
        None => DbError::Unreachable(e.to_string()),
    }
}

/// Logs in with `c` (optionally into another database) and returns the client.
pub async fn connect(c: &Credentials, dbname: Option<&str>) -> Result<Client, DbError> {
    bounded("login", connect_unbounded(c, dbname)).await
}

async fn connect_unbounded(c: &Credentials, dbname: Option<&str>) -> Result<Client, DbError> {
    let mut config = config(c, dbname);
    let client = match c.ssl {
        Some(false) => {
            let (client, connection) = config
                .ssl_mode(SslMode::Disable)
                .connect(NoTls)
                .await
                .map_err(classify)?;
            tokio::spawn(connection);
            client
        }
        ssl => {
            // Required and verified against the system trust store, or (no `ssl` key) used
            // when the server offers it.
            let (tls, _errors) = tokio_postgres_rustls::MakeRustlsConnect::with_native_certs()
                .map_err(|_| {
                    DbError::Unreachable("cannot load the system's trusted certificates".into())
                })?;
            let mode = if ssl == Some(true) {
                SslMode::Require
            } else {
                SslMode::Prefer
            };
            let (client, connection) =
                config.ssl_mode(mode).connect(tls).await.map_err(classify)?;
            tokio::spawn(connection);
            client
        }
    };
    Ok(client)
}

/// Logs in with `c` and runs a trivial query.
pub async fn check_login(c: &Credentials) -> Result<(), DbError> {
    let client = connect(c, None).await?;
    bounded("SELECT 1", async {
        client.simple_query("SELECT 1").await.map_err(classify)
    })
    .await?;
    Ok(())
}

fn verifier(password: &SecretString) -> SecretString {
    SecretString::from(postgres_protocol::password::scram_sha_256(
        password.expose().as_bytes(),
    ))
}

/// Runs a statement (which may carry a verifier, hence `SecretString`), bounded.
async fn exec(client: &Client, statement: &SecretString) -> Result<(), DbError> {
    bounded("statement", async {
        client
            .batch_execute(statement.expose())
            .await
            .map_err(classify)
    })
    .await
}

/// `ALTER ROLE <role> PASSWORD '<verifier>'`.
pub async fn set_password(
    client: &Client,
    role: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    let verifier = verifier(password);
    let statement = SecretString::from(format!(
        "ALTER ROLE {} PASSWORD {}",
        escape_identifier(role),
        escape_literal(verifier.expose())
    ));
    exec(client, &statement).await
}

pub async fn role_exists(client: &Client, role: &str) -> Result<bool, DbError> {
    let rows = bounded("role lookup", async {
        client
            .query(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await
            .map_err(classify)
    })
    .await?;
    Ok(!rows.is_empty())
}

/// Creates `clone` as a login role that is a member of `base`, so it has the same privileges.
pub async fn create_clone(
    client: &Client,
    base: &str,
    clone: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    let verifier = verifier(password);
    let statement = SecretString::from(format!(
        "CREATE ROLE {clone} WITH LOGIN INHERIT PASSWORD {pw}; GRANT {base} TO {clone}",
        clone = escape_identifier(clone),
        base = escape_identifier(base),
        pw = escape_literal(verifier.expose())
    ));
    exec(client, &statement).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_is_scram_and_statement_never_holds_the_password() {
        let password = SecretString::from("p'a\"s$s;--w0rd");
        let v = verifier(&password);
        assert!(
            v.expose().starts_with("SCRAM-SHA-256$4096:"),
            "{}",
            v.expose()
        );
        assert!(!v.expose().contains("p'a\"s"));
        assert_eq!(escape_identifier("weird\"role"), "\"weird\"\"role\"");
    }
}
