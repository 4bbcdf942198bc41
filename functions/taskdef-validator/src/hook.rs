//! The CloudFormation Lambda hook: refuse a leaky or broken `AWS::ECS::TaskDefinition`
//! before CloudFormation (or Cloud Control) registers it.
//!
//! Why a hook as well as the registration check: once a revision exists its plaintext
//! credential is readable by anyone who may describe task definitions, and `ENFORCE` can only
//! deregister it after the fact. A hook runs before the resource is provisioned, and its answer
//! is shown in the stack's events.
//!
//! The request is the resource operation input of the CloudFormation Hooks User Guide
//! (`clientRequestToken`, `actionInvocationPoint`, `requestData.targetName`,
//! `requestData.targetModel.resourceProperties`). The proposed properties are read exactly as a
//! template's `AWS::ECS::TaskDefinition` resource is ([`crate::input`]: PascalCase, intrinsics
//! tolerated, numbers and booleans as strings), then judged by the same rules as everything
//! else. The answer is `SUCCESS`, or `FAILED` with `NonCompliant` and the findings at or above
//! `HOOK_FAIL_ON` — rule, place and message, never a value — or `FAILED` with
//! `InternalFailure` when the request itself cannot be read.
//!
//! A hook invocation never acts: nothing is published, imported or deregistered (there is no
//! revision yet), so a caller allowed to invoke the function learns only what it sent.

use serde::Serialize;
use serde_json::Value;

use crate::finding::{Finding, Severity, CATALOG};
use crate::report::Report;

/// The resource type the hook judges.
pub const TARGET: &str = "AWS::ECS::TaskDefinition";

/// CloudFormation truncates a hook's message at 4,096 characters, Cloud Control at 1,024.
const MESSAGE_LIMIT_CLOUDFORMATION: usize = 4096;
const MESSAGE_LIMIT_CLOUD_CONTROL: usize = 1024;
/// At most this many annotations (one per finding) in a response, each message at most this
/// long: the properties are not bounded by ECS's 64 KiB before registration, and a response
/// must stay far below Lambda's 6 MB.
const MAX_ANNOTATIONS: usize = 20;
const ANNOTATION_LIMIT: usize = 1024;
/// Container names in messages are cut to this many characters.
const NAME_LIMIT: usize = 64;

/// Whether an invocation is a hook's (it names an invocation point or a hook type).
pub fn is_hook_invocation(event: &Value) -> bool {
    event.get("actionInvocationPoint").is_some() || event.get("hookTypeName").is_some()
}

/// What the hook is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRequest {
    pub client_request_token: String,
    pub invocation_point: InvocationPoint,
    /// The logical id in the stack (or Cloud Control's constructed one).
    pub logical_id: String,
    /// The account the resource is created in, when the request names a valid one.
    pub account: Option<String>,
    /// Cloud Control API callers have no stack: their message limit is smaller.
    pub cloud_control: bool,
    pub work: Work,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationPoint {
    Create,
    Update,
    Delete,
}

/// What there is to judge.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// The proposed properties, as a one-resource template for the template reader.
    Judge(Value),
    /// Nothing to judge; the reason (a deletion, another resource type).
    Nothing(String),
}

/// A request that cannot be read: the field and what is wrong with it, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {cause}")]
pub struct HookError {
    pub field: &'static str,
    pub cause: String,
}

fn error(field: &'static str, cause: impl Into<String>) -> HookError {
    HookError {
        field,
        cause: cause.into(),
    }
}

/// The request token, for answering even a request that cannot be read otherwise.
pub fn client_request_token(event: &Value) -> String {
    event
        .get("clientRequestToken")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Reads a hook's resource operation request.
pub fn parse(event: &Value) -> Result<HookRequest, HookError> {
    if !event.is_object() {
        return Err(error("(request)", "expected a JSON object"));
    }
    let client_request_token = match event.get("clientRequestToken") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(Value::String(_)) | None => {
            return Err(error("clientRequestToken", "missing or empty"))
        }
        Some(other) => {
            return Err(error(
                "clientRequestToken",
                format!("expected a string, found {}", crate::input::kind(other)),
            ))
        }
    };
    let invocation_point = match event.get("actionInvocationPoint").and_then(Value::as_str) {
        Some("CREATE_PRE_PROVISION") => InvocationPoint::Create,
        Some("UPDATE_PRE_PROVISION") => InvocationPoint::Update,
        Some("DELETE_PRE_PROVISION") => InvocationPoint::Delete,
        Some(_) => {
            return Err(error(
                "actionInvocationPoint",
                "not CREATE_PRE_PROVISION, UPDATE_PRE_PROVISION or DELETE_PRE_PROVISION",
            ))
        }
        None => return Err(error("actionInvocationPoint", "missing or not a string")),
    };
    let data = match event.get("requestData") {
        Some(Value::Object(d)) => d,
        Some(other) => {
            return Err(error(
                "requestData",
                format!("expected an object, found {}", crate::input::kind(other)),
            ))
        }
        None => return Err(error("requestData", "missing")),
    };
    let target_name = data
        .get("targetName")
        .and_then(Value::as_str)
        .ok_or_else(|| error("requestData.targetName", "missing or not a string"))?;
    let target_type = data.get("targetType").and_then(Value::as_str).unwrap_or("");
    // Echoed in every message and log line: only a CloudFormation logical id (alphanumeric,
    // at most 255) is; anything else (Cloud Control's constructed ids) is named generically.
    let logical_id = data
        .get("targetLogicalId")
        .and_then(Value::as_str)
        .filter(|id| {
            !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .unwrap_or("the task definition")
        .to_owned();
    let account = event
        .get("awsAccountId")
        .and_then(Value::as_str)
        .filter(|a| ecs_secrets_shared::arn::is_account(a))
        .map(str::to_owned);
    let cloud_control = event
        .get("stackId")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let mut request = HookRequest {
        client_request_token,
        invocation_point,
        logical_id,
        account,
        cloud_control,
        work: Work::Nothing(String::new()),
    };
    // Stack and change-set operations carry the template behind a presigned URL; the hook is
    // declared for resource operations only, and a misdirected one is refused (fail closed).
    if matches!(target_name, "STACK" | "CHANGE_SET")
        || matches!(target_type, "STACK" | "CHANGE_SET")
    {
        return Err(error(
            "requestData.targetName",
            format!("stack and change-set operations are not evaluated; target RESOURCE or CLOUD_CONTROL operations on {TARGET}"),
        ));
    }
    if target_name != TARGET {
        request.work = Work::Nothing(format!("the target is not {TARGET}; nothing to check"));
        return Ok(request);
    }
    if invocation_point == InvocationPoint::Delete {
        request.work = Work::Nothing("a deletion registers nothing; nothing to check".into());
        return Ok(request);
    }
    let model = data
        .get("targetModel")
        .ok_or_else(|| error("requestData.targetModel", "missing"))?;
    let properties = match model.get("resourceProperties") {
        Some(p @ Value::Object(_)) => p.clone(),
        Some(other) => {
            return Err(error(
                "requestData.targetModel.resourceProperties",
                format!("expected an object, found {}", crate::input::kind(other)),
            ))
        }
        None => {
            return Err(error(
                "requestData.targetModel.resourceProperties",
                "missing",
            ))
        }
    };
    let mut resources = serde_json::Map::new();
    resources.insert(
        request.logical_id.clone(),
        serde_json::json!({"Type": TARGET, "Properties": properties}),
    );
    request.work = Work::Judge(serde_json::json!({ "Resources": resources }));
    Ok(request)
}

/// A hook's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStatus {
    Success,
    Failed,
}

/// Why a hook failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HookErrorCode {
    NonCompliant,
    InternalFailure,
}

/// One finding, as the stack events show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    pub annotation_name: String,
    pub status: &'static str,
    pub status_message: String,
    pub remediation_message: String,
    pub severity_level: &'static str,
}

/// The answer CloudFormation expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookResponse {
    pub hook_status: HookStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<HookErrorCode>,
    pub message: String,
    pub client_request_token: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

impl HookResponse {
    /// `SUCCESS` with nothing to check.
    pub fn nothing(request: &HookRequest, reason: &str) -> Self {
        HookResponse {
            hook_status: HookStatus::Success,
            error_code: None,
            message: format!("ecs-secrets: {reason}"),
            client_request_token: request.client_request_token.clone(),
            annotations: Vec::new(),
        }
    }

    /// `FAILED`/`InternalFailure` for a request that cannot be read.
    pub fn unreadable(token: String, e: &HookError) -> Self {
        HookResponse {
            hook_status: HookStatus::Failed,
            error_code: Some(HookErrorCode::InternalFailure),
            message: truncate(
                format!("ecs-secrets cannot read the hook request: {e}"),
                MESSAGE_LIMIT_CLOUD_CONTROL,
            ),
            client_request_token: token,
            annotations: Vec::new(),
        }
    }

    /// The verdict on a report: `FAILED` when it has a shape error or a finding at or above
    /// `fail_on` (`None`: never), else `SUCCESS`. Findings below the threshold are still
    /// listed, as annotations and in the message.
    pub fn verdict(request: &HookRequest, report: &Report, fail_on: Option<Severity>) -> Self {
        let limit = if request.cloud_control {
            MESSAGE_LIMIT_CLOUD_CONTROL
        } else {
            MESSAGE_LIMIT_CLOUDFORMATION
        };
        let failing = |f: &Finding| fail_on.is_some_and(|t| f.severity >= t);
        let annotations = report
            .findings
            .iter()
            .take(MAX_ANNOTATIONS)
            .map(|f| Annotation {
                annotation_name: f.rule.to_owned(),
                status: "FAILED",
                status_message: truncate(line(f), ANNOTATION_LIMIT),
                remediation_message: CATALOG
                    .iter()
                    .find(|r| r.id == f.rule)
                    .map(|r| r.remediation.to_owned())
                    .unwrap_or_default(),
                severity_level: f.severity.label(),
            })
            .collect();
        let token = request.client_request_token.clone();
        if !report.errors.is_empty() {
            let problems: Vec<String> = report.errors.iter().map(|e| e.message.clone()).collect();
            return HookResponse {
                hook_status: HookStatus::Failed,
                error_code: Some(HookErrorCode::NonCompliant),
                message: truncate(
                    format!(
                        "ecs-secrets: {} cannot be read as a task definition: {}",
                        request.logical_id,
                        problems.join("; ")
                    ),
                    limit,
                ),
                client_request_token: token,
                annotations,
            };
        }
        let threshold = fail_on.map_or("never".to_owned(), |s| s.as_str().to_owned());
        let (over, under): (Vec<&Finding>, Vec<&Finding>) =
            report.findings.iter().partition(|f| failing(f));
        if over.is_empty() {
            let mut message = format!(
                "ecs-secrets: {} has no finding at or above {threshold}",
                request.logical_id
            );
            if !under.is_empty() {
                let lines: Vec<String> = under.iter().map(|f| line(f)).collect();
                message.push_str(&format!(
                    " ({} below it: {})",
                    under.len(),
                    lines.join("; ")
                ));
            }
            return HookResponse {
                hook_status: HookStatus::Success,
                error_code: None,
                message: truncate(message, limit),
                client_request_token: token,
                annotations,
            };
        }
        let lines: Vec<String> = over.iter().map(|f| line(f)).collect();
        HookResponse {
            hook_status: HookStatus::Failed,
            error_code: Some(HookErrorCode::NonCompliant),
            message: truncate(
                format!(
                    "ecs-secrets: {} has {} finding(s) at or above {threshold}: {}",
                    request.logical_id,
                    over.len(),
                    lines.join("; ")
                ),
                limit,
            ),
            client_request_token: token,
            annotations,
        }
    }
}

/// One finding in a line: severity, rule, place and message (never a value: findings carry
/// none).
fn line(f: &Finding) -> String {
    let place = match &f.container {
        Some(c) if c.chars().count() > NAME_LIMIT => format!(
            "{} (container {}…)",
            f.pointer,
            c.chars().take(NAME_LIMIT).collect::<String>()
        ),
        Some(c) => format!("{} (container {c})", f.pointer),
        None => f.pointer.clone(),
    };
    format!("[{}] {} at {place}: {}", f.severity, f.rule, f.message)
}

/// Cuts a message to `limit` characters, saying so at the end.
fn truncate(message: String, limit: usize) -> String {
    if message.chars().count() <= limit {
        return message;
    }
    const MORE: &str = " … (truncated; the function's log has every finding)";
    let keep = limit.saturating_sub(MORE.chars().count());
    let mut cut: String = message.chars().take(keep).collect();
    cut.push_str(MORE);
    cut
}

#[cfg(test)]
mod tests;
