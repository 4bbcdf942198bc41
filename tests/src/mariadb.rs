//! A MariaDB server from Debian's packages, in a temporary directory on 127.0.0.1.
//!
//! `mariadb-install-db --auth-root-authentication-method=normal` creates the system tables;
//! an `--init-file` then creates the harness's administrator with a password, so every login
//! the tests make is a real password login over TCP.

use std::time::Duration;

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::paths::find_in_path;
use crate::process::{
    chown_tree, command, make_traversable, on_free_port, run, service_user, ServerProcess,
};
use crate::tls::TestCa;

/// How to log in to a MariaDB database.
#[derive(Debug, Clone)]
pub struct MariaDbLogin {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    pub password: String,
}

impl MariaDbLogin {
    pub fn opts(&self) -> OptsBuilder {
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .db_name(Some(self.dbname.clone()))
            .prefer_socket(false)
    }

    pub async fn connect(&self) -> Result<Conn, mysql_async::Error> {
        Conn::new(self.opts()).await
    }
}

/// A running MariaDB server and its administrator login.
#[derive(Debug)]
pub struct MariaDb {
    admin: MariaDbLogin,
    _process: ServerProcess,
    _dir: TempDir,
}

fn program(name: &str) -> Result<std::path::PathBuf> {
    find_in_path(name).with_context(|| {
        format!("`{name}` not found: run scripts/setup.sh (installs Debian's mariadb-server)")
    })
}

impl MariaDb {
    pub async fn start() -> Result<Self> {
        Self::start_with(None).await
    }

    /// A server that also offers TLS with a certificate signed by `ca`.
    pub async fn start_with_tls(ca: &TestCa) -> Result<Self> {
        Self::start_with(Some(ca)).await
    }

    async fn start_with(ca: Option<&TestCa>) -> Result<Self> {
        let install_db = program("mariadb-install-db")?;
        let server = program("mariadbd")?;
        let user = service_user("mysql")?;
        let dir = tempfile::Builder::new()
            .prefix("ecs-secrets-mariadb-")
            .tempdir()?;
        make_traversable(dir.path())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data)?;
        // A private tmpdir: mariadbd deletes stray `#sql*` files in its tmpdir at start-up, so
        // servers sharing /tmp delete each other's temporary tables.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp)?;
        let password = crate::random::random_token(24);
        let init = dir.path().join("init.sql");
        std::fs::write(
            &init,
            format!(
                "CREATE USER IF NOT EXISTS 'harness'@'%' IDENTIFIED BY '{password}';\n\
                 GRANT ALL PRIVILEGES ON *.* TO 'harness'@'%' WITH GRANT OPTION;\n"
            ),
        )?;
        let tls = ca
            .map(|ca| ca.install_server_files(dir.path()))
            .transpose()?;
        if let Some(u) = &user {
            chown_tree(dir.path(), u)?;
        }
        // Run as root with --user: the installer drops privileges for the server itself but
        // needs root to set up the PAM helper's ownership.
        let mut cmd = command(&install_db, None);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if let Some(u) = &user {
            cmd.arg(format!("--user={}", u.name));
        }
        if let Err(e) = run(cmd, "mariadb-install-db").await {
            let logs: String = std::fs::read_dir(&data)?
                .flatten()
                .filter(|f| f.path().extension().is_some_and(|x| x == "err"))
                .filter_map(|f| std::fs::read_to_string(f.path()).ok())
                .collect();
            return Err(e.context(format!("server log of the installation:\n{logs}")));
        }

        let (process, admin) = on_free_port("mariadbd", |port| {
            let mut cmd = command(&server, user.as_ref());
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(format!(
                    "--socket={}",
                    dir.path().join("mysqld.sock").display()
                ))
                .arg(format!(
                    "--pid-file={}",
                    dir.path().join("mysqld.pid").display()
                ))
                .arg(format!("--init-file={}", init.display()))
                .arg(format!("--tmpdir={}", tmp.display()))
                .args([
                    "--bind-address=127.0.0.1",
                    &format!("--port={port}"),
                    "--skip-name-resolve",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=16M",
                    "--innodb-log-file-size=8M",
                    "--innodb-flush-log-at-trx-commit=0",
                    "--performance-schema=OFF",
                    "--max-connections=40",
                ]);
            if let Some(u) = &user {
                cmd.arg(format!("--user={}", u.name));
            }
            if let Some((cert, key)) = &tls {
                cmd.arg(format!("--ssl-cert={}", cert.display()))
                    .arg(format!("--ssl-key={}", key.display()));
            }
            let log = dir.path().join(format!("mariadb-{port}.log"));
            let admin = MariaDbLogin {
                host: "127.0.0.1".into(),
                port,
                dbname: "mysql".into(),
                user: "harness".into(),
                password: password.clone(),
            };
            async move {
                let mut process = ServerProcess::spawn("mariadbd", cmd, log, Signal::SIGTERM)?;
                process
                    .wait_ready(Duration::from_secs(30), || {
                        let login = admin.clone();
                        async move {
                            login.connect().await?.disconnect().await?;
                            Ok(())
                        }
                    })
                    .await?;
                Ok((process, admin))
            }
        })
        .await?;
        Ok(Self {
            admin,
            _process: process,
            _dir: dir,
        })
    }

    pub fn admin(&self) -> &MariaDbLogin {
        &self.admin
    }

    pub fn port(&self) -> u16 {
        self.admin.port
    }

    /// A fresh database and a fresh user with all privileges on it and nothing else.
    pub async fn fresh_database(&self) -> Result<MariaDbLogin> {
        let mut conn = self
            .admin
            .connect()
            .await
            .context("connecting as administrator")?;
        let name = format!("t_{}", crate::random::random_token(10));
        let password = crate::random::random_token(20);
        // Generated lowercase alphanumerics only: plain quoting is safe in this set-up code.
        conn.query_drop(format!(
            "CREATE DATABASE `{name}`; \
             CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'; \
             GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%';"
        ))
        .await
        .context("creating test database")?;
        conn.disconnect().await?;
        Ok(MariaDbLogin {
            host: self.admin.host.clone(),
            port: self.admin.port,
            dbname: name.clone(),
            user: name,
            password,
        })
    }
}
