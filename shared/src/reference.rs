//! What a secret reference in a task definition refers to.
//!
//! ECS takes secrets from three places in a container definition — `secrets[].valueFrom`,
//! `logConfiguration.secretOptions[].valueFrom` and `repositoryCredentials.credentialsParameter`
//! — and accepts several spellings in each: a Secrets Manager ARN, full or partial, optionally
//! followed by `:json-key:version-stage:version-id`; an SSM parameter ARN; or, for a parameter in
//! the task's own region, just its name. The redeployer must decide whether a change to one
//! secret affects a reference, and the validator must say exactly why a reference is broken, so
//! both parse through [`SecretReference::parse`] into one typed model, and match through
//! [`SecretReference::matches_secret`] / [`SecretReference::matches_parameter`].
//!
//! The grammar (from the ECS developer guide): the resource part of a Secrets Manager
//! reference splits on `:` into exactly 2 parts (`secret`, name) or 5 (`secret`, name, json-key,
//! version-stage, version-id — any of the last three may be empty); a stage and a version id
//! are mutually exclusive; a version id has 32–64 characters.

use compact_str::CompactString;
use std::fmt;

use crate::arn::{
    validate_parameter_name, validate_secret_name, ArnParts, ParameterArn, SecretArn,
    SECRETS_MANAGER_VIA_SSM,
};
use crate::error::{ReferenceError, ReferenceErrorKind as K};

/// Where in a container definition a reference was found; each place accepts different forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// `containerDefinitions[].secrets[].valueFrom`
    ContainerSecret,
    /// `containerDefinitions[].logConfiguration.secretOptions[].valueFrom`
    LogSecretOption,
    /// `containerDefinitions[].repositoryCredentials.credentialsParameter`: a Secrets Manager
    /// secret only, by ARN or (same region) by name, never with selectors.
    RepositoryCredentials,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Location::ContainerSecret => "secrets[].valueFrom",
            Location::LogSecretOption => "logConfiguration.secretOptions[].valueFrom",
            Location::RepositoryCredentials => "repositoryCredentials.credentialsParameter",
        })
    }
}

/// A parsed, valid secret reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretReference {
    SecretsManager(SecretsManagerReference),
    Parameter(ParameterReference),
}

/// A reference to a Secrets Manager secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretsManagerReference {
    pub secret: SecretTarget,
    /// `:json-key::`: the container receives one key of the secret's JSON.
    pub json_key: Option<CompactString>,
    pub version: VersionSelector,
}

/// How a Secrets Manager reference names its secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretTarget {
    Arn(SecretArn),
    /// A bare secret name; only `repositoryCredentials` accepts this (same region as the task).
    Name(String),
}

/// Which version of a secret a reference reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// No stage and no id: ECS reads `AWSCURRENT`.
    Default,
    Stage(String),
    Id(String),
}

/// A reference to an SSM parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterReference {
    /// The parameter name as SSM reports it (`/app/db`, or `app`).
    pub name: String,
    /// Set when the reference is an ARN (which fixes region and account).
    pub arn: Option<ParameterArn>,
}

/// Where the reader of a reference is when none is given: the task's own account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskContext {
    pub partition: String,
    pub region: String,
    pub account: String,
}

/// Which part of the value a matching reference reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    WholeValue,
    JsonKey(String),
}

/// Which version a matching reference follows, and so which changes reach it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tracks {
    /// `AWSCURRENT`, or a parameter's latest version (ECS has no way to pin a parameter).
    Current,
    /// `AWSPREVIOUS`: moves whenever `AWSCURRENT` moves.
    Previous,
    /// A custom staging label.
    Label(String),
    /// A version id: immutable.
    Pinned(String),
}

impl Tracks {
    /// True when moving `label` to a new version changes what this reference reads.
    pub fn follows_label(&self, label: &str) -> bool {
        match self {
            Tracks::Current | Tracks::Previous => label == "AWSCURRENT",
            Tracks::Label(l) => l == label,
            Tracks::Pinned(_) => false,
        }
    }

    pub fn is_pinned(&self) -> bool {
        matches!(self, Tracks::Pinned(_))
    }
}

/// How a reference refers to a given secret or parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Match {
    pub part: Part,
    pub tracks: Tracks,
}

impl SecretReference {
    /// Parses a reference found at `location`.
    pub fn parse(input: &str, location: Location) -> Result<Self, ReferenceError> {
        parse(input, location).map_err(|kind| ReferenceError::new(input, kind))
    }

    /// Which version of its target this reference reads.
    pub fn tracks(&self) -> Tracks {
        match self {
            SecretReference::SecretsManager(r) => match &r.version {
                VersionSelector::Default => Tracks::Current,
                VersionSelector::Stage(s) if s == "AWSCURRENT" => Tracks::Current,
                VersionSelector::Stage(s) if s == "AWSPREVIOUS" => Tracks::Previous,
                VersionSelector::Stage(s) => Tracks::Label(s.clone()),
                VersionSelector::Id(id) => Tracks::Pinned(id.clone()),
            },
            SecretReference::Parameter(_) => Tracks::Current,
        }
    }

    fn part(&self) -> Part {
        match self {
            SecretReference::SecretsManager(SecretsManagerReference {
                json_key: Some(k), ..
            }) => Part::JsonKey(k.to_string()),
            _ => Part::WholeValue,
        }
    }

    /// Does this reference read the secret whose full ARN is `secret`?
    ///
    /// Partial ARNs match the secret they stand for; names resolve in the task's region and
    /// account; an SSM reference under `/aws/reference/secretsmanager/` reads a secret too.
    pub fn matches_secret(&self, secret: &SecretArn, task: &TaskContext) -> Option<Match> {
        let hit = match self {
            SecretReference::SecretsManager(r) => match &r.secret {
                SecretTarget::Arn(arn) => arn.refers_to(secret),
                SecretTarget::Name(name) => in_context(secret, task) && names_secret(name, secret),
            },
            SecretReference::Parameter(p) => match p.name.strip_prefix(SECRETS_MANAGER_VIA_SSM) {
                Some(name) => {
                    let same_place = match &p.arn {
                        Some(a) => {
                            a.partition == secret.partition
                                && a.region == secret.region
                                && a.account == secret.account
                        }
                        None => in_context(secret, task),
                    };
                    same_place && names_secret(name, secret)
                }
                None => false,
            },
        };
        hit.then(|| Match {
            part: self.part(),
            tracks: self.tracks(),
        })
    }

    /// Does this reference read the parameter `parameter`? A name-only reference reads the
    /// parameter of that name in the task's own region and account.
    pub fn matches_parameter(&self, parameter: &ParameterArn, task: &TaskContext) -> Option<Match> {
        let SecretReference::Parameter(p) = self else {
            return None;
        };
        let hit = match &p.arn {
            Some(arn) => arn == parameter,
            None => {
                p.name == parameter.name
                    && parameter.partition == task.partition
                    && parameter.region == task.region
                    && parameter.account == task.account
            }
        };
        hit.then(|| Match {
            part: Part::WholeValue,
            tracks: self.tracks(),
        })
    }
}

fn in_context(secret: &SecretArn, task: &TaskContext) -> bool {
    secret.partition == task.partition
        && secret.region == task.region
        && secret.account == task.account
}

/// A name reference matches by friendly name, or by the name with its suffix.
fn names_secret(name: &str, secret: &SecretArn) -> bool {
    name == secret.name
        || secret.suffix.as_ref().is_some_and(|s| {
            name.len() == secret.name.len() + 1 + s.len() && name == format!("{}-{s}", secret.name)
        })
}

impl fmt::Display for SecretReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretReference::SecretsManager(r) => {
                match &r.secret {
                    SecretTarget::Arn(a) => write!(f, "{a}")?,
                    SecretTarget::Name(n) => f.write_str(n)?,
                }
                let key = r.json_key.as_deref().unwrap_or("");
                match &r.version {
                    VersionSelector::Default if key.is_empty() => Ok(()),
                    VersionSelector::Default => write!(f, ":{key}::"),
                    VersionSelector::Stage(s) => write!(f, ":{key}:{s}:"),
                    VersionSelector::Id(id) => write!(f, ":{key}::{id}"),
                }
            }
            SecretReference::Parameter(p) => match &p.arn {
                Some(a) => write!(f, "{a}"),
                None => f.write_str(&p.name),
            },
        }
    }
}

fn parse(input: &str, location: Location) -> Result<SecretReference, K> {
    if input.is_empty() {
        return Err(K::Empty);
    }
    if input.starts_with("arn:") {
        let arn = ArnParts::parse(input)?;
        return match arn.service {
            "secretsmanager" => parse_secret_arn(&arn, location),
            "ssm" if location == Location::RepositoryCredentials => Err(K::NotASecret),
            "ssm" => {
                let parameter = ParameterArn::from_arn(&arn)?;
                Ok(SecretReference::Parameter(ParameterReference {
                    name: parameter.name.clone(),
                    arn: Some(parameter),
                }))
            }
            other => Err(K::UnsupportedService(other.to_owned())),
        };
    }
    match location {
        Location::RepositoryCredentials => {
            validate_secret_name(input)?;
            Ok(SecretReference::SecretsManager(SecretsManagerReference {
                secret: SecretTarget::Name(input.to_owned()),
                json_key: None,
                version: VersionSelector::Default,
            }))
        }
        Location::ContainerSecret | Location::LogSecretOption => {
            validate_parameter_name(input)?;
            Ok(SecretReference::Parameter(ParameterReference {
                name: input.to_owned(),
                arn: None,
            }))
        }
    }
}

fn parse_secret_arn(arn: &ArnParts<'_>, location: Location) -> Result<SecretReference, K> {
    if arn.region.is_empty() {
        return Err(crate::ArnError::MissingRegion("secretsmanager").into());
    }
    if arn.account.is_empty() {
        return Err(crate::ArnError::InvalidAccount(String::new()).into());
    }
    let rest = arn
        .resource
        .strip_prefix("secret:")
        .ok_or(crate::ArnError::WrongResourceType {
            expected: "secret:",
        })?;
    // The first four parts and how many there are (no list per reference).
    let (mut parts, mut count) = ([""; 4], 0usize);
    for part in rest.split(':') {
        if let Some(slot) = parts.get_mut(count) {
            *slot = part;
        }
        count += 1;
    }
    let (name, key, stage, id) = match count {
        1 => (parts[0], "", "", ""),
        4 => (parts[0], parts[1], parts[2], parts[3]),
        _ => return Err(K::PartCount { colons: count - 1 }),
    };
    let secret = SecretArn::from_parts(arn, name)?;
    if location == Location::RepositoryCredentials && count > 1 {
        return Err(K::SelectorsNotAllowed);
    }
    let version = match (stage, id) {
        ("", "") => VersionSelector::Default,
        (stage, "") => {
            if stage.len() > 256 {
                return Err(K::StageTooLong(stage.len()));
            }
            VersionSelector::Stage(stage.to_owned())
        }
        ("", id) => {
            if let Some(pos) = id.chars().position(|c| !c.is_ascii_graphic()) {
                return Err(K::VersionIdCharacter(pos + 1));
            }
            if !(32..=64).contains(&id.len()) {
                return Err(K::VersionIdLength(id.len()));
            }
            VersionSelector::Id(id.to_owned())
        }
        _ => return Err(K::StageAndVersionId),
    };
    Ok(SecretReference::SecretsManager(SecretsManagerReference {
        secret: SecretTarget::Arn(secret),
        json_key: (!key.is_empty()).then(|| key.into()),
        version,
    }))
}

#[cfg(test)]
mod tests;
