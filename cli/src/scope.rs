//! Where `plan` and `status` look: the configured account and region, or many accounts and
//! regions at once (`--accounts`, `--regions`, `--role-name`).
//!
//! Why: an organisation runs dozens of accounts, and a secret owned by one is read by services
//! in others (by full ARN, as ECS requires across accounts). From one terminal, the CLI assumes
//! a read-only role of the same name in each account (the StackSet creates it), reads each
//! account and region with its own pace — ECS's read buckets are per account and region, so one
//! account's scan never spends another's — and reports one table. A place that cannot be read
//! (the role cannot be assumed, a call is denied) is a row with its error, not the end of the
//! run.

use aws_config::sts::AssumeRoleProvider;
use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use ecs_secrets_shared::arn::{is_account, is_region, partition_of_region};
use ecs_secrets_shared::aws::AwsConfig;

/// Accounts and regions to read, and the role to read them with.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Comma-separated account ids to read through `--role-name` (default: the configured
    /// account, with the configured credentials).
    #[arg(long, value_delimiter = ',', requires = "role_name")]
    pub accounts: Vec<String>,
    /// Comma-separated regions (default: the configured region).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// The role assumed in each account (`arn:<partition>:iam::<account>:role/<name>`).
    #[arg(long, requires = "accounts")]
    pub role_name: Option<String>,
}

/// Bad `--accounts`, `--regions` or `--role-name` (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{option}: {cause}")]
pub struct ScopeError {
    pub option: &'static str,
    pub cause: String,
}

/// One account and region, with the configuration that reads it.
#[derive(Debug, Clone)]
pub struct Place {
    /// `None`: the configured account (not assumed).
    pub account: Option<String>,
    pub region: String,
    pub sdk: aws_config::SdkConfig,
}

fn role_name_is_valid(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The places `args` name, each with its credentials (assumed lazily, on the first call).
pub async fn places(base: &AwsConfig, args: &Args) -> Result<Vec<Place>, ScopeError> {
    for region in &args.regions {
        if !is_region(region) {
            return Err(ScopeError {
                option: "--regions",
                cause: format!("`{region}` is not a region name"),
            });
        }
    }
    let mut regions = args.regions.clone();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        regions.push(base.region().to_owned());
    }
    if args.accounts.is_empty() {
        return Ok(regions
            .into_iter()
            .map(|region| Place {
                account: None,
                sdk: base
                    .sdk
                    .to_builder()
                    .region(Region::new(region.clone()))
                    .build(),
                region,
            })
            .collect());
    }
    let role = args.role_name.as_deref().unwrap_or_default();
    if !role_name_is_valid(role) {
        return Err(ScopeError {
            option: "--role-name",
            cause: "must be an IAM role name: 1-64 letters, digits or +=,.@_-".into(),
        });
    }
    let mut accounts = args.accounts.clone();
    accounts.sort();
    accounts.dedup();
    let mut out = Vec::new();
    for account in accounts {
        if !is_account(&account) {
            return Err(ScopeError {
                option: "--accounts",
                cause: format!("`{account}` is not a 12-digit account id"),
            });
        }
        for region in &regions {
            let arn = format!(
                "arn:{}:iam::{account}:role/{role}",
                partition_of_region(region)
            );
            let provider = AssumeRoleProvider::builder(arn)
                .session_name("ecs-secrets-cli")
                .region(Region::new(region.clone()))
                .configure(&base.sdk)
                .build()
                .await;
            out.push(Place {
                account: Some(account.clone()),
                region: region.clone(),
                sdk: base
                    .sdk
                    .to_builder()
                    .region(Region::new(region.clone()))
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .build(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        assert!(role_name_is_valid("ecs-secrets-read"));
        assert!(!role_name_is_valid(""));
        assert!(!role_name_is_valid("a/b"));
        assert!(!role_name_is_valid(&"r".repeat(65)));
    }
}
