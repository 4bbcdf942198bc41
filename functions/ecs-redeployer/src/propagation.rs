//! Propagation tracking in AWS, without a database: after the redeployer acts on a change, it
//! says when every consumer runs the new value — or that one does not.
//!
//! The state is one EventBridge Scheduler schedule per change (the [`Check`]): created when the
//! change is acted on, set to fire at the deadline (`PROPAGATION_DEADLINE_MINUTES`), with the
//! change in its input. Everything else is recomputed from ECS each time, as
//! [`crate::status`] does for the CLI:
//! - on an `ECS Deployment State Change` (completed or failed) of a service, each tracked change
//!   that the service consumes is checked: a failed deployment is reported at once (`Secret
//!   Propagation Failed`), and a change whose consumers are all fresh is reported as `Secret
//!   Propagated`;
//! - at the deadline the schedule invokes the function with the check: whatever is not fresh
//!   by then is reported as failed (stale tasks with the command that replaces them).
//!
//! Exactly one report per change: a report is published only by whoever deletes the schedule
//! (`DeleteSchedule` succeeds once; a concurrent or duplicate event finds it gone and reports
//! nothing). If publishing then fails, the schedule is created again a minute out, so the
//! report is retried rather than lost.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::telemetry::Metrics;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::change::Change;
use crate::ecs::{ApiError, EcsApi};
use crate::redeploy::{DiscoveryError, Redeployer};
use crate::status::{State, Status};

/// Source of the events this function publishes.
pub const EVENT_SOURCE: &str = "ecs-secrets.redeployer";
pub const PROPAGATED: &str = "Secret Propagated";
pub const PROPAGATION_FAILED: &str = "Secret Propagation Failed";
/// The `action` of the scheduled invocation.
pub const CHECK_ACTION: &str = "propagation-check";

/// One tracked change: the schedule's name and its input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

impl Check {
    /// The check of `change` (at `changed_at`), due `deadline` later (and not before a minute
    /// from now). The name is a digest of what changed — not of when — so the several events
    /// of one rotation (label event, CloudTrail calls, redeliveries) share one check, which
    /// the latest change time wins ([`Tracker::schedule`]).
    pub fn new(change: &Change, changed_at: DateTime<Utc>, deadline: Duration) -> Self {
        let (secret, labels, parameter) = match change {
            Change::Secret { secret, labels } => (Some(secret.to_string()), labels.clone(), None),
            Change::Parameter { parameter } => (None, Vec::new(), Some(parameter.to_string())),
        };
        let mut digest = Sha256::new();
        digest.update(format!("{secret:?}|{labels:?}|{parameter:?}"));
        let hex: String = digest
            .finalize()
            .iter()
            .take(20)
            .map(|b| format!("{b:02x}"))
            .collect();
        Check {
            name: format!("ecs-secrets-{hex}"),
            secret,
            labels,
            parameter,
            changed_at,
            deadline: (changed_at + deadline).max(Utc::now() + Duration::minutes(1)),
        }
    }

    /// The change it tracks.
    pub fn change(&self) -> Result<Change, String> {
        match (&self.secret, &self.parameter) {
            (Some(s), None) => Ok(Change::Secret {
                secret: SecretArn::parse(s).map_err(|e| format!("check.secret: {e}"))?,
                labels: if self.labels.is_empty() {
                    vec!["AWSCURRENT".to_owned()]
                } else {
                    self.labels.clone()
                },
            }),
            (None, Some(p)) => Ok(Change::Parameter {
                parameter: ParameterArn::parse(p).map_err(|e| format!("check.parameter: {e}"))?,
            }),
            _ => Err("check: exactly one of secret and parameter".to_owned()),
        }
    }
}

/// Where tracking state lives and reports go: EventBridge Scheduler and EventBridge.
pub trait Tracker: Sync {
    /// Creates the check's schedule, to invoke `target_arn` (this function) at its deadline.
    /// When the change is tracked already, the later change time wins: the schedule is updated
    /// to this check if it is newer, and kept otherwise.
    fn schedule(
        &self,
        check: &Check,
        target_arn: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Every change being tracked.
    fn tracked(&self) -> impl Future<Output = Result<Vec<Check>, ApiError>> + Send;
    /// The check held under `name`, if it is still being tracked.
    fn get(&self, name: &str) -> impl Future<Output = Result<Option<Check>, ApiError>> + Send;
    /// Deletes the check's schedule: `true` for the one caller that did, `false` when it was
    /// gone already (someone else reports).
    fn claim(&self, check: &Check) -> impl Future<Output = Result<bool, ApiError>> + Send;
    fn publish(
        &self,
        detail_type: &str,
        detail: &Value,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// What a check concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Reported (`detail-type`).
    Reported(&'static str),
    /// Not decided yet (consumers still rolling), or reported by someone else.
    Waiting,
    AlreadyReported,
    /// The service of the event consumes none of the tracked changes.
    NotAConsumer,
}

/// The report's detail: the change, the verdicts, never a value.
pub fn detail(status: &Status, check: &Check) -> Value {
    let failing: Vec<String> = status
        .consumers
        .iter()
        .filter(|c| c.holds_old_value())
        .map(|c| format!("{}/{}", c.cluster, c.name))
        .collect();
    // An event holds at most 256 KB: the verdicts of the first consumers, and how many more.
    let shown: Vec<&crate::status::Consumer> = status
        .consumers
        .iter()
        .take(MAX_CONSUMERS_IN_EVENT)
        .collect();
    json!({
        "check": check.name,
        "change": status.change,
        "changedAt": status.changed_at.to_rfc3339(),
        "deadline": check.deadline.to_rfc3339(),
        "propagated": status.propagated,
        "propagationSeconds": status.propagation_seconds,
        "failing": failing.iter().take(MAX_CONSUMERS_IN_EVENT).collect::<Vec<_>>(),
        "consumers": shown,
        "consumersOmitted": status.consumers.len() - shown.len(),
        "clustersNotScanned": status.clusters_not_scanned,
    })
}

/// Consumers listed in a report (each under 1 KB: the event stays well under 256 KB).
const MAX_CONSUMERS_IN_EVENT: usize = 150;

fn metrics(status: &Status, detail_type: &str) {
    let mut m = Metrics::new(crate::config::FUNCTION_NAME);
    // The alarm's metric: one per change reported as not propagated.
    m.count(
        "PropagationFailed",
        u64::from(detail_type == PROPAGATION_FAILED),
    );
    let stale: usize = status
        .consumers
        .iter()
        .filter(|c| c.state != State::Skipped)
        .map(|c| c.tasks_started_before_change)
        .sum();
    m.count("StaleTasks", stale as u64)
        .count("ConsumersFailed", status.count(State::Failed) as u64);
    if let Some(seconds) = status.propagation_seconds {
        m.count("PropagationSeconds", seconds.round() as u64);
    }
    m.emit();
}

/// Claims the check and publishes `detail_type`; on a failed publish, schedules the check again
/// a minute out so the report is retried.
async fn report<T: Tracker>(
    tracker: &T,
    check: &Check,
    status: &Status,
    detail_type: &'static str,
    target_arn: &str,
) -> Result<Outcome, ApiError> {
    if !tracker.claim(check).await? {
        return Ok(Outcome::AlreadyReported);
    }
    if let Err(e) = tracker.publish(detail_type, &detail(status, check)).await {
        let retry = Check {
            deadline: Utc::now() + Duration::minutes(1),
            ..check.clone()
        };
        tracker.schedule(&retry, target_arn).await?;
        return Err(e);
    }
    // Once per report: a retried publish is not counted twice.
    metrics(status, detail_type);
    tracing::info!(check = %check.name, detail_type, "propagation reported");
    Ok(Outcome::Reported(detail_type))
}

/// The schedule named `name` fired: report whatever the consumers' state is now. The invocation
/// only names the check: what is checked is the schedule's own input, so a caller who may
/// invoke the function cannot have a made-up change (or change time) reported.
pub async fn at_deadline<E: EcsApi, T: Tracker>(
    redeployer: &Redeployer<E>,
    tracker: &T,
    name: &str,
    target_arn: &str,
) -> Result<Outcome, TrackError> {
    let Some(check) = tracker.get(name).await? else {
        return Ok(Outcome::AlreadyReported);
    };
    // Not due yet (an early invocation): nothing is decided before the deadline.
    if Utc::now() + Duration::seconds(DEADLINE_SKEW_SECONDS) < check.deadline {
        return Ok(Outcome::Waiting);
    }
    let change = check.change().map_err(TrackError::Check)?;
    let status = match redeployer.status(&change, check.changed_at).await {
        Ok(s) => s,
        Err(e) => {
            // A one-time schedule does not fire again: check again in five minutes.
            let again = Check {
                deadline: Utc::now() + Duration::minutes(5),
                ..check.clone()
            };
            tracker.schedule(&again, target_arn).await?;
            return Err(e.into());
        }
    };
    let detail_type = if status.propagated {
        PROPAGATED
    } else {
        PROPAGATION_FAILED
    };
    Ok(report(tracker, &check, &status, detail_type, target_arn).await?)
}

/// How early a deadline invocation may arrive (EventBridge Scheduler's clock and ours).
const DEADLINE_SKEW_SECONDS: i64 = 60;

/// Deployments of these services settled: for each tracked change one of them consumes (each
/// check's status computed once), report a failure at once, or propagation when every consumer
/// is fresh. Only ECS's own state decides: an event (or a forged one) is just a reason to look.
pub async fn on_deployments<E: EcsApi, T: Tracker>(
    redeployer: &Redeployer<E>,
    tracker: &T,
    services: &[&str],
    target_arn: &str,
) -> Result<Vec<(String, Outcome)>, TrackError> {
    let mut out = Vec::new();
    for check in tracker.tracked().await? {
        let change = match check.change() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(check = %check.name, error = %e, "unreadable check skipped");
                continue;
            }
        };
        let status = redeployer.status(&change, check.changed_at).await?;
        let consumes = status.consumers.iter().any(|c| {
            c.kind == "service"
                && services
                    .iter()
                    .any(|arn| names_service(arn, &c.cluster, &c.name))
        });
        if !consumes {
            out.push((check.name.clone(), Outcome::NotAConsumer));
            continue;
        }
        let outcome = if status.count(State::Failed) > 0 {
            report(tracker, &check, &status, PROPAGATION_FAILED, target_arn).await?
        } else if status.propagated {
            report(tracker, &check, &status, PROPAGATED, target_arn).await?
        } else {
            Outcome::Waiting
        };
        out.push((check.name.clone(), outcome));
    }
    Ok(out)
}

/// Whether a service ARN (`…:service/cluster/name`, or the old `…:service/name`) names this
/// service.
fn names_service(arn: &str, cluster: &str, name: &str) -> bool {
    let Some((_, path)) = arn.split_once(":service/") else {
        return false;
    };
    match path.split_once('/') {
        Some((c, n)) => c == cluster && n == name,
        None => path == name,
    }
}

/// Why tracking failed (the invocation fails and is retried).
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("invalid check: {0}")]
    Check(String),
    #[error(transparent)]
    Status(#[from] DiscoveryError),
    #[error("propagation tracking failed: {0}")]
    Api(#[from] ApiError),
}

/// The real tracker: EventBridge Scheduler (one schedule group) and EventBridge.
#[derive(Debug, Clone)]
pub struct AwsTracker {
    pub scheduler: aws_sdk_scheduler::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub group: String,
    /// The role EventBridge Scheduler assumes to invoke the function.
    pub role_arn: String,
    pub bus: String,
}

impl Tracker for AwsTracker {
    async fn schedule(&self, check: &Check, target_arn: &str) -> Result<(), ApiError> {
        use aws_sdk_scheduler::types::{
            ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
        };
        let input = json!({"action": CHECK_ACTION, "check": check}).to_string();
        let target = Target::builder()
            .arn(target_arn)
            .role_arn(&self.role_arn)
            .input(input)
            .build()
            .map_err(|e| ApiError {
                operation: "CreateSchedule",
                code: None,
                message: e.to_string(),
            })?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| ApiError {
                operation: "CreateSchedule",
                code: None,
                message: e.to_string(),
            })?;
        match self
            .scheduler
            .create_schedule()
            .name(&check.name)
            .group_name(&self.group)
            .schedule_expression(format!(
                "at({})",
                check.deadline.format("%Y-%m-%dT%H:%M:%S")
            ))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::None)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(ApiError::from_sdk("CreateSchedule", &e)),
        }
    }

    async fn tracked(&self) -> Result<Vec<Check>, ApiError> {
        let mut names = Vec::new();
        let mut pages = self
            .scheduler
            .list_schedules()
            .group_name(&self.group)
            .name_prefix("ecs-secrets-")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("ListSchedules", &e))?;
            names.extend(
                page.schedules()
                    .iter()
                    .filter_map(|s| s.name().map(str::to_owned)),
            );
        }
        let mut out = Vec::new();
        for name in names {
            if let Some(check) = self.get(&name).await? {
                out.push(check);
            }
        }
        Ok(out)
    }

    async fn get(&self, name: &str) -> Result<Option<Check>, ApiError> {
        let schedule = match self
            .scheduler
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
        {
            Ok(s) => s,
            // Claimed (deleted) already.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(ApiError::from_sdk("GetSchedule", &e)),
        };
        let input = schedule
            .target()
            .and_then(|t| t.input())
            .and_then(|i| serde_json::from_str::<Value>(i).ok());
        let check = input.and_then(|i| serde_json::from_value::<Check>(i["check"].clone()).ok());
        if check.is_none() {
            tracing::warn!(schedule = %name, "a schedule without a readable check");
        }
        // A check is the one stored under its own name.
        Ok(check.filter(|c| c.name == name))
    }

    async fn claim(&self, check: &Check) -> Result<bool, ApiError> {
        match self
            .scheduler
            .delete_schedule()
            .group_name(&self.group)
            .name(&check.name)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(ApiError::from_sdk("DeleteSchedule", &e)),
        }
    }

    async fn publish(&self, detail_type: &str, detail: &Value) -> Result<(), ApiError> {
        use aws_sdk_eventbridge::types::PutEventsRequestEntry;
        let out = self
            .events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source(EVENT_SOURCE)
                    .detail_type(detail_type)
                    .event_bus_name(&self.bus)
                    .detail(detail.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("PutEvents", &e))?;
        if out.failed_entry_count() > 0 {
            return Err(ApiError {
                operation: "PutEvents",
                code: None,
                message: out
                    .entries()
                    .iter()
                    .find_map(|e| e.error_message())
                    .unwrap_or("entry rejected")
                    .to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
