//! The redeployer's side of the reference index ([`crate::index`]): candidates for a change (confirmed with
//! `DescribeServices`), the CloudTrail records that keep it current, and the reconciliation
//! that rebuilds it from a full scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};

use crate::change::Change;
use crate::ecs::{ApiError, Described, EcsApi};
use crate::index::{millis, Drift, Index, IndexError, Maintenance};
use crate::redeploy::{Discovered, DiscoveryError, Redeployer};
use crate::verdict::Revision;

/// Changes shortly before a service's record are judged too (clocks differ a little).
const CATCH_UP_MARGIN_MS: i64 = 60 * 1000;

/// A remembered change: what it changed and when.
fn parse_remembered(data: &str) -> Option<(Change, Option<DateTime<Utc>>)> {
    use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
    let c: Value = serde_json::from_str(data).ok()?;
    let time = c["time"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let change = match (c["secret"].as_str(), c["parameter"].as_str()) {
        (Some(secret), _) => Change::Secret {
            secret: SecretArn::parse(secret).ok()?,
            labels: c["labels"]
                .as_array()?
                .iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect(),
        },
        (None, Some(parameter)) => Change::Parameter {
            parameter: ParameterArn::parse(parameter).ok()?,
        },
        _ => return None,
    };
    Some((change, Some(time?)))
}

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
    /// The record was applied, but a service it showed could not be caught up: the record
    /// must be retried (applying it again is harmless), not dropped.
    #[error("catching up: {0}")]
    CatchUp(String),
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
        let candidates = match index.unusable(Utc::now(), &self.scope()).await {
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
        match self.describe_candidates(&candidates.services).await {
            Ok(found) => Ok((found, Some("index".to_owned()))),
            // A candidate the index still names in a deleted cluster (ClusterNotFound), or any
            // other failure of the lookup: the scan decides instead, as without an index.
            Err(e) => {
                let reason = format!("a candidate could not be described ({})", e.0.summary());
                tracing::warn!(reason = %reason, "scanning the fleet instead of using the index");
                Ok((self.discover().await?, Some(format!("full scan: {reason}"))))
            }
        }
    }

    /// Describes candidate services (cluster ARN → service ARNs), ten per call, in the
    /// clusters in scope; a service deleted since is passed over.
    pub(crate) async fn describe_candidates(
        &self,
        candidates: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<Discovered, DiscoveryError> {
        let mut out = Discovered::default();
        let mut batches = Vec::new();
        for (cluster, services) in candidates {
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
        Ok(out)
    }

    /// Rebuilds the index from a full scan of the clusters in scope, and reports the drift.
    pub async fn reconcile(&self) -> Result<Drift, MaintainError> {
        let index = self.index.as_ref().ok_or(MaintainError::NoIndex)?;
        let started = Utc::now();
        let mut discovered = {
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
        let (revisions, unreadable) = self
            .revisions_read(discovered.read.take(), &discovered.services)
            .await?;
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
            .reconcile(
                &services,
                &revisions,
                &unreadable,
                millis(started),
                &self.scope(),
            )
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
            // A record is a hint, never the authority: whoever can invoke the function can
            // hand in a record that looks like SQS's. What a revision reads and what a
            // service runs are read from ECS.
            Maintenance::Registered { revision, time, .. } => {
                let read = self.revision(&revision).await?;
                index.add_revision(&revision, &read, millis(time)).await?;
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
                arn: service,
                cluster,
                time,
                ..
            }
            | Maintenance::ServiceToDescribe {
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
                        let caught = if applied.applied {
                            self.catch_up(index, &s.cluster_arn, &s.arn, &s.task_definitions, time)
                                .await?
                        } else {
                            Value::Null
                        };
                        json!({"service": s.arn, "revisions": s.task_definitions, "applied": applied.applied, "caught_up": caught})
                    }
                    None => json!({"service": service, "index": "unchanged (not found)"}),
                }
            }
            Maintenance::ServiceDeleted { arn, cluster, time } => {
                let applied = index
                    .set_service(&arn, &cluster, &[], true, millis(time))
                    .await?;
                json!({"deleted_service": arn, "applied": applied.applied})
            }
        })
    }

    /// Remembers changes the index answered (best effort: a failure only loses the catch-up).
    pub(crate) async fn remember_changes(&self, wanted: &[(usize, Change, Option<DateTime<Utc>>)]) {
        let Some(index) = &self.index else { return };
        for (_, change, time) in wanted {
            // A change without a time counts as made now (as `lib` does for direct
            // invocations): never as timeless, which no deployment could be "after".
            let at = time.unwrap_or_else(Utc::now);
            let data = match change {
                Change::Secret { secret, labels } => json!({
                    "secret": secret.to_string(), "labels": labels, "time": at.to_rfc3339(),
                }),
                Change::Parameter { parameter } => json!({
                    "parameter": parameter.to_string(), "time": at.to_rfc3339(),
                }),
            }
            .to_string();
            let t = millis(at);
            if let Err(e) = index.record_change(change, t, &data).await {
                tracing::warn!(error = %e, "cannot remember the change for late records");
            }
        }
    }

    /// A service the index learnt runs `revisions` since `time`: judged for every change
    /// looked up in the index since shortly before then — the change may have been handled
    /// before CloudTrail delivered this record, and missed the service. A service already
    /// redeployed since the change (or whose deployment started after it) is skipped by the
    /// usual rule, so this never deploys twice.
    async fn catch_up(
        &self,
        index: &Index,
        cluster: &str,
        service: &str,
        revisions: &[String],
        time: DateTime<Utc>,
    ) -> Result<Value, MaintainError> {
        let since = millis(time) - CATCH_UP_MARGIN_MS;
        let mut seen = BTreeSet::new();
        for revision in revisions {
            seen.extend(index.changes_since(revision, since).await?);
        }
        let mut wanted = Vec::new();
        for data in &seen {
            let Some((change, at)) = parse_remembered(data) else {
                continue;
            };
            wanted.push((wanted.len(), change, at));
        }
        if wanted.is_empty() {
            return Ok(Value::Null);
        }
        let mut batch = self.empty_batch(self.config.dry_run);
        for (_, change, at) in &wanted {
            batch.changes.push(crate::redeploy::ChangeOutcome {
                trigger: crate::change::describe_change(change, *at),
                reason: None,
                redeployed: 0,
                failed: false,
            });
        }
        let only = BTreeMap::from([(cluster.to_owned(), BTreeSet::from([service.to_owned()]))]);
        // Boxed: a run inside the maintenance of a batch would nest the futures too deep.
        Box::pin(self.run(&wanted, self.config.dry_run, None, Some(&only), &mut batch))
            .await
            .map_err(|e| MaintainError::CatchUp(e.to_string()))?;
        if batch.failed.is_empty() {
            Ok(serde_json::to_value(&batch).unwrap_or_default())
        } else {
            Err(MaintainError::CatchUp(format!(
                "{service}: {}",
                batch
                    .failed
                    .iter()
                    .map(|f| f.error.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )))
        }
    }

    /// The clusters an index built by this redeployer covers (`CLUSTERS`, or `*`).
    pub(crate) fn scope(&self) -> String {
        self.config
            .clusters
            .as_ref()
            .map_or_else(|| "*".to_owned(), |c| c.join(","))
    }

    /// After a maintenance record could not be applied: the index is not used until the next
    /// reconciliation. Returns whether that could be recorded.
    pub async fn distrust_index(&self) -> bool {
        match &self.index {
            Some(index) => index
                .distrust()
                .await
                .inspect_err(|e| tracing::error!(error = %e, "cannot mark the index stale"))
                .is_ok(),
            None => true,
        }
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
