//! Database credentials as they are stored in a secret (the AWS convention: `engine`, `host`,
//! `port`, `username`, `password`, `dbname`, `masterarn`, `ssl`), parsed once with an error
//! that names the field.

use ecs_secrets_shared::secret::SecretString;
use serde_json::{Map, Value};

use crate::engine::DbEngine;
use crate::error::ErrorKind;

/// What a database login needs, from one secret version.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: SecretString,
    pub dbname: Option<String>,
    /// Set for the alternating-users strategy: the secret holding the administrator login.
    pub masterarn: Option<String>,
    /// `Some(true)`: TLS required and verified; `Some(false)`: plaintext; `None`: TLS when the
    /// server offers it.
    pub ssl: Option<bool>,
}

fn invalid(field: &'static str, cause: impl Into<String>) -> ErrorKind {
    ErrorKind::InvalidSecret {
        field,
        cause: cause.into(),
    }
}

fn text(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ErrorKind> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(invalid(field, "is empty")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(field, "is not a string")),
    }
}

fn object(value: &SecretString) -> Result<Map<String, Value>, ErrorKind> {
    match serde_json::from_str::<Value>(value.expose()) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid(
            "(value)",
            "a database secret must be a JSON object",
        )),
    }
}

/// The administrator secret (`masterarn`) of alternating users.
#[derive(Debug)]
pub enum AdminSecret {
    /// A secret with its own `host`: complete credentials.
    Complete(Credentials),
    /// No `host`: only a login, as in the master secret RDS manages (`username` and `password`
    /// and nothing else). Its server is looked up from RDS ([`crate::rds`]).
    LoginOnly {
        username: String,
        password: SecretString,
    },
}

impl AdminSecret {
    pub fn parse(value: &SecretString, engine: DbEngine) -> Result<Self, ErrorKind> {
        let map = object(value)?;
        if matches!(map.get("host"), None | Some(Value::Null)) {
            let required = |field: &'static str| {
                text(&map, field)?.ok_or_else(|| invalid(field, "is missing"))
            };
            return Ok(AdminSecret::LoginOnly {
                username: required("username")?,
                password: SecretString::from(required("password")?),
            });
        }
        Credentials::from_map(&map, engine).map(AdminSecret::Complete)
    }
}

impl Credentials {
    pub fn parse(value: &SecretString, engine: DbEngine) -> Result<Self, ErrorKind> {
        Self::from_map(&object(value)?, engine)
    }

    fn from_map(map: &Map<String, Value>, engine: DbEngine) -> Result<Self, ErrorKind> {
        let required =
            |field: &'static str| text(map, field)?.ok_or_else(|| invalid(field, "is missing"));
        let default_port = match engine {
            DbEngine::MySql => 3306,
            _ => 5432,
        };
        let port = match map.get("port") {
            None | Some(Value::Null) => default_port,
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| invalid("port", "is not a port number (1-65535)"))?,
            Some(Value::String(s)) => s
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| invalid("port", "is not a port number (1-65535)"))?,
            Some(_) => return Err(invalid("port", "is not a number")),
        };
        let ssl = match map.get("ssl") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => return Err(invalid("ssl", "is not true or false")),
        };
        Ok(Self {
            host: required("host")?,
            port,
            username: required("username")?,
            password: SecretString::from(required("password")?),
            dbname: text(map, "dbname")?,
            masterarn: text(map, "masterarn")?,
            ssl,
        })
    }

    /// Whether `other` is for the same server (host compared without case, as DNS does).
    pub fn same_endpoint(&self, other: &Credentials) -> bool {
        self.host.eq_ignore_ascii_case(&other.host) && self.port == other.port
    }

    /// These credentials with another password (everything else, `ssl` included, unchanged).
    pub fn with_password(&self, password: SecretString) -> Credentials {
        Credentials {
            password,
            ..self.clone()
        }
    }

    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The other user of an alternating pair: `app` ↔ `app_clone`.
pub fn alternate_username(user: &str, max_len: usize) -> Result<String, ErrorKind> {
    if let Some(base) = user.strip_suffix("_clone") {
        if !base.is_empty() {
            return Ok(base.to_owned());
        }
    }
    let clone = format!("{user}_clone");
    if clone.len() > max_len {
        return Err(ErrorKind::UsernameTooLong {
            username: clone,
            max: max_len,
        });
    }
    Ok(clone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value, engine: DbEngine) -> Result<Credentials, String> {
        Credentials::parse(&SecretString::from(v.to_string()), engine).map_err(|e| e.to_string())
    }

    #[test]
    fn fields_defaults_and_forms() {
        let c = parse(
            json!({"engine": "postgres", "host": "db", "username": "app", "password": "p"}),
            DbEngine::Postgres,
        )
        .unwrap();
        assert_eq!(
            (c.port, c.dbname.as_deref(), c.ssl, c.masterarn.as_deref()),
            (5432, None, None, None)
        );
        let c = parse(
            json!({"host": "db", "username": "app", "password": "p"}),
            DbEngine::MySql,
        )
        .unwrap();
        assert_eq!(c.port, 3306);
        let c = parse(json!({"host": "db", "port": "6543", "username": "a", "password": "p", "ssl": "TRUE", "dbname": "x", "masterarn": "arn:m"}), DbEngine::Postgres).unwrap();
        assert_eq!(
            (c.port, c.ssl, c.dbname.as_deref(), c.masterarn.as_deref()),
            (6543, Some(true), Some("x"), Some("arn:m"))
        );
        assert_eq!(c.endpoint(), "db:6543");
        let c = parse(
            json!({"host": "db", "port": 1, "username": "a", "password": "p", "ssl": false}),
            DbEngine::Postgres,
        )
        .unwrap();
        assert_eq!((c.port, c.ssl), (1, Some(false)));
    }

    #[test]
    fn bad_fields_are_named_and_values_never_shown() {
        let base = json!({"host": "db", "username": "app", "password": "s3cret-pw"});
        let cases = [
            ("host", Value::Null, "`host` is missing"),
            ("username", json!(""), "`username` is empty"),
            ("password", json!(42), "`password` is not a string"),
            ("port", json!(70000), "`port` is not a port number"),
            ("port", json!("abc"), "`port` is not a port number"),
            ("port", json!(0), "`port` is not a port number"),
            ("port", json!([1]), "`port` is not a number"),
            ("ssl", json!("maybe"), "`ssl` is not true or false"),
        ];
        for (field, value, needle) in cases {
            let mut v = base.clone();
            v[field] = value;
            let err = parse(v, DbEngine::Postgres).unwrap_err();
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
        assert!(parse(json!("just a string"), DbEngine::Postgres)
            .unwrap_err()
            .contains("JSON object"));
    }

    #[test]
    fn alternating_usernames() {
        assert_eq!(alternate_username("app", 63).unwrap(), "app_clone");
        assert_eq!(alternate_username("app_clone", 63).unwrap(), "app");
        assert_eq!(alternate_username("_clone", 63).unwrap(), "_clone_clone");
        assert_eq!(alternate_username(&"u".repeat(26), 32).unwrap().len(), 32);
        let err = alternate_username(&"u".repeat(27), 32)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("33 characters") || err.contains("longer than 32"),
            "{err}"
        );
    }
}
