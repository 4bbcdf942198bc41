//! The invocation Secrets Manager sends, once per rotation step.
//!
//! Our own type rather than `aws_lambda_events::secretsmanager::SecretsManagerSecretRotationEvent`
//! (checked against aws_lambda_events 1.2): that one types `Step` as a plain `String`, so an
//! unknown step would only be caught (or missed) wherever the string is compared, and it has no
//! `RotationToken`, which assumed-role and cross-account rotations need passed on to
//! `PutSecretValue` (with its `catch-all-fields` feature the token would land, unredacted, in a
//! JSON map). Here a bad step is refused when the event is parsed, and the token is a
//! [`SecretString`], so it cannot be logged.

use std::fmt;

use ecs_secrets_shared::secret::SecretString;
use serde::Deserialize;

/// The four rotation steps, in the order Secrets Manager calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::CreateSecret => "createSecret",
            Step::SetSecret => "setSecret",
            Step::TestSecret => "testSecret",
            Step::FinishSecret => "finishSecret",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an invocation is not a rotation event. The message names the field and the cause; a
/// `RotationToken` (a string) is never part of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The payload does not deserialize: serde's message names the missing field, the unknown
    /// step or the wrong type (the same text the handler has always reported).
    #[error(transparent)]
    Malformed(#[from] serde_json::Error),
    /// A field that must name something is an empty string.
    #[error("`{field}` is empty")]
    Empty { field: &'static str },
}

/// One rotation step to perform.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationEvent {
    pub step: Step,
    /// The secret's ARN (Secrets Manager always sends the ARN).
    pub secret_id: String,
    /// The id of the version being rotated to (the AWSPENDING version).
    pub client_request_token: String,
    /// Opaque token to pass to `PutSecretValue`; never logged.
    #[serde(default)]
    pub rotation_token: Option<SecretString>,
}

impl RotationEvent {
    /// Parses the raw invocation payload; the error names the field and the cause.
    pub fn parse(payload: serde_json::Value) -> Result<Self, EventError> {
        let event: Self = serde_json::from_value(payload)?;
        if event.secret_id.is_empty() {
            return Err(EventError::Empty { field: "SecretId" });
        }
        if event.client_request_token.is_empty() {
            return Err(EventError::Empty {
                field: "ClientRequestToken",
            });
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_step_and_redacts_the_rotation_token() {
        for (raw, step) in [
            ("createSecret", Step::CreateSecret),
            ("setSecret", Step::SetSecret),
            ("testSecret", Step::TestSecret),
            ("finishSecret", Step::FinishSecret),
        ] {
            let e = RotationEvent::parse(json!({
                "Step": raw, "SecretId": "arn:x", "ClientRequestToken": "tok",
                "RotationToken": "very-secret-rotation-token"
            }))
            .unwrap();
            assert_eq!(e.step, step);
            assert_eq!(e.step.to_string(), raw);
            assert_eq!(
                e.rotation_token.as_ref().unwrap().expose(),
                "very-secret-rotation-token"
            );
            assert!(!format!("{e:?}").contains("very-secret"), "{e:?}");
        }
        let without = RotationEvent::parse(
            json!({"Step": "setSecret", "SecretId": "a", "ClientRequestToken": "t"}),
        )
        .unwrap();
        assert!(without.rotation_token.is_none());
    }

    #[test]
    fn bad_events_name_the_field() {
        let cases = [
            (
                json!({"Step": "deleteSecret", "SecretId": "a", "ClientRequestToken": "t"}),
                "deleteSecret",
            ),
            (
                json!({"SecretId": "a", "ClientRequestToken": "t"}),
                "missing field `Step`",
            ),
            (
                json!({"Step": "setSecret", "ClientRequestToken": "t"}),
                "missing field `SecretId`",
            ),
            (
                json!({"Step": "setSecret", "SecretId": "a"}),
                "missing field `ClientRequestToken`",
            ),
            (
                json!({"Step": "setSecret", "SecretId": "", "ClientRequestToken": "t"}),
                "`SecretId` is empty",
            ),
            (
                json!({"Step": "setSecret", "SecretId": "a", "ClientRequestToken": ""}),
                "`ClientRequestToken` is empty",
            ),
            (json!([1]), "invalid type"),
        ];
        for (payload, needle) in cases {
            let err = RotationEvent::parse(payload).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
