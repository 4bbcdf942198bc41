//! The test harness of ecs-secrets: a real local world for every test.
//!
//! Nothing here is a mock. [`moto::Moto`] is moto's server (the AWS APIs this project calls),
//! [`postgres::Postgres`] and [`mariadb::MariaDb`] are the Debian database servers started in a
//! temporary directory, and [`lambda::LambdaFunction`] serves the Lambda Runtime API over
//! HTTP to a *built function binary*, so end-to-end tests exercise what ships.
//!
//! Isolation: a [`World`] starts its own servers, lazily and only those a test asks for, on
//! 127.0.0.1 and free ports, and stops them when dropped. Tests never share AWS or database
//! state, so they run in parallel (nextest runs each in its own process) and in any order.
//! Starting a world's moto or PostgreSQL takes about a second; that is the price of isolation
//! that needs no discipline from test authors.
//!
//! Every address the harness hands out is on loopback, and `.ci/run` runs the suite inside a
//! network namespace that has nothing else, so a stray connection fails the test instead of
//! leaving the machine.

pub mod esm;
pub mod faults;
pub mod lambda;
pub mod mariadb;
pub mod moto;
pub mod paths;
pub mod postgres;
pub mod process;
pub mod random;
pub mod rotation;
pub mod scheduler;
pub mod tls;

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use tokio::sync::OnceCell;

pub use lambda::{FunctionError, LambdaFunction};
pub use mariadb::{MariaDb, MariaDbLogin};
pub use moto::Moto;
pub use postgres::{PgLogin, Postgres};
pub use random::random_token;

/// The function binaries of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    SecretRotator,
    EcsRedeployer,
    TaskdefValidator,
}

impl Function {
    pub const ALL: [Function; 3] = [
        Function::SecretRotator,
        Function::EcsRedeployer,
        Function::TaskdefValidator,
    ];

    pub fn binary_name(self) -> &'static str {
        match self {
            Function::SecretRotator => "secret-rotator",
            Function::EcsRedeployer => "ecs-redeployer",
            Function::TaskdefValidator => "taskdef-validator",
        }
    }
}

/// One test's private set of servers.
#[derive(Debug)]
pub struct World {
    id: String,
    counter: AtomicU64,
    moto: OnceCell<Moto>,
    postgres: OnceCell<Postgres>,
    mariadb: OnceCell<MariaDb>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        Self {
            id: random_token(8),
            counter: AtomicU64::new(0),
            moto: OnceCell::new(),
            postgres: OnceCell::new(),
            mariadb: OnceCell::new(),
        }
    }

    /// A name unique to this world and call, for resources in shared namespaces.
    pub fn unique(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n}", self.id)
    }

    /// This world's moto server, started on first use.
    pub async fn moto(&self) -> Result<&Moto> {
        self.moto.get_or_try_init(Moto::start).await
    }

    /// This world's PostgreSQL server, started on first use.
    pub async fn postgres(&self) -> Result<&Postgres> {
        self.postgres.get_or_try_init(Postgres::start).await
    }

    /// This world's MariaDB server, started on first use.
    pub async fn mariadb(&self) -> Result<&MariaDb> {
        self.mariadb.get_or_try_init(MariaDb::start).await
    }

    /// Starts `function`'s built binary with exactly `env` (plus the Lambda variables), for
    /// tests that point it somewhere other than this world's moto (e.g. a fault proxy).
    pub async fn lambda_with_env(
        &self,
        function: Function,
        env: Vec<(String, String)>,
    ) -> Result<LambdaFunction> {
        LambdaFunction::start(function.binary_name(), &env).await
    }

    /// Starts `function`'s built binary under a Runtime API endpoint, configured to reach this
    /// world's moto, plus `env`.
    pub async fn lambda(&self, function: Function, env: &[(&str, &str)]) -> Result<LambdaFunction> {
        let mut all: Vec<(String, String)> = self.moto().await?.env();
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        LambdaFunction::start(function.binary_name(), &all).await
    }
}

/// Runs the built `ecs-secrets` CLI with a cleared environment plus `env` (e.g. [`Moto::env`]).
pub async fn ecs_secrets(args: &[&str], env: &[(String, String)]) -> Result<std::process::Output> {
    let mut cmd = tokio::process::Command::new(paths::binary("ecs-secrets")?);
    cmd.env_clear().env("PATH", "/usr/bin:/bin").args(args);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    Ok(cmd.output().await?)
}
