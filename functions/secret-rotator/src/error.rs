//! The rotator's errors. Each names the step and the secret and says what is wrong and what
//! to do; none carries a secret value (values live in `SecretString`, which does not print).

use crate::event::Step;
use crate::store::StoreError;

/// A failed step: which step, which secret, why.
#[derive(Debug, thiserror::Error)]
#[error("{step}: secret {secret}: {kind}")]
pub struct Error {
    pub step: Step,
    pub secret: String,
    pub kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("rotation is not enabled for this secret; configure rotation (RotateSecret) before invoking the rotation function")]
    RotationDisabled,
    #[error("version {token} is not a version of this secret")]
    UnknownVersion { token: String },
    #[error("version {token} is not staged AWSPENDING (its stages: {stages:?}); another rotation may have replaced it")]
    NotPending { token: String, stages: Vec<String> },
    #[error("the secret has no AWSCURRENT value to rotate from")]
    NoCurrentValue,
    #[error("the AWSPENDING version has no value; createSecret has not completed")]
    NoPendingValue,
    #[error("the secret's JSON has no `engine` key; set it to one of: {SUPPORTED_ENGINES}")]
    MissingEngine,
    #[error("engine `{0}` is not supported; supported engines: {SUPPORTED_ENGINES}")]
    UnsupportedEngine(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the secret's `{field}` {cause}")]
    InvalidSecret { field: &'static str, cause: String },
    #[error("the alternate username `{username}` would be longer than {max} characters; shorten the username")]
    UsernameTooLong { username: String, max: usize },
    #[error("refusing to set the password: {0}")]
    PendingMismatch(String),
    #[error("the administrator secret {arn} named by `masterarn` cannot be used: {cause}")]
    MasterSecret { arn: String, cause: String },
    #[error("cannot log in to {endpoint} as {user} with {which} credentials: {cause}")]
    CannotLogin {
        endpoint: String,
        user: String,
        which: &'static str,
        cause: String,
    },
    #[error("database {endpoint}: {cause}")]
    Database { endpoint: String, cause: String },
    /// The step would make the rotator act beyond what the secret's owner can already do
    /// (a confused deputy): refused before anything changes.
    #[error("refusing to rotate: {0}")]
    Refused(String),
}

/// Engines named in error messages.
pub const SUPPORTED_ENGINES: &str =
    "postgres, aurora-postgresql, mysql, mariadb, aurora-mysql, generic";

impl ErrorKind {
    /// The `errorType` Lambda reports (and Secrets Manager logs).
    pub fn error_type(&self) -> &'static str {
        match self {
            ErrorKind::RotationDisabled => "RotationDisabled",
            ErrorKind::UnknownVersion { .. } => "UnknownVersion",
            ErrorKind::NotPending { .. } => "VersionNotPending",
            ErrorKind::NoCurrentValue => "NoCurrentValue",
            ErrorKind::NoPendingValue => "NoPendingValue",
            ErrorKind::MissingEngine => "MissingEngine",
            ErrorKind::UnsupportedEngine(_) => "UnsupportedEngine",
            ErrorKind::Store(_) => "SecretsManagerError",
            ErrorKind::InvalidSecret { .. } => "InvalidSecret",
            ErrorKind::UsernameTooLong { .. } => "UsernameTooLong",
            ErrorKind::PendingMismatch(_) => "PendingMismatch",
            ErrorKind::MasterSecret { .. } => "MasterSecret",
            ErrorKind::CannotLogin { .. } => "CannotLogin",
            ErrorKind::Database { .. } => "DatabaseError",
            ErrorKind::Refused(_) => "RotationRefused",
        }
    }
}
