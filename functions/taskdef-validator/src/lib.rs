//! `taskdef-validator`: checks task definitions for leaked and broken secrets.
//!
//! This release ships the function's packaging and runtime wiring. The rules land with their
//! own issue; until then every invocation fails with `NotImplemented` rather than returning an
//! empty report that would read as "no findings".

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

pub const FUNCTION_NAME: &str = "taskdef-validator";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{FUNCTION_NAME} is not implemented yet: the task definition was not checked")]
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
    tracing::warn!(request_id = %event.context.request_id, "validation requested but not implemented");
    Err(Error::NotImplemented)
}
