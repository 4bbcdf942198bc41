//! `ecs-redeployer`: after a secret or parameter changes, redeploy exactly the ECS services
//! that use it.
//!
//! ECS injects secrets only when a container starts, so a rotated secret reaches running
//! services only through a new deployment. The handler parses the EventBridge event with the
//! shared model; [`change`] says whether it changes what tasks read (the AWSPENDING write
//! in the middle of a rotation does not); [`redeploy`] discovers services through [`ecs`],
//! [`verdict`] judges each: redeploy, or why not, and the summary is returned and
//! logged. Deployed, it consumes SQS batches and reports the records to retry in
//! `batchItemFailures`; invoked directly, the invocation fails when an update failed. Retries
//! are safe because a service redeployed since the change is skipped.
//!
//! Then it follows what it started: [`status`] reads back, for a change, every consumer's
//! deployments and running tasks (the CLI's `ecs-secrets status`), and [`propagation`] keeps
//! one EventBridge Scheduler check per change it acted on and reports `Secret Propagated` or
//! `Secret Propagation Failed` once — on ECS's deployment state changes (through the same
//! queue) or at the check's deadline.

pub mod change;
pub mod config;
pub mod ecs;
pub mod index;
pub mod maintain;
#[cfg(test)]
mod memory;
pub mod pace;
pub mod propagation;
pub mod redeploy;
pub mod status;
pub mod verdict;

use ecs_secrets_shared::events::ChangeEvent;
use ecs_secrets_shared::telemetry::Metrics;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use ecs::EcsApi;
use propagation::{Check, Tracker};
use redeploy::Redeployer;

pub use config::FUNCTION_NAME;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] ecs_secrets_shared::EventError),
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    #[error(transparent)]
    Discovery(#[from] redeploy::DiscoveryError),
    #[error(transparent)]
    Tracking(#[from] propagation::TrackError),
    #[error("index: {0}")]
    Index(#[from] maintain::MaintainError),
    #[error("{failed} of {total} service update(s) failed (a retry skips the services already redeployed): {summary}")]
    UpdatesFailed {
        failed: usize,
        total: usize,
        summary: String,
    },
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic {
            error_type: match &e {
                Error::InvalidEvent(_) | Error::InvalidBatch(_) => "InvalidEvent",
                Error::Discovery(_) => "DiscoveryFailed",
                Error::Tracking(_) => "TrackingFailed",
                Error::Index(_) => "IndexFailed",
                Error::UpdatesFailed { .. } => "UpdatesFailed",
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Time left until the invocation's deadline (milliseconds since the epoch, from the Runtime
/// API; zero when already past); `None` when it is unknown.
fn remaining(deadline_ms: u64) -> Option<std::time::Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    (deadline_ms > 0).then(|| std::time::Duration::from_millis(deadline_ms.saturating_sub(now)))
}

/// Whether the invocation is a batch from the SQS event source mapping.
fn is_sqs_batch(payload: &Value) -> bool {
    payload["Records"]
        .as_array()
        .is_some_and(|r| !r.is_empty() && r.iter().all(|r| r["eventSource"] == "aws:sqs"))
}

/// Handles one invocation: an SQS batch (the deployed path), a bare EventBridge event (direct
/// invocation, `ecs-secrets plan`), an `ECS Deployment State Change` or the scheduled
/// propagation check (with `tracker`: see [`propagation`]).
pub async fn handle<E: EcsApi, T: Tracker>(
    redeployer: &Redeployer<E>,
    tracker: Option<&T>,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let me = Invocation {
        function_arn: event.context.invoked_function_arn.clone(),
        // A change without a time (direct invocations) counts as made when this invocation
        // started: every deployment it starts is after that.
        started: chrono::Utc::now(),
    };
    if is_sqs_batch(&event.payload) {
        let deadline = remaining(event.context.deadline).map(|d| tokio::time::Instant::now() + d);
        return handle_sqs(redeployer, tracker, &me, event.payload, deadline).await;
    }
    if event.payload["action"] == RECONCILE_ACTION {
        let drift = redeployer.reconcile().await?;
        let json = serde_json::json!({"reconciled": drift});
        tracing::info!(summary = %json, "index reconciled");
        return Ok(json);
    }
    if index::is_ecs_api_call(&event.payload) {
        // Only through the queue, which only EventBridge's rule may write to: a record says
        // what a revision reads, so whoever could hand one in could steer deployments.
        return Err(Error::InvalidBatch(
            "CloudTrail records of ECS calls are taken from the changes queue only".into(),
        ));
    }
    if event.payload["action"] == propagation::CHECK_ACTION {
        // Only the name is taken from the invocation; the check is the schedule's own.
        let name = event.payload["check"]["name"]
            .as_str()
            .filter(|n| n.starts_with("ecs-secrets-") && n.len() <= 64)
            .ok_or_else(|| {
                Error::InvalidBatch("check.name: expected the name of a propagation check".into())
            })?
            .to_owned();
        let Some(tracker) = tracker else {
            return Ok(serde_json::json!({"check": name, "outcome": "tracking is off"}));
        };
        let outcome =
            propagation::at_deadline(redeployer, tracker, &name, &me.function_arn).await?;
        return Ok(serde_json::json!({"check": name, "outcome": format!("{outcome:?}")}));
    }
    let change = ChangeEvent::parse(&event.payload)?;
    if let ecs_secrets_shared::events::Trigger::DeploymentStateChanged {
        service_arn,
        event_name,
        ..
    } = &change.trigger
    {
        let settled = matches!(
            event_name.as_str(),
            "SERVICE_DEPLOYMENT_COMPLETED" | "SERVICE_DEPLOYMENT_FAILED"
        );
        let Some(tracker) = tracker.filter(|_| settled) else {
            return Ok(
                serde_json::json!({"deployment": service_arn, "reason": "nothing to track"}),
            );
        };
        let outcomes = propagation::on_deployments(
            redeployer,
            tracker,
            &[service_arn.as_str()],
            &me.function_arn,
        )
        .await?;
        return Ok(serde_json::json!({
            "deployment": service_arn,
            "checks": outcomes.iter().map(|(name, o)| serde_json::json!({"check": name, "outcome": format!("{o:?}")})).collect::<Vec<_>>(),
        }));
    }
    let summary = redeployer.handle(&change).await?;
    let mut json = serde_json::to_value(&summary).unwrap_or_default();
    if let Some(name) = track(redeployer, tracker, &me, &change, summary.redeployed.len()).await? {
        json["propagation_check"] = Value::String(name);
    }
    tracing::info!(summary = %json, "redeploy summary");
    let mut metrics = Metrics::new(FUNCTION_NAME);
    metrics
        .count("ServicesRedeployed", summary.redeployed.len() as u64)
        .count("ServicesSkipped", summary.skipped.len() as u64)
        .count("ServicesFailed", summary.failed.len() as u64)
        .count("ApiCalls", summary.api_calls.values().sum());
    metrics.emit();
    if !summary.failed.is_empty() {
        return Err(Error::UpdatesFailed {
            failed: summary.failed.len(),
            total: summary.failed.len() + summary.redeployed.len(),
            summary: json.to_string(),
        });
    }
    Ok(json)
}

/// The direct invocation that rebuilds the index (what the daily schedule sends).
pub const RECONCILE_ACTION: &str = "reconcile";

/// This invocation: the function's ARN (what a schedule invokes) and when it started.
#[derive(Debug, Clone)]
struct Invocation {
    function_arn: String,
    started: chrono::DateTime<chrono::Utc>,
}

/// After a change redeployed services (for real), the check of its propagation: scheduled at
/// the deadline; its name.
async fn track<E: EcsApi, T: Tracker>(
    redeployer: &Redeployer<E>,
    tracker: Option<&T>,
    me: &Invocation,
    event: &ChangeEvent,
    redeployed: usize,
) -> Result<Option<String>, Error> {
    let (Some(tracker), Some(settings)) = (tracker, redeployer.config.propagation.as_ref()) else {
        return Ok(None);
    };
    if redeployed == 0 || redeployer.config.dry_run {
        return Ok(None);
    }
    let change::Decision::Redeploy { change, time } = change::decision(event) else {
        return Ok(None);
    };
    let check = Check::new(
        &change,
        time.unwrap_or(me.started),
        chrono::Duration::minutes(i64::from(settings.deadline_minutes)),
    );
    tracker
        .schedule(&check, &me.function_arn)
        .await
        .map_err(|e| Error::Tracking(propagation::TrackError::Api(e)))?;
    Ok(Some(check.name))
}

/// One SQS batch (FIFO, one message group): every record's change in one discovery pass, each
/// service deployed at most once. Records that cannot be parsed, or whose change did not reach
/// every service it should, are reported in `batchItemFailures` — with the records after the
/// first such one, as FIFO ordering requires — and the invocation itself succeeds, so only
/// those are received again (and reach the dead-letter queue after the queue's
/// `maxReceiveCount`).
async fn handle_sqs<E: EcsApi, T: Tracker>(
    redeployer: &Redeployer<E>,
    tracker: Option<&T>,
    me: &Invocation,
    payload: Value,
    deadline: Option<tokio::time::Instant>,
) -> Result<Value, Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    let sqs: SqsEvent = serde_json::from_value(payload)
        .map_err(|e| Error::InvalidBatch(format!("the SQS batch does not parse: {e}")))?;
    let ids: Vec<String> = sqs
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap_or_default())
        .collect();
    let mut first_failed: Option<usize> = None;
    let mut fail = |i: usize| first_failed = Some(first_failed.map_or(i, |f| f.min(i)));
    let mut invalid = Vec::new();
    let mut parsed: Vec<(usize, ChangeEvent)> = Vec::new();
    // Deployment state changes (propagation tracking): (record, service, event name).
    let mut deployments: Vec<(usize, String, String)> = Vec::new();
    // What the index learnt from CloudTrail records, applied before the changes of the same
    // batch are looked up (in delivery order).
    let mut maintained = Vec::new();
    for (i, record) in sqs.records.iter().enumerate() {
        let body = record
            .body
            .as_deref()
            .ok_or_else(|| "the record has no body".to_owned())
            .and_then(|body| {
                serde_json::from_str::<Value>(body)
                    .map_err(|e| format!("the body is not JSON ({e})"))
            });
        if let Some(v) = body.as_ref().ok().filter(|v| index::is_ecs_api_call(v)) {
            let done = match index::maintenance(v) {
                Ok(Some(m)) if redeployer.index.is_some() => {
                    redeployer.maintain(m).await.map_err(|e| {
                        let catch_up = matches!(e, maintain::MaintainError::CatchUp(_));
                        (e.to_string(), catch_up)
                    })
                }
                Ok(_) => Ok(serde_json::json!({"index": "unchanged"})),
                Err(e) => Err((e, false)),
            };
            match done {
                Ok(mut done) => {
                    done["messageId"] = Value::String(ids[i].clone());
                    maintained.push(done);
                }
                // The index is a cache: a record it cannot take (malformed, a revision deleted
                // since, DynamoDB failing) must not hold up the changes queued behind it. The
                // index is set aside until the next reconciliation instead (changes scan), and
                // the record is retried only if even that could not be recorded.
                Err((error, catch_up)) => {
                    tracing::error!(message_id = %ids[i], error = %error, "index maintenance failed");
                    invalid.push(serde_json::json!({"messageId": ids[i], "error": error}));
                    // A service left stale by a failed catch-up: retried. Anything else: the
                    // index is set aside (retried only if even that failed).
                    if catch_up || !redeployer.distrust_index().await {
                        fail(i);
                    }
                }
            }
            continue;
        }
        let event = body.and_then(|v| ChangeEvent::parse(&v).map_err(|e| e.to_string()));
        match event {
            Ok(ChangeEvent {
                trigger:
                    ecs_secrets_shared::events::Trigger::DeploymentStateChanged {
                        service_arn,
                        event_name,
                        ..
                    },
                ..
            }) => deployments.push((i, service_arn, event_name)),
            Ok(event) => parsed.push((i, event)),
            Err(error) => {
                tracing::error!(message_id = %ids[i], error = %error, "invalid record");
                invalid.push(serde_json::json!({"messageId": ids[i], "error": error}));
                fail(i);
            }
        }
    }
    let events: Vec<ChangeEvent> = parsed.iter().map(|(_, e)| e.clone()).collect();
    let mut summary = serde_json::Map::new();
    match redeployer.handle_batch_until(&events, deadline).await {
        Ok(batch) => {
            let mut changes = Vec::new();
            for ((i, event), outcome) in parsed.iter().zip(&batch.changes) {
                if outcome.failed {
                    fail(*i);
                }
                let mut entry = serde_json::to_value(outcome).unwrap_or_default();
                entry["messageId"] = Value::String(ids[*i].clone());
                // A failed schedule fails the record: its redelivery schedules it (the
                // services already redeployed are skipped, the schedule kept if it exists).
                match track(redeployer, tracker, me, event, outcome.redeployed).await {
                    Ok(Some(name)) => entry["propagation_check"] = Value::String(name),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "cannot schedule the propagation check");
                        fail(*i);
                    }
                }
                changes.push(entry);
            }
            let mut metrics = Metrics::new(FUNCTION_NAME);
            metrics
                .count("ServicesRedeployed", batch.redeployed.len() as u64)
                .count("ServicesSkipped", batch.skipped.len() as u64)
                .count("ServicesFailed", batch.failed.len() as u64)
                .count("ApiCalls", batch.api_calls.values().sum())
                .count("ChangesInBatch", events.len() as u64);
            metrics.emit();
            if let Value::Object(map) = serde_json::to_value(&batch).unwrap_or_default() {
                summary.extend(map);
            }
            summary.insert("changes".into(), Value::Array(changes));
        }
        Err(e) => {
            tracing::error!(error = %e, "discovery failed; every change of the batch is retried");
            if let Some((i, _)) = parsed.first() {
                fail(*i);
            }
            summary.insert("discoveryError".into(), Value::String(e.to_string()));
        }
    }
    // The services whose deployments settled: one propagation re-check for all of them.
    let settled: Vec<&str> = {
        let mut v: Vec<&str> = deployments
            .iter()
            .filter(|(_, _, e)| {
                matches!(
                    e.as_str(),
                    "SERVICE_DEPLOYMENT_COMPLETED" | "SERVICE_DEPLOYMENT_FAILED"
                )
            })
            .map(|(_, s, _)| s.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut tracked = Vec::new();
    if let (Some(tracker), false) = (tracker, settled.is_empty()) {
        match propagation::on_deployments(redeployer, tracker, &settled, &me.function_arn).await {
            Ok(outcomes) => {
                tracked.extend(outcomes.iter().map(
                    |(name, o)| serde_json::json!({"check": name, "outcome": format!("{o:?}")}),
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "propagation re-check failed");
                for (j, _, _) in &deployments {
                    fail(*j);
                }
            }
        }
    }
    summary.insert("deployments".into(), Value::Array(tracked));
    if !maintained.is_empty() {
        summary.insert("maintenance".into(), Value::Array(maintained));
    }
    let failures: Vec<Value> = first_failed
        .map(|f| ids[f..].to_vec())
        .unwrap_or_default()
        .into_iter()
        .map(|id| serde_json::json!({"itemIdentifier": id}))
        .collect();
    summary.insert("records".into(), Value::from(ids.len()));
    summary.insert("invalid".into(), Value::Array(invalid));
    summary.insert("batchItemFailures".into(), Value::Array(failures));
    let summary = Value::Object(summary);
    tracing::info!(summary = %summary, "redeploy batch summary");
    Ok(summary)
}
