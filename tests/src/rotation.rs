//! Driving `secret-rotator` as Secrets Manager does: the four steps, in order, with the
//! version token and a rotation token (which tests then check never reaches the logs).

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use crate::{LambdaFunction, Moto};

/// The steps of one rotation, in the order Secrets Manager invokes them.
pub const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

/// The `RotationToken` every event carries; it must never appear in any output.
pub const ROTATION_TOKEN: &str = "rotation-token-never-logged";

/// The invocation of one step.
pub fn step_event(step: &str, arn: &str, token: &str) -> Value {
    json!({"Step": step, "SecretId": arn, "ClientRequestToken": token, "RotationToken": ROTATION_TOKEN})
}

/// Invokes one step; a step the function fails becomes an error naming the step.
pub async fn run_step(
    lambda: &LambdaFunction,
    step: &str,
    arn: &str,
    token: &str,
) -> Result<Value> {
    lambda
        .invoke(&step_event(step, arn, token))
        .await?
        .map_err(|e| anyhow!("{step}: {e}"))
}

/// Invokes the four steps of a rotation that has been prepared; returns each step's response.
pub async fn run_steps(lambda: &LambdaFunction, arn: &str, token: &str) -> Result<Vec<Value>> {
    let mut responses = Vec::with_capacity(STEPS.len());
    for step in STEPS {
        responses.push(run_step(lambda, step, arn, token).await?);
    }
    Ok(responses)
}

/// A whole rotation: `RotateSecret` prepares the pending version, then the four steps.
pub async fn rotate(
    lambda: &LambdaFunction,
    moto: &Moto,
    arn: &str,
    token: &str,
) -> Result<Vec<Value>> {
    moto.prepare_rotation(arn, token).await?;
    run_steps(lambda, arn, token).await
}
