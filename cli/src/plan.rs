//! `ecs-secrets plan`: which ECS services a change of a secret or parameter would redeploy,
//! and why the others would not — the redeployer's own logic, as a dry run.

use std::fmt::Write as _;

use ecs_redeployer::change::{self, Change, Decision};
use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::redeploy::{Redeployer, Summary};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::aws::AwsConfig;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::scope::{self, Place};

/// What changed.
#[derive(Debug, Clone, PartialEq)]
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
    #[error(transparent)]
    Scope(#[from] scope::ScopeError),
}

/// Places read at once (each has its own pace: ECS's buckets are per account and region).
pub const PLACES_IN_FLIGHT: usize = 4;

/// One place's answer: its result, or why it could not be read.
#[derive(Debug, Serialize)]
pub struct AtPlace<T> {
    /// `None`: the configured account.
    pub account: Option<String>,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `plan` and `status` print: one place's result as before, or a row per place.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer<T> {
    One(T),
    Many { places: Vec<AtPlace<T>> },
}

impl<T> AtPlace<T> {
    /// `account/region` for a person (`configured` for the configured account).
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.account.as_deref().unwrap_or("configured"),
            self.region
        )
    }
}

impl<T> Answer<T> {
    /// Whether some place could not be read.
    pub fn failed_somewhere(&self) -> bool {
        match self {
            Answer::One(_) => false,
            Answer::Many { places } => places.iter().any(|p| p.error.is_some()),
        }
    }

    /// Every result.
    pub fn results(&self) -> Vec<&T> {
        match self {
            Answer::One(t) => vec![t],
            Answer::Many { places } => places.iter().filter_map(|p| p.result.as_ref()).collect(),
        }
    }
}

/// Whether `args` name places beyond the configured account and region.
pub fn is_wide(args: &scope::Args) -> bool {
    !args.accounts.is_empty() || !args.regions.is_empty()
}

/// The change as a place sees it: a parameter given by name is that place's own parameter.
pub fn change_at(change: &Change, target: &Target, place: &Place) -> Change {
    match (change, target) {
        (Change::Parameter { parameter }, Target::Parameter(name)) if !name.starts_with("arn:") => {
            Change::Parameter {
                parameter: ParameterArn {
                    partition: ecs_secrets_shared::arn::partition_of_region(&place.region).into(),
                    region: place.region.clone(),
                    account: place
                        .account
                        .clone()
                        .unwrap_or_else(|| parameter.account.clone()),
                    name: parameter.name.clone(),
                },
            }
        }
        _ => change.clone(),
    }
}

/// `plan` in every place `scope` names.
pub async fn plan_wide(target: Target, scope: scope::Args) -> Result<Answer<Summary>, PlanError> {
    if !is_wide(&scope) {
        return Ok(Answer::One(plan(target).await?));
    }
    let mut config = Config::from_env()?;
    config.dry_run = true;
    config.scan_outside_clusters = true;
    let aws = AwsConfig::load().await?;
    let change = change_of(target.clone(), &aws).await?;
    let places = scope::places(&aws, &scope).await?;
    let planned = stream::iter(places)
        .map(|place| {
            let (config, change) = (config.clone(), change_at(&change, &target, &place));
            async move {
                let redeployer =
                    Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&place.sdk)), config);
                let result = plan_with(&redeployer, &change).await;
                AtPlace {
                    account: place.account.clone(),
                    region: place.region.clone(),
                    error: result.as_ref().err().map(ToString::to_string),
                    result: result.ok(),
                }
            }
        })
        .buffered(PLACES_IN_FLIGHT)
        .collect()
        .await;
    Ok(Answer::Many { places: planned })
}

/// The plans of several places, one table.
pub fn text_wide(answer: &Answer<Summary>) -> String {
    let places = match answer {
        Answer::One(summary) => return text(summary),
        Answer::Many { places } => places,
    };
    let mut out = String::new();
    let redeploy: usize = places
        .iter()
        .filter_map(|p| p.result.as_ref())
        .map(|s| s.redeployed.len())
        .sum();
    let _ = writeln!(
        out,
        "Would redeploy {redeploy} service(s) in {} place(s):",
        places.len()
    );
    for p in places {
        let at = p.label();
        if let Some(e) = &p.error {
            let _ = writeln!(out, "  {at:<28} error: {e}");
            continue;
        }
        let Some(s) = &p.result else { continue };
        for r in &s.redeployed {
            let _ = writeln!(out, "  {at:<28} redeploy  {}/{}", r.cluster, r.service);
        }
        for k in &s.skipped {
            let _ = writeln!(
                out,
                "  {at:<28} skip      {}/{}: {}",
                k.cluster, k.service, k.reason
            );
        }
        let _ = writeln!(out, "  {at:<28} {}", api_calls_line(&s.api_calls));
    }
    out
}

pub async fn plan(target: Target) -> Result<Summary, PlanError> {
    let mut config = Config::from_env()?;
    config.dry_run = true;
    // A plan also reports the referencing services a narrower CLUSTERS leaves stale.
    config.scan_outside_clusters = true;
    let aws = AwsConfig::load().await?;
    let change = change_of(target, &aws).await?;
    let redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    Ok(plan_with(&redeployer, &change).await?)
}

/// The plan of one change with one redeployer (one account and region).
async fn plan_with(
    redeployer: &Redeployer<Ecs>,
    change: &Change,
) -> Result<Summary, ecs_redeployer::redeploy::DiscoveryError> {
    // A label the redeployer would not act on (AWSPENDING): say why, as it would.
    if let Change::Secret { secret, labels } = change {
        for label in labels {
            if let Decision::Ignore { reason, .. } = change::label_moved(secret, label, None) {
                return Ok(redeployer.plan_nothing(change, reason));
            }
        }
    }
    // No change time: every referencing service is listed, none is "already redeployed".
    redeployer.plan(change, None).await
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
