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

use futures_util::stream::{self, StreamExt};

use crate::plan::{change_at, change_of, is_wide, AtPlace, PlanError, Target, PLACES_IN_FLIGHT};
use crate::scope;

/// The answer of `status`, one place or many.
pub type Answer = crate::plan::Answer<Status>;

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

/// When the value consumers should read became current (a parameter read with `ssm`: the
/// place's own for a parameter given by name).
async fn changed_at(
    change: &Change,
    aws: &AwsConfig,
    ssm: &aws_config::SdkConfig,
) -> Result<DateTime<Utc>, StatusError> {
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
            // Metadata only (DescribeParameters), never the value: the read-only role of
            // `--accounts` has no GetParameter.
            let out = aws_sdk_ssm::Client::new(ssm)
                .describe_parameters()
                .parameter_filters(
                    aws_sdk_ssm::types::ParameterStringFilter::builder()
                        .key("Name")
                        .option("Equals")
                        .values(&parameter.name)
                        .build()
                        .map_err(|e| fail(e.to_string()))?,
                )
                .send()
                .await
                .map_err(|e| fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
            out.parameters()
                .first()
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
    let at = changed_at(&change, &aws, &aws.sdk).await?;
    let redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    Ok(redeployer
        .status(&change, at)
        .await
        .map_err(PlanError::from)?)
}

/// `status` in every place `scope` names; propagated only when it is in every place.
pub async fn status_wide(target: Target, scope: scope::Args) -> Result<Answer, StatusError> {
    if !is_wide(&scope) {
        return Ok(Answer::One(status(target).await?));
    }
    let mut config = Config::from_env().map_err(PlanError::from)?;
    config.dry_run = true;
    let aws = AwsConfig::load().await.map_err(PlanError::from)?;
    let change = change_of(target.clone(), &aws).await?;
    let places = scope::places(&aws, &scope).await.map_err(PlanError::from)?;
    // A secret's (or a parameter ARN's) change time is read once, as configured (where its
    // owner is readable); a parameter given by name is each place's own.
    let by_name = matches!(&target, Target::Parameter(name) if !name.starts_with("arn:"));
    let secret_at = if by_name {
        None
    } else {
        Some(changed_at(&change, &aws, &aws.sdk).await?)
    };
    let read = stream::iter(places)
        .map(|place| {
            let (config, change, aws) = (config.clone(), change_at(&change, &target, &place), &aws);
            async move {
                let result = async {
                    let at = match secret_at {
                        Some(at) => at,
                        None => changed_at(&change, aws, &place.sdk).await?,
                    };
                    let redeployer =
                        Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&place.sdk)), config);
                    redeployer
                        .status(&change, at)
                        .await
                        .map_err(|e| StatusError::Plan(PlanError::from(e)))
                }
                .await;
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
    Ok(Answer::Many { places: read })
}

/// Whether the change reached every consumer everywhere that could be read.
pub fn propagated(answer: &Answer) -> bool {
    !answer.failed_somewhere() && answer.results().iter().all(|s| s.propagated)
}

/// The statuses of several places, one table.
pub fn text_wide(answer: &Answer) -> String {
    let places = match answer {
        Answer::One(status) => return text(status),
        Answer::Many { places } => places,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Propagated: {} ({} place(s))",
        if propagated(answer) { "yes" } else { "no" },
        places.len()
    );
    for p in places {
        let at = p.label();
        if let Some(e) = &p.error {
            let _ = writeln!(out, "  {at:<28} error: {e}");
            continue;
        }
        let Some(s) = &p.result else { continue };
        for c in &s.consumers {
            let _ = writeln!(
                out,
                "  {at:<28} {:<8} {:<7} {}/{}: {}",
                c.state.as_str(),
                c.kind,
                c.cluster,
                c.name,
                c.reason
            );
        }
        let _ = writeln!(
            out,
            "  {at:<28} {}",
            crate::plan::api_calls_line(&s.api_calls)
        );
    }
    out
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
