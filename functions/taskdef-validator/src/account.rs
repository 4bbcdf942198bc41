//! `ecs-secrets validate --account`: every ACTIVE task-definition revision of the configured
//! account and region, judged like files, with the revision's ARN in place of a file name.
//!
//! Why: a security team auditing an account should not have to export JSON first, and a
//! repository scan misses what was registered by hand or by a pipeline nobody reviews.
//!
//! `ListTaskDefinitions` (status ACTIVE, paginated) names the revisions; each is read once with
//! `DescribeTaskDefinition`. Both draw on one [`TokenBucket`] below ECS's
//! DescribeTaskDefinition bucket (burst 50, 20/s, shared with the account's deploy pipelines),
//! and a few reads are in flight at a time. INACTIVE revisions are not listed: nothing can
//! start a task from them. A revision that cannot be read is an input problem (exit 2) and the
//! others are still checked.

use std::future::Future;

use ecs_secrets_shared::aws::{AwsConfig, CallError};
use ecs_secrets_shared::pace::TokenBucket;
use ecs_secrets_shared::reference::TaskContext;
use ecs_secrets_shared::task_definition::TaskDefinition;
use futures_util::StreamExt;

use crate::directory::Directory;
use crate::report::{InputProblem, Report};
use crate::{live, rules, validate_revision};

/// Reads in flight at once (the bucket, not this, sets the rate).
const IN_FLIGHT: usize = 4;

/// The ECS reads of an account scan.
pub trait Revisions: Sync {
    /// One page of ACTIVE revision ARNs and the token of the next page.
    fn list_active(
        &self,
        next: Option<String>,
    ) -> impl Future<Output = Result<(Vec<String>, Option<String>), CallError>> + Send;
    fn describe(&self, arn: &str)
        -> impl Future<Output = Result<TaskDefinition, CallError>> + Send;
}

/// The real adapter.
#[derive(Debug, Clone)]
pub struct Ecs {
    client: aws_sdk_ecs::Client,
}

impl Ecs {
    pub fn new(config: &AwsConfig) -> Self {
        Ecs {
            client: aws_sdk_ecs::Client::new(&config.sdk),
        }
    }
}

impl Revisions for Ecs {
    async fn list_active(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), CallError> {
        let out = self
            .client
            .list_task_definitions()
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("ListTaskDefinitions", &e))?;
        Ok((
            out.task_definition_arns().to_vec(),
            out.next_token().map(str::to_owned),
        ))
    }

    async fn describe(&self, arn: &str) -> Result<TaskDefinition, CallError> {
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("DescribeTaskDefinition", &e))?;
        out.task_definition()
            .map(TaskDefinition::from)
            .ok_or_else(|| CallError {
                operation: "DescribeTaskDefinition",
                code: None,
                message: "no task definition in the response".into(),
            })
    }
}

/// Checks every ACTIVE revision, adding its findings (file = the revision's ARN) and read
/// failures to `report`. Listing failures stop the scan with the error.
pub async fn scan<R: Revisions, D: Directory>(
    revisions: &R,
    pace: &TokenBucket,
    context: &rules::Context,
    live: Option<(&D, &live::Home)>,
    report: &mut Report,
) -> Result<(), CallError> {
    let mut arns = Vec::new();
    let mut next = None;
    loop {
        pace.take().await;
        let (page, token) = revisions.list_active(next).await?;
        arns.extend(page);
        match token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => break,
        }
    }
    arns.sort();
    arns.dedup();
    let mut described = futures_util::stream::iter(arns)
        .map(|arn| async move {
            pace.take().await;
            let result = revisions.describe(&arn).await;
            (arn, result)
        })
        .buffered(IN_FLIGHT);
    while let Some((arn, result)) = described.next().await {
        let model = match result {
            Ok(m) => m,
            Err(e) => {
                report.errors.push(InputProblem {
                    file: arn,
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                });
                continue;
            }
        };
        // The revision's ARN names the region and account its tasks run in.
        let context = rules::Context {
            task: ecs_secrets_shared::arn::Arn::parse(&arn)
                .ok()
                .map(|a| TaskContext {
                    partition: a.partition,
                    region: a.region,
                    account: a.account,
                })
                .or_else(|| context.task.clone()),
            ..context.clone()
        };
        let first = report.findings.len();
        validate_revision(model, &context, live, report).await;
        for f in &mut report.findings[first..] {
            f.file = Some(arn.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
