//! `ecs-redeployer`: after a secret or parameter changes, redeploy exactly the ECS services
//! that use it.
//!
//! ECS injects secrets only when a container starts, so a rotated secret reaches running
//! services only through a new deployment. The handler parses the EventBridge event with the
//! shared model; [`trigger`] decides whether it changes what tasks read (the AWSPENDING write
//! in the middle of a rotation does not); [`redeploy`] discovers services through [`ecs`],
//! [`decide`] says for each whether to redeploy or why not, and the summary is returned and
//! logged. The invocation fails — so EventBridge retries — only when an update failed; the
//! retry is safe because a service redeployed since the change is skipped.

pub mod config;
pub mod decide;
pub mod ecs;
pub mod pace;
pub mod redeploy;
pub mod trigger;

use ecs_secrets_shared::events::ChangeEvent;
use ecs_secrets_shared::telemetry::Metrics;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use ecs::EcsApi;
use redeploy::Redeployer;

pub const FUNCTION_NAME: &str = "ecs-redeployer";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] ecs_secrets_shared::EventError),
    #[error(transparent)]
    Discovery(#[from] redeploy::DiscoveryError),
    #[error("{failed} of {total} service update(s) failed (EventBridge will retry; services already redeployed are skipped): {summary}")]
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
                Error::InvalidEvent(_) => "InvalidEvent",
                Error::Discovery(_) => "DiscoveryFailed",
                Error::UpdatesFailed { .. } => "UpdatesFailed",
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation.
pub async fn handle<E: EcsApi>(
    redeployer: &Redeployer<E>,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let change = ChangeEvent::parse(&event.payload)?;
    let summary = redeployer.handle(&change).await?;
    let json = serde_json::to_value(&summary).unwrap_or_default();
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
