//! EventBridge events that tell us a secret, a parameter or a task definition changed.
//!
//! The envelope is `aws_lambda_events`' `EventBridgeEvent` with a lenient
//! `detail: serde_json::Value`. The detail is read field by field, deliberately: the crate's
//! typed CloudTrail and SSM details reject real events of these kinds (fields that are null,
//! absent or renamed across CloudTrail versions — `arn` vs the older `aRN`), and a rejected
//! event means a missed redeploy. Only the fields this project needs are required, and each
//! missing one is named in the error.
//!
//! What an event *means* is decided here once: [`SecretApiCall::moved_labels`] says which
//! staging labels moved, so that `PutSecretValue(VersionStages=[AWSPENDING])` — the middle of a
//! rotation — can never be mistaken for a change services should pick up.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::arn::{ParameterArn, SecretArn};
use crate::error::EventError;

/// A parsed event: envelope fields plus what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub id: String,
    /// When the change happened (the envelope's `time`).
    pub time: Option<DateTime<Utc>>,
    pub region: String,
    pub account: String,
    pub trigger: Trigger,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Native Secrets Manager event: `label` now marks `version_id` (never AWSPENDING or
    /// AWSPREVIOUS, which Secrets Manager does not announce).
    SecretLabelUpdated {
        secret: SecretArn,
        label: String,
        version_id: Option<String>,
    },
    /// CloudTrail service event: a rotation completed.
    RotationSucceeded { secret: SecretArn },
    /// CloudTrail service event `RotationFailed` or `RotationAbandoned`.
    RotationFailed {
        event_name: String,
        secret: Option<SecretArn>,
    },
    /// A CloudTrail-recorded API call that may have changed a secret's value.
    SecretApiCall(SecretApiCall),
    /// SSM Parameter Store change.
    ParameterChanged {
        parameter: ParameterArn,
        operation: String,
        /// Labels named by a `LabelParameterVersion` operation, when the event carries them.
        labels: Vec<String>,
    },
    /// ECS `ECS Deployment State Change`: a service's deployment moved (in progress, completed,
    /// failed) — what propagation tracking waits for.
    DeploymentStateChanged {
        /// `resources[0]`.
        service_arn: String,
        /// `SERVICE_DEPLOYMENT_IN_PROGRESS`, `…_COMPLETED` or `…_FAILED`.
        event_name: String,
        deployment_id: Option<String>,
        reason: Option<String>,
    },
    /// CloudTrail `RegisterTaskDefinition`.
    TaskDefinitionRegistered {
        task_definition_arn: Option<String>,
        /// `responseElements.taskDefinition`, when present.
        task_definition: Option<Value>,
        error_code: Option<String>,
    },
}

/// `PutSecretValue`, `UpdateSecret` or `UpdateSecretVersionStage`, as recorded by CloudTrail.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretApiCall {
    pub event_name: String,
    /// The secret's ARN from the response; absent when the call failed.
    pub secret: Option<SecretArn>,
    /// `requestParameters.secretId` as the caller gave it (name or ARN).
    pub secret_id: Option<String>,
    /// Set when the call failed: nothing changed.
    pub error_code: Option<String>,
    /// The staging labels this call moved to a new version.
    pub moved_labels: Vec<String>,
}

impl SecretApiCall {
    /// True when the call moved `AWSCURRENT`, i.e. changed the value services read by default.
    pub fn moved_current(&self) -> bool {
        self.error_code.is_none() && self.moved_labels.iter().any(|l| l == "AWSCURRENT")
    }
}

const SECRET_API_CALLS: [&str; 3] = ["PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage"];

impl ChangeEvent {
    /// Parses an EventBridge event delivered to a Lambda function.
    pub fn parse(event: &Value) -> Result<Self, EventError> {
        if !event.is_object() {
            return Err(EventError::NotAnObject);
        }
        // The crate requires `detail`; an event without one is still an event (of a kind we
        // then refuse by its source and detail-type).
        let with_detail;
        let event = if event.get("detail").is_some() {
            event
        } else {
            let mut e = event.clone();
            e["detail"] = Value::Null;
            with_detail = e;
            &with_detail
        };
        let envelope: EventBridgeEvent<Value> =
            serde_path_to_error::deserialize(event).map_err(|e| {
                let path = e.path().to_string();
                EventError::Envelope(if path == "." {
                    e.into_inner().to_string()
                } else {
                    format!("{path}: {}", e.into_inner())
                })
            })?;
        let source = envelope.source.as_str();
        let detail_type = envelope.detail_type.as_str();
        let time = envelope.time;
        let detail = &envelope.detail;
        let resources: Vec<&str> = envelope
            .resources
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let region = envelope.region.clone().unwrap_or_default();
        let account = envelope.account.clone().unwrap_or_default();
        let event_name = detail.get("eventName").and_then(Value::as_str);
        let unsupported = || EventError::Unsupported {
            event_source: source.to_owned(),
            detail_type: detail_type.to_owned(),
            event_name: event_name.map(str::to_owned),
        };

        let trigger = match (source, detail_type, event_name) {
            ("aws.secretsmanager", "Secret Label Updated", _) => {
                const EVENT: &str = "Secret Label Updated";
                let arn = resources.first().copied().ok_or(EventError::MissingField {
                    event: EVENT,
                    field: "resources[0]",
                })?;
                let label = text(detail, "labelUpdated").ok_or(EventError::MissingField {
                    event: EVENT,
                    field: "detail.labelUpdated",
                })?;
                Trigger::SecretLabelUpdated {
                    secret: secret_arn(arn, EVENT, "resources[0]")?,
                    label,
                    version_id: text(detail, "versionId"),
                }
            }
            (
                "aws.secretsmanager",
                "AWS Service Event via CloudTrail",
                Some("RotationSucceeded"),
            ) => {
                const EVENT: &str = "RotationSucceeded";
                let candidates = rotation_secret_ids(detail);
                // The first id that is a secret ARN; else the first id's error.
                let secret = match candidates
                    .iter()
                    .find_map(|(id, _)| SecretArn::parse(id).ok())
                {
                    Some(secret) => secret,
                    None => {
                        let (id, field) =
                            candidates.first().ok_or(EventError::MissingField {
                                event: EVENT,
                                field: "detail.additionalEventData.SecretId or detail.serviceEventDetails.secretId",
                            })?;
                        secret_arn(id, EVENT, field)?
                    }
                };
                Trigger::RotationSucceeded { secret }
            }
            (
                "aws.secretsmanager",
                "AWS Service Event via CloudTrail",
                Some(name @ ("RotationFailed" | "RotationAbandoned")),
            ) => Trigger::RotationFailed {
                event_name: name.to_owned(),
                // Reported, never acted on: an unparsable id must not hide the failure.
                secret: rotation_secret_ids(detail)
                    .iter()
                    .find_map(|(id, _)| SecretArn::parse(id).ok()),
            },
            ("aws.secretsmanager", "AWS API Call via CloudTrail", Some(name))
                if SECRET_API_CALLS.contains(&name) =>
            {
                Trigger::SecretApiCall(secret_api_call(name, detail)?)
            }
            ("aws.ecs", "ECS Deployment State Change", _) => {
                const EVENT: &str = "ECS Deployment State Change";
                let service_arn = resources
                    .first()
                    .copied()
                    .filter(|a| a.starts_with("arn:") && a.contains(":service/"))
                    .ok_or(EventError::MissingField {
                        event: EVENT,
                        field: "resources[0] (the service ARN)",
                    })?;
                Trigger::DeploymentStateChanged {
                    service_arn: service_arn.to_owned(),
                    event_name: text(detail, "eventName").ok_or(EventError::MissingField {
                        event: EVENT,
                        field: "detail.eventName",
                    })?,
                    deployment_id: text(detail, "deploymentId"),
                    reason: text(detail, "reason"),
                }
            }
            ("aws.ssm", "Parameter Store Change", _) => {
                const EVENT: &str = "Parameter Store Change";
                let operation = text(detail, "operation").ok_or(EventError::MissingField {
                    event: EVENT,
                    field: "detail.operation",
                })?;
                let parameter = match resources.first() {
                    Some(arn) => {
                        ParameterArn::parse(arn).map_err(|cause| EventError::InvalidArn {
                            event: EVENT,
                            field: "resources[0]",
                            cause,
                        })?
                    }
                    None => {
                        let name = text(detail, "name").ok_or(EventError::MissingField {
                            event: EVENT,
                            field: "resources[0] or detail.name",
                        })?;
                        ParameterArn {
                            partition: crate::arn::partition_of_region(&region).to_owned(),
                            region: region.clone(),
                            account: account.clone(),
                            name,
                        }
                    }
                };
                let labels = match detail.get("labels") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    Some(Value::String(s)) => s
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                };
                Trigger::ParameterChanged {
                    parameter,
                    operation,
                    labels,
                }
            }
            ("aws.ecs", "AWS API Call via CloudTrail", Some("RegisterTaskDefinition")) => {
                let task_definition = detail
                    .get("responseElements")
                    .and_then(|r| r.get("taskDefinition"))
                    .filter(|t| t.is_object())
                    .cloned();
                Trigger::TaskDefinitionRegistered {
                    task_definition_arn: task_definition
                        .as_ref()
                        .and_then(|t| text(t, "taskDefinitionArn")),
                    task_definition,
                    error_code: text(detail, "errorCode"),
                }
            }
            _ => return Err(unsupported()),
        };
        Ok(Self {
            id: envelope.id.clone().unwrap_or_default(),
            time,
            region,
            account,
            trigger,
        })
    }
}

/// The secret ids of a rotation service event, with their fields. Rotation by a Lambda
/// function carries the id in `additionalEventData.SecretId`; managed rotation (`rds!…` and
/// other service-managed secrets) has been reported with `serviceEventDetails.secretId`. All
/// are read, in that order.
fn rotation_secret_ids(detail: &Value) -> Vec<(String, &'static str)> {
    [
        (
            "additionalEventData",
            "SecretId",
            "detail.additionalEventData.SecretId",
        ),
        (
            "serviceEventDetails",
            "secretId",
            "detail.serviceEventDetails.secretId",
        ),
        (
            "serviceEventDetails",
            "SecretId",
            "detail.serviceEventDetails.SecretId",
        ),
    ]
    .into_iter()
    .filter_map(|(object, key, field)| text(&detail[object], key).map(|id| (id, field)))
    .collect()
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn secret_arn(s: &str, event: &'static str, field: &'static str) -> Result<SecretArn, EventError> {
    SecretArn::parse(s).map_err(|cause| EventError::InvalidArn {
        event,
        field,
        cause,
    })
}

fn stages(value: &Value) -> Option<Vec<String>> {
    value
        .get("versionStages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
}

fn secret_api_call(name: &str, detail: &Value) -> Result<SecretApiCall, EventError> {
    let request = &detail["requestParameters"];
    let response = &detail["responseElements"];
    let error_code = text(detail, "errorCode");
    let secret = match text(response, "arn").or_else(|| text(response, "aRN")) {
        Some(arn) => Some(secret_arn(
            &arn,
            "CloudTrail secret API call",
            "detail.responseElements.arn",
        )?),
        None if error_code.is_none() => {
            return Err(EventError::MissingField {
                event: "CloudTrail secret API call",
                field: "detail.responseElements.arn",
            })
        }
        None => None,
    };
    let moved_labels = if error_code.is_some() {
        Vec::new()
    } else {
        match name {
            // Without VersionStages, PutSecretValue attaches AWSCURRENT.
            "PutSecretValue" => stages(response)
                .or_else(|| stages(request))
                .unwrap_or_else(|| vec!["AWSCURRENT".to_owned()]),
            // UpdateSecret creates a version (and moves AWSCURRENT) only when it carries a new
            // value; then the response has the new versionId.
            "UpdateSecret" if text(response, "versionId").is_some() => {
                vec!["AWSCURRENT".to_owned()]
            }
            "UpdateSecret" => Vec::new(),
            // UpdateSecretVersionStage moves a label only when it names a target version.
            _ => match (
                text(request, "versionStage"),
                text(request, "moveToVersionId"),
            ) {
                (Some(stage), Some(_)) => vec![stage],
                _ => Vec::new(),
            },
        }
    };
    Ok(SecretApiCall {
        event_name: name.to_owned(),
        secret,
        secret_id: text(request, "secretId"),
        error_code,
        moved_labels,
    })
}

#[cfg(test)]
mod tests;
