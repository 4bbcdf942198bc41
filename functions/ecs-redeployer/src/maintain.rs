//! The redeployer's side of the reference index ([`crate::index`]): candidates for a change (confirmed with
//! `DescribeServices`), the CloudTrail records that keep it current, and the reconciliation
//! that rebuilds it from a full scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Utc;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};

use crate::change::Change;
use crate::ecs::{ApiError, Described, EcsApi};
use crate::index::{millis, Drift, Index, IndexError, Maintenance};
use crate::redeploy::{Discovered, DiscoveryError, Redeployer};
use crate::verdict::Revision;

/// A reconciliation or a maintenance record failed (the invocation or record is retried).
#[derive(Debug, Clone, thiserror::Error)]
pub enum MaintainError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("ECS: {0}")]
    Ecs(#[from] ApiError),
    #[error("no index is configured (INDEX_TABLE)")]
    NoIndex,
    #[error("reconciliation stopped: {0}")]
    Incomplete(String),
}

impl From<DiscoveryError> for MaintainError {
    fn from(e: DiscoveryError) -> Self {
        MaintainError::Ecs(e.0)
    }
}

impl<E: EcsApi> Redeployer<E> {
    /// The services `changes` may reach: through the index when there is one it can trust
    /// (then `Some("index")`), else by scanning the fleet (`Some` of why, with an index;
    /// `None` without one).
    pub(crate) async fn discover_for(
        &self,
        changes: &[&Change],
    ) -> Result<(Discovered, Option<String>), DiscoveryError> {
        let Some(index) = &self.index else {
            return Ok((self.discover().await?, None));
        };
        let candidates = match index.unusable(Utc::now()).await {
            Ok(None) => index.candidates(changes).await.map_err(|e| e.to_string()),
            Ok(Some(reason)) => Err(reason),
            Err(e) => Err(format!("the index cannot be read: {e}")),
        };
        let candidates = match candidates {
            Ok(c) => c,
            Err(reason) => {
                tracing::warn!(reason = %reason, "scanning the fleet instead of using the index");
                return Ok((self.discover().await?, Some(format!("full scan: {reason}"))));
            }
        };
        self.remember(candidates.revisions.iter());
        let mut out = Discovered::default();
        let mut batches = Vec::new();
        for (cluster, services) in &candidates.services {
            let name = cluster.rsplit('/').next().unwrap_or(cluster);
            if !self.config.includes_cluster(cluster, name) {
                out.not_scanned.push(name.to_owned());
                continue;
            }
            out.clusters.push(cluster.clone());
            let services: Vec<String> = services.iter().cloned().collect();
            for chunk in services.chunks(10) {
                batches.push((cluster.clone(), chunk.to_vec()));
            }
        }
        let described: Vec<(String, Described)> = stream::iter(batches)
            .map(|(cluster, chunk)| async move {
                self.reads.services.take().await;
                let d = self.ecs.describe_services(&cluster, &chunk).await?;
                Ok::<_, ApiError>((cluster, d))
            })
            .buffer_unordered(self.config.max_concurrency)
            .try_collect()
            .await?;
        for (cluster, d) in described {
            out.services.extend(d.services);
            // A service deleted since the index learnt of it reads nothing: not a failure.
            out.failures.extend(
                d.failures
                    .into_iter()
                    .filter(|(_, reason)| reason != "MISSING")
                    .map(|(service, reason)| (cluster.clone(), service, reason)),
            );
        }
        out.not_scanned.sort();
        out.services
            .sort_by(|a, b| (&a.cluster_name, &a.name).cmp(&(&b.cluster_name, &b.name)));
        Ok((out, Some("index".to_owned())))
    }

    /// Rebuilds the index from a full scan of the clusters in scope, and reports the drift.
    pub async fn reconcile(&self) -> Result<Drift, MaintainError> {
        let index = self.index.as_ref().ok_or(MaintainError::NoIndex)?;
        let started = Utc::now();
        let discovered = {
            let _one_at_a_time = self.running.lock().await;
            self.discover().await?
        };
        // A service ECS could not describe is unknown: removing its entries would hide it.
        if let Some((cluster, service, reason)) = discovered
            .failures
            .iter()
            .find(|(_, _, reason)| reason != "MISSING")
        {
            return Err(MaintainError::Incomplete(format!(
                "DescribeServices failed for {service} in {cluster}: {reason}"
            )));
        }
        let (revisions, unreadable) = self.revisions_of(&discovered.services).await?;
        let mut services: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
        for s in &discovered.services {
            services.insert(
                s.arn.clone(),
                (
                    s.cluster_arn.clone(),
                    s.task_definitions.iter().cloned().collect(),
                ),
            );
        }
        let used: BTreeSet<&String> = services.values().flat_map(|(_, r)| r).collect();
        let revisions: HashMap<String, Arc<Revision>> = revisions
            .into_iter()
            .filter(|(arn, _)| used.contains(arn))
            .collect();
        let unreadable: BTreeSet<String> = unreadable.into_keys().collect();
        let drift = index
            .reconcile(&services, &revisions, &unreadable, millis(started))
            .await?;
        let mut metrics = ecs_secrets_shared::telemetry::Metrics::new(crate::FUNCTION_NAME);
        metrics
            .count("IndexEntriesAdded", drift.added)
            .count("IndexEntriesRemoved", drift.removed)
            .count("IndexedServices", drift.services);
        metrics.emit();
        Ok(drift)
    }

    /// Applies one CloudTrail record to the index; what it did, for the summary.
    pub async fn maintain(&self, change: Maintenance) -> Result<Value, MaintainError> {
        let index = self.index.as_ref().ok_or(MaintainError::NoIndex)?;
        Ok(match change {
            Maintenance::Registered {
                revision,
                model,
                time,
            } => {
                let read = match model {
                    Some(model) => Arc::new(Revision::of(&model)),
                    None => self.revision(&revision).await?,
                };
                index.add_revision(&revision, &read, millis(time)).await?;
                self.remember(std::iter::once((&revision, &read)));
                json!({"registered": revision})
            }
            Maintenance::Deregistered { revision } => {
                // An INACTIVE revision keeps running where it runs: nothing changes.
                json!({"deregistered": revision, "index": "unchanged"})
            }
            Maintenance::Deleted { revisions, time } => {
                let mut kept = Vec::new();
                for revision in &revisions {
                    if !index.remove_revision(revision, millis(time)).await? {
                        kept.push(revision.clone());
                    }
                }
                json!({"deleted": revisions, "kept_in_use": kept})
            }
            Maintenance::Service {
                arn,
                cluster,
                revisions,
                time,
            } => {
                self.index_revisions(index, &revisions, millis(time))
                    .await?;
                let applied = index
                    .set_service(&arn, &cluster, &revisions, false, millis(time))
                    .await?;
                json!({"service": arn, "revisions": revisions, "applied": applied})
            }
            Maintenance::ServiceToDescribe {
                cluster,
                service,
                time,
            } => {
                self.reads.services.take().await;
                let described = self
                    .ecs
                    .describe_services(&cluster, std::slice::from_ref(&service))
                    .await?;
                match described.services.into_iter().next() {
                    Some(s) => {
                        self.index_revisions(index, &s.task_definitions, millis(time))
                            .await?;
                        let applied = index
                            .set_service(
                                &s.arn,
                                &s.cluster_arn,
                                &s.task_definitions,
                                false,
                                millis(time),
                            )
                            .await?;
                        json!({"service": s.arn, "revisions": s.task_definitions, "applied": applied})
                    }
                    None => json!({"service": service, "index": "unchanged (not found)"}),
                }
            }
            Maintenance::ServiceDeleted { arn, cluster, time } => {
                let applied = index
                    .set_service(&arn, &cluster, &[], true, millis(time))
                    .await?;
                json!({"deleted_service": arn, "applied": applied})
            }
        })
    }

    /// Makes sure the index knows every revision a service runs (a revision registered
    /// before the index existed, or removed by a reconciliation while unused, is read once).
    async fn index_revisions(
        &self,
        index: &Index,
        revisions: &[String],
        t: i64,
    ) -> Result<(), MaintainError> {
        for revision in revisions {
            if index.has_revision(revision).await? {
                continue;
            }
            let read = self.revision(revision).await?;
            index.add_revision(revision, &read, t).await?;
        }
        Ok(())
    }

    /// One revision, from the cache or `DescribeTaskDefinition`.
    async fn revision(&self, arn: &str) -> Result<Arc<Revision>, MaintainError> {
        let wanted = [arn.to_owned()];
        let (known, unreadable) = self.revisions(wanted.iter()).await?;
        if let Some(error) = unreadable.get(arn) {
            return Err(MaintainError::Ecs(ApiError {
                operation: "DescribeTaskDefinition",
                code: None,
                message: error.clone(),
            }));
        }
        known
            .get(arn)
            .cloned()
            .ok_or_else(|| MaintainError::Incomplete(format!("{arn} was not read")))
    }
}
