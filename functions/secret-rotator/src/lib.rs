//! `secret-rotator`: the Secrets Manager rotation function.
//!
//! Secrets Manager calls it once per step (`createSecret`, `setSecret`, `testSecret`,
//! `finishSecret`). The handler parses the event ([`event`]) and hands it to the
//! [`rotation::Rotator`], which checks the gate and runs the step against a narrow
//! [`store::SecretStore`] (and, for an RDS-managed administrator secret, RDS: [`rds`]), and
//! the secret's database through [`db::Databases`]. The password policy ([`policy`]) and the
//! database settings ([`db::DbSettings`]) are read and validated at start-up and passed in.
//!
//! Strategies, chosen per secret by its `engine` ([`engine`]): PostgreSQL
//! ([`db::postgres`]), MySQL/MariaDB ([`db::mysql`]) — each single user or alternating users
//! (`masterarn`) — and generic (a new random value, no target system). [`db`] is the
//! engine-neutral face the steps use.
//!
//! The modules form layers, each importing only lower ones: [`engine`], [`event`],
//! [`policy`] and [`tls`]; then [`store`]; [`error`]; [`credentials`] and [`rds`]; [`db`]
//! (its engines, then [`db::servers`]); [`rotation`]; and this handler.

pub mod credentials;
pub mod db;
pub mod engine;
pub mod error;
pub mod event;
pub mod policy;
pub mod rds;
pub mod rotation;
pub mod store;
pub mod tls;

use std::time::Instant;

use ecs_secrets_shared::telemetry::Metrics;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};

use db::Databases;
pub use error::{Error, ErrorKind};
use event::{EventError, RotationEvent};
use rds::Directory;
use rotation::Rotator;
use store::SecretStore;

pub const FUNCTION_NAME: &str = "secret-rotator";

/// What the handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid rotation event: {0}")]
    InvalidEvent(#[from] EventError),
    #[error(transparent)]
    Step(#[from] Error),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: match &e {
                HandlerError::InvalidEvent(_) => "InvalidEvent".to_owned(),
                HandlerError::Step(s) => s.kind.error_type().to_owned(),
            },
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation: one rotation step.
pub async fn handle<S: SecretStore, D: Directory, B: Databases>(
    rotator: &Rotator<S, D, B>,
    event: LambdaEvent<Value>,
) -> Result<Value, HandlerError> {
    let rotation = RotationEvent::parse(event.payload)?;
    let started = Instant::now();
    let result = rotator.run(&rotation).await;
    let mut metrics = Metrics::new(FUNCTION_NAME).dimension("Step", rotation.step.as_str());
    metrics
        .milliseconds("StepDuration", started.elapsed().as_secs_f64() * 1000.0)
        .count(
            if result.is_ok() {
                "StepSucceeded"
            } else {
                "StepFailed"
            },
            1,
        )
        .property("secretId", rotation.secret_id.as_str());
    metrics.emit();
    match result {
        Ok(outcome) => {
            tracing::info!(step = %rotation.step, secret = %rotation.secret_id, outcome = outcome.as_str(), "step finished");
            Ok(json!({"step": rotation.step.as_str(), "outcome": outcome.as_str()}))
        }
        Err(e) => {
            tracing::error!(step = %rotation.step, secret = %rotation.secret_id, error = %e, "step failed");
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handler reports a bad event as it always has: `InvalidEvent`, and a message that
    /// names the field and the cause after the same prefix.
    #[test]
    fn invalid_events_keep_their_error_type_and_message() {
        for (payload, message) in [
            (
                json!({"Step": "setSecret", "SecretId": "", "ClientRequestToken": "t"}),
                "invalid rotation event: `SecretId` is empty",
            ),
            (
                json!({"Step": "setSecret", "SecretId": "a"}),
                "invalid rotation event: missing field `ClientRequestToken`",
            ),
        ] {
            let e = HandlerError::from(RotationEvent::parse(payload).unwrap_err());
            let d = Diagnostic::from(e);
            assert_eq!(
                (d.error_type.as_str(), d.error_message.as_str()),
                ("InvalidEvent", message)
            );
        }
        let d = Diagnostic::from(HandlerError::from(
            RotationEvent::parse(
                json!({"Step": "rotateEverything", "SecretId": "a", "ClientRequestToken": "t"}),
            )
            .unwrap_err(),
        ));
        assert!(
            d.error_message
                .starts_with("invalid rotation event: unknown variant `rotateEverything`"),
            "{}",
            d.error_message
        );
    }
}
