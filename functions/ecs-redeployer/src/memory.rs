//! An in-memory ECS for unit tests of the redeployer's core: discovery, the cache, dry runs,
//! partial failure and pacing, without moto.
//!
//! It answers the five calls of [`EcsApi`] from a fleet held in memory and enforces what ECS
//! enforces on them that the core relies on: pages of at most 100 ARNs (each page counted as
//! one call, as the real adapter counts), at most 10 services per DescribeServices (more is
//! ECS's `InvalidParameterException`), and `MISSING` for a service it does not have. It records
//! every UpdateService with the (tokio) time it was made, and makes it the service's PRIMARY
//! deployment (created now). It does not model throttling, tasks or
//! roll-outs — the harness's fault proxy and scheduler simulation do, at the wire.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use crate::ecs::{ApiCalls, ApiError, Described, EcsApi, RunningTask};
use crate::verdict::{Reference, Revision, Service};

/// A fleet: clusters, their services, and the references of each task-definition revision.
#[derive(Debug, Default)]
pub struct MemoryEcs {
    /// Cluster ARN → its services.
    pub clusters: Mutex<BTreeMap<String, Vec<Service>>>,
    /// Task-definition ARN → its references.
    pub task_definitions: HashMap<String, Vec<Reference>>,
    /// Services (by name) whose UpdateService fails.
    pub failing_updates: HashSet<String>,
    /// Task definitions whose DescribeTaskDefinition fails.
    pub unreadable: HashSet<String>,
    /// Task-definition ARN → (container, image) of its containers.
    pub images: HashMap<String, Vec<(String, String)>>,
    /// Running tasks (services' and standalone ones).
    pub tasks: Vec<RunningTask>,
    calls: ApiCalls,
    /// (cluster, service, when) of every UpdateService, in order.
    pub updates: Mutex<Vec<(String, String, tokio::time::Instant)>>,
    /// Task definitions described, in order.
    pub described: Mutex<Vec<String>>,
}

const PAGE: usize = 100;

fn error(operation: &'static str, code: &str, message: &str) -> ApiError {
    ApiError {
        operation,
        code: Some(code.to_owned()),
        message: message.to_owned(),
    }
}

impl MemoryEcs {
    pub fn add(&mut self, service: Service) {
        self.clusters
            .get_mut()
            .unwrap()
            .entry(service.cluster_arn.clone())
            .or_default()
            .push(service);
    }

    fn pages(&self, operation: &'static str, items: usize) {
        for _ in 0..items.div_ceil(PAGE).max(1) {
            self.calls.count(operation);
        }
    }

    pub fn updated(&self) -> Vec<String> {
        self.updates
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s, _)| s.clone())
            .collect()
    }
}

impl EcsApi for MemoryEcs {
    fn api_calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.snapshot()
    }

    async fn list_clusters(&self) -> Result<Vec<String>, ApiError> {
        let clusters = self.clusters.lock().unwrap();
        self.pages("ListClusters", clusters.len());
        Ok(clusters.keys().cloned().collect())
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, ApiError> {
        let clusters = self.clusters.lock().unwrap();
        let services = clusters.get(cluster).map_or(&[][..], Vec::as_slice);
        self.pages("ListServices", services.len());
        Ok(services.iter().map(|s| s.arn.clone()).collect())
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> Result<Described, ApiError> {
        self.calls.count("DescribeServices");
        if services.len() > 10 {
            return Err(error(
                "DescribeServices",
                "InvalidParameterException",
                "at most 10 services per call",
            ));
        }
        let clusters = self.clusters.lock().unwrap();
        let known = clusters.get(cluster).map_or(&[][..], Vec::as_slice);
        let mut out = Described::default();
        for wanted in services {
            match known.iter().find(|s| &s.arn == wanted || &s.name == wanted) {
                Some(s) => out.services.push(s.clone()),
                None => out.failures.push((wanted.clone(), "MISSING".to_owned())),
            }
        }
        Ok(out)
    }

    async fn task_definition(&self, task_definition: &str) -> Result<Revision, ApiError> {
        self.calls.count("DescribeTaskDefinition");
        self.described
            .lock()
            .unwrap()
            .push(task_definition.to_owned());
        if self.unreadable.contains(task_definition) {
            return Err(error(
                "DescribeTaskDefinition",
                "AccessDeniedException",
                "not authorized",
            ));
        }
        let references = self
            .task_definitions
            .get(task_definition)
            .cloned()
            .ok_or_else(|| {
                error(
                    "DescribeTaskDefinition",
                    "ClientException",
                    "Unable to describe task definition.",
                )
            })?;
        Ok(Revision {
            references,
            images: self
                .images
                .get(task_definition)
                .cloned()
                .unwrap_or_default(),
        })
    }

    async fn list_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        let arns: Vec<String> = self
            .tasks
            .iter()
            .filter(|t| t.cluster_arn == cluster)
            .filter(|t| service.is_none_or(|s| t.group == format!("service:{s}")))
            .map(|t| t.arn.clone())
            .collect();
        self.pages("ListTasks", arns.len());
        Ok(arns)
    }

    async fn describe_tasks(
        &self,
        _cluster: &str,
        tasks: &[String],
    ) -> Result<Vec<RunningTask>, ApiError> {
        self.calls.count("DescribeTasks");
        if tasks.len() > 100 {
            return Err(error(
                "DescribeTasks",
                "InvalidParameterException",
                "at most 100 tasks per call",
            ));
        }
        Ok(self
            .tasks
            .iter()
            .filter(|t| tasks.contains(&t.arn))
            .cloned()
            .collect())
    }

    async fn force_new_deployment(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<String>, ApiError> {
        self.calls.count("UpdateService");
        if self.failing_updates.contains(service) {
            return Err(error(
                "UpdateService",
                "ServerException",
                "the service could not be updated",
            ));
        }
        // The new deployment becomes PRIMARY now: a later duplicate of the change sees it.
        if let Some(s) = self
            .clusters
            .lock()
            .unwrap()
            .get_mut(cluster)
            .and_then(|list| list.iter_mut().find(|s| s.name == service))
        {
            s.primary_created_at = Some(chrono::Utc::now());
        }
        let mut updates = self.updates.lock().unwrap();
        updates.push((
            cluster.to_owned(),
            service.to_owned(),
            tokio::time::Instant::now(),
        ));
        Ok(Some(format!("ecs-svc/{}", updates.len())))
    }
}

/// The fake itself: pages, the ten-service limit and MISSING are what ECS does.
#[cfg(test)]
mod tests {
    use super::*;

    fn service(cluster: &str, name: &str) -> Service {
        Service {
            cluster_arn: format!("arn:aws:ecs:us-east-1:123456789012:cluster/{cluster}"),
            cluster_name: cluster.into(),
            name: name.into(),
            arn: format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{name}"),
            status: "ACTIVE".into(),
            controller: None,
            tags: HashMap::new(),
            primary_created_at: None,
            task_definitions: Vec::new(),
            ..Service::default()
        }
    }

    #[tokio::test]
    async fn behaves_as_ecs_does_for_what_the_core_reads() {
        let mut ecs = MemoryEcs::default();
        for i in 0..250 {
            ecs.add(service("prod", &format!("s{i}")));
        }
        let cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
        let arns = ecs.list_services(cluster).await.unwrap();
        assert_eq!(arns.len(), 250);
        assert_eq!(ecs.api_calls()["ListServices"], 3, "three pages of 100");
        assert!(ecs.describe_services(cluster, &arns[..11]).await.is_err());
        let d = ecs
            .describe_services(cluster, &[arns[0].clone(), "gone".into()])
            .await
            .unwrap();
        assert_eq!(d.services.len(), 1);
        assert_eq!(d.failures, vec![("gone".into(), "MISSING".into())]);
        assert!(ecs.task_definition("nope").await.is_err());
    }
}
