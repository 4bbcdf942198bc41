//! Which system a secret's credentials are for: a database engine, or none.
//!
//! The lowest module of the crate, with no imports of its own: credential parsing (the default
//! port), the RDS lookup (which engines a server runs), the database layer (which
//! implementation to use) and the rotation steps all name an engine, and none of them may
//! import another just for this name without closing a cycle.

/// The system whose credentials the secret holds: a database, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Database(DbEngine),
    /// No target system: a new random value is the whole rotation.
    Generic,
}

/// A database engine: what the database code is for. A generic secret has none, so no path
/// from it reaches the database layer ([`Engine`] holds one only for a database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEngine {
    Postgres,
    MySql,
}

impl DbEngine {
    pub fn as_str(self) -> &'static str {
        match self {
            DbEngine::Postgres => "postgres",
            DbEngine::MySql => "mysql",
        }
    }
}
