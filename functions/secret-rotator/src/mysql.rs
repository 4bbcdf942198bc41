//! MySQL and MariaDB: log in, change a password, create the alternate user.
//!
//! Single user: an ordinary user changes its own password. On MariaDB it cannot `ALTER USER`
//! itself (that needs CREATE USER) but can `SET PASSWORD = PASSWORD(…)`; on MySQL 8 it can
//! `ALTER USER CURRENT_USER() IDENTIFIED BY …`. The server's flavour decides.
//!
//! Alternating users: the administrator (CREATE USER and GRANT OPTION) creates the clone once,
//! replaying the grants `SHOW GRANTS` lists for the original user with the clone as grantee —
//! minus any `IDENTIFIED BY PASSWORD` clause, which carries the original's password hash and
//! is never executed, logged or returned.
//!
//! Literals (user names, hosts, passwords) are quoted with the driver's escaping
//! (`Value::as_sql`), never spliced raw.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts, Value};

use crate::credentials::Credentials;
use crate::db::{bounded, DbError};
use ecs_secrets_shared::secret::SecretString;

fn literal(s: &str) -> String {
    Value::from(s).as_sql(false)
}

/// Errors of a login: the server's access-denied codes mean the credentials do not work.
fn classify_login(e: mysql_async::Error) -> DbError {
    match e {
        // 1045 access denied (bad password / unknown user), 1044 no access to the database,
        // 1698 access denied for a plugin-authenticated user.
        mysql_async::Error::Server(s) if matches!(s.code, 1044 | 1045 | 1698) => {
            DbError::Auth(s.message)
        }
        other => classify(other),
    }
}

/// Errors of a statement on an open connection: access denied here is a missing privilege.
fn classify(e: mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(s) => DbError::Query(format!("{} ({})", s.message, s.code)),
        mysql_async::Error::Io(e) => DbError::Unreachable(e.to_string()),
        other => DbError::Unreachable(other.to_string()),
    }
}

fn opts(c: &Credentials, tls: bool) -> OptsBuilder {
    let mut builder = OptsBuilder::default()
        .ip_or_hostname(c.host.clone())
        .tcp_port(c.port)
        .user(Some(c.username.clone()))
        .pass(Some(c.password.expose().clone()))
        .db_name(c.dbname.clone())
        .prefer_socket(false)
        .wait_timeout(Some(60));
    if tls {
        // Verified against the bundled Mozilla roots, hostname included.
        builder = builder.ssl_opts(Some(SslOpts::default()));
    }
    builder
}

async fn connect_with(c: &Credentials, tls: bool) -> Result<Conn, DbError> {
    Conn::new(opts(c, tls)).await.map_err(classify_login)
}

/// Logs in with `c`: TLS required (`ssl: true`), plaintext (`ssl: false`), or TLS when the
/// server supports it (no `ssl` key). The whole login is bounded by the database timeout.
pub async fn connect(c: &Credentials) -> Result<Conn, DbError> {
    bounded("login", async {
        match c.ssl {
            Some(tls) => connect_with(c, tls).await,
            None => match Conn::new(opts(c, true)).await {
                Ok(conn) => Ok(conn),
                Err(mysql_async::Error::Driver(
                    mysql_async::DriverError::NoClientSslFlagFromServer,
                )) => connect_with(c, false).await,
                Err(e) => Err(classify_login(e)),
            },
        }
    })
    .await
}

async fn exec(conn: &mut Conn, statement: &SecretString) -> Result<(), DbError> {
    bounded("statement", async {
        conn.query_drop(statement.expose().as_str())
            .await
            .map_err(classify)
    })
    .await
}

async fn is_mariadb(conn: &mut Conn) -> Result<bool, DbError> {
    let version: Option<String> = bounded("SELECT VERSION()", async {
        conn.query_first("SELECT VERSION()").await.map_err(classify)
    })
    .await?;
    Ok(version
        .unwrap_or_default()
        .to_ascii_lowercase()
        .contains("mariadb"))
}

/// Logs in with `c` and runs a trivial query.
pub async fn check_login(c: &Credentials) -> Result<(), DbError> {
    let mut conn = connect(c).await?;
    exec(&mut conn, &SecretString::from("SELECT 1")).await?;
    let _ = conn.disconnect().await;
    Ok(())
}

/// The logged-in user (`login`) changes its own password.
pub async fn set_own_password(login: &Credentials, password: &SecretString) -> Result<(), DbError> {
    let mut conn = connect(login).await?;
    let statement = if is_mariadb(&mut conn).await? {
        format!("SET PASSWORD = PASSWORD({})", literal(password.expose()))
    } else {
        format!(
            "ALTER USER CURRENT_USER() IDENTIFIED BY {}",
            literal(password.expose())
        )
    };
    exec(&mut conn, &SecretString::from(statement)).await?;
    let _ = conn.disconnect().await;
    Ok(())
}

/// The host part of `user`'s account (`%` when it cannot be read).
async fn host_of(conn: &mut Conn, user: &str) -> String {
    let host = bounded("account host lookup", async {
        Ok(conn
            .exec_first::<String, _, _>(
                "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host = '%' DESC LIMIT 1",
                (user,),
            )
            .await)
    })
    .await;
    host.ok()
        .and_then(Result::ok)
        .flatten()
        .unwrap_or_else(|| "%".to_owned())
}

/// The grants of `account` (`'user'@'host'`) rewritten for `clone`, without password clauses.
fn grants_for_clone(grants: &[String], base: &str, host: &str, clone: &str) -> Vec<String> {
    let grantee_forms = [
        format!("`{base}`@`{host}`"),
        format!("'{base}'@'{host}'"),
        format!("{base}@{host}"),
    ];
    let clone_account = format!("{}@{}", literal(clone), literal(host));
    grants
        .iter()
        .filter(|g| {
            !g.trim_start()
                .to_ascii_uppercase()
                .starts_with("GRANT PROXY")
        })
        .map(|g| {
            let g = match g.find(" IDENTIFIED BY") {
                Some(i) => {
                    // Drop the password clause and keep anything after it (e.g. WITH GRANT OPTION).
                    let rest = &g[i..];
                    let tail = rest.find(" WITH ").map(|j| &rest[j..]).unwrap_or("");
                    format!("{}{}", &g[..i], tail)
                }
                None => g.clone(),
            };
            grantee_forms
                .iter()
                .fold(g, |acc, form| acc.replace(form.as_str(), &clone_account))
        })
        .collect()
}

/// As the administrator: make `user` exist with `password`, created with `base`'s grants.
pub async fn ensure_alternate(
    admin: &Credentials,
    base: &str,
    user: &str,
    password: &SecretString,
) -> Result<(), DbError> {
    let mut conn = connect(admin).await?;
    let host = host_of(&mut conn, base).await;
    let account = format!("{}@{}", literal(user), literal(&host));
    let exists = bounded("SHOW GRANTS", async {
        Ok(conn
            .query::<String, _>(format!("SHOW GRANTS FOR {account}"))
            .await)
    })
    .await?;
    match exists {
        Ok(_) => {
            exec(
                &mut conn,
                &SecretString::from(format!(
                    "ALTER USER {account} IDENTIFIED BY {}",
                    literal(password.expose())
                )),
            )
            .await?;
        }
        // 1141: no such grant / user.
        Err(mysql_async::Error::Server(s)) if s.code == 1141 => {
            let base_account = format!("{}@{}", literal(base), literal(&host));
            // These lines may carry the original user's password hash: they are only rewritten
            // (without it) and executed, never logged.
            let grants: Vec<String> = bounded("SHOW GRANTS", async {
                conn.query(format!("SHOW GRANTS FOR {base_account}"))
                    .await
                    .map_err(classify)
            })
            .await?;
            exec(
                &mut conn,
                &SecretString::from(format!(
                    "CREATE USER {account} IDENTIFIED BY {}",
                    literal(password.expose())
                )),
            )
            .await?;
            for grant in grants_for_clone(&grants, base, &host, user) {
                exec(&mut conn, &SecretString::from(grant)).await?;
            }
        }
        Err(e) => return Err(classify(e)),
    }
    let _ = conn.disconnect().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped_by_the_driver() {
        assert_eq!(literal("it's"), "'it\\'s'");
        assert_eq!(literal("a\\b"), "'a\\\\b'");
    }

    #[test]
    fn grants_are_rewritten_for_the_clone_without_password_clauses() {
        let grants = vec![
            "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'".to_owned(),
            "GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`%` WITH GRANT OPTION".to_owned(),
            "GRANT SELECT ON `x`.`t` TO 'app'@'%'".to_owned(),
            "GRANT PROXY ON ''@'%' TO 'app'@'%' WITH GRANT OPTION".to_owned(),
        ];
        let out = grants_for_clone(&grants, "app", "%", "app_clone");
        assert_eq!(
            out,
            vec![
                "GRANT USAGE ON *.* TO 'app_clone'@'%'",
                "GRANT ALL PRIVILEGES ON `shop`.* TO 'app_clone'@'%' WITH GRANT OPTION",
                "GRANT SELECT ON `x`.`t` TO 'app_clone'@'%'",
            ]
        );
        assert!(out.iter().all(|g| !g.contains("PASSWORD")));
    }
}
