//! The real [`Databases`]: the servers a secret names, reached over the network by the
//! engine's implementation ([`Postgres`], [`MySql`]) with the settings read at start-up.
//!
//! A module of its own because it is the one place that knows every engine: the engines
//! import the shared vocabulary of [`crate::db`], and this module imports them, so neither
//! the vocabulary nor an engine needs to import the other back.

use ecs_secrets_shared::secret::SecretString;

use super::mysql::MySql;
use super::postgres::Postgres;
use super::{Database, Databases, DbError, DbSettings, Proven};
use crate::credentials::Credentials;
use crate::engine::DbEngine;

/// One engine's implementation.
#[derive(Debug, Clone)]
pub enum Server {
    Postgres(Postgres),
    MySql(MySql),
}

/// Every engine's implementation, with the same settings.
#[derive(Debug, Clone)]
pub struct Servers {
    postgres: Server,
    mysql: Server,
}

impl Servers {
    pub fn new(settings: DbSettings) -> Self {
        Self {
            postgres: Server::Postgres(Postgres::new(settings.clone())),
            mysql: Server::MySql(MySql::new(settings)),
        }
    }
}

impl Databases for Servers {
    type Database = Server;

    fn database(&self, engine: DbEngine) -> &Server {
        match engine {
            DbEngine::Postgres => &self.postgres,
            DbEngine::MySql => &self.mysql,
        }
    }
}

impl Database for Server {
    fn max_username(&self) -> usize {
        match self {
            Server::Postgres(db) => db.max_username(),
            Server::MySql(db) => db.max_username(),
        }
    }

    async fn check_login(&self, c: &Credentials) -> Result<(), DbError> {
        match self {
            Server::Postgres(db) => db.check_login(c).await,
            Server::MySql(db) => db.check_login(c).await,
        }
    }

    async fn current_account(&self, c: &Credentials) -> Result<Proven, DbError> {
        match self {
            Server::Postgres(db) => db.current_account(c).await,
            Server::MySql(db) => db.current_account(c).await,
        }
    }

    async fn set_password(
        &self,
        login: &Credentials,
        role: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        match self {
            Server::Postgres(db) => db.set_password(login, role, password).await,
            Server::MySql(db) => db.set_password(login, role, password).await,
        }
    }

    async fn ensure_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        match self {
            Server::Postgres(db) => {
                db.ensure_alternate(admin, current, base, user, password)
                    .await
            }
            Server::MySql(db) => {
                db.ensure_alternate(admin, current, base, user, password)
                    .await
            }
        }
    }

    async fn verify_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        pending: &Credentials,
        base: &str,
    ) -> Result<(), DbError> {
        match self {
            Server::Postgres(db) => db.verify_alternate(admin, current, pending, base).await,
            Server::MySql(db) => db.verify_alternate(admin, current, pending, base).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_gets_its_own_implementation_and_the_settings() {
        let settings = DbSettings {
            mysql_max_username: 80,
            ..DbSettings::default()
        };
        let servers = Servers::new(settings);
        assert!(matches!(
            servers.database(DbEngine::Postgres),
            Server::Postgres(_)
        ));
        assert!(matches!(
            servers.database(DbEngine::MySql),
            Server::MySql(_)
        ));
        assert_eq!(servers.database(DbEngine::Postgres).max_username(), 63);
        assert_eq!(servers.database(DbEngine::MySql).max_username(), 80);
    }
}
