//! `ecs-secrets plan`: which ECS services a change of a secret or parameter would redeploy,
//! and why the others would not — the redeployer's own logic, as a dry run.

use std::fmt::Write as _;

use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::redeploy::{Redeployer, Summary};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::aws::AwsConfig;
use ecs_secrets_shared::events::{ChangeEvent, Trigger};

/// What changed.
#[derive(Debug, Clone)]
pub enum Target {
    Secret { id: String, label: String },
    Parameter(String),
}

pub async fn plan(target: Target) -> Result<Summary, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    config.dry_run = true;
    // A plan also reports the referencing services a narrower CLUSTERS leaves stale.
    config.scan_outside_clusters = true;
    let aws = AwsConfig::load().await.map_err(|e| e.to_string())?;
    let region = aws.region().to_owned();
    let trigger = match target {
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
                        .map_err(|e| {
                            format!(
                                "cannot find secret `{id}`: {}",
                                aws_sdk_ecs::error::DisplayErrorContext(e)
                            )
                        })?;
                    let arn = out
                        .arn()
                        .ok_or_else(|| format!("secret `{id}` has no ARN"))?;
                    SecretArn::parse(arn).map_err(|e| e.to_string())?
                }
            };
            Trigger::SecretLabelUpdated {
                secret,
                label,
                version_id: None,
            }
        }
        Target::Parameter(name) => {
            let parameter = if name.starts_with("arn:") {
                ParameterArn::parse(&name).map_err(|e| e.to_string())?
            } else {
                let identity = aws_sdk_sts::Client::new(&aws.sdk)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "cannot determine the account: {}",
                            aws_sdk_sts::error::DisplayErrorContext(e)
                        )
                    })?;
                ParameterArn {
                    partition: ecs_secrets_shared::arn::partition_of_region(&region).into(),
                    region: region.clone(),
                    account: identity.account().unwrap_or_default().to_owned(),
                    name: name.clone(),
                }
            };
            Trigger::ParameterChanged {
                parameter,
                operation: "Update".into(),
                labels: Vec::new(),
            }
        }
    };
    let event = ChangeEvent {
        id: "ecs-secrets-plan".into(),
        // No change time: every referencing service is listed, none is "already redeployed".
        time: None,
        region,
        account: String::new(),
        trigger,
    };
    let redeployer = Redeployer::new(Ecs(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    redeployer.handle(&event).await.map_err(|e| e.to_string())
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
    let calls: Vec<String> = summary
        .api_calls
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        out,
        "ECS API calls: {}",
        if calls.is_empty() {
            "none".into()
        } else {
            calls.join(", ")
        }
    );
    out
}
