//! Did a change reach every consumer? The redeployer forces deployments; this reads back what
//! ECS did with them.
//!
//! A consumer is a service whose task definitions read the change, or a running task that no
//! service owns (`RunTask`) whose task definition reads it. Each gets a verdict:
//! - `fresh`: every running task started after the change (so it read the new value);
//! - `rolling`: a deployment started after the change is in progress, and old tasks remain;
//! - `stale`: tasks that started before the change run, and nothing is replacing them;
//! - `failed`: a deployment started after the change failed (the circuit breaker rolled it
//!   back): its old tasks keep the old value until someone acts;
//! - `skipped`: the redeployer does not redeploy it, with its reason (pinned, opted out, another
//!   deployment controller, outside `CLUSTERS`).
//!
//! The change is `propagated` when no consumer that reads it holds the old value: none is
//! stale, rolling or failed, and none skipped by policy (opted out, another controller…) still
//! runs a task created before the change. Pinned references and labels that did not move do
//! not read the change. Freshness is judged by a task's `createdAt`: ECS fetches secrets while
//! it provisions a task, before `startedAt`. "Started after the
//! change" is judged as the redeployer judges "already redeployed"
//! ([`crate::verdict::deployed_after`]): with a whole-second change time only a later second
//! counts, so a task of the same second is never taken for fresh.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use crate::change::{self, Change};
use crate::ecs::{ApiError, EcsApi, RunningTask};
use crate::redeploy::{DiscoveryError, Redeployer};
use crate::verdict::{context_of, deployed_after, judge, reads, Reference, Service, Verdict};

/// A consumer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Fresh,
    Rolling,
    Stale,
    Failed,
    Skipped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Rolling => "rolling",
            State::Stale => "stale",
            State::Failed => "failed",
            State::Skipped => "skipped",
        }
    }
}

/// One consumer of the change.
#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    /// `service`, or `task` for a task no service owns.
    pub kind: &'static str,
    pub cluster: String,
    /// The service's name, or the task's id.
    pub name: String,
    pub state: State,
    pub reason: String,
    /// It reads the changed value (false for a reference pinned to a version or following a
    /// label that did not move: the change does not concern it).
    pub reads_change: bool,
    /// The PRIMARY deployment (services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    pub running_tasks: usize,
    /// Running tasks that started before the change: they hold the old value.
    pub tasks_started_before_change: usize,
    /// When the last of its tasks started, if after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fresh_since: Option<DateTime<Utc>>,
    /// What replaces a stale task that no service will replace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Consumer {
    /// It reads the change and may still run the old value: not fresh, and not skipped as
    /// unconcerned (pinned, a label that did not move) or without old tasks.
    pub fn holds_old_value(&self) -> bool {
        match self.state {
            State::Fresh => false,
            State::Skipped => self.reads_change && self.tasks_started_before_change > 0,
            _ => true,
        }
    }
}

/// The propagation of one change.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub change: Value,
    /// When the value consumers should read became current.
    pub changed_at: DateTime<Utc>,
    pub propagated: bool,
    /// From the change to the last consumer becoming fresh, when every consumer is fresh
    /// and that time is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_seconds: Option<f64>,
    pub consumers: Vec<Consumer>,
    /// Clusters outside `CLUSTERS`, whose services were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters_not_scanned: Vec<String>,
    pub api_calls: std::collections::BTreeMap<&'static str, u64>,
}

impl Status {
    /// Consumers in a state.
    pub fn count(&self, state: State) -> usize {
        self.consumers.iter().filter(|c| c.state == state).count()
    }
}

fn task_id(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

fn cluster_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

impl<E: EcsApi> Redeployer<E> {
    /// The propagation of `change`, which became current at `changed_at`: every consumer with
    /// its verdict. Reads only (no UpdateService).
    pub async fn status(
        &self,
        change: &Change,
        changed_at: DateTime<Utc>,
    ) -> Result<Status, DiscoveryError> {
        let _one_at_a_time = self.running.lock().await;
        let before = self.ecs.api_calls();
        let mut discovered = self.discover().await?;
        let (revisions, unreadable) = self
            .revisions_read(discovered.read.take(), &discovered.services)
            .await?;
        let mut consumers = Vec::new();
        let mut seen_tasks: HashSet<String> = HashSet::new();
        for service in &discovered.services {
            if let Some(error) = service
                .task_definitions
                .iter()
                .find_map(|td| unreadable.get(td))
            {
                return Err(DiscoveryError(ApiError {
                    operation: "DescribeTaskDefinition",
                    code: None,
                    message: format!(
                        "cannot read the task definition of {}/{}: {error}",
                        service.cluster_name, service.name
                    ),
                }));
            }
            let refs: Vec<&Reference> = service
                .task_definitions
                .iter()
                .filter_map(|td| revisions.get(td))
                .flat_map(|r| r.references.iter())
                .collect();
            // No change time here: "already redeployed" is what this function measures.
            let verdict = judge(service, &refs, change, None, &self.config);
            let warnings = service
                .task_definitions
                .first()
                .and_then(|td| revisions.get(td))
                .map(|r| r.mutable_images())
                .unwrap_or_default();
            match verdict {
                Verdict::NotReferenced => continue,
                Verdict::Skip(reason) => {
                    let ctx = context_of(&service.arn);
                    let affected = ctx.is_some_and(|ctx| reads(&refs, change, &ctx).affected);
                    if !affected {
                        // Pinned, or a label that did not move: not a reader of this change.
                        consumers.push(Consumer {
                            kind: "service",
                            cluster: service.cluster_name.clone(),
                            name: service.name.clone(),
                            state: State::Skipped,
                            reason,
                            reads_change: false,
                            deployment: primary(service).map(|d| d.id.clone()),
                            rollout_state: primary(service).and_then(|d| d.rollout_state.clone()),
                            running_tasks: service.running_count.max(0) as usize,
                            tasks_started_before_change: 0,
                            fresh_since: None,
                            command: None,
                            warnings: Vec::new(),
                        });
                        continue;
                    }
                    // Skipped by policy (opted out, another controller, …) but reading the
                    // change: its tasks say whether it holds the old value.
                    let tasks = self
                        .running_tasks(&service.cluster_arn, Some(&service.name))
                        .await?;
                    seen_tasks.extend(tasks.iter().map(|t| t.arn.clone()));
                    let mut c = service_consumer(service, &tasks, changed_at, Vec::new());
                    c.reason = match c.tasks_started_before_change {
                        0 => reason,
                        old => format!("{reason}; {old} task(s) still run the old value"),
                    };
                    c.state = State::Skipped;
                    c.fresh_since = None;
                    consumers.push(c);
                }
                Verdict::Redeploy => {
                    let tasks = self
                        .running_tasks(&service.cluster_arn, Some(&service.name))
                        .await?;
                    seen_tasks.extend(tasks.iter().map(|t| t.arn.clone()));
                    consumers.push(service_consumer(service, &tasks, changed_at, warnings));
                }
            }
        }
        // Tasks no service owns: every cluster in scope.
        for cluster in &discovered.clusters {
            let tasks = self.running_tasks(cluster, None).await?;
            let standalone: Vec<RunningTask> = tasks
                .into_iter()
                .filter(|t| !seen_tasks.contains(&t.arn) && !started_by_a_service(t))
                .collect();
            let wanted: Vec<String> = standalone
                .iter()
                .map(|t| t.task_definition.clone())
                .collect();
            let (revisions, unreadable) = self.revisions(wanted.iter()).await?;
            for task in standalone {
                if let Some(error) = unreadable.get(&task.task_definition) {
                    return Err(DiscoveryError(ApiError {
                        operation: "DescribeTaskDefinition",
                        code: None,
                        message: format!(
                            "cannot read the task definition of task {}: {error}",
                            task_id(&task.arn)
                        ),
                    }));
                }
                let Some(revision) = revisions.get(&task.task_definition) else {
                    continue;
                };
                let Some(ctx) = context_of(&task.arn) else {
                    continue;
                };
                let refs: Vec<&Reference> = revision.references.iter().collect();
                let how = reads(&refs, change, &ctx);
                if !how.any() {
                    continue;
                }
                consumers.push(task_consumer(
                    &task,
                    how.affected,
                    how.pinned,
                    changed_at,
                    revision.mutable_images(),
                ));
            }
        }
        // Propagated: no reader of the change holds the old value — a consumer the redeployer
        // skips by policy counts too (revoking the old value would break it).
        let propagated = !consumers.iter().any(Consumer::holds_old_value);
        let propagation_seconds = if propagated {
            consumers
                .iter()
                .filter_map(|c| c.fresh_since)
                .max()
                .map(|t| (t - changed_at).num_milliseconds().max(0) as f64 / 1000.0)
        } else {
            None
        };
        let mut described = change::describe_change(change, Some(changed_at));
        if let Some(d) = described.as_object_mut() {
            d.remove("event_id");
        }
        Ok(Status {
            change: described,
            changed_at,
            propagated,
            propagation_seconds,
            consumers,
            clusters_not_scanned: discovered.not_scanned,
            api_calls: crate::redeploy::since(&before, &self.ecs.api_calls()),
        })
    }

    /// The RUNNING tasks of a cluster (or one service), described 100 at a time.
    async fn running_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
    ) -> Result<Vec<RunningTask>, DiscoveryError> {
        self.reads.services.take().await;
        let arns = self.ecs.list_tasks(cluster, service).await?;
        let described: Vec<Result<Vec<RunningTask>, ApiError>> = stream::iter(arns.chunks(100))
            .map(|chunk| async move {
                self.reads.services.take().await;
                self.ecs.describe_tasks(cluster, chunk).await
            })
            .buffer_unordered(self.config.max_concurrency)
            .collect()
            .await;
        let mut out = Vec::new();
        for d in described {
            out.extend(d?);
        }
        Ok(out)
    }
}

/// A task a service's deployment started: its group names a service and a deployment started
/// it. (RunTask may be given any group, even `service:…`; such a task is no service's.)
fn started_by_a_service(task: &RunningTask) -> bool {
    task.group.starts_with("service:")
        && task
            .started_by
            .as_deref()
            .is_some_and(|s| s.starts_with("ecs-svc/"))
}

/// Whether a task certainly read the value current since `changed_at`: ECS created it (and so
/// fetched its secrets) after the change. A task without a creation time counts as old.
fn read_new_value(task: &RunningTask, changed_at: DateTime<Utc>) -> bool {
    task.created_at
        .is_some_and(|c| deployed_after(c, changed_at))
}

fn primary(service: &Service) -> Option<&crate::verdict::Deployment> {
    service.deployments.iter().find(|d| d.status == "PRIMARY")
}

fn service_consumer(
    service: &Service,
    tasks: &[RunningTask],
    changed_at: DateTime<Utc>,
    warnings: Vec<String>,
) -> Consumer {
    let old = tasks
        .iter()
        .filter(|t| !read_new_value(t, changed_at))
        .count();
    let since_change: Vec<&crate::verdict::Deployment> = service
        .deployments
        .iter()
        .filter(|d| d.created_at.is_some_and(|c| deployed_after(c, changed_at)))
        .collect();
    // A deployment since the change failed, and tasks with the old value remain. (Once every
    // task is new — a later deployment succeeded — the value did reach the service, whatever
    // ECS still lists.)
    let failed = since_change
        .iter()
        .find(|d| d.rollout_state.as_deref() == Some("FAILED"))
        .filter(|_| old > 0);
    let in_progress = since_change
        .iter()
        .any(|d| d.rollout_state.as_deref() == Some("IN_PROGRESS"));
    let (state, reason) = if let Some(d) = failed {
        (
            State::Failed,
            format!(
                "deployment {} failed{}; {old} task(s) still run the old value",
                d.id,
                d.rollout_state_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        )
    } else if in_progress {
        // Until the roll-out completes, old tasks may still be draining (stopping, no longer
        // listed as RUNNING) and serving with the old value.
        (
            State::Rolling,
            format!(
                "a deployment since the change is in progress; {old} of {} running task(s) still run the old value",
                tasks.len()
            ),
        )
    } else if old == 0 {
        (
            State::Fresh,
            format!(
                "all {} running task(s) were created after the change",
                tasks.len()
            ),
        )
    } else {
        (
            State::Stale,
            format!(
                "{old} of {} task(s) were created before the change and no deployment since replaces them",
                tasks.len()
            ),
        )
    };
    let fresh_since = (state == State::Fresh)
        .then(|| tasks.iter().filter_map(|t| t.created_at).max())
        .flatten();
    Consumer {
        kind: "service",
        cluster: service.cluster_name.clone(),
        name: service.name.clone(),
        state,
        reason,
        reads_change: true,
        deployment: primary(service).map(|d| d.id.clone()),
        rollout_state: primary(service).and_then(|d| d.rollout_state.clone()),
        running_tasks: tasks.len(),
        tasks_started_before_change: old,
        fresh_since,
        command: None,
        warnings,
    }
}

fn task_consumer(
    task: &RunningTask,
    affected: bool,
    pinned: Vec<String>,
    changed_at: DateTime<Utc>,
    warnings: Vec<String>,
) -> Consumer {
    let cluster = cluster_name(&task.cluster_arn);
    let id = task_id(&task.arn);
    let fresh = read_new_value(task, changed_at);
    let (state, reason, command) = if !affected {
        (
            State::Skipped,
            format!(
                "reference pinned, rotation does not reach it: {}",
                pinned.join("; ")
            ),
            None,
        )
    } else if fresh {
        (State::Fresh, "created after the change".to_owned(), None)
    } else {
        (
            State::Stale,
            "created before the change; no service owns it, so no deployment will replace it"
                .to_owned(),
            Some(format!(
                "aws ecs stop-task --cluster {cluster} --task {id}  # then run it again (its group: {})",
                task.group
            )),
        )
    };
    Consumer {
        kind: "task",
        cluster,
        name: id,
        state,
        reason,
        reads_change: affected,
        deployment: None,
        rollout_state: None,
        running_tasks: 1,
        tasks_started_before_change: usize::from(state == State::Stale),
        fresh_since: if fresh { task.created_at } else { None },
        command,
        warnings,
    }
}

#[cfg(test)]
mod tests;
