//! The narrow boundary to ECS: the calls the redeployer makes (and, for `status`, the task
//! calls). Each adapter counts its
//! own calls (pages of a paginated call count one each), so the summary can report API usage
//! and tests can hold it to the minimum without threading a counter through every call. SDK
//! types stay here.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_ecs::types::ServiceField;
use chrono::{DateTime, Utc};
use ecs_secrets_shared::task_definition::TaskDefinition;

use crate::verdict::{Deployment, Revision, Service};

/// A failed ECS call: operation, error code, message.
pub use ecs_secrets_shared::aws::CallError as ApiError;

/// Calls made, by operation (pages of a paginated call count one each).
#[derive(Debug, Default)]
pub struct ApiCalls(Mutex<BTreeMap<&'static str, u64>>);

impl ApiCalls {
    pub fn count(&self, operation: &'static str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(operation).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// What one DescribeServices call returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Described {
    pub services: Vec<Service>,
    /// `failures`: (service ARN or name, reason such as `MISSING`).
    pub failures: Vec<(String, String)>,
}

/// A running task, as `DescribeTasks` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunningTask {
    pub arn: String,
    pub cluster_arn: String,
    pub task_definition: String,
    /// `service:<name>` for a service's task; `family:<family>` (or what RunTask was given)
    /// for a task no service owns.
    pub group: String,
    /// `ecs-svc/…` for a task a service's deployment started; what RunTask was given (or
    /// nothing) otherwise.
    pub started_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    /// When ECS created the task: it fetches the task's secrets after this, while it
    /// provisions (before `startedAt`), so "created after the change" is what proves a task
    /// read the new value.
    pub created_at: Option<DateTime<Utc>>,
}

/// The ECS operations of a redeployment.
pub trait EcsApi: Sync {
    /// Calls made so far, by operation.
    fn api_calls(&self) -> BTreeMap<&'static str, u64>;
    fn list_clusters(&self) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    fn list_services(
        &self,
        cluster: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    /// At most 10 services, with their tags, and the ones ECS could not describe.
    fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> impl Future<Output = Result<Described, ApiError>> + Send;
    /// The references and images of a task-definition revision.
    fn task_definition(
        &self,
        task_definition: &str,
    ) -> impl Future<Output = Result<Revision, ApiError>> + Send;
    /// The ARNs of the RUNNING tasks of a cluster, or of one service in it.
    fn list_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    /// At most 100 tasks.
    fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> impl Future<Output = Result<Vec<RunningTask>, ApiError>> + Send;
    /// `UpdateService(forceNewDeployment)`; returns the new PRIMARY deployment's id.
    fn force_new_deployment(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
}

/// The real adapter.
#[derive(Debug)]
pub struct Ecs {
    client: aws_sdk_ecs::Client,
    calls: ApiCalls,
}

impl Ecs {
    pub fn new(client: aws_sdk_ecs::Client) -> Self {
        Ecs {
            client,
            calls: ApiCalls::default(),
        }
    }
}

fn chrono_time(t: &aws_sdk_ecs::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn cluster_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

impl EcsApi for Ecs {
    fn api_calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.snapshot()
    }

    async fn list_clusters(&self) -> Result<Vec<String>, ApiError> {
        let mut pages = self
            .client
            .list_clusters()
            .max_results(100)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            self.calls.count("ListClusters");
            let page = page.map_err(|e| ApiError::from_sdk("ListClusters", &e))?;
            out.extend(page.cluster_arns().iter().cloned());
        }
        Ok(out)
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, ApiError> {
        let mut pages = self
            .client
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            self.calls.count("ListServices");
            let page = page.map_err(|e| ApiError::from_sdk("ListServices", &e))?;
            out.extend(page.service_arns().iter().cloned());
        }
        Ok(out)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> Result<Described, ApiError> {
        self.calls.count("DescribeServices");
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(services.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("DescribeServices", &e))?;
        let failures = out
            .failures()
            .iter()
            .map(|f| {
                (
                    f.arn().unwrap_or_default().to_owned(),
                    f.reason().unwrap_or("unknown").to_owned(),
                )
            })
            .collect();
        let services = out
            .services()
            .iter()
            .map(|s| {
                let deployments = s.deployments();
                let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
                let mut task_definitions: Vec<String> = primary
                    .and_then(|d| d.task_definition())
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                if task_definitions.is_empty() {
                    task_definitions.extend(s.task_definition().map(str::to_owned));
                }
                for d in deployments.iter().filter(|d| d.status() != Some("PRIMARY")) {
                    if let Some(td) = d.task_definition() {
                        if !task_definitions.iter().any(|t| t == td) {
                            task_definitions.push(td.to_owned());
                        }
                    }
                }
                let cluster_arn = s.cluster_arn().unwrap_or(cluster).to_owned();
                Service {
                    cluster_name: cluster_name(&cluster_arn),
                    cluster_arn,
                    name: s.service_name().unwrap_or_default().to_owned(),
                    arn: s.service_arn().unwrap_or_default().to_owned(),
                    status: s.status().unwrap_or("ACTIVE").to_owned(),
                    controller: s
                        .deployment_controller()
                        .map(|c| c.r#type().as_str().to_owned()),
                    tags: s
                        .tags()
                        .iter()
                        .filter_map(|t| {
                            Some((
                                t.key()?.to_owned(),
                                t.value().unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect::<HashMap<_, _>>(),
                    primary_created_at: primary.and_then(|d| d.created_at()).and_then(chrono_time),
                    task_definitions,
                    deployments: deployments
                        .iter()
                        .map(|d| Deployment {
                            id: d.id().unwrap_or_default().to_owned(),
                            status: d.status().unwrap_or_default().to_owned(),
                            task_definition: d.task_definition().unwrap_or_default().to_owned(),
                            created_at: d.created_at().and_then(chrono_time),
                            rollout_state: d.rollout_state().map(|r| r.as_str().to_owned()),
                            rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                            running_count: d.running_count(),
                        })
                        .collect(),
                    desired_count: s.desired_count(),
                    running_count: s.running_count(),
                }
            })
            .collect();
        Ok(Described { services, failures })
    }

    async fn task_definition(&self, task_definition: &str) -> Result<Revision, ApiError> {
        self.calls.count("DescribeTaskDefinition");
        let out = self
            .client
            .describe_task_definition()
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("DescribeTaskDefinition", &e))?;
        let Some(td) = out.task_definition() else {
            return Ok(Revision::default());
        };
        Ok(Revision::of(&TaskDefinition::from(td)))
    }

    async fn list_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        let mut pages = self
            .client
            .list_tasks()
            .cluster(cluster)
            .set_service_name(service.map(str::to_owned))
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .max_results(100)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            self.calls.count("ListTasks");
            let page = page.map_err(|e| ApiError::from_sdk("ListTasks", &e))?;
            out.extend(page.task_arns().iter().cloned());
        }
        Ok(out)
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> Result<Vec<RunningTask>, ApiError> {
        self.calls.count("DescribeTasks");
        let out = self
            .client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(tasks.to_vec()))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("DescribeTasks", &e))?;
        Ok(out
            .tasks()
            .iter()
            .map(|t| RunningTask {
                arn: t.task_arn().unwrap_or_default().to_owned(),
                cluster_arn: t.cluster_arn().unwrap_or(cluster).to_owned(),
                task_definition: t.task_definition_arn().unwrap_or_default().to_owned(),
                group: t.group().unwrap_or_default().to_owned(),
                started_by: t.started_by().map(str::to_owned),
                started_at: t.started_at().and_then(chrono_time),
                created_at: t.created_at().and_then(chrono_time),
            })
            .collect())
    }

    async fn force_new_deployment(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<String>, ApiError> {
        self.calls.count("UpdateService");
        let out = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .force_new_deployment(true)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("UpdateService", &e))?;
        Ok(out
            .service()
            .and_then(|s| {
                s.deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"))
            })
            .and_then(|d| d.id())
            .map(str::to_owned))
    }
}
