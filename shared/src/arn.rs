//! Amazon Resource Names, parsed once into typed values.
//!
//! [`Arn`] is the generic six-part form. [`SecretArn`] and [`ParameterArn`] are the two kinds
//! this project acts on; they know the naming rules of their service, so that the rest of the
//! code compares structured values instead of strings (a partial secret ARN and the full one it
//! stands for are different strings but name the same secret).

use compact_str::CompactString;
use std::fmt;
use std::str::FromStr;

use crate::error::{ArnError, NameError};

/// A generic ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    /// Everything after the fifth colon, colons included.
    pub resource: String,
}

impl Arn {
    pub fn parse(input: &str) -> Result<Self, ArnError> {
        ArnParts::parse(input).map(|p| Self {
            partition: p.partition.to_owned(),
            service: p.service.to_owned(),
            region: p.region.to_owned(),
            account: p.account.to_owned(),
            resource: p.resource.to_owned(),
        })
    }
}

/// An [`Arn`]'s parts borrowed from the text: what the typed ARNs and secret references are
/// read through, so that a reference does not copy its ARN's parts twice (into an `Arn`, then
/// into a `SecretArn`) — the validator reads every reference of every task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArnParts<'a> {
    pub(crate) partition: &'a str,
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    pub(crate) resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Parses as [`Arn::parse`] does, with the same errors.
    pub(crate) fn parse(input: &'a str) -> Result<Self, ArnError> {
        let rest = input.strip_prefix("arn:").ok_or(ArnError::MissingPrefix)?;
        let mut parts = rest.splitn(5, ':');
        let mut next = || parts.next();
        let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (next(), next(), next(), next(), next())
        else {
            return Err(ArnError::TooFewParts(rest.split(':').count() + 1));
        };
        if !is_partition(partition) {
            return Err(ArnError::InvalidPartition(partition.to_owned()));
        }
        if service.is_empty()
            || !service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ArnError::InvalidService);
        }
        if !region.is_empty() && !is_region(region) {
            return Err(ArnError::InvalidRegion(region.to_owned()));
        }
        if !account.is_empty() && !is_account(account) {
            return Err(ArnError::InvalidAccount(account.to_owned()));
        }
        if resource.is_empty() {
            return Err(ArnError::EmptyResource);
        }
        Ok(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// Checks that this is a regional ARN of `service` in a real account.
    fn expect_regional(&self, service: &'static str) -> Result<(), ArnError> {
        if self.service != service {
            return Err(ArnError::WrongService {
                expected: service,
                found: self.service.to_owned(),
            });
        }
        if self.region.is_empty() {
            return Err(ArnError::MissingRegion(service));
        }
        if self.account.is_empty() {
            return Err(ArnError::InvalidAccount(String::new()));
        }
        Ok(())
    }
}

impl FromStr for Arn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, … — any `aws` followed by
/// lowercase hyphenated words, so a partition AWS adds later is not rejected.
fn is_partition(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("aws") else {
        return false;
    };
    rest.is_empty()
        || (rest.starts_with('-')
            && rest[1..]
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())))
}

/// The partition a region belongs to: `aws-cn` for `cn-…`, `aws-us-gov` for `us-gov-…`,
/// `aws-iso`, `-iso-b`, `-iso-f`, `-iso-e` for `us-iso-…`, `us-isob-…`, `us-isof-…`,
/// `eu-isoe-…`, `aws-eusc` for `eusc-…`, else `aws`.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`: two letters,
/// one or more lowercase words, a number.
pub fn is_region(s: &str) -> bool {
    let words: Vec<&str> = s.split('-').collect();
    if words.len() < 3 {
        return false;
    }
    let (first, middle, last) = (words[0], &words[1..words.len() - 1], words[words.len() - 1]);
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && middle
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 2
        && last.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Length of the random suffix Secrets Manager appends to every secret ARN.
pub const SECRET_SUFFIX_LEN: usize = 6;
const SECRET_NAME_MAX: usize = 512;

/// The ARN of a Secrets Manager secret, full (`…:secret:name-AbCdEf`) or partial
/// (`…:secret:name`, without the random suffix).
///
/// A name that itself ends in `-` and six letters or digits cannot be told apart from a full
/// ARN; such an ARN is taken as full, as Secrets Manager itself does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretArn {
    pub partition: CompactString,
    pub region: CompactString,
    pub account: CompactString,
    /// The secret's friendly name, without the suffix.
    pub name: CompactString,
    /// The six-character random suffix; `None` for a partial ARN.
    pub suffix: Option<CompactString>,
}

impl SecretArn {
    /// Parses the ARN of a secret: exactly `secret:<name>` as the resource, no selectors.
    pub fn parse(input: &str) -> Result<Self, ArnError> {
        Self::from_arn(&ArnParts::parse(input)?)
    }

    /// From a generic ARN whose resource is exactly `secret:<name>`.
    fn from_arn(arn: &ArnParts<'_>) -> Result<Self, ArnError> {
        arn.expect_regional("secretsmanager")?;
        let name = arn
            .resource
            .strip_prefix("secret:")
            .ok_or(ArnError::WrongResourceType {
                expected: "secret:",
            })?;
        let colons = name.matches(':').count();
        if colons > 0 {
            return Err(ArnError::SecretArnSelectors { colons });
        }
        Ok(Self::from_parts(arn, name)?)
    }

    pub(crate) fn from_parts(
        arn: &ArnParts<'_>,
        name_with_suffix: &str,
    ) -> Result<Self, NameError> {
        validate_secret_name(name_with_suffix)?;
        let (name, suffix) = split_suffix(name_with_suffix);
        // `rds!-AbCdEf` would leave `rds!`: the name itself must be valid too.
        validate_secret_name(name)?;
        if name.len() > SECRET_NAME_MAX {
            return Err(NameError::SecretNameTooLong(name.len()));
        }
        Ok(Self {
            partition: arn.partition.into(),
            region: arn.region.into(),
            account: arn.account.into(),
            name: name.into(),
            suffix: suffix.map(CompactString::from),
        })
    }

    pub fn is_full(&self) -> bool {
        self.suffix.is_some()
    }

    /// The service that manages this secret (`rds!…`), if any.
    pub fn managed_by(&self) -> Option<&'static ManagedBy> {
        managed_by(&self.name)
    }

    /// True when `self` (full or partial) names the secret whose full ARN is `full`.
    pub fn refers_to(&self, full: &SecretArn) -> bool {
        self.partition == full.partition
            && self.region == full.region
            && self.account == full.account
            && match (&self.suffix, &full.suffix) {
                (Some(a), Some(b)) if self.name == full.name => a == b,
                // A partial ARN whose name ends in `-` and six letters or digits (Redshift's
                // `redshift!<cluster>-<admin user>`) reads as full: it also names the secret
                // whose name is all of it.
                (Some(a), Some(_)) => {
                    full.name.len() == self.name.len() + 1 + a.len()
                        && full.name == format!("{}-{a}", self.name)
                }
                _ if self.name != full.name => false,
                // A partial ARN stands for whichever secret has that name.
                (None, _) => true,
                (Some(_), None) => false,
            }
    }
}

impl fmt::Display for SecretArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:secretsmanager:{}:{}:secret:{}",
            self.partition, self.region, self.account, self.name
        )?;
        if let Some(suffix) = &self.suffix {
            write!(f, "-{suffix}")?;
        }
        Ok(())
    }
}

impl FromStr for SecretArn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A service that creates and rotates secrets of its own in Secrets Manager, named
/// `<prefix>!<rest>` — a form no user can choose (`!` is not allowed in names users give).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedBy {
    /// The name's prefix, before `!`.
    pub prefix: &'static str,
    pub service: &'static str,
    /// True when the secret is a database's master (administrator) credential, rotated by
    /// the service onto a new password.
    pub master_credential: bool,
}

/// The service-managed name prefixes ecs-secrets recognises. `rds!` (RDS, Aurora and
/// DocumentDB managed master passwords: `rds!db-<uuid>`, `rds!cluster-<uuid>`) and
/// `redshift!` (Redshift managed admin passwords) are documented by AWS; `events!`
/// (EventBridge connections: `events!connection/<name>/<uuid>`) is the name EventBridge gives
/// its connection secrets.
pub const MANAGED_SECRET_PREFIXES: &[ManagedBy] = &[
    ManagedBy {
        prefix: "rds",
        service: "Amazon RDS / Aurora",
        master_credential: true,
    },
    ManagedBy {
        prefix: "redshift",
        service: "Amazon Redshift",
        master_credential: true,
    },
    ManagedBy {
        prefix: "events",
        service: "Amazon EventBridge (connection)",
        master_credential: false,
    },
];

/// The service that manages a secret of this name, if the name has a known service prefix.
pub fn managed_by(name: &str) -> Option<&'static ManagedBy> {
    let (prefix, rest) = name.split_once('!')?;
    if rest.is_empty() {
        return None;
    }
    MANAGED_SECRET_PREFIXES.iter().find(|m| m.prefix == prefix)
}

/// Secrets Manager names: 1–512 of `A-Za-z0-9/_+=.@-`; a service-managed name is a known
/// `<service>!` prefix followed by such characters.
pub(crate) fn validate_secret_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::EmptySecretName);
    }
    let (offset, rest) = match managed_by(name) {
        Some(m) => (m.prefix.len() + 1, &name[m.prefix.len() + 1..]),
        None => (0, name),
    };
    if let Some(pos) = rest
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)))
    {
        return Err(NameError::SecretNameCharacter(offset + pos + 1));
    }
    Ok(())
}

/// Splits `name-AbCdEf` into (`name`, `AbCdEf`); a name without such an ending has no suffix.
fn split_suffix(s: &str) -> (&str, Option<&str>) {
    if let Some((name, suffix)) = s.rsplit_once('-') {
        if !name.is_empty()
            && suffix.len() == SECRET_SUFFIX_LEN
            && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return (name, Some(suffix));
        }
    }
    (s, None)
}

/// The ARN of an SSM parameter: `arn:aws:ssm:region:account:parameter/name`.
///
/// For a hierarchical parameter the ARN drops the leading slash (`parameter/app/db` is the
/// parameter `/app/db`); [`ParameterArn::name`] restores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// The parameter name as SSM reports it (`/app/db`, or `app` for a flat name).
    pub name: String,
}

impl ParameterArn {
    pub fn parse(input: &str) -> Result<Self, ArnError> {
        Self::from_arn(&ArnParts::parse(input)?)
    }

    pub(crate) fn from_arn(arn: &ArnParts<'_>) -> Result<Self, ArnError> {
        arn.expect_regional("ssm")?;
        let path = arn
            .resource
            .strip_prefix("parameter/")
            .ok_or(ArnError::WrongResourceType {
                expected: "parameter/",
            })?;
        let name = if path.contains('/') || path.is_empty() {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        validate_parameter_name(&name)?;
        Ok(Self {
            partition: arn.partition.to_owned(),
            region: arn.region.to_owned(),
            account: arn.account.to_owned(),
            name,
        })
    }
}

impl fmt::Display for ParameterArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:ssm:{}:{}:parameter/{}",
            self.partition,
            self.region,
            self.account,
            self.name.trim_start_matches('/')
        )
    }
}

impl FromStr for ParameterArn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The SSM path through which a parameter reference reads a Secrets Manager secret.
pub const SECRETS_MANAGER_VIA_SSM: &str = "/aws/reference/secretsmanager/";

/// SSM parameter names: `a-zA-Z0-9_.-/`, hierarchies start with `/`, at most 15 levels,
/// not prefixed with `aws`/`ssm` (AWS's public `/aws/…` parameters excepted). ECS does not
/// accept SSM's `name:version` / `name:label` selectors (it rejects the task definition), so a
/// colon gets its own message.
pub(crate) fn validate_parameter_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::EmptyParameterName);
    }
    // A secret read through SSM: the rest is a secret's name (a service-managed one too).
    if let Some(secret) = name.strip_prefix(SECRETS_MANAGER_VIA_SSM) {
        if name.len() > 2048 {
            return Err(NameError::ParameterNameTooLong(name.len()));
        }
        return validate_secret_name(secret).map_err(|e| match e {
            NameError::SecretNameCharacter(at) => {
                NameError::ParameterNameCharacter(SECRETS_MANAGER_VIA_SSM.len() + at)
            }
            other => other,
        });
    }
    if let Some(pos) = name.find(':') {
        return Err(NameError::ParameterSelector(pos + 1));
    }
    if let Some(pos) = name
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || "_.-/".contains(c)))
    {
        return Err(NameError::ParameterNameCharacter(pos + 1));
    }
    if name.len() > 2048 {
        return Err(NameError::ParameterNameTooLong(name.len()));
    }
    if name.contains('/') {
        let Some(path) = name.strip_prefix('/') else {
            return Err(NameError::ParameterHierarchyWithoutSlash);
        };
        let segments: Vec<&str> = path.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(NameError::ParameterEmptySegment);
        }
        if segments.len() > 15 {
            return Err(NameError::ParameterTooDeep(segments.len()));
        }
    }
    let lower = name.trim_start_matches('/').to_ascii_lowercase();
    if (lower.starts_with("aws") || lower.starts_with("ssm")) && !name.starts_with("/aws/") {
        return Err(NameError::ParameterReservedPrefix);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_arns() {
        let ok = [
            ("arn:aws:iam::123456789012:role/app", "iam", "", "role/app"),
            (
                "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/a",
                "ssm",
                "cn-north-1",
                "parameter/a",
            ),
            (
                "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/web:3",
                "ecs",
                "us-gov-west-1",
                "task-definition/web:3",
            ),
            ("arn:aws:s3:::bucket/key", "s3", "", "bucket/key"),
            (
                "arn:aws-iso-b:kms:us-isob-east-1:123456789012:key/x",
                "kms",
                "us-isob-east-1",
                "key/x",
            ),
        ];
        for (input, service, region, resource) in ok {
            let arn = Arn::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(arn.service, service, "{input}");
            assert_eq!(arn.region, region, "{input}");
            assert_eq!(arn.resource, resource, "{input}");
            assert_eq!(arn.to_string(), input);
        }
    }

    #[test]
    fn malformed_generic_arns() {
        let cases = [
            ("", ArnError::MissingPrefix),
            ("ARN:aws:iam::123456789012:role/x", ArnError::MissingPrefix),
            ("arn:aws:iam", ArnError::TooFewParts(3)),
            ("arn:aws:iam::123456789012", ArnError::TooFewParts(5)),
            (
                "arn:amazon:iam::123456789012:role/x",
                ArnError::InvalidPartition("amazon".into()),
            ),
            (
                "arn:aws-:iam::123456789012:role/x",
                ArnError::InvalidPartition("aws-".into()),
            ),
            ("arn:aws:IAM::123456789012:role/x", ArnError::InvalidService),
            ("arn:aws:::123456789012:role/x", ArnError::InvalidService),
            (
                "arn:aws:ssm:US-EAST-1:123456789012:parameter/x",
                ArnError::InvalidRegion("US-EAST-1".into()),
            ),
            (
                "arn:aws:ssm:useast1:123456789012:parameter/x",
                ArnError::InvalidRegion("useast1".into()),
            ),
            (
                "arn:aws:ssm:us-east-1:12345678901:parameter/x",
                ArnError::InvalidAccount("12345678901".into()),
            ),
            (
                "arn:aws:ssm:us-east-1:12345678901a:parameter/x",
                ArnError::InvalidAccount("12345678901a".into()),
            ),
            (
                "arn:aws:ssm:us-east-1:123456789012:",
                ArnError::EmptyResource,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Arn::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn regions() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "",
            "us",
            "us-east",
            "us-east-",
            "us-east-a",
            "u-east-1",
            "us--1",
            "us-east-123",
        ] {
            assert!(!is_region(r), "{r}");
        }
    }

    #[test]
    fn secret_arn_full_and_partial() {
        let full =
            SecretArn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123")
                .unwrap();
        assert_eq!(full.name, "prod/db");
        assert_eq!(full.suffix.as_deref(), Some("AbC123"));
        assert!(full.is_full());

        let partial =
            SecretArn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db")
                .unwrap();
        assert_eq!(partial.name, "prod/db");
        assert!(!partial.is_full());
        assert!(partial.refers_to(&full));
        assert!(full.refers_to(&full));
        assert!(!full.refers_to(&partial));

        // Seven characters after the last hyphen: not a suffix.
        let seven =
            SecretArn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-backend")
                .unwrap();
        assert!(!seven.is_full());
        assert_eq!(seven.name, "app-backend");

        // Ends in -xxxxxx: indistinguishable, taken as full.
        let ambiguous =
            SecretArn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-prod01")
                .unwrap();
        assert!(ambiguous.is_full());
        assert_eq!(ambiguous.name, "db");
    }

    #[test]
    fn secret_arn_does_not_match_other_places() {
        let full =
            SecretArn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123")
                .unwrap();
        for other in [
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:db",
            "arn:aws:secretsmanager:us-east-1:210987654321:secret:db",
            "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:db",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZ789",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db2",
        ] {
            let other = SecretArn::parse(other).unwrap();
            assert!(!other.refers_to(&full), "{other}");
        }
    }

    #[test]
    fn secret_arn_rejects() {
        for (input, needle) in [
            (
                "arn:aws:ssm:us-east-1:123456789012:parameter/x",
                "expected a `secretsmanager` ARN",
            ),
            (
                "arn:aws:secretsmanager::123456789012:secret:x",
                "region is empty",
            ),
            (
                "arn:aws:secretsmanager:us-east-1::secret:x",
                "12-digit AWS account",
            ),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:key/x",
                "must start with `secret:`",
            ),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
                "secret name is empty",
            ),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:a b",
                "position 2",
            ),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123:key::",
                "found 3 colon",
            ),
        ] {
            let err = SecretArn::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
        }
        let long = format!(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}",
            "a".repeat(600)
        );
        assert!(SecretArn::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("maximum is 512"));
    }

    #[test]
    fn parameter_arns() {
        let p = ParameterArn::parse("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/password")
            .unwrap();
        assert_eq!(p.name, "/app/db/password");
        assert_eq!(
            p.to_string(),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/password"
        );
        let flat = ParameterArn::parse("arn:aws:ssm:eu-west-1:123456789012:parameter/app").unwrap();
        assert_eq!(flat.name, "app");
        assert!(ParameterArn::parse("arn:aws:ssm:eu-west-1:123456789012:document/app").is_err());
        assert!(ParameterArn::parse("arn:aws:ssm:eu-west-1:123456789012:parameter/app:3").is_err());
    }
}
