//! `secret-rotator`: the Secrets Manager rotation function.
//!
//! This release ships the function's packaging and runtime wiring only. The rotation steps
//! land with their own issue; until then every invocation fails with a `NotImplemented` error so
//! that Secrets Manager marks the rotation failed and AWSCURRENT stays untouched — never a
//! silent success that would report a rotation which did not happen.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

pub const FUNCTION_NAME: &str = "secret-rotator";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{FUNCTION_NAME} is not implemented yet: secret rotation is not available in this version; no secret was changed")]
    NotImplemented,
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic {
            error_type: match e {
                Error::NotImplemented => "NotImplemented".to_owned(),
            },
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation.
pub async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    // The step name is safe to log; the event's RotationToken is not, so nothing else is.
    let step = event
        .payload
        .get("Step")
        .and_then(Value::as_str)
        .unwrap_or("?");
    tracing::warn!(request_id = %event.context.request_id, step, "rotation requested but not implemented");
    Err(Error::NotImplemented)
}
