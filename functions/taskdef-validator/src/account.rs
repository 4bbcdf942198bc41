//! `ecs-secrets validate --account`: every ACTIVE task-definition revision of the configured
//! account and region (and with `--include-inactive` the INACTIVE ones), judged like files, with
//! the revision's ARN in place of a file name.
//!
//! Why: a security team auditing an account should not have to export JSON first, and a
//! repository scan misses what was registered by hand or by a pipeline nobody reviews.
//!
//! `ListTaskDefinitions` (status ACTIVE, paginated) names the revisions; each is read once with
//! `DescribeTaskDefinition`. Both draw on one [`TokenBucket`] below ECS's
//! DescribeTaskDefinition bucket (burst 50, 20/s, shared with the account's deploy pipelines),
//! and a few reads are in flight at a time. INACTIVE (deregistered) revisions are left out by
//! default — no new service or standalone task can use them — but they stay readable with
//! `DescribeTaskDefinition`, and a service that already runs one still starts tasks from it
//! when it scales: an audit after a leak wants them too (`--include-inactive`). A revision
//! that cannot be read is an input problem (exit 2) and the others are still checked; so is a
//! listing that fails part-way, after the revisions listed so far are checked.

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
    /// One page of the ARNs of revisions with this status (ACTIVE or INACTIVE) and the token
    /// of the next page.
    fn list(
        &self,
        status: Status,
        next: Option<String>,
    ) -> impl Future<Output = Result<(Vec<String>, Option<String>), CallError>> + Send;
    fn describe(&self, arn: &str)
        -> impl Future<Output = Result<TaskDefinition, CallError>> + Send;
}

/// A revision's registration status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
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
    async fn list(
        &self,
        status: Status,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), CallError> {
        use aws_sdk_ecs::types::TaskDefinitionStatus;
        let out = self
            .client
            .list_task_definitions()
            .status(match status {
                Status::Active => TaskDefinitionStatus::Active,
                Status::Inactive => TaskDefinitionStatus::Inactive,
            })
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
        crate::platform::describe_task_definition(&self.client, arn).await
    }
}

/// Checks every revision of these statuses, adding its findings (file = the revision's ARN)
/// and read failures to `report`. A listing that fails part-way is reported as an input
/// problem after what was listed is checked; a page token seen before ends the listing (a
/// paginator that loops would otherwise never end).
pub async fn scan<R: Revisions, D: Directory>(
    revisions: &R,
    statuses: &[Status],
    pace: &TokenBucket,
    context: &rules::Context,
    live: Option<(&D, &live::Home)>,
    report: &mut Report,
) {
    let mut arns = Vec::new();
    for &status in statuses {
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            pace.take().await;
            match revisions.list(status, next.clone()).await {
                Ok((page, token)) => {
                    arns.extend(page);
                    match token {
                        Some(t) if !t.is_empty() && seen.insert(t.clone()) => next = Some(t),
                        Some(t) if !t.is_empty() => {
                            report.errors.push(InputProblem {
                                file: "ListTaskDefinitions".into(),
                                line: 0,
                                column: 0,
                                message:
                                    "the same page token came back twice; the listing stopped there"
                                        .into(),
                            });
                            break;
                        }
                        _ => break,
                    }
                }
                Err(e) => {
                    report.errors.push(InputProblem {
                        file: "ListTaskDefinitions".into(),
                        line: 0,
                        column: 0,
                        message: format!("{e}; the revisions listed before it are checked"),
                    });
                    break;
                }
            }
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
        let arn = crate::finding::Shared::from(arn.as_str());
        for f in &mut report.findings[first..] {
            f.file = Some(arn.clone());
        }
    }
}

#[cfg(test)]
mod tests;
