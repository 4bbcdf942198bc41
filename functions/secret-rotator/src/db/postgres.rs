//! PostgreSQL: log in, change a role's password, create the alternate role.
//!
//! Passwords never reach the server in clear: the SCRAM-SHA-256 verifier is computed here and
//! sent as `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'`, which PostgreSQL stores as is, so server
//! logs (`log_statement = ddl`) show a verifier, never a password. Identifiers and literals go
//! through the driver's escaping (`postgres_protocol::escape`), and the connection is made
//! from structured parameters, so every character of a password is safe.
//!
//! [`Postgres`] holds the [`DbSettings`] (timeout, CA bundle) it was given at start-up.

use postgres_protocol::escape::{escape_identifier, escape_literal};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

use super::{bounded, Database, DbError, DbSettings, Proven};
use crate::credentials::Credentials;
use crate::tls;
use ecs_secrets_shared::secret::SecretString;

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
pub const MAX_USERNAME: usize = 63;

/// PostgreSQL, reached with the settings read at start-up.
#[derive(Debug, Clone)]
pub struct Postgres {
    settings: DbSettings,
}

fn config(c: &Credentials, dbname: Option<&str>, timeout: std::time::Duration) -> Config {
    let mut config = Config::new();
    config
        .host(&c.host)
        .port(c.port)
        .user(&c.username)
        .password(c.password.expose().as_bytes())
        .dbname(dbname.or(c.dbname.as_deref()).unwrap_or("postgres"))
        .connect_timeout(timeout)
        // search_path: the session sees only the catalog, whatever ALTER DATABASE / ROLE …
        // SET search_path a database's owner configured (connection options take precedence),
        // so no operator or function of the owner's can stand in for a built-in one.
        .options(format!(
            "-c statement_timeout={} -c search_path=pg_catalog",
            timeout.as_millis()
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
        None => DbError::Unreachable(with_sources(&e)),
    }
}

/// The error and its causes: tokio-postgres says "error performing TLS handshake" and keeps
/// the reason (an untrusted issuer, a wrong host name) in the source.
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Errors of a statement that carries a password verifier: only the SQLSTATE and a
/// description written here, never the server's text (which may quote the statement).
fn classify_secret_statement(what: &str, e: tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let meaning = match code {
                "42501" => ": permission denied (the login lacks the privilege)",
                "42704" => ": the role does not exist",
                "0LP01" | "0P000" => ": invalid grant or role specification",
                "25006" => ": the database is read-only",
                "42601" => ": syntax error",
                _ => "",
            };
            DbError::Query(format!("{what} failed (SQLSTATE {code}{meaning})"))
        }
        None => DbError::Unreachable(format!("{what}: {}", with_sources(&e))),
    }
}

impl Postgres {
    pub fn new(settings: DbSettings) -> Self {
        Self { settings }
    }

    /// Logs in with `c` (optionally into another database) and returns the client.
    async fn connect(&self, c: &Credentials, dbname: Option<&str>) -> Result<Client, DbError> {
        bounded(
            self.settings.timeout,
            "login",
            self.connect_unbounded(c, dbname),
        )
        .await
    }

    fn rustls_connector(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
        let bundle = self.settings.ca_bundle.as_ref();
        tls::client_config(bundle)
            .map(tokio_postgres_rustls::MakeRustlsConnect::new)
            .map_err(DbError::Unreachable)
    }

    async fn connect_unbounded(
        &self,
        c: &Credentials,
        dbname: Option<&str>,
    ) -> Result<Client, DbError> {
        let mut config = config(c, dbname, self.settings.timeout);
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
                // Required and verified (system trust store plus DB_CA_BUNDLE, hostname included),
                // or (no `ssl` key) used when the server offers it.
                let mode = if ssl == Some(true) {
                    SslMode::Require
                } else {
                    SslMode::Prefer
                };
                let (client, connection) = config
                    .ssl_mode(mode)
                    .connect(self.rustls_connector()?)
                    .await
                    .map_err(classify)?;
                tokio::spawn(connection);
                if ssl.is_none() {
                    warn_if_plaintext(&client, c).await;
                }
                client
            }
        };
        Ok(client)
    }
}

/// With no `ssl` key, a server that offers no TLS gets the login in plaintext: allowed (the
/// AWS templates' behaviour) but never silent.
async fn warn_if_plaintext(client: &Client, c: &Credentials) {
    let tls = client
        .query_one(
            "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
            &[],
        )
        .await
        .ok()
        .and_then(|row| row.try_get::<_, bool>(0).ok());
    if tls == Some(false) {
        // The target the warning had before the module moved under `db`, so log filters and
        // queries on it keep working.
        tracing::warn!(
            target: "secret_rotator::postgres",
            endpoint = %c.endpoint(),
            user = %c.username,
            "the login went in plaintext: the server offers no TLS and the secret has no `ssl` key (set \"ssl\": true to require TLS)"
        );
    }
}

fn verifier(password: &SecretString) -> SecretString {
    SecretString::from(postgres_protocol::password::scram_sha_256(
        password.expose().as_bytes(),
    ))
}

/// The attributes that make a role more than an application login.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoleFacts {
    name: String,
    /// Superuser, CREATEROLE, REPLICATION or BYPASSRLS.
    privileged: Vec<&'static str>,
    /// A member (directly or not) of the administrator's role.
    member_of_admin: bool,
    /// A member (directly or not) of a superuser or CREATEROLE role.
    member_of_privileged: bool,
}

impl Postgres {
    /// Runs a statement that carries no secret, bounded; the server's message is kept.
    async fn exec(&self, client: &Client, statement: &str) -> Result<(), DbError> {
        bounded(self.settings.timeout, "statement", async {
            client.batch_execute(statement).await.map_err(classify)
        })
        .await
    }

    /// `ALTER ROLE <role> PASSWORD '<verifier>'`.
    async fn alter_password(
        &self,
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
        bounded(self.settings.timeout, "statement", async {
            client
                .batch_execute(statement.expose())
                .await
                .map_err(|e| classify_secret_statement("ALTER ROLE … PASSWORD", e))
        })
        .await
    }

    async fn role_facts(&self, client: &Client, roles: &[&str]) -> Result<Vec<RoleFacts>, DbError> {
        let names: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let rows = bounded(self.settings.timeout, "role lookup", async {
            client
                .query(
                    "SELECT u.rolname::text, u.rolsuper, u.rolcreaterole, u.rolreplication, u.rolbypassrls, \
                            pg_catalog.pg_has_role(u.oid, (SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) current_user), 'MEMBER'), \
                            EXISTS (SELECT 1 FROM pg_catalog.pg_roles p \
                                    WHERE (p.rolsuper OR p.rolcreaterole) AND p.oid OPERATOR(pg_catalog.<>) u.oid \
                                      AND pg_catalog.pg_has_role(u.oid, p.oid, 'MEMBER')) \
                     FROM pg_catalog.pg_roles u WHERE u.rolname OPERATOR(pg_catalog.=) ANY($1::text[])",
                    &[&names],
                )
                .await
                .map_err(classify)
        })
        .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let flags = [
                    (row.get::<_, bool>(1), "SUPERUSER"),
                    (row.get::<_, bool>(2), "CREATEROLE"),
                    (row.get::<_, bool>(3), "REPLICATION"),
                    (row.get::<_, bool>(4), "BYPASSRLS"),
                ];
                RoleFacts {
                    name: row.get(0),
                    privileged: flags.iter().filter(|f| f.0).map(|f| f.1).collect(),
                    member_of_admin: row.get(5),
                    member_of_privileged: row.get(6),
                }
            })
            .collect())
    }

    /// The roles `role` is a direct member of.
    async fn memberships(&self, client: &Client, role: &str) -> Result<Vec<String>, DbError> {
        let rows = bounded(self.settings.timeout, "membership lookup", async {
            client
                .query(
                    "SELECT r.rolname::text FROM pg_catalog.pg_auth_members m \
                 JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) m.roleid \
                 JOIN pg_catalog.pg_roles u ON u.oid OPERATOR(pg_catalog.=) m.member \
                 WHERE u.rolname OPERATOR(pg_catalog.=) $1::text",
                    &[&role],
                )
                .await
                .map_err(classify)
        })
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn holds(&self, client: &Client, member: &str, role: &str) -> Result<bool, DbError> {
        let row = bounded(self.settings.timeout, "membership check", async {
            client
                .query_one(
                    "SELECT pg_catalog.pg_has_role($1::text::name, $2::text::name, 'USAGE')",
                    &[&member, &role],
                )
                .await
                .map_err(classify)
        })
        .await?;
        Ok(row.get(0))
    }

    /// As the administrator (`client`): make `user` a login that is a member of `base` and has
    /// `password`, for a secret whose current user is `current`. On every call: refuse
    /// privileged roles; when `user` is `base` itself, refuse unless `current` already holds
    /// `base`'s privileges (a `_clone` name proves nothing); when `user` is an existing clone,
    /// refuse if it is a member of anything but `base`; re-grant the membership (a no-op when it
    /// is there), then set the password. A new role is created without a password and gets one
    /// only once it is a member.
    async fn make_alternate(
        &self,
        client: &Client,
        current: &str,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        let facts = self.role_facts(client, &[base, user, current]).await?;
        for role in &facts {
            if !role.privileged.is_empty() {
                return Err(DbError::Refused(format!(
                    "role `{}` has {}; alternating users rotates only ordinary logins, never a role that can administer others",
                    role.name,
                    role.privileged.join(", ")
                )));
            }
            if role.member_of_admin || role.member_of_privileged {
                return Err(DbError::Refused(format!(
                    "role `{}` is a member of the administrator's role or of a role that can administer others",
                    role.name
                )));
            }
        }
        if !facts.iter().any(|r| r.name == base) {
            return Err(DbError::Query(format!("role `{base}` does not exist")));
        }
        if user == base {
            if current != base && !self.holds(client, current, base).await? {
                return Err(DbError::Refused(format!(
                    "the current user `{current}` does not hold `{base}`'s privileges; its password is changed only for the alternate that stands in for it"
                )));
            }
            return self.alter_password(client, user, password).await;
        }
        if !facts.iter().any(|r| r.name == user) {
            // One implicit transaction: the role exists only as a member of `base`.
            self.exec(
                client,
                &format!(
                    "CREATE ROLE {clone} WITH LOGIN INHERIT; GRANT {base} TO {clone}",
                    clone = escape_identifier(user),
                    base = escape_identifier(base)
                ),
            )
            .await?;
        } else {
            let extra: Vec<String> = self
                .memberships(client, user)
                .await?
                .into_iter()
                .filter(|r| r != base)
                .collect();
            if !extra.is_empty() {
                return Err(DbError::Refused(format!(
                    "the existing alternate `{user}` is also a member of {} role(s) besides `{base}`; it must hold `{base}`'s privileges and nothing more",
                    extra.len()
                )));
            }
            self.exec(
                client,
                &format!(
                    "GRANT {} TO {}",
                    escape_identifier(base),
                    escape_identifier(user)
                ),
            )
            .await?;
        }
        self.alter_password(client, user, password).await
    }
}

impl Database for Postgres {
    fn max_username(&self) -> usize {
        MAX_USERNAME
    }

    /// Logs in with `c` and runs a trivial query.
    async fn check_login(&self, c: &Credentials) -> Result<(), DbError> {
        let client = self.connect(c, None).await?;
        bounded(self.settings.timeout, "SELECT 1", async {
            client.simple_query("SELECT 1").await.map_err(classify)
        })
        .await?;
        Ok(())
    }

    /// Logs in with `c` and returns who the server says that is.
    async fn current_account(&self, c: &Credentials) -> Result<Proven, DbError> {
        let client = self.connect(c, None).await?;
        let row = bounded(self.settings.timeout, "SELECT current_user", async {
            client
                .query_one("SELECT current_user::text", &[])
                .await
                .map_err(classify)
        })
        .await?;
        Ok(Proven {
            user: row.get(0),
            host: None,
        })
    }

    async fn set_password(
        &self,
        login: &Credentials,
        role: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        let client = self.connect(login, None).await?;
        self.alter_password(&client, role, password).await
    }

    async fn ensure_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        // The administrator's own database, never one the secret names: a database the
        // secret's owner controls can carry settings and objects that run as the caller.
        let client = self.connect(admin, None).await?;
        self.make_alternate(&client, &current.user, base, user, password)
            .await
    }

    /// testSecret: logged in as the pending clone, it is a member of `base` with its privileges.
    async fn verify_alternate(
        &self,
        _admin: &Credentials,
        _current: &Proven,
        pending: &Credentials,
        base: &str,
    ) -> Result<(), DbError> {
        let client = self.connect(pending, None).await?;
        let row = bounded(self.settings.timeout, "membership check", async {
            client
                .query_one(
                    "SELECT pg_catalog.pg_has_role(current_user, $1, 'USAGE')",
                    &[&base],
                )
                .await
                .map_err(classify)
        })
        .await?;
        if row.get::<_, bool>(0) {
            Ok(())
        } else {
            Err(DbError::Refused(format!(
                "the alternate user `{}` does not hold role `{base}`'s privileges (it is not an inheriting member); setSecret must complete first",
                pending.username
            )))
        }
    }
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
