//! `ecs-redeployer`: redeploys the ECS services that use a secret or parameter that changed.
//!
//! This release ships the function's packaging and runtime wiring, and already recognises the
//! events it will act on (through the shared event model), so a misrouted event is reported as
//! such. Redeploying lands with its own issue; until then a recognised event fails with
//! `NotImplemented` — EventBridge then retries and finally dead-letters it, which is honest: no
//! service was redeployed.

use ecs_secrets_shared::events::ChangeEvent;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

pub const FUNCTION_NAME: &str = "ecs-redeployer";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] ecs_secrets_shared::EventError),
    #[error("{FUNCTION_NAME} is not implemented yet: no ECS service was redeployed")]
    NotImplemented,
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic {
            error_type: match e {
                Error::InvalidEvent(_) => "InvalidEvent".to_owned(),
                Error::NotImplemented => "NotImplemented".to_owned(),
            },
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation.
pub async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let change = ChangeEvent::parse(&event.payload)?;
    tracing::warn!(request_id = %event.context.request_id, event_id = %change.id, "change event received but redeploying is not implemented");
    Err(Error::NotImplemented)
}
