//! A wrapper for values that must never be printed: passwords, SCRAM verifiers, rotation
//! tokens, whole secret strings.
//!
//! [`Redacted`] formats as `[REDACTED]` under both `Debug` and `Display`, so a value can sit in
//! a struct that derives `Debug`, in an error, or in a `tracing` field without leaking. It has
//! no `Serialize`: writing a secret out (to `PutSecretValue`, to a database) takes an explicit
//! [`Redacted::expose`], which is easy to find in review. Storage is `secrecy::SecretBox`, so
//! the memory is zeroed on drop.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Deserializer};

pub use secrecy::zeroize::Zeroize;

/// What every redacted value prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A value that never prints. See the module documentation.
pub struct Redacted<T: Zeroize>(SecretBox<T>);

/// The common case: a secret string.
pub type SecretString = Redacted<String>;

impl<T: Zeroize> Redacted<T> {
    pub fn new(value: T) -> Self {
        Self(SecretBox::new(Box::new(value)))
    }

    /// The value itself. Every call site is a place where a secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        self.0.expose_secret()
    }
}

impl<T: Zeroize> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Redacted<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

impl<T: Zeroize + Clone> Clone for Redacted<T> {
    fn clone(&self) -> Self {
        Self::new(self.expose().clone())
    }
}

impl<T: Zeroize + PartialEq> PartialEq for Redacted<T> {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl<T: Zeroize + Eq> Eq for Redacted<T> {}

impl<T: Zeroize> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Login {
        username: String,
        password: SecretString,
        #[serde(default)]
        token: Option<SecretString>,
    }

    #[test]
    fn never_prints_the_value() {
        let s = SecretString::from("correct horse battery staple");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s:#?}"), REDACTED);
        assert_eq!(s.expose(), "correct horse battery staple");
        assert_eq!(s.clone(), s);
    }

    #[test]
    fn redacted_inside_derived_debug_and_deserialised() {
        let login: Login = serde_json::from_str(
            r#"{"username":"app","password":"p4ss:w0rd/@\"'","token":"rot-tok-123"}"#,
        )
        .unwrap();
        let printed = format!("{login:?} {login:#?}");
        assert!(printed.contains("app"));
        for leaked in ["p4ss", "rot-tok"] {
            assert!(!printed.contains(leaked), "{printed}");
        }
        assert_eq!(login.password.expose(), "p4ss:w0rd/@\"'");
    }

    #[test]
    fn redacted_in_tracing_fields() {
        use std::io::Write;
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let secret = SecretString::from("s3cr3t-value");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(password = %secret, debug = ?secret, "logging a secret field");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("logging a secret field"), "{out}");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(out.contains(REDACTED), "{out}");
    }
}
