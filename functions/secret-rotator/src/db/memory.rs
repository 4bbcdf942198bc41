//! An in-memory database server for the rotation steps' unit tests: users and their
//! passwords, two switches (the server is down; statements fail), and a record of what was
//! asked. The engines' real statements are tested against real servers by the integration
//! tests.

use std::collections::HashMap;
use std::sync::Mutex;

use ecs_secrets_shared::secret::SecretString;

use super::{Database, Databases, DbError, Proven};
use crate::credentials::Credentials;
use crate::engine::DbEngine;

/// What the fake was asked to do, in order. Passwords stay in [`SecretString`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A login (of any operation), with the TLS setting it asked for.
    Login {
        user: String,
        password: SecretString,
        ssl: Option<bool>,
    },
    SetPassword {
        login_user: String,
        role: String,
    },
    EnsureAlternate {
        admin: String,
        current: String,
        base: String,
        user: String,
    },
    VerifyAlternate {
        admin: String,
        pending: String,
        base: String,
    },
}

#[derive(Debug, Default)]
pub struct State {
    /// user → password.
    pub users: HashMap<String, SecretString>,
    /// The server does not answer: every login is [`DbError::Unreachable`].
    pub down: bool,
    /// Every statement that would change something fails with [`DbError::Query`].
    pub failing_statements: bool,
    pub calls: Vec<Call>,
    /// The engines the rotator asked for, in order.
    pub engines: Vec<DbEngine>,
}

/// One fake server; as [`Databases`] it stands in for every engine.
#[derive(Debug, Default)]
pub struct MemoryDatabase {
    pub state: Mutex<State>,
}

impl MemoryDatabase {
    pub fn with_users(users: &[(&str, &str)]) -> Self {
        let db = Self::default();
        for (user, password) in users {
            db.set(user, password);
        }
        db
    }

    pub fn set(&self, user: &str, password: &str) {
        self.state
            .lock()
            .unwrap()
            .users
            .insert(user.to_owned(), SecretString::from(password));
    }

    /// The password `user` has now.
    pub fn password_of(&self, user: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .users
            .get(user)
            .map(|p| p.expose().clone())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Every login as (user, password, ssl), in order.
    pub fn logins(&self) -> Vec<(String, String, Option<bool>)> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Login {
                    user,
                    password,
                    ssl,
                } => Some((user, password.expose().clone(), ssl)),
                _ => None,
            })
            .collect()
    }

    /// The calls other than logins.
    pub fn changes(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| !matches!(c, Call::Login { .. }))
            .collect()
    }

    pub fn engines(&self) -> Vec<DbEngine> {
        self.state.lock().unwrap().engines.clone()
    }

    fn login(&self, c: &Credentials) -> Result<(), DbError> {
        let mut s = self.state.lock().unwrap();
        s.calls.push(Call::Login {
            user: c.username.clone(),
            password: c.password.clone(),
            ssl: c.ssl,
        });
        if s.down {
            return Err(DbError::Unreachable("login: no answer within 5s".into()));
        }
        match s.users.get(&c.username) {
            Some(p) if p == &c.password => Ok(()),
            _ => Err(DbError::Auth(format!(
                "password authentication failed for user \"{}\"",
                c.username
            ))),
        }
    }

    /// Runs a change: fails when statements fail, else records it and applies `f`.
    fn change(&self, call: Call, f: impl FnOnce(&mut State)) -> Result<(), DbError> {
        let mut s = self.state.lock().unwrap();
        if s.failing_statements {
            return Err(DbError::Query("permission denied (SQLSTATE 42501)".into()));
        }
        s.calls.push(call);
        f(&mut s);
        Ok(())
    }
}

impl Database for MemoryDatabase {
    fn max_username(&self) -> usize {
        63
    }

    async fn check_login(&self, c: &Credentials) -> Result<(), DbError> {
        self.login(c)
    }

    async fn current_account(&self, c: &Credentials) -> Result<Proven, DbError> {
        self.login(c)?;
        Ok(Proven {
            user: c.username.clone(),
            host: None,
        })
    }

    async fn set_password(
        &self,
        login: &Credentials,
        role: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        self.login(login)?;
        let call = Call::SetPassword {
            login_user: login.username.clone(),
            role: role.to_owned(),
        };
        self.change(call, |s| {
            s.users.insert(role.to_owned(), password.clone());
        })
    }

    async fn ensure_alternate(
        &self,
        admin: &Credentials,
        current: &Proven,
        base: &str,
        user: &str,
        password: &SecretString,
    ) -> Result<(), DbError> {
        self.login(admin)?;
        let call = Call::EnsureAlternate {
            admin: admin.username.clone(),
            current: current.user.clone(),
            base: base.to_owned(),
            user: user.to_owned(),
        };
        self.change(call, |s| {
            s.users.insert(user.to_owned(), password.clone());
        })
    }

    async fn verify_alternate(
        &self,
        admin: &Credentials,
        _current: &Proven,
        pending: &Credentials,
        base: &str,
    ) -> Result<(), DbError> {
        self.login(admin)?;
        let mut s = self.state.lock().unwrap();
        s.calls.push(Call::VerifyAlternate {
            admin: admin.username.clone(),
            pending: pending.username.clone(),
            base: base.to_owned(),
        });
        if s.users.contains_key(base) {
            Ok(())
        } else {
            Err(DbError::Refused(format!("role `{base}` does not exist")))
        }
    }
}

impl Databases for MemoryDatabase {
    type Database = Self;

    fn database(&self, engine: DbEngine) -> &Self {
        self.state.lock().unwrap().engines.push(engine);
        self
    }
}
