//! `ecs-secrets plan`: which ECS services a change of a secret or parameter would redeploy,
//! and why the others would not — the redeployer's own logic, as a dry run.

use std::fmt::Write as _;

use ecs_redeployer::change::{self, Change, Decision};
use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::redeploy::{Redeployer, Summary};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::aws::AwsConfig;

/// What changed.
#[derive(Debug, Clone)]
pub enum Target {
    Secret { id: String, label: String },
    Parameter(String),
}

/// Why a plan could not be made (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Config(#[from] ecs_secrets_shared::ConfigError),
    /// `shown` is the input only when it is structurally an ARN (never a pasted credential).
    #[error("{shown} is not a usable ARN: {cause}")]
    InvalidArn {
        shown: String,
        cause: ecs_secrets_shared::ArnError,
    },
    #[error("cannot find secret `{id}`: {cause}")]
    SecretNotFound { id: String, cause: String },
    #[error("secret `{0}` has no ARN")]
    NoArn(String),
    #[error("cannot determine the account: {0}")]
    Account(String),
    #[error(transparent)]
    Discovery(#[from] ecs_redeployer::redeploy::DiscoveryError),
}

pub async fn plan(target: Target) -> Result<Summary, PlanError> {
    let mut config = Config::from_env()?;
    config.dry_run = true;
    // A plan also reports the referencing services a narrower CLUSTERS leaves stale.
    config.scan_outside_clusters = true;
    let aws = AwsConfig::load().await?;
    let change = change_of(target, &aws).await?;
    // No change time: every referencing service is listed, none is "already redeployed".
    let redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    // A label the redeployer would not act on (AWSPENDING): say why, as it would.
    if let Change::Secret { secret, labels } = &change {
        for label in labels {
            if let Decision::Ignore { reason, .. } = change::label_moved(secret, label, None) {
                return Ok(redeployer.plan_nothing(&change, reason));
            }
        }
    }
    Ok(redeployer.plan(&change, None).await?)
}

/// The change a target names: the secret's full ARN (asked of Secrets Manager for a name or a
/// partial ARN) and its label, or the parameter's ARN (the account from STS for a bare name).
pub async fn change_of(target: Target, aws: &AwsConfig) -> Result<Change, PlanError> {
    let region = aws.region().to_owned();
    Ok(match target {
        Target::Secret { id, label } => {
            let secret = match SecretArn::parse(&id) {
                Ok(arn) if arn.is_full() => arn,
                _ => {
                    // A name or partial ARN: ask Secrets Manager for the full ARN (metadata only).
                    let out = aws
                        .secrets_manager()
                        .describe_secret()
                        .secret_id(&id)
                        .send()
                        .await
                        .map_err(|e| PlanError::SecretNotFound {
                            id: id.clone(),
                            cause: aws_sdk_ecs::error::DisplayErrorContext(e).to_string(),
                        })?;
                    let arn = out.arn().ok_or_else(|| PlanError::NoArn(id.clone()))?;
                    SecretArn::parse(arn).map_err(|cause| PlanError::InvalidArn {
                        shown: ecs_secrets_shared::error::shown(arn),
                        cause,
                    })?
                }
            };
            Change::Secret {
                secret,
                labels: vec![label],
            }
        }
        Target::Parameter(name) => {
            let parameter = if name.starts_with("arn:") {
                ParameterArn::parse(&name).map_err(|cause| PlanError::InvalidArn {
                    shown: ecs_secrets_shared::error::shown(&name),
                    cause,
                })?
            } else {
                let identity = aws_sdk_sts::Client::new(&aws.sdk)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        PlanError::Account(aws_sdk_sts::error::DisplayErrorContext(e).to_string())
                    })?;
                ParameterArn {
                    partition: ecs_secrets_shared::arn::partition_of_region(&region).into(),
                    region: region.clone(),
                    account: identity.account().unwrap_or_default().to_owned(),
                    name: name.clone(),
                }
            };
            Change::Parameter { parameter }
        }
    })
}

/// The plan for a person.
pub fn text(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Would redeploy {} service(s):",
        summary.redeployed.len()
    );
    for r in &summary.redeployed {
        let _ = writeln!(out, "  {}/{}", r.cluster, r.service);
        for w in &r.warnings {
            let _ = writeln!(out, "    warning: {w}");
        }
    }
    if !summary.skipped.is_empty() {
        let _ = writeln!(
            out,
            "Would not redeploy {} referencing service(s):",
            summary.skipped.len()
        );
        for s in &summary.skipped {
            let _ = writeln!(out, "  {}/{}: {}", s.cluster, s.service, s.reason);
        }
    }
    if let Some(reason) = &summary.reason {
        let _ = writeln!(out, "Nothing to do: {reason}");
    }
    let _ = writeln!(out, "{}", api_calls_line(&summary.api_calls));
    out
}

/// `ECS API calls: DescribeServices 2, …` (or `none`), for a person.
pub fn api_calls_line(calls: &std::collections::BTreeMap<&'static str, u64>) -> String {
    let calls: Vec<String> = calls.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "ECS API calls: {}",
        if calls.is_empty() {
            "none".into()
        } else {
            calls.join(", ")
        }
    )
}
