//! The Lambda's own AWS calls: fetch a task definition by ARN, and act on a report (publish it
//! on EventBridge, import it into Security Hub, deregister an offending revision).
//!
//! `DescribeTaskDefinition` returns SDK structs; they become the shared task-definition model
//! (`From<&aws_sdk_ecs::types::TaskDefinition>`), the same model files and events are read
//! into, so both paths run the same rules on the same fields.

use std::future::Future;

use ecs_secrets_shared::aws::{AwsConfig, CallError};
use ecs_secrets_shared::task_definition::TaskDefinition;
use serde_json::Value;

use crate::finding::Finding;

/// Source of the custom events the validator publishes.
pub const EVENT_SOURCE: &str = "ecs-secrets.validator";
pub const EVENT_DETAIL_TYPE: &str = "ECS Task Definition Validated";

pub trait Platform: Sync {
    fn describe_task_definition(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<TaskDefinition, CallError>> + Send;
    fn publish(
        &self,
        bus: &str,
        detail: &Value,
    ) -> impl Future<Output = Result<(), CallError>> + Send;
    fn import_findings(
        &self,
        findings: &[Finding],
        task_definition_arn: &str,
        region: &str,
        account: &str,
    ) -> impl Future<Output = Result<usize, CallError>> + Send;
    fn deregister(&self, arn: &str) -> impl Future<Output = Result<(), CallError>> + Send;
}

#[derive(Debug, Clone)]
pub struct Aws {
    ecs: aws_sdk_ecs::Client,
    events: aws_sdk_eventbridge::Client,
    securityhub: aws_sdk_securityhub::Client,
}

impl Aws {
    pub fn new(config: &AwsConfig) -> Self {
        Aws {
            ecs: aws_sdk_ecs::Client::new(&config.sdk),
            events: aws_sdk_eventbridge::Client::new(&config.sdk),
            securityhub: aws_sdk_securityhub::Client::new(&config.sdk),
        }
    }
}

fn sdk_error(operation: &'static str, e: impl std::fmt::Display) -> CallError {
    CallError {
        operation,
        code: None,
        message: e.to_string(),
    }
}

/// `DescribeTaskDefinition`, as the shared model: the Lambda's fetch of a revision and the
/// account scan's read of each one.
pub async fn describe_task_definition(
    ecs: &aws_sdk_ecs::Client,
    arn: &str,
) -> Result<TaskDefinition, CallError> {
    let out = ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| CallError::from_sdk("DescribeTaskDefinition", &e))?;
    out.task_definition()
        .map(TaskDefinition::from)
        .ok_or_else(|| {
            sdk_error(
                "DescribeTaskDefinition",
                "no task definition in the response",
            )
        })
}

impl Platform for Aws {
    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinition, CallError> {
        describe_task_definition(&self.ecs, arn).await
    }

    async fn publish(&self, bus: &str, detail: &Value) -> Result<(), CallError> {
        use aws_sdk_eventbridge::types::PutEventsRequestEntry;
        let entry = PutEventsRequestEntry::builder()
            .source(EVENT_SOURCE)
            .detail_type(EVENT_DETAIL_TYPE)
            .event_bus_name(bus)
            .detail(detail.to_string())
            .build();
        let out = self
            .events
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("PutEvents", &e))?;
        if out.failed_entry_count() > 0 {
            let why = out
                .entries()
                .iter()
                .find_map(|e| e.error_message())
                .unwrap_or("entry rejected");
            return Err(sdk_error("PutEvents", why));
        }
        Ok(())
    }

    async fn import_findings(
        &self,
        findings: &[Finding],
        task_definition_arn: &str,
        region: &str,
        account: &str,
    ) -> Result<usize, CallError> {
        use aws_sdk_securityhub::types::{
            AwsSecurityFinding, Recommendation, Remediation, Resource, Severity as AsffSeverity,
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let partition = ecs_secrets_shared::arn::partition_of_region(region);
        let product =
            format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default");
        let mut imported = 0;
        for chunk in findings.chunks(100) {
            let mut batch = Vec::new();
            for f in chunk {
                let finding = AwsSecurityFinding::builder()
                    .schema_version("2018-10-08")
                    .id(format!("{task_definition_arn}/{}", f.fingerprint()))
                    .product_arn(&product)
                    .generator_id(format!("ecs-secrets/{}", f.rule))
                    .aws_account_id(account)
                    .types(
                        if f.rule.starts_with("plaintext") || f.rule == "secret-in-command" {
                            "Sensitive Data Identifications/Passwords"
                        } else {
                            "Software and Configuration Checks/AWS Security Best Practices"
                        },
                    )
                    .created_at(&now)
                    .updated_at(&now)
                    .severity(
                        AsffSeverity::builder()
                            .label(f.severity.label().into())
                            .build(),
                    )
                    .title(format!(
                        "{}: {}",
                        f.rule,
                        f.container.as_deref().unwrap_or("task definition")
                    ))
                    .description(truncate(&f.message, 1024))
                    .remediation(
                        Remediation::builder()
                            .recommendation(
                                Recommendation::builder()
                                    .text(truncate(f.remediation, 512))
                                    .build(),
                            )
                            .build(),
                    )
                    .resources(
                        Resource::builder()
                            .r#type("AwsEcsTaskDefinition")
                            .id(task_definition_arn)
                            .region(region)
                            .build(),
                    )
                    .build();
                batch.push(finding);
            }
            let out = self
                .securityhub
                .batch_import_findings()
                .set_findings(Some(batch))
                .send()
                .await
                .map_err(|e| CallError::from_sdk("BatchImportFindings", &e))?;
            imported += out.success_count().unwrap_or_default() as usize;
        }
        Ok(imported)
    }

    async fn deregister(&self, arn: &str) -> Result<(), CallError> {
        self.ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("DeregisterTaskDefinition", &e))?;
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
