//! MySQL and MariaDB: log in, change a password, create the alternate user.
//!
//! Single user: an ordinary user changes its own password. On MariaDB it cannot `ALTER USER`
//! itself (that needs CREATE USER) but can `SET PASSWORD = PASSWORD(…)`; on MySQL 8 it can
//! `ALTER USER CURRENT_USER() IDENTIFIED BY …`. The server's flavour decides.
//!
//! Alternating users: the administrator (CREATE USER and GRANT OPTION) maintains the clone,
//! replaying the grants `SHOW GRANTS` lists for the original user with the clone as grantee —
//! minus any `IDENTIFIED BY PASSWORD` clause, which carries the original's password hash and
//! is never executed, logged or returned — and copying its TLS requirement. The clone gets
//! its password only after every grant has been applied, on every setSecret, and testSecret
//! compares the two users' grants: a clone with fewer privileges never becomes AWSCURRENT.
//!
//! Literals (user names, hosts, passwords) are quoted with the driver's escaping
//! (`Value::as_sql`) in the session's backslash mode, never spliced raw. Statements that carry
//! a password report only the server's error code, never its text.
//!
//! [`MySql`] holds the [`DbSettings`] (timeout, CA bundle, username limit) it was given at
//! start-up.

use std::collections::BTreeSet;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts, Value};

use super::{bounded, Database, DbError, DbSettings, Proven};
use crate::credentials::Credentials;
use crate::tls;
use ecs_secrets_shared::secret::SecretString;

/// MySQL or MariaDB, reached with the settings read at start-up.
#[derive(Debug, Clone)]
pub struct MySql {
    settings: DbSettings,
}

/// How the session quotes literals: with `NO_BACKSLASH_ESCAPES` in `sql_mode` a backslash is
/// an ordinary character, and escaping it would change the password (or break the statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quoting {
    no_backslash_escapes: bool,
}

impl Quoting {
    fn literal(self, s: &str) -> String {
        Value::from(s).as_sql(self.no_backslash_escapes)
    }

    fn account(self, user: &str, host: &str) -> String {
        format!("{}@{}", self.literal(user), self.literal(host))
    }
}

/// Errors of a statement that carries a password: the server's text can quote the statement
/// (a syntax error "near '…'"), so only its error code and a description written here are kept.
fn classify_secret_statement(what: &str, e: mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(s) => {
            let meaning = match s.code {
                1044 | 1045 | 1142 | 1227 => ": the login lacks the privilege",
                1064 => ": syntax error",
                1290 => ": the server is read-only",
                1396 => ": the account cannot be created or changed",
                1819 => ": the password does not satisfy the server's password policy",
                _ => "",
            };
            DbError::Query(format!("{what} failed (server error {}{meaning})", s.code))
        }
        mysql_async::Error::Io(_) => DbError::Unreachable(format!("{what}: the connection failed")),
        _ => DbError::Unreachable(format!("{what}: the driver failed")),
    }
}

/// `ssl_type, ssl_cipher, x509_issuer, x509_subject` of `mysql.user`.
type TlsColumns = (String, Vec<u8>, Vec<u8>, Vec<u8>);

fn require_clause(q: Quoting, kind: &str, cipher: &[u8], issuer: &[u8], subject: &[u8]) -> String {
    match kind.to_ascii_uppercase().as_str() {
        "ANY" => "REQUIRE SSL".to_owned(),
        "X509" => "REQUIRE X509".to_owned(),
        "SPECIFIED" => {
            let parts: Vec<String> = [("ISSUER", issuer), ("SUBJECT", subject), ("CIPHER", cipher)]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(name, v)| format!("{name} {}", q.literal(&String::from_utf8_lossy(v))))
                .collect();
            if parts.is_empty() {
                "REQUIRE SSL".to_owned()
            } else {
                format!("REQUIRE {}", parts.join(" AND "))
            }
        }
        _ => "REQUIRE NONE".to_owned(),
    }
}

/// One `SHOW GRANTS` line of `base`@`host` rewritten for `clone`: the grantee after the last
/// ` TO ` (or ` FOR `, in `SET DEFAULT ROLE … FOR`) becomes the clone, and of the clauses after
/// it the password (`IDENTIFIED BY PASSWORD '<hash>'`, `IDENTIFIED VIA …`) and the TLS
/// requirement (`REQUIRE …`, applied with `ALTER USER`) are dropped while anything from
/// ` WITH ` on (GRANT OPTION, limits) is kept. Object names before the grantee are never
/// touched. A line whose grantee is not found is returned without a rewrite, so it can never
/// match the clone's line and testSecret refuses (fail closed).
fn rewrite_grant(q: Quoting, line: &str, base: &str, host: &str, clone: &str) -> String {
    let forms = [
        format!(
            "`{}`@`{}`",
            base.replace('`', "``"),
            host.replace('`', "``")
        ),
        format!("'{base}'@'{host}'"),
        format!("{base}@{host}"),
    ];
    let grantee = [" TO ", " FOR "]
        .iter()
        .flat_map(|kw| {
            forms.iter().filter_map(move |form| {
                line.rfind(&format!("{kw}{form}"))
                    .map(|i| (i + kw.len(), i + kw.len() + form.len()))
            })
        })
        .max_by_key(|(start, _)| *start);
    let Some((start, end)) = grantee else {
        return line.to_owned();
    };
    let tail = &line[end..];
    let cut = [" IDENTIFIED ", " REQUIRE "]
        .iter()
        .filter_map(|clause| tail.find(clause))
        .min();
    let tail = match cut {
        Some(i) => tail[i..]
            .find(" WITH ")
            .map(|j| &tail[i + j..])
            .unwrap_or(""),
        None => tail,
    };
    format!("{}{}{}", &line[..start], q.account(clone, host), tail)
}

/// The grants of `base`@`host` rewritten for `clone` (see [`rewrite_grant`]); `GRANT PROXY`
/// lines are not copied.
fn grants_for_clone(
    q: Quoting,
    grants: &[String],
    base: &str,
    host: &str,
    clone: &str,
) -> Vec<String> {
    grants
        .iter()
        .filter(|g| {
            !g.trim_start()
                .to_ascii_uppercase()
                .starts_with("GRANT PROXY")
        })
        .map(|g| rewrite_grant(q, g, base, host, clone))
        .collect()
}

impl MySql {
    pub fn new(settings: DbSettings) -> Self {
        Self { settings }
    }

    async fn quoting(&self, conn: &mut Conn) -> Result<Quoting, DbError> {
        let mode: Option<String> =
            bounded(self.settings.timeout, "SELECT @@SESSION.sql_mode", async {
                conn.query_first("SELECT @@SESSION.sql_mode")
                    .await
                    .map_err(|e| self.classify(e))
            })
            .await?;
        Ok(Quoting {
            no_backslash_escapes: mode
                .unwrap_or_default()
                .to_ascii_uppercase()
                .contains("NO_BACKSLASH_ESCAPES"),
        })
    }

    /// Errors of a login: the server's access-denied codes mean the credentials do not work.
    fn classify_login(&self, e: mysql_async::Error) -> DbError {
        match e {
            // 1045 access denied (bad password / unknown user), 1044 no access to the database,
            // 1698 access denied for a plugin-authenticated user.
            mysql_async::Error::Server(s) if matches!(s.code, 1044 | 1045 | 1698) => {
                DbError::Auth(s.message)
            }
            other => self.classify(other),
        }
    }

    /// Errors of a statement on an open connection: access denied here is a missing privilege.
    fn classify(&self, e: mysql_async::Error) -> DbError {
        match e {
            mysql_async::Error::Server(s) => DbError::Query(format!("{} ({})", s.message, s.code)),
            mysql_async::Error::Io(e) => DbError::Unreachable(self.tls_hint(e.to_string())),
            other => DbError::Unreachable(self.tls_hint(other.to_string())),
        }
    }

    /// rustls says `UnknownIssuer`; say what it means and how to fix it.
    fn tls_hint(&self, message: String) -> String {
        if message.contains("UnknownIssuer") {
            let bundle = self.settings.ca_bundle.as_ref();
            format!("TLS: {}", tls::untrusted_issuer_hint(None, bundle))
        } else {
            message
        }
    }

    fn opts(&self, c: &Credentials, tls: bool) -> OptsBuilder {
        let mut builder = OptsBuilder::default()
            .ip_or_hostname(c.host.clone())
            .tcp_port(c.port)
            .user(Some(c.username.clone()))
            .pass(Some(c.password.expose().clone()))
            .db_name(c.dbname.clone())
            .prefer_socket(false)
            .wait_timeout(Some(60));
        if tls {
            // Verified against the bundled Mozilla roots plus DB_CA_BUNDLE, hostname included.
            let mut ssl = SslOpts::default();
            if let Some(bundle) = &self.settings.ca_bundle {
                ssl = ssl.with_root_certs(vec![bundle.path.clone().into()]);
            }
            builder = builder.ssl_opts(Some(ssl));
        }
        builder
    }

    async fn connect_with(&self, c: &Credentials, tls: bool) -> Result<Conn, DbError> {
        Conn::new(self.opts(c, tls))
            .await
            .map_err(|e| self.classify_login(e))
    }

    /// Logs in with `c`: TLS required (`ssl: true`), plaintext (`ssl: false`), or TLS when the
    /// server supports it (no `ssl` key; a plaintext login is logged as a warning). The whole
    /// login is bounded by the database timeout.
    async fn connect(&self, c: &Credentials) -> Result<Conn, DbError> {
        bounded(self.settings.timeout, "login", async {
        match c.ssl {
            Some(tls) => self.connect_with(c, tls).await,
            None => match Conn::new(self.opts(c, true)).await {
                Ok(conn) => Ok(conn),
                Err(mysql_async::Error::Driver(
                    mysql_async::DriverError::NoClientSslFlagFromServer,
                )) => {
                    // The target the warning had before the module moved under `db`, so log
                    // filters and queries on it keep working.
                    tracing::warn!(
                        target: "secret_rotator::mysql",
                        endpoint = %c.endpoint(),
                        user = %c.username,
                        "the login went in plaintext: the server offers no TLS and the secret has no `ssl` key (set \"ssl\": true to require TLS)"
                    );
                    self.connect_with(c, false).await
                }
                Err(e) => Err(self.classify_login(e)),
            },
        }
    })
    .await
    }

    /// Runs a statement that carries no secret; the server's message is kept.
    async fn exec(&self, conn: &mut Conn, statement: &str) -> Result<(), DbError> {
        bounded(self.settings.timeout, "statement", async {
            conn.query_drop(statement)
                .await
                .map_err(|e| self.classify(e))
        })
        .await
    }

    /// Runs a statement that carries a password; errors keep only the server's code.
    async fn exec_secret(
        &self,
        conn: &mut Conn,
        what: &str,
        statement: &SecretString,
    ) -> Result<(), DbError> {
        bounded(self.settings.timeout, "statement", async {
            conn.query_drop(statement.expose().as_str())
                .await
                .map_err(|e| classify_secret_statement(what, e))
        })
        .await
    }

    async fn is_mariadb(&self, conn: &mut Conn) -> Result<bool, DbError> {
        let version: Option<String> = bounded(self.settings.timeout, "SELECT VERSION()", async {
            conn.query_first("SELECT VERSION()")
                .await
                .map_err(|e| self.classify(e))
        })
        .await?;
        Ok(version
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("mariadb"))
    }

    /// The logged-in user (`login`) changes its own password.
    async fn set_own_password(
        &self,
        login: &Credentials,
        password: &SecretString,
    ) -> Result<(), DbError> {
        let mut conn = self.connect(login).await?;
        let q = self.quoting(&mut conn).await?;
        let (what, statement) = if self.is_mariadb(&mut conn).await? {
            (
                "SET PASSWORD",
                format!("SET PASSWORD = PASSWORD({})", q.literal(password.expose())),
            )
        } else {
            (
                "ALTER USER … IDENTIFIED BY",
                format!(
                    "ALTER USER CURRENT_USER() IDENTIFIED BY {}",
                    q.literal(password.expose())
                ),
            )
        };
        self.exec_secret(&mut conn, what, &SecretString::from(statement))
            .await?;
        let _ = conn.disconnect().await;
        Ok(())
    }

    /// The host part of `user`'s account (`%` preferred when it has several).
    async fn host_of(&self, conn: &mut Conn, user: &str) -> Result<String, DbError> {
        let host: Option<String> = bounded(self.settings.timeout, "account host lookup", async {
            conn.exec_first(
                "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host = '%' DESC, Host LIMIT 1",
                (user,),
            )
            .await
            .map_err(|e| {
                DbError::Query(format!(
                    "the administrator cannot read mysql.user (it needs SELECT on the `mysql` schema): {}",
                    self.classify(e)
                ))
            })
        })
        .await?;
        host.ok_or_else(|| DbError::Query(format!("user `{user}` does not exist on the server")))
    }

    /// Refuses users with administrative global privileges: SUPER, CREATE USER or GRANT OPTION.
    async fn refuse_privileged(&self, conn: &mut Conn, users: &[&str]) -> Result<(), DbError> {
        for user in users {
            let rows: Vec<(String, String, String, String)> =
                bounded(self.settings.timeout, "privilege lookup", async {
                    conn.exec(
                        "SELECT Host, Super_priv, Create_user_priv, Grant_priv FROM mysql.user WHERE User = ?",
                        (user,),
                    )
                    .await
                    .map_err(|e| self.classify(e))
                })
                .await?;
            for (host, sup, create_user, grant) in rows {
                let held: Vec<&str> = [
                    (sup, "SUPER"),
                    (create_user, "CREATE USER"),
                    (grant, "GRANT OPTION"),
                ]
                .iter()
                .filter(|(flag, _)| flag.eq_ignore_ascii_case("Y"))
                .map(|(_, name)| *name)
                .collect();
                if !held.is_empty() {
                    return Err(DbError::Refused(format!(
                        "user `{user}`@`{host}` has global {}; alternating users rotates only ordinary logins, never one that can administer others",
                        held.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// The TLS requirement of an account as a `REQUIRE …` clause (`REQUIRE NONE` when it has
    /// none).
    async fn tls_requirement(
        &self,
        conn: &mut Conn,
        q: Quoting,
        user: &str,
        host: &str,
    ) -> Result<String, DbError> {
        let row: Option<TlsColumns> =
            bounded(self.settings.timeout, "TLS requirement lookup", async {
                conn.exec_first(
                    "SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND Host = ?",
                    (user, host),
                )
                .await
                .map_err(|e| self.classify(e))
            })
            .await?;
        let Some((kind, cipher, issuer, subject)) = row else {
            return Err(DbError::Query(format!(
                "user `{user}`@`{host}` does not exist"
            )));
        };
        Ok(require_clause(q, &kind, &cipher, &issuer, &subject))
    }

    async fn show_grants(&self, conn: &mut Conn, account: &str) -> Result<Vec<String>, DbError> {
        bounded(self.settings.timeout, "SHOW GRANTS", async {
            conn.query(format!("SHOW GRANTS FOR {account}"))
                .await
                .map_err(|e| self.classify(e))
        })
        .await
    }

    async fn account_exists(
        &self,
        conn: &mut Conn,
        user: &str,
        host: &str,
    ) -> Result<bool, DbError> {
        let n: Option<i64> = bounded(self.settings.timeout, "account lookup", async {
            conn.exec_first(
                "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?",
                (user, host),
            )
            .await
            .map_err(|e| self.classify(e))
        })
        .await?;
        Ok(n.unwrap_or(0) > 0)
    }

    /// `base`'s grants (`base_grants`, as `SHOW GRANTS` lists them) and `other`'s, both written
    /// as `other`'s: what `other` lacks of `base`'s, and what it holds beyond them.
    async fn compare_grants(
        &self,
        conn: &mut Conn,
        q: Quoting,
        base_grants: &[String],
        base: &str,
        other: &str,
        host: &str,
    ) -> Result<(usize, usize), DbError> {
        let want: BTreeSet<String> = grants_for_clone(q, base_grants, base, host, other)
            .into_iter()
            .collect();
        let have: BTreeSet<String> = grants_for_clone(
            q,
            &self.show_grants(conn, &q.account(other, host)).await?,
            other,
            host,
            other,
        )
        .into_iter()
        .collect();
        Ok((
            want.difference(&have).count(),
            have.difference(&want).count(),
        ))
    }

    /// The account host of the pair: the one the current credentials proved, else `base`'s.
    async fn pair_host(
        &self,
        conn: &mut Conn,
        current: &Proven,
        base: &str,
    ) -> Result<String, DbError> {
        match &current.host {
            Some(host) if !host.is_empty() => Ok(host.clone()),
            _ => self.host_of(conn, base).await,
        }
    }
}

impl Database for MySql {
    fn max_username(&self) -> usize {
        self.settings.mysql_max_username
    }

    /// Logs in with `c` and runs a trivial query.
    async fn check_login(&self, c: &Credentials) -> Result<(), DbError> {
        let mut conn = self.connect(c).await?;
        self.exec(&mut conn, "SELECT 1").await?;
        let _ = conn.disconnect().await;
        Ok(())
    }

    /// Logs in with `c` and returns the account the server matched (`CURRENT_USER()`): with an
    /// anonymous account or several hosts for one user, the name alone does not say which.
    async fn current_account(&self, c: &Credentials) -> Result<Proven, DbError> {
        let mut conn = self.connect(c).await?;
        let account: Option<String> =
            bounded(self.settings.timeout, "SELECT CURRENT_USER()", async {
                conn.query_first("SELECT CURRENT_USER()")
                    .await
                    .map_err(|e| self.classify(e))
            })
            .await?;
        let _ = conn.disconnect().await;
        let account = account.unwrap_or_default();
        let (user, host) = account.rsplit_once('@').unwrap_or((account.as_str(), ""));
        Ok(Proven {
            user: user.to_owned(),
            host: Some(host.to_owned()),
        })
    }

    /// The logged-in user (`login`, whose own user `role` is) changes its own password.
    async fn set_password(
        &self,
        login: &Credentials,
        _role: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        self.set_own_password(login, password).await
    }

    /// As the administrator: make `user` a working alternate of `base` with `password`, for a
    /// secret whose current credentials proved the account `current`.
    ///
    /// Order matters: a new clone is created locked and without a password, gets `base`'s grants
    /// and then its TLS requirement, password and unlock in one `ALTER USER`. The grants are
    /// re-applied on every call (GRANT is idempotent), so when one fails — the administrator lacks
    /// GRANT OPTION on a privilege, a timeout, a crash — every retry fails the same way until the
    /// clone is complete; it never logs in with the pending password and fewer privileges.
    /// `base`'s own password is changed only when the current user already holds all of `base`'s
    /// grants (a `_clone` name proves nothing), and an existing clone that holds more than
    /// `base` is refused.
    async fn ensure_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        let mut conn = self.connect(admin).await?;
        let q = self.quoting(&mut conn).await?;
        let host = self.pair_host(&mut conn, current, base).await?;
        self.refuse_privileged(&mut conn, &[base, user, current.user.as_str()])
            .await?;
        let account = q.account(user, &host);
        // These lines may carry the original user's password hash: they are only rewritten
        // (without it), compared and executed, never logged.
        let grants = self.show_grants(&mut conn, &q.account(base, &host)).await?;
        if user == base {
            if current.user != base {
                let (missing, _) = self
                    .compare_grants(&mut conn, q, &grants, base, &current.user, &host)
                    .await?;
                if missing > 0 {
                    return Err(DbError::Refused(format!(
                        "the current user `{}` lacks {missing} of `{base}`'s grants; `{base}`'s password is changed only for the alternate that stands in for it",
                        current.user
                    )));
                }
            }
            // Back to the original user: it has its own grants; only the password changes.
            self.exec_secret(
                &mut conn,
                "ALTER USER … IDENTIFIED BY",
                &SecretString::from(format!(
                    "ALTER USER {account} IDENTIFIED BY {}",
                    q.literal(password.expose())
                )),
            )
            .await?;
            let _ = conn.disconnect().await;
            return Ok(());
        }
        let require = self.tls_requirement(&mut conn, q, base, &host).await?;
        if !self.account_exists(&mut conn, user, &host).await? {
            self.exec(&mut conn, &format!("CREATE USER {account} ACCOUNT LOCK"))
                .await?;
        } else {
            let (_, extra) = self
                .compare_grants(&mut conn, q, &grants, base, user, &host)
                .await?;
            if extra > 0 {
                return Err(DbError::Refused(format!(
                    "the existing alternate `{user}` holds {extra} grant(s) that `{base}` does not; it must hold `{base}`'s privileges and nothing more"
                )));
            }
        }
        for grant in grants_for_clone(q, &grants, base, &host, user) {
            self.exec(&mut conn, &grant).await.map_err(|e| {
            DbError::Query(format!(
                "copying `{base}`'s grants to `{user}` failed ({e}); the administrator needs GRANT OPTION on every privilege of `{base}`"
            ))
        })?;
        }
        self.exec_secret(
            &mut conn,
            "ALTER USER … IDENTIFIED BY … REQUIRE … ACCOUNT UNLOCK",
            &SecretString::from(format!(
                "ALTER USER {account} IDENTIFIED BY {} {require} ACCOUNT UNLOCK",
                q.literal(password.expose())
            )),
        )
        .await?;
        let _ = conn.disconnect().await;
        Ok(())
    }

    /// testSecret, as the administrator: `clone` holds exactly the grants of `base` and the same
    /// TLS requirement. Only counts are reported: grant lines and TLS subjects stay in the server.
    async fn verify_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        pending: &Credentials,
        base: &str,
    ) -> Result<(), DbError> {
        let clone = pending.username.as_str();
        let mut conn = self.connect(admin).await?;
        let q = self.quoting(&mut conn).await?;
        let host = self.pair_host(&mut conn, current, base).await?;
        let grants = self.show_grants(&mut conn, &q.account(base, &host)).await?;
        let (missing, extra) = self
            .compare_grants(&mut conn, q, &grants, base, clone, &host)
            .await?;
        if missing > 0 || extra > 0 {
            return Err(DbError::Refused(format!(
                "the alternate user `{clone}` lacks {missing} and has {extra} extra of `{base}`'s grants; setSecret must complete first"
            )));
        }
        let (want_tls, have_tls) = (
            self.tls_requirement(&mut conn, q, base, &host).await?,
            self.tls_requirement(&mut conn, q, clone, &host).await?,
        );
        if want_tls != have_tls {
            return Err(DbError::Refused(format!(
                "the alternate user `{clone}` does not have `{base}`'s TLS requirement; setSecret must complete first"
            )));
        }
        let _ = conn.disconnect().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_follow_the_sessions_backslash_mode() {
        let escapes = Quoting {
            no_backslash_escapes: false,
        };
        assert_eq!(escapes.literal("it's"), "'it\\'s'");
        assert_eq!(escapes.literal("a\\b"), "'a\\\\b'");
        let plain = Quoting {
            no_backslash_escapes: true,
        };
        assert_eq!(plain.literal("it's"), "'it''s'");
        assert_eq!(plain.literal("a\\b"), "'a\\b'");
    }

    #[test]
    fn password_statement_errors_keep_only_the_code() {
        let password = "Sup3r'Secret";
        let server = mysql_async::ServerError {
            code: 1064,
            message: format!("You have an error in your SQL syntax; check the manual near '{password}' at line 1"),
            state: "42000".into(),
        };
        let e = classify_secret_statement("SET PASSWORD", mysql_async::Error::Server(server))
            .to_string();
        assert_eq!(
            e,
            "statement failed: SET PASSWORD failed (server error 1064: syntax error)"
        );
        assert!(!e.contains(password));
    }

    #[test]
    fn tls_requirements_become_require_clauses() {
        let q = Quoting {
            no_backslash_escapes: false,
        };
        assert_eq!(require_clause(q, "", b"", b"", b""), "REQUIRE NONE");
        assert_eq!(require_clause(q, "ANY", b"", b"", b""), "REQUIRE SSL");
        assert_eq!(require_clause(q, "X509", b"", b"", b""), "REQUIRE X509");
        assert_eq!(
            require_clause(q, "SPECIFIED", b"", b"/CN=ca", b"/CN=app"),
            "REQUIRE ISSUER '/CN=ca' AND SUBJECT '/CN=app'"
        );
    }

    #[test]
    fn grants_are_rewritten_for_the_clone_without_password_clauses() {
        let grants = vec![
            "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 5".to_owned(),
            "GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`%` WITH GRANT OPTION".to_owned(),
            "GRANT SELECT ON `x`.`t` TO 'app'@'%'".to_owned(),
            "GRANT PROXY ON ''@'%' TO 'app'@'%' WITH GRANT OPTION".to_owned(),
        ];
        let q = Quoting {
            no_backslash_escapes: false,
        };
        let out = grants_for_clone(q, &grants, "app", "%", "app_clone");
        assert_eq!(
            out,
            vec![
                "GRANT USAGE ON *.* TO 'app_clone'@'%' WITH MAX_QUERIES_PER_HOUR 5",
                "GRANT ALL PRIVILEGES ON `shop`.* TO 'app_clone'@'%' WITH GRANT OPTION",
                "GRANT SELECT ON `x`.`t` TO 'app_clone'@'%'",
            ]
        );
        assert!(out.iter().all(|g| !g.contains("PASSWORD")));
        // Object names that look like clauses or grantees are never rewritten or cut.
        let tricky = vec![
            "GRANT SELECT ON `x IDENTIFIED y`.`z WITH w` TO `app`@`%`".to_owned(),
            "GRANT SELECT ON `app@%`.* TO `app`@`%`".to_owned(),
            "SET DEFAULT ROLE `r` FOR `app`@`%`".to_owned(),
        ];
        assert_eq!(
            grants_for_clone(q, &tricky, "app", "%", "app_clone"),
            vec![
                "GRANT SELECT ON `x IDENTIFIED y`.`z WITH w` TO 'app_clone'@'%'",
                "GRANT SELECT ON `app@%`.* TO 'app_clone'@'%'",
                "SET DEFAULT ROLE `r` FOR 'app_clone'@'%'",
            ]
        );
    }
}
