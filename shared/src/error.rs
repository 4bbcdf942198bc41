//! Errors of the shared crate, one type per kind of input, so that a caller which only parses
//! references cannot be handed an event error.
//!
//! Every message says which part of the input is wrong and why. None of them repeats input that
//! could be a credential: references are echoed only when they are structurally ARNs (see
//! [`crate::reference`]), and no message ever contains a secret value.

use thiserror::Error;

/// Why a string is not a usable ARN.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ArnError {
    #[error("an ARN starts with `arn:`")]
    MissingPrefix,
    #[error("an ARN has 6 colon-separated parts (arn:partition:service:region:account:resource); found {0}")]
    TooFewParts(usize),
    #[error("partition `{0}` is not an AWS partition (aws, aws-cn, aws-us-gov, aws-iso…)")]
    InvalidPartition(String),
    #[error("the service part is empty or not lowercase letters, digits and hyphens")]
    InvalidService,
    #[error("expected a `{expected}` ARN, found service `{found}`")]
    WrongService {
        expected: &'static str,
        found: String,
    },
    #[error("region `{0}` is not a region name such as us-east-1")]
    InvalidRegion(String),
    #[error("the region is empty; {0} ARNs are regional")]
    MissingRegion(&'static str),
    #[error("account `{0}` is not a 12-digit AWS account id")]
    InvalidAccount(String),
    #[error("the resource part is empty")]
    EmptyResource,
    #[error("the resource part must start with `{expected}`")]
    WrongResourceType { expected: &'static str },
    #[error("a secret's ARN ends at its name: found {colons} colon(s) after `secret:<name>` (a JSON key or version selector belongs in a reference, not in an ARN)")]
    SecretArnSelectors { colons: usize },
    #[error(transparent)]
    Name(#[from] NameError),
}

/// Why a secret or parameter name is not one Secrets Manager or SSM accepts. The same rules
/// hold wherever the name appears: in an ARN, in a reference, in an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    #[error("the secret name is empty")]
    EmptySecretName,
    #[error("the secret name is {0} characters long; the maximum is 512")]
    SecretNameTooLong(usize),
    #[error("the secret name has a character at position {0} that is not allowed (allowed: letters, digits and /_+=.@-)")]
    SecretNameCharacter(usize),
    #[error("the parameter name is empty")]
    EmptyParameterName,
    #[error("the parameter name is {0} characters long; the maximum is 2048")]
    ParameterNameTooLong(usize),
    #[error("the parameter name has a character at position {0} that is not allowed (allowed: letters, digits and _.-/)")]
    ParameterNameCharacter(usize),
    #[error("a hierarchical parameter name starts with `/` (for example /app/db/password)")]
    ParameterHierarchyWithoutSlash,
    #[error("the parameter name has an empty path segment (`//` or a trailing `/`)")]
    ParameterEmptySegment,
    #[error("the parameter name has {0} hierarchy levels; the maximum is 15")]
    ParameterTooDeep(usize),
    #[error("parameter names cannot start with `aws` or `ssm` (reserved), except AWS public parameters under /aws/")]
    ParameterReservedPrefix,
    #[error("the parameter name has a `:` at position {0}: ECS does not accept SSM version or label selectors (`name:2`); reference the parameter by name or ARN")]
    ParameterSelector(usize),
}

/// Why a `valueFrom` / `credentialsParameter` string is not a valid secret reference.
///
/// `Display` gives the whole sentence, including the reference when it is safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid secret reference {shown}: {kind}")]
pub struct ReferenceError {
    /// The reference as it may be shown: the ARN itself, or a length-only description when
    /// the input does not look like an ARN (it might be a pasted credential).
    pub shown: String,
    pub kind: ReferenceErrorKind,
}

impl ReferenceError {
    /// The error for `input`, repeating it only when it is structurally an ARN. Anything else
    /// could be a credential pasted into the wrong field, so only its length is given.
    pub fn new(input: &str, kind: ReferenceErrorKind) -> Self {
        ReferenceError {
            shown: shown(input),
            kind,
        }
    }
}

/// How an input that failed to parse may appear in a message: quoted when it is structurally
/// an ARN (`arn:`, printable, no spaces, at most 2,048 bytes); otherwise only its length, as it
/// could be a credential pasted into the wrong place.
pub fn shown(input: &str) -> String {
    if input.starts_with("arn:")
        && input.len() <= 2048
        && input.bytes().all(|b| b.is_ascii_graphic())
    {
        format!("`{input}`")
    } else {
        format!(
            "(a value of {} characters, not shown)",
            input.chars().count()
        )
    }
}

/// The specific defect of a reference. Stable enough to branch on (the validator maps some of
/// these to distinct findings).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    #[error("the reference is empty")]
    Empty,
    #[error("{0}")]
    Arn(ArnError),
    #[error(
        "service `{0}` cannot be referenced here; use a Secrets Manager secret or an SSM parameter"
    )]
    UnsupportedService(String),
    #[error("only a Secrets Manager secret can be used here, not an SSM parameter")]
    NotASecret,
    #[error("after `secret:<name>` come either no colons or exactly three (`:json-key:version-stage:version-id`); found {colons} colon(s)")]
    PartCount { colons: usize },
    #[error("a version stage and a version id are mutually exclusive; set one of them")]
    StageAndVersionId,
    #[error("the version id is {0} characters long; version ids have 32 to 64 characters")]
    VersionIdLength(usize),
    #[error("the version id has a character at position {0} that is not allowed (printable characters, no spaces)")]
    VersionIdCharacter(usize),
    #[error("the version stage is {0} characters long; the maximum is 256")]
    StageTooLong(usize),
    #[error(
        "a JSON key, version stage or version id cannot be used here; reference the whole secret"
    )]
    SelectorsNotAllowed,
    /// A secret or parameter name that Secrets Manager or SSM would not accept.
    #[error(transparent)]
    Name(NameError),
}

impl From<ArnError> for ReferenceErrorKind {
    /// A name defect is the same defect however the name was written: always [`Self::Name`].
    fn from(e: ArnError) -> Self {
        match e {
            ArnError::Name(n) => ReferenceErrorKind::Name(n),
            other => ReferenceErrorKind::Arn(other),
        }
    }
}

impl From<NameError> for ReferenceErrorKind {
    fn from(e: NameError) -> Self {
        ReferenceErrorKind::Name(e)
    }
}

/// Why an EventBridge event could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EventError {
    #[error("the event is not a JSON object")]
    NotAnObject,
    /// The EventBridge envelope (`source`, `detail-type`, `time`, …) does not parse: the field
    /// and the cause.
    #[error("not an EventBridge event: {0}")]
    Envelope(String),
    #[error("unsupported event: source `{event_source}`, detail-type `{detail_type}`{}", event_name.as_deref().map(|n| format!(", eventName `{n}`")).unwrap_or_default())]
    Unsupported {
        event_source: String,
        detail_type: String,
        event_name: Option<String>,
    },
    #[error("`{field}` is missing from the {event} event")]
    MissingField {
        event: &'static str,
        field: &'static str,
    },
    #[error("`{field}` of the {event} event is not a valid ARN: {cause}")]
    InvalidArn {
        event: &'static str,
        field: &'static str,
        cause: ArnError,
    },
}

/// A configuration value from the environment that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("environment variable {name}: {cause}")]
    Invalid { name: String, cause: String },
}

impl ConfigError {
    pub fn invalid(name: impl Into<String>, cause: impl Into<String>) -> Self {
        Self::Invalid {
            name: name.into(),
            cause: cause.into(),
        }
    }
}

/// Why a task definition could not be read: the field (`containerDefinitions[0].environment`)
/// and the cause, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {cause}")]
pub struct ShapeError {
    pub path: String,
    pub cause: String,
}

impl ShapeError {
    pub fn new(path: impl Into<String>, cause: impl Into<String>) -> Self {
        ShapeError {
            path: path.into(),
            cause: cause.into(),
        }
    }
}
