//! `ecs-secrets status`: did a rotated secret (or a changed parameter) reach every consumer?
//! The redeployer's discovery and verdicts, then ECS's deployments and running tasks read back
//! ([`ecs_redeployer::status`]).
//!
//! The change time is when the value consumers should read became current: for a secret, the
//! latest of its AWSCURRENT version's creation, its last completed rotation (a rotation creates
//! the version at createSecret and makes it current only at finishSecret: a task started in
//! between still read the old value) and its last change (which catches AWSCURRENT moved back
//! to an older version); for a parameter, its `LastModifiedDate`. Erring late only ever makes a
//! task look stale, never fresh.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use ecs_redeployer::change::Change;
use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::redeploy::Redeployer;
use ecs_redeployer::status::{State, Status};
use ecs_secrets_shared::aws::AwsConfig;

use crate::plan::{change_of, PlanError, Target};

/// Why a status could not be made (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot read when the change happened: {0}")]
    ChangeTime(String),
}

fn time(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// When the value consumers should read became current.
async fn changed_at(change: &Change, aws: &AwsConfig) -> Result<DateTime<Utc>, StatusError> {
    let fail = |e: String| StatusError::ChangeTime(e);
    match change {
        Change::Secret { secret, labels } => {
            let id = secret.to_string();
            let sm = aws.secrets_manager();
            let label = labels.first().map_or("AWSCURRENT", String::as_str);
            let mut created = None;
            let mut pages = sm
                .list_secret_version_ids()
                .secret_id(&id)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| fail(aws_sdk_ecs::error::DisplayErrorContext(e).to_string()))?;
                for v in page.versions() {
                    if v.version_stages().iter().any(|s| s == label) {
                        created = v.created_date().and_then(time);
                    }
                }
            }
            let created = created
                .ok_or_else(|| fail(format!("no version of the secret is labelled {label}")))?;
            let described = sm
                .describe_secret()
                .secret_id(&id)
                .send()
                .await
                .map_err(|e| fail(aws_sdk_ecs::error::DisplayErrorContext(e).to_string()))?;
            // A completed rotation makes its version current at finishSecret, after creating
            // it; moving AWSCURRENT back to an older version changes neither date, but it does
            // change the secret (LastChangedDate). The latest of the three: a later time can
            // only make a task look stale, never fresh.
            Ok([
                described.last_rotated_date().and_then(time),
                described.last_changed_date().and_then(time),
            ]
            .into_iter()
            .flatten()
            .fold(created, DateTime::max))
        }
        Change::Parameter { parameter } => {
            let out = aws_sdk_ssm::Client::new(&aws.sdk)
                .get_parameter()
                .name(parameter.to_string())
                .send()
                .await
                .map_err(|e| fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
            out.parameter()
                .and_then(|p| p.last_modified_date())
                .and_then(time)
                .ok_or_else(|| fail("the parameter has no LastModifiedDate".into()))
        }
    }
}

pub async fn status(target: Target) -> Result<Status, StatusError> {
    let mut config = Config::from_env().map_err(PlanError::from)?;
    config.dry_run = true;
    let aws = AwsConfig::load().await.map_err(PlanError::from)?;
    let change = change_of(target, &aws).await?;
    let at = changed_at(&change, &aws).await?;
    let redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    Ok(redeployer
        .status(&change, at)
        .await
        .map_err(PlanError::from)?)
}

/// The status for a person.
pub fn text(status: &Status) -> String {
    let mut out = String::new();
    let what = status.change["secret"]
        .as_str()
        .or(status.change["parameter"].as_str())
        .unwrap_or("?");
    let _ = writeln!(
        out,
        "Change: {what}, current since {}",
        status.changed_at.to_rfc3339()
    );
    let counts: Vec<String> = [
        State::Fresh,
        State::Rolling,
        State::Stale,
        State::Failed,
        State::Skipped,
    ]
    .iter()
    .filter(|s| status.count(**s) > 0)
    .map(|s| format!("{} {}", status.count(*s), s.as_str()))
    .collect();
    let _ = writeln!(
        out,
        "Propagated: {}{}{}",
        if status.propagated { "yes" } else { "no" },
        if counts.is_empty() {
            " (no consumer)".to_owned()
        } else {
            format!(" ({})", counts.join(", "))
        },
        status
            .propagation_seconds
            .map(|s| format!(", in {s:.0} s"))
            .unwrap_or_default()
    );
    for c in &status.consumers {
        let _ = writeln!(
            out,
            "  {:<8} {:<7} {}/{}: {}",
            c.state.as_str(),
            c.kind,
            c.cluster,
            c.name,
            c.reason
        );
        if let Some(command) = &c.command {
            let _ = writeln!(out, "           replace it: {command}");
        }
        for w in &c.warnings {
            let _ = writeln!(out, "           warning: {w}");
        }
    }
    let _ = writeln!(out, "{}", crate::plan::api_calls_line(&status.api_calls));
    out
}
