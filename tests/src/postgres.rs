//! A PostgreSQL server from Debian's packages, in a temporary directory on 127.0.0.1.
//!
//! `initdb --auth-host=scram-sha-256` makes password checks real: a test that logs in with a
//! wrong password fails, as it would against RDS. `fsync=off` and friends make start-up and
//! DDL fast; durability does not matter for a server that lives as long as one test.

use std::time::Duration;

use anyhow::{Context, Result};
use nix::sys::signal::Signal;
use tempfile::TempDir;
use tokio_postgres::{Client, Config, NoTls};

use crate::process::{
    chown_tree, command, make_traversable, on_free_port, run, service_user, ServerProcess,
};
use crate::tls::TestCa;

/// How to log in to a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgLogin {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    pub password: String,
}

impl PgLogin {
    pub fn config(&self) -> Config {
        let mut c = Config::new();
        c.host(&self.host)
            .port(self.port)
            .dbname(&self.dbname)
            .user(&self.user)
            .password(&self.password)
            .connect_timeout(Duration::from_secs(5));
        c
    }

    /// Connects (no TLS: the harness server has none) and drives the connection in the background.
    pub async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = self.config().connect(NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }
}

/// A running PostgreSQL server and its superuser login.
#[derive(Debug)]
pub struct Postgres {
    superuser: PgLogin,
    process: ServerProcess,
    _dir: TempDir,
}

impl Postgres {
    pub async fn start() -> Result<Self> {
        Self::start_with(None).await
    }

    /// A server that also offers TLS with a certificate signed by `ca` (plaintext logins stay
    /// possible, as on a server with `ssl = on` and `host` lines in pg_hba.conf).
    pub async fn start_with_tls(ca: &TestCa) -> Result<Self> {
        Self::start_with(Some(ca)).await
    }

    async fn start_with(ca: Option<&TestCa>) -> Result<Self> {
        let bin = crate::paths::postgres_bin_dir()?;
        let user = service_user("postgres")?;
        let dir = tempfile::Builder::new()
            .prefix("ecs-secrets-pg-")
            .tempdir()?;
        make_traversable(dir.path())?;
        let data = dir.path().join("data");
        let password = crate::random::random_token(24);
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, &password)?;
        let tls = ca
            .map(|ca| ca.install_server_files(dir.path()))
            .transpose()?;
        if let Some(u) = &user {
            chown_tree(dir.path(), u)?;
        }
        let mut initdb = command(bin.join("initdb"), user.as_ref());
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--no-sync", "--encoding=UTF8", "--locale=C"]);
        run(initdb, "initdb").await?;
        std::fs::remove_file(&pwfile)?;

        let (process, superuser) = on_free_port("postgres", |port| {
            serve(
                &bin,
                user.as_ref(),
                dir.path(),
                &data,
                port,
                &password,
                tls.as_ref(),
            )
        })
        .await?;
        Ok(Self {
            superuser,
            process,
            _dir: dir,
        })
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel but never answered,
    /// like a database host that has hung. [`Postgres::resume`] thaws it.
    pub fn pause(&self) -> Result<()> {
        self.process.signal(Signal::SIGSTOP)
    }

    pub fn resume(&self) -> Result<()> {
        self.process.signal(Signal::SIGCONT)
    }

    pub fn superuser(&self) -> &PgLogin {
        &self.superuser
    }

    pub fn port(&self) -> u16 {
        self.superuser.port
    }

    /// A fresh database owned by a fresh login role that can reach only it.
    pub async fn fresh_database(&self) -> Result<PgLogin> {
        let admin = self
            .superuser
            .connect()
            .await
            .context("connecting as superuser")?;
        let name = format!("t_{}", crate::random::random_token(10));
        let password = crate::random::random_token(20);
        // Name and password are generated lowercase alphanumerics, so plain quoting is safe
        // here (test set-up only; product code never builds SQL from input this way).
        // CREATE DATABASE cannot share a transaction, so one statement at a time.
        for statement in [
            format!("CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'"),
            format!("CREATE DATABASE \"{name}\" OWNER \"{name}\""),
            format!("REVOKE CONNECT ON DATABASE \"{name}\" FROM PUBLIC"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .map_err(|e| anyhow::anyhow!("creating test database: {}", error_text(&e)))?;
        }
        Ok(PgLogin {
            host: self.superuser.host.clone(),
            port: self.superuser.port,
            dbname: name.clone(),
            user: name,
            password,
        })
    }
}

/// Starts `postgres` on `port` and waits until the superuser can log in.
async fn serve(
    bin: &std::path::Path,
    user: Option<&nix::unistd::User>,
    dir: &std::path::Path,
    data: &std::path::Path,
    port: u16,
    password: &str,
    tls: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> Result<(ServerProcess, PgLogin)> {
    let mut cmd = command(bin.join("postgres"), user);
    cmd.arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir);
    for setting in [
        "listen_addresses=127.0.0.1",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=40",
        "shared_buffers=16MB",
        "log_min_messages=warning",
        "log_statement=none",
    ] {
        cmd.args(["-c", setting]);
    }
    if let Some((cert, key)) = tls {
        cmd.args(["-c", "ssl=on"])
            .arg("-c")
            .arg(format!("ssl_cert_file={}", cert.display()))
            .arg("-c")
            .arg(format!("ssl_key_file={}", key.display()));
    }
    let mut process = ServerProcess::spawn(
        "postgres",
        cmd,
        dir.join(format!("postgres-{port}.log")),
        // Immediate shutdown: the server goes away with the test, nothing to keep.
        Signal::SIGQUIT,
    )?;
    let superuser = PgLogin {
        host: "127.0.0.1".into(),
        port,
        dbname: "postgres".into(),
        user: "postgres".into(),
        password: password.to_owned(),
    };
    process
        .wait_ready(Duration::from_secs(30), || {
            let login = superuser.clone();
            async move {
                login.connect().await?;
                Ok(())
            }
        })
        .await?;
    Ok((process, superuser))
}

/// The whole text of a driver error: tokio-postgres's `Display` says only "db error" and
/// keeps the server's message in the source.
pub fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {} ({})", db.message(), db.code().code()),
        None => format!("{e:#}"),
    }
}
