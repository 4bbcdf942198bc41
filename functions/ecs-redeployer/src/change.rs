//! What an event means for running services: which change, if any, they must pick up.
//!
//! Only a change to what a task *reads* warrants a redeployment: AWSCURRENT (or a custom label
//! a task definition references) moving, or a parameter's value changing. Everything else —
//! the AWSPENDING write in the middle of a rotation, a metadata-only `UpdateSecret`, a failed
//! call, a failed or abandoned rotation — is answered with a reason and no redeployment.

use chrono::{DateTime, Utc};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::events::{ChangeEvent, Trigger};
use serde_json::{json, Value};

/// A change services may have to pick up.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// These staging labels of the secret now mark a new version.
    Secret {
        secret: SecretArn,
        labels: Vec<String>,
    },
    /// The parameter's value changed.
    Parameter { parameter: ParameterArn },
}

/// What to do about an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Redeploy {
        change: Change,
        time: Option<DateTime<Utc>>,
    },
    /// Nothing to redeploy; `warn` marks events an operator should look at (a failed rotation).
    Ignore { reason: String, warn: bool },
}

/// A staging label of a secret moved to a new version (an event, or what `ecs-secrets plan`
/// asks about).
pub fn label_moved(secret: &SecretArn, label: &str, time: Option<DateTime<Utc>>) -> Decision {
    if label == "AWSPENDING" {
        return Decision::Ignore {
            reason: "AWSPENDING moved: a rotation is in progress; services read AWSCURRENT"
                .to_owned(),
            warn: false,
        };
    }
    Decision::Redeploy {
        change: Change::Secret {
            secret: secret.clone(),
            labels: vec![label.to_owned()],
        },
        time,
    }
}

/// What an event means for running services: a change to redeploy for, or why none.
pub fn decision(event: &ChangeEvent) -> Decision {
    let redeploy = |change| Decision::Redeploy {
        change,
        time: event.time,
    };
    let ignore = |reason: &str, warn| Decision::Ignore {
        reason: reason.to_owned(),
        warn,
    };
    match &event.trigger {
        Trigger::SecretLabelUpdated { secret, label, .. } => label_moved(secret, label, event.time),
        Trigger::RotationSucceeded { secret } => redeploy(Change::Secret {
            secret: secret.clone(),
            labels: vec!["AWSCURRENT".to_owned()],
        }),
        Trigger::RotationFailed { event_name, .. } => Decision::Ignore {
            reason: format!("{event_name}: the rotation did not complete, AWSCURRENT did not move"),
            warn: true,
        },
        Trigger::SecretApiCall(call) => {
            if let Some(code) = &call.error_code {
                return Decision::Ignore {
                    reason: format!("{} failed ({code}); nothing changed", call.event_name),
                    warn: false,
                };
            }
            let labels: Vec<String> = call
                .moved_labels
                .iter()
                .filter(|l| *l != "AWSPENDING")
                .cloned()
                .collect();
            match (&call.secret, labels.is_empty()) {
                (_, true) if call.moved_labels.is_empty() => Decision::Ignore {
                    reason: format!(
                        "{} changed no version label (metadata only)",
                        call.event_name
                    ),
                    warn: false,
                },
                (_, true) => ignore(
                    "only AWSPENDING moved: a rotation is in progress; services read AWSCURRENT",
                    false,
                ),
                (Some(secret), false) => redeploy(Change::Secret {
                    secret: secret.clone(),
                    labels,
                }),
                (None, false) => ignore("the event does not name the secret's ARN", true),
            }
        }
        Trigger::ParameterChanged {
            parameter,
            operation,
            ..
        } => match operation.as_str() {
            "Create" | "Update" | "LabelParameterVersion" => redeploy(Change::Parameter {
                parameter: parameter.clone(),
            }),
            other => Decision::Ignore {
                reason: format!("parameter operation `{other}` does not give services a new value"),
                warn: other == "Delete",
            },
        },
        Trigger::TaskDefinitionRegistered { .. } => ignore(
            "a task definition registration is for the validator, not the redeployer",
            false,
        ),
        Trigger::DeploymentStateChanged { .. } => ignore(
            "a deployment state change is for propagation tracking: it redeploys nothing",
            false,
        ),
    }
}

/// The `trigger` object of a plan's summary: the change asked about, in the shape a summary
/// of the same change as an event has (`SecretLabelUpdated` / `ParameterChanged`), with the
/// event id `ecs-secrets-plan`.
pub fn describe_change(change: &Change, time: Option<DateTime<Utc>>) -> Value {
    let time = time.map(|t| t.to_rfc3339());
    match change {
        Change::Secret { secret, labels } => json!({
            "kind": "SecretLabelUpdated", "secret": secret.to_string(),
            "label": labels.first(), "version_id": null,
            "event_id": "ecs-secrets-plan", "time": time
        }),
        Change::Parameter { parameter } => json!({
            "kind": "ParameterChanged", "parameter": parameter.to_string(), "operation": "Update",
            "event_id": "ecs-secrets-plan", "time": time
        }),
    }
}

/// The `trigger` object of the summary: what happened, without any value.
pub fn describe(event: &ChangeEvent) -> Value {
    let base = json!({"event_id": event.id, "time": event.time.map(|t| t.to_rfc3339())});
    let mut v = match &event.trigger {
        Trigger::SecretLabelUpdated {
            secret,
            label,
            version_id,
        } => {
            json!({"kind": "SecretLabelUpdated", "secret": secret.to_string(), "label": label, "version_id": version_id})
        }
        Trigger::RotationSucceeded { secret } => {
            json!({"kind": "RotationSucceeded", "secret": secret.to_string()})
        }
        Trigger::RotationFailed { event_name, secret } => {
            json!({"kind": event_name, "secret": secret.as_ref().map(ToString::to_string)})
        }
        Trigger::SecretApiCall(call) => json!({
            "kind": call.event_name, "secret": call.secret.as_ref().map(ToString::to_string),
            "moved_labels": call.moved_labels, "error_code": call.error_code
        }),
        Trigger::ParameterChanged {
            parameter,
            operation,
            ..
        } => {
            json!({"kind": "ParameterChanged", "parameter": parameter.to_string(), "operation": operation})
        }
        Trigger::TaskDefinitionRegistered {
            task_definition_arn,
            ..
        } => {
            json!({"kind": "RegisterTaskDefinition", "task_definition": task_definition_arn})
        }
        Trigger::DeploymentStateChanged {
            service_arn,
            event_name,
            deployment_id,
            ..
        } => {
            json!({"kind": event_name, "service": service_arn, "deployment_id": deployment_id})
        }
    };
    if let (Some(obj), Some(b)) = (v.as_object_mut(), base.as_object()) {
        obj.extend(b.clone());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> ChangeEvent {
        // At run time first: a test binary built in another checkout that shares this
        // target directory must still read this checkout's fixtures.
        let dir = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
        let path = format!("{dir}/../../shared/testdata/events/{name}");
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        ChangeEvent::parse(&value).unwrap()
    }

    #[test]
    fn which_events_redeploy() {
        let cases = [
            ("secret-label-updated.json", Some(vec!["AWSCURRENT"])),
            ("rotation-succeeded.json", Some(vec!["AWSCURRENT"])),
            ("put-secret-value-current.json", Some(vec!["AWSCURRENT"])),
            ("put-secret-value-legacy-arn.json", Some(vec!["AWSCURRENT"])),
            ("update-secret-value.json", Some(vec!["AWSCURRENT"])),
            ("update-secret-version-stage.json", Some(vec!["AWSCURRENT"])),
            ("put-secret-value-pending.json", None),
            ("put-secret-value-denied.json", None),
            ("update-secret-metadata.json", None),
            ("rotation-failed.json", None),
            ("rotation-abandoned.json", None),
            ("register-task-definition.json", None),
        ];
        for (file, labels) in cases {
            match (decision(&fixture(file)), labels) {
                (
                    Decision::Redeploy {
                        change: Change::Secret { labels: got, .. },
                        time,
                    },
                    Some(want),
                ) => {
                    assert_eq!(got, want, "{file}");
                    assert!(time.is_some(), "{file}");
                }
                (Decision::Ignore { reason, .. }, None) => assert!(!reason.is_empty(), "{file}"),
                (other, want) => panic!("{file}: {other:?}, expected {want:?}"),
            }
        }
        assert!(matches!(
            decision(&fixture("ssm-parameter-change.json")),
            Decision::Redeploy {
                change: Change::Parameter { .. },
                ..
            }
        ));
        assert!(matches!(
            decision(&fixture("ssm-label-parameter-version.json")),
            Decision::Redeploy { .. }
        ));
    }

    #[test]
    fn reasons_say_why() {
        let reason = |f| match decision(&fixture(f)) {
            Decision::Ignore { reason, warn } => (reason, warn),
            other => panic!("{other:?}"),
        };
        assert!(reason("put-secret-value-pending.json")
            .0
            .contains("rotation is in progress"));
        assert!(reason("update-secret-metadata.json")
            .0
            .contains("metadata only"));
        assert!(reason("put-secret-value-denied.json")
            .0
            .contains("AccessDenied"));
        let (failed, warn) = reason("rotation-failed.json");
        assert!(failed.contains("RotationFailed") && warn);
    }

    #[test]
    fn summary_trigger_names_the_change() {
        let v = describe(&fixture("secret-label-updated.json"));
        assert_eq!(v["kind"], "SecretLabelUpdated");
        assert_eq!(v["label"], "AWSCURRENT");
        assert_eq!(v["time"], "2026-11-20T10:15:30+00:00");
    }
}
