//! One invocation: decide, discover, evaluate, deploy, summarise.
//!
//! Discovery makes the minimum of calls: one ListClusters page per 100 clusters, one
//! ListServices page per 100 services, one DescribeServices per 10 services, and one
//! DescribeTaskDefinition per distinct task definition revision *not seen before by this
//! process* — revisions are immutable, so their references are cached for the life of a warm
//! Lambda; they are read while services are still being described (the two draw on different
//! ECS buckets, so a scan takes about the longer of the two). With a reference index
//! ([`crate::index`]) a change describes only its candidates instead.
//! Describe calls run at most `MAX_CONCURRENCY` at a time and draw on client-side
//! buckets under ECS's (`pace`); UpdateService calls are paced at `MAX_UPDATES_PER_SECOND`,
//! well under ECS's shared UpdateService bucket, and the SDK's retry absorbs the throttling
//! other callers cause. One failing service never stops the others.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_secrets_shared::events::ChangeEvent;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;

use crate::change::{self, Change, Decision};
use crate::config::Config;
use crate::ecs::{ApiError, Described, EcsApi};
use crate::pace::ReadPace;
use crate::verdict::{judge, Reference, Revision, Service, Verdict};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redeployed {
    pub cluster: String,
    pub service: String,
    /// The new deployment's id; `None` in a dry run.
    pub deployment_id: Option<String>,
    /// What the deployment also changes: containers whose image is a tag, which a forced
    /// deployment resolves again (so a rotation is never an unannounced release).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub cluster: String,
    pub service: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failed {
    pub cluster: String,
    pub service: String,
    pub error: String,
}

/// The result of one invocation (returned and logged).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub trigger: Value,
    pub dry_run: bool,
    /// Why nothing was considered (events that must not redeploy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Clusters outside `CLUSTERS`, whose services were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters_not_scanned: Vec<String>,
    pub redeployed: Vec<Redeployed>,
    pub skipped: Vec<Skipped>,
    pub failed: Vec<Failed>,
    pub api_calls: BTreeMap<&'static str, u64>,
    /// With an index: `index`, or why the fleet was scanned instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<String>,
}

/// What one change of a batch did.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    pub trigger: Value,
    /// Why it redeploys nothing (events that must not redeploy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Services redeployed (or, in a dry run, to redeploy) for it — a service named by
    /// several changes is deployed once and counted for each.
    pub redeployed: usize,
    /// A service it should reach could not be updated or read: retry the change.
    pub failed: bool,
}

/// The result of a batch of changes (one SQS batch; one change for a direct invocation).
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub dry_run: bool,
    /// One entry per change, in delivery order.
    pub changes: Vec<ChangeOutcome>,
    /// Clusters outside `CLUSTERS`, whose services were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters_not_scanned: Vec<String>,
    pub redeployed: Vec<Redeployed>,
    pub skipped: Vec<Skipped>,
    pub failed: Vec<Failed>,
    pub api_calls: BTreeMap<&'static str, u64>,
    /// With an index: `index`, or why the fleet was scanned instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<String>,
}

/// The services in scope, the ones ECS could not describe, and the clusters not scanned.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// The clusters in scope (ARNs).
    pub(crate) clusters: Vec<String>,
    pub(crate) services: Vec<Service>,
    /// (cluster ARN, service, reason).
    pub(crate) failures: Vec<(String, String, String)>,
    pub(crate) not_scanned: Vec<String>,
    /// The revisions of `services`, read while they were described (a full scan); `None`
    /// when discovery did not read them ([`Redeployer::revisions_read`] reads them then).
    pub(crate) read: Option<Revisions>,
}

/// Revisions by task-definition ARN, and the ARNs that could not be read (with the error).
pub(crate) type Revisions = (HashMap<String, Arc<Revision>>, HashMap<String, String>);

/// How long before the invocation's deadline no new UpdateService is started.
/// More than one SDK attempt (10 s) of UpdateService, so a started update can finish.
const DEADLINE_MARGIN: Duration = Duration::from_secs(15);

/// Discovery failed before any decision could be made (the invocation fails and is retried).
#[derive(Debug, Clone, thiserror::Error)]
#[error("discovery failed: {0}")]
pub struct DiscoveryError(#[from] pub ApiError);

/// The redeployer, holding the process-wide task-definition cache.
#[derive(Debug)]
pub struct Redeployer<E> {
    pub ecs: E,
    pub config: Config,
    cache: Mutex<HashMap<String, Arc<Revision>>>,
    pub(crate) reads: ReadPace,
    /// One run at a time per redeployer: the adapter counts calls for the whole process, and a
    /// run's `api_calls` is the difference across it. (Lambda hands a process one invocation
    /// at a time anyway; this keeps the count right for any other caller.)
    pub(crate) running: tokio::sync::Mutex<()>,
    /// The reference index (`INDEX_TABLE`): candidates per change instead of a fleet scan.
    pub index: Option<crate::index::Index>,
}

impl<E: EcsApi> Redeployer<E> {
    pub fn new(ecs: E, config: Config) -> Self {
        Self {
            reads: ReadPace::new(config.max_reads_per_second),
            ecs,
            config,
            cache: Mutex::new(HashMap::new()),
            running: tokio::sync::Mutex::new(()),
            index: None,
        }
    }

    /// The same redeployer, finding candidates through `index`.
    pub fn with_index(mut self, index: crate::index::Index) -> Self {
        self.index = Some(index);
        self
    }

    pub async fn handle(&self, event: &ChangeEvent) -> Result<Summary, DiscoveryError> {
        let batch = self.handle_batch(std::slice::from_ref(event)).await?;
        Ok(summary_of(batch))
    }

    /// What a change would redeploy, and why each other referencing service would not: the
    /// same discovery and verdicts as a real change, with no UpdateService. `time` is when
    /// the change happened; without one, no service counts as already redeployed.
    pub async fn plan(
        &self,
        change: &Change,
        time: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Summary, DiscoveryError> {
        let mut batch = self.empty_batch(true);
        batch.changes.push(ChangeOutcome {
            trigger: change::describe_change(change, time),
            reason: None,
            redeployed: 0,
            failed: false,
        });
        let wanted = vec![(0, change.clone(), time)];
        self.run(&wanted, true, None, None, &mut batch).await?;
        Ok(summary_of(batch))
    }

    /// A plan's answer for a change the redeployer would ignore (AWSPENDING moving): the
    /// reason, and no call.
    pub fn plan_nothing(&self, change: &Change, reason: String) -> Summary {
        let mut batch = self.empty_batch(true);
        batch.changes.push(ChangeOutcome {
            trigger: change::describe_change(change, None),
            reason: Some(reason),
            redeployed: 0,
            failed: false,
        });
        summary_of(batch)
    }

    pub(crate) fn empty_batch(&self, dry_run: bool) -> Batch {
        Batch {
            dry_run,
            changes: Vec::new(),
            clusters_not_scanned: Vec::new(),
            redeployed: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
            api_calls: BTreeMap::new(),
            discovery: None,
        }
    }

    /// Several changes at once (one SQS batch): one discovery pass for all of them, and each
    /// service at most one deployment, whatever the number of changes naming its secrets.
    /// A change is `failed` when a service it should have reached could not be updated (or
    /// its task definition could not be read), so its record is retried.
    pub async fn handle_batch(&self, events: &[ChangeEvent]) -> Result<Batch, DiscoveryError> {
        self.handle_batch_until(events, None).await
    }

    /// [`Redeployer::handle_batch`] within a deadline (the Lambda invocation's): near it, no
    /// new UpdateService is started; the services left are reported failed ("not started")
    /// and their changes retried, instead of the whole invocation timing out.
    pub async fn handle_batch_until(
        &self,
        events: &[ChangeEvent],
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Batch, DiscoveryError> {
        let mut batch = self.empty_batch(self.config.dry_run);
        let mut wanted: Vec<(usize, Change, Option<chrono::DateTime<chrono::Utc>>)> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let mut outcome = ChangeOutcome {
                trigger: change::describe(event),
                reason: None,
                redeployed: 0,
                failed: false,
            };
            match change::decision(event) {
                Decision::Redeploy { change, time } => wanted.push((i, change, time)),
                Decision::Ignore { reason, warn } => {
                    if warn {
                        tracing::warn!(event_id = %event.id, reason, "nothing to redeploy");
                    }
                    outcome.reason = Some(reason);
                }
            }
            batch.changes.push(outcome);
        }
        if !wanted.is_empty() {
            self.run(&wanted, self.config.dry_run, deadline, None, &mut batch)
                .await?;
        }
        Ok(batch)
    }

    /// Discovery, verdicts and deployments for the changes `wanted` (index into
    /// `batch.changes`, change, time of the change).
    pub(crate) async fn run(
        &self,
        wanted: &[(usize, Change, Option<chrono::DateTime<chrono::Utc>>)],
        dry_run: bool,
        deadline: Option<tokio::time::Instant>,
        // These services only (cluster ARN → service ARNs), instead of discovering them.
        only: Option<&BTreeMap<String, std::collections::BTreeSet<String>>>,
        batch: &mut Batch,
    ) -> Result<(), DiscoveryError> {
        let _one_at_a_time = self.running.lock().await;
        let before = self.ecs.api_calls();
        let changes: Vec<&Change> = wanted.iter().map(|(_, c, _)| c).collect();
        let (
            Discovered {
                services,
                failures,
                not_scanned,
                read,
                ..
            },
            discovery,
        ) = match only {
            Some(services) => (self.describe_candidates(services).await?, None),
            None => self.discover_for(&changes).await?,
        };
        batch.clusters_not_scanned = not_scanned;
        if discovery.as_deref() == Some("index") && !dry_run {
            // What the index answered is remembered for a while: a service whose CloudTrail
            // record arrives after the change is then judged for it (`catch_up`).
            self.remember_changes(wanted).await;
        }
        batch.discovery = discovery;
        for (cluster, service, reason) in failures {
            let cluster_name = cluster.rsplit('/').next().unwrap_or(&cluster).to_owned();
            let name = service.rsplit('/').next().unwrap_or(&service).to_owned();
            if reason == "MISSING" {
                // Deleted between ListServices and DescribeServices: nothing to redeploy.
                batch.skipped.push(Skipped {
                    cluster: cluster_name,
                    service: name,
                    reason: "DescribeServices: MISSING (deleted since it was listed)".into(),
                });
            } else {
                batch.failed.push(Failed {
                    cluster: cluster_name,
                    service: name,
                    error: format!("DescribeServices failed for it: {reason}"),
                });
                for (i, _, _) in wanted {
                    batch.changes[*i].failed = true;
                }
            }
        }
        let (references, unreadable) = self.revisions_read(read, &services).await?;
        let deadline = deadline.map(|d| {
            // Discovery may have used most of the time: then nothing starts (see `deploy`).
            d.max(tokio::time::Instant::now())
        });

        let mut to_deploy: Vec<(&Service, Vec<usize>, Vec<String>)> = Vec::new();
        for service in &services {
            if let Some(error) = service
                .task_definitions
                .iter()
                .find_map(|td| unreadable.get(td))
            {
                // Whether it references a change is unknown: every change of the batch is
                // retried until the read succeeds (or the record reaches the DLQ).
                batch.failed.push(Failed {
                    cluster: service.cluster_name.clone(),
                    service: service.name.clone(),
                    error: format!("cannot read its task definition: {error}"),
                });
                for (i, _, _) in wanted {
                    batch.changes[*i].failed = true;
                }
                continue;
            }
            let refs: Vec<&Reference> = service
                .task_definitions
                .iter()
                .filter_map(|td| references.get(td))
                .flat_map(|r| r.references.iter())
                .collect();
            let mut deploy_for = Vec::new();
            let mut reasons: Vec<String> = Vec::new();
            for (i, change, time) in wanted {
                match judge(service, &refs, change, *time, &self.config) {
                    Verdict::NotReferenced => {}
                    Verdict::Skip(reason) => {
                        if !reasons.contains(&reason) {
                            reasons.push(reason)
                        }
                    }
                    Verdict::Redeploy => deploy_for.push(*i),
                }
            }
            if !deploy_for.is_empty() {
                let warnings = service
                    .task_definitions
                    .first()
                    .and_then(|td| references.get(td))
                    .map(|r| r.mutable_images())
                    .unwrap_or_default();
                to_deploy.push((service, deploy_for, warnings));
            } else if !reasons.is_empty() {
                batch.skipped.push(Skipped {
                    cluster: service.cluster_name.clone(),
                    service: service.name.clone(),
                    reason: reasons.join("; "),
                });
            }
        }
        self.deploy(&to_deploy, dry_run, batch, deadline).await;
        batch.api_calls = since(&before, &self.ecs.api_calls());
        for (_, change, _) in wanted {
            log_change(change);
        }
        Ok(())
    }

    /// Every service of the clusters in scope, described with tags. Clusters outside
    /// `CLUSTERS` are only named (their services are never listed or read) unless
    /// `scan_outside_clusters` asks for a report on them (the CLI's plan).
    pub(crate) async fn discover(&self) -> Result<Discovered, ApiError> {
        self.reads.services.take().await;
        let all: Vec<String> = self.ecs.list_clusters().await?;
        let (clusters, not_scanned): (Vec<String>, Vec<String>) =
            all.into_iter().partition(|arn| {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                self.config.scan_outside_clusters || self.config.includes_cluster(arn, name)
            });
        let concurrency = self.config.max_concurrency;
        let in_scope = clusters.clone();
        let per_cluster: Vec<(String, Vec<String>)> = stream::iter(clusters)
            .map(|cluster| async move {
                self.reads.services.take().await;
                let services = self.ecs.list_services(&cluster).await?;
                Ok::<_, ApiError>((cluster, services))
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let batches = per_cluster
            .iter()
            .flat_map(|(cluster, services)| services.chunks(10).map(move |chunk| (cluster, chunk)));
        // Task definitions are read while services are still being described: the two draw
        // on different ECS buckets, so the scan takes about the longer of the two, not their
        // sum. Each revision is read once (and not at all when cached).
        let mut describes = stream::iter(batches)
            .map(|(cluster, chunk)| async move {
                self.reads.services.take().await;
                let d = self.ecs.describe_services(cluster, chunk).await?;
                Ok::<_, ApiError>((cluster.clone(), d))
            })
            .buffer_unordered(concurrency);
        let mut reads = futures_util::stream::FuturesUnordered::new();
        let mut requested: HashSet<String> = HashSet::new();
        let mut described: Vec<(String, Described)> = Vec::new();
        let mut fetched: Vec<(String, Result<Revision, ApiError>)> = Vec::new();
        let mut describing = true;
        loop {
            tokio::select! {
                next = describes.next(), if describing => match next {
                    Some(d) => {
                        let (cluster, d) = d?;
                        let cached = self.cache.lock().map_err(|_| poisoned())?;
                        for td in d.services.iter().flat_map(|s| &s.task_definitions) {
                            if cached.contains_key(td) || !requested.insert(td.clone()) {
                                continue;
                            }
                            let td = td.clone();
                            reads.push(async move {
                                self.reads.task_definitions.take().await;
                                let read = self.ecs.task_definition(&td).await;
                                (td, read)
                            });
                        }
                        drop(cached);
                        described.push((cluster, d));
                    }
                    None => describing = false,
                },
                Some(read) = reads.next(), if !reads.is_empty() => fetched.push(read),
                else => break,
            }
        }
        let read = self.store_read(described.iter().flat_map(|(_, d)| &d.services), fetched)?;
        let mut out = Discovered {
            read: Some(read),
            clusters: in_scope,
            not_scanned: not_scanned
                .iter()
                .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_owned())
                .collect(),
            ..Discovered::default()
        };
        out.not_scanned.sort();
        for (cluster, d) in described {
            out.services.extend(d.services);
            out.failures.extend(
                d.failures
                    .into_iter()
                    .map(|(service, reason)| (cluster.clone(), service, reason)),
            );
        }
        out.services
            .sort_by(|a, b| (&a.cluster_name, &a.name).cmp(&(&b.cluster_name, &b.name)));
        Ok(out)
    }

    /// The revisions of every task definition the services run.
    pub(crate) async fn revisions_of(&self, services: &[Service]) -> Result<Revisions, ApiError> {
        self.revisions(services.iter().flat_map(|s| s.task_definitions.iter()))
            .await
    }

    /// Revisions by ARN, from the cache or one call per revision; the ones that could not be
    /// read, with why.
    pub(crate) async fn revisions<'a>(
        &self,
        task_definitions: impl Iterator<Item = &'a String>,
    ) -> Result<Revisions, ApiError> {
        let wanted: HashSet<&String> = task_definitions.collect();
        let (mut known, missing): (HashMap<String, Arc<Revision>>, Vec<&String>) = {
            let cache = self.cache.lock().map_err(|_| poisoned())?;
            let known = wanted
                .iter()
                .filter_map(|td| cache.get(*td).map(|r| ((*td).clone(), r.clone())))
                .collect();
            let missing = wanted
                .iter()
                .filter(|td| !cache.contains_key(**td))
                .copied()
                .collect();
            (known, missing)
        };
        // One unreadable revision fails only the services that use it.
        let fetched: Vec<(String, Result<Revision, ApiError>)> = stream::iter(missing)
            .map(|td| async move {
                self.reads.task_definitions.take().await;
                (td.clone(), self.ecs.task_definition(td).await)
            })
            .buffer_unordered(self.config.max_concurrency)
            .collect()
            .await;
        let mut unreadable = HashMap::new();
        let mut cache = self.cache.lock().map_err(|_| poisoned())?;
        for (td, refs) in fetched {
            match refs {
                Ok(refs) => {
                    let refs = Arc::new(refs);
                    cache.insert(td.clone(), refs.clone());
                    known.insert(td, refs);
                }
                Err(e) => {
                    tracing::error!(task_definition = %td, error = %e, "cannot read a task definition");
                    unreadable.insert(td, e.to_string());
                }
            }
        }
        Ok((known, unreadable))
    }

    /// Caches what a scan read, and returns the revisions of `services` (cached or read) and
    /// the ones that could not be read.
    fn store_read<'a>(
        &self,
        services: impl Iterator<Item = &'a Service>,
        fetched: Vec<(String, Result<Revision, ApiError>)>,
    ) -> Result<Revisions, ApiError> {
        let mut unreadable = HashMap::new();
        let mut cache = self.cache.lock().map_err(|_| poisoned())?;
        for (td, read) in fetched {
            match read {
                Ok(revision) => {
                    cache.insert(td, Arc::new(revision));
                }
                Err(e) => {
                    tracing::error!(task_definition = %td, error = %e, "cannot read a task definition");
                    unreadable.insert(td, e.to_string());
                }
            }
        }
        let known = services
            .flat_map(|s| &s.task_definitions)
            .filter_map(|td| cache.get(td).map(|r| (td.clone(), r.clone())))
            .collect();
        Ok((known, unreadable))
    }

    /// The revisions discovery read, or — when it did not read them (the index's path) —
    /// read now.
    pub(crate) async fn revisions_read(
        &self,
        read: Option<Revisions>,
        services: &[Service],
    ) -> Result<Revisions, ApiError> {
        match read {
            Some(read) => Ok(read),
            None => self.revisions_of(services).await,
        }
    }

    /// Forces new deployments, paced; in a dry run only lists them.
    async fn deploy(
        &self,
        services: &[(&Service, Vec<usize>, Vec<String>)],
        dry_run: bool,
        summary: &mut Batch,
        deadline: Option<tokio::time::Instant>,
    ) {
        let period = Duration::from_secs_f64(1.0 / self.config.max_updates_per_second);
        let mut next = tokio::time::Instant::now();
        for (service, changes, warnings) in services {
            if deadline.is_some_and(|d| next + DEADLINE_MARGIN >= d) {
                for i in changes {
                    summary.changes[*i].failed = true;
                }
                summary.failed.push(Failed {
                    cluster: service.cluster_name.clone(),
                    service: service.name.clone(),
                    error:
                        "not started: the invocation neared its deadline (the change is retried)"
                            .into(),
                });
                continue;
            }
            if dry_run {
                for i in changes {
                    summary.changes[*i].redeployed += 1;
                }
                summary.redeployed.push(Redeployed {
                    cluster: service.cluster_name.clone(),
                    service: service.name.clone(),
                    deployment_id: None,
                    warnings: warnings.clone(),
                });
                continue;
            }
            tokio::time::sleep_until(next).await;
            next = tokio::time::Instant::now() + period;
            let call = self
                .ecs
                .force_new_deployment(&service.cluster_arn, &service.name);
            // An update still unanswered just before the deadline counts as failed (its change
            // is retried; if ECS did apply it, the retry sees the newer deployment).
            let result = match deadline {
                Some(d) => {
                    let limit = d.checked_sub(Duration::from_secs(2)).unwrap_or(d);
                    tokio::time::timeout_at(limit, call)
                        .await
                        .unwrap_or_else(|_| {
                            Err(ApiError {
                                operation: "UpdateService",
                                code: None,
                                message: "no answer before the invocation's deadline".into(),
                            })
                        })
                }
                None => call.await,
            };
            match result {
                Ok(deployment_id) => {
                    tracing::info!(cluster = %service.cluster_name, service = %service.name, "forced a new deployment");
                    for i in changes {
                        summary.changes[*i].redeployed += 1;
                    }
                    summary.redeployed.push(Redeployed {
                        cluster: service.cluster_name.clone(),
                        service: service.name.clone(),
                        deployment_id,
                        warnings: warnings.clone(),
                    })
                }
                Err(e) => {
                    tracing::error!(cluster = %service.cluster_name, service = %service.name, error = %e, "redeploy failed");
                    for i in changes {
                        summary.changes[*i].failed = true;
                    }
                    summary.failed.push(Failed {
                        cluster: service.cluster_name.clone(),
                        service: service.name.clone(),
                        error: e.to_string(),
                    })
                }
            }
        }
    }

    /// Adds revisions read elsewhere (the index) to the cache: revisions are immutable.
    pub(crate) fn remember<'a>(
        &self,
        revisions: impl Iterator<Item = (&'a String, &'a Arc<Revision>)>,
    ) {
        if let Ok(mut cache) = self.cache.lock() {
            for (arn, revision) in revisions {
                cache.entry(arn.clone()).or_insert_with(|| revision.clone());
            }
        }
    }

    /// How many task-definition revisions this process has cached.
    pub fn cached_task_definitions(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or_default()
    }
}

/// The summary of a single change.
fn summary_of(batch: Batch) -> Summary {
    let Batch {
        dry_run,
        changes,
        clusters_not_scanned,
        redeployed,
        skipped,
        failed,
        api_calls,
        discovery,
    } = batch;
    let change = changes.into_iter().next();
    Summary {
        trigger: change
            .as_ref()
            .map(|c| c.trigger.clone())
            .unwrap_or_default(),
        dry_run,
        reason: change.and_then(|c| c.reason),
        clusters_not_scanned,
        redeployed,
        skipped,
        failed,
        api_calls,
        discovery,
    }
}

/// The calls made between two counts of the adapter.
pub(crate) fn since(
    before: &BTreeMap<&'static str, u64>,
    after: &BTreeMap<&'static str, u64>,
) -> BTreeMap<&'static str, u64> {
    after
        .iter()
        .map(|(op, n)| (*op, n - before.get(op).copied().unwrap_or(0).min(*n)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn poisoned() -> ApiError {
    ApiError {
        operation: "cache",
        code: None,
        message: "the task-definition cache lock was poisoned".into(),
    }
}

fn log_change(change: &Change) {
    match change {
        Change::Secret { secret, labels } => {
            tracing::debug!(secret = %secret, ?labels, "change handled")
        }
        Change::Parameter { parameter } => {
            tracing::debug!(parameter = %parameter, "change handled")
        }
    }
}

#[cfg(test)]
mod tests;
