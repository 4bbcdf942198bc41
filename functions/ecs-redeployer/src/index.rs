//! The reference index: which task-definition revisions reference which secret or parameter,
//! and which services run which revisions — so a change costs a lookup and a few
//! `DescribeServices`, not a scan of the fleet.
//!
//! Why: a scan costs ECS read calls in proportion to the fleet (every cluster, every service,
//! every revision in use), from a read budget the whole account shares with its deploy
//! pipelines. ECS has no watch API, but CloudTrail records every call that changes what the
//! index holds, and EventBridge delivers those records (through the redeployer's queue). The
//! index is a cache of ECS, never the authority: a change's candidates from the index are
//! confirmed with `DescribeServices` before any decision, so a stale entry costs one describe,
//! never a wrong deployment; what a missed event hides is found by the scheduled
//! reconciliation (a full scan that rewrites the index and reports the drift), and an index
//! not reconciled within `INDEX_MAX_AGE_HOURS` is not used at all — changes scan the fleet,
//! and the summary says so.
//!
//! Items (one DynamoDB table, partition key `pk`, sort key `sk`, each item stamped with `t`,
//! the time in milliseconds of the knowledge it holds):
//!
//! | pk | sk | data |
//! |---|---|---|
//! | `ref#<key>` ([`reference_keys`]) | revision ARN | the revision's references and images |
//! | `rev#<revision ARN>` | `rev` | the same, for a revision whatever it references |
//! | `use#<revision ARN>` | service ARN | the service's cluster ARN |
//! | `svc#<service ARN>` | `svc` | the cluster and the revisions it runs, or deleted |
//! | `chg#<key>` | change time | a change looked up here (kept a day, see `maintain`) |
//! | `meta` | `reconcile` | the last reconciliation's counts and clusters |
//!
//! Every write is conditional on the stored item being no newer (`t`), so events applied
//! twice, concurrently or out of order converge: a late `UpdateService` never overwrites a
//! newer one, and a deleted service stays deleted. Two events of one service in the same
//! second (CloudTrail's resolution) keep the union of their revisions — more candidates,
//! never fewer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ecs_secrets_shared::reference::{Location, SecretReference, SecretTarget, TaskContext};
use ecs_secrets_shared::task_definition::TaskDefinition;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::Change;
use crate::verdict::{context_of, Reference, Revision};

#[cfg(test)]
pub(crate) mod memory;
#[cfg(test)]
mod tests;

/// One item of the index table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// Milliseconds since the epoch: when what the item says was true.
    pub t: i64,
    pub data: String,
}

/// The index table could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    #[error("DynamoDB {operation} failed: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("index item {pk} / {sk} is unreadable: {cause}")]
    Corrupt {
        pk: String,
        sk: String,
        cause: String,
    },
}

type Fut<'a, T> = BoxFuture<'a, Result<T, IndexError>>;

/// The operations the index needs of its table (DynamoDB; an in-memory table in the tests).
pub trait IndexStore: Send + Sync + Debug {
    fn get<'a>(&'a self, pk: &'a str, sk: &'a str) -> Fut<'a, Option<Item>>;
    /// Every item of a partition.
    fn query<'a>(&'a self, pk: &'a str) -> Fut<'a, Vec<Item>>;
    /// Every item of the table.
    fn scan(&self) -> Fut<'_, Vec<Item>>;
    /// Writes `item` unless the stored one is newer; false when it was.
    fn put_unless_newer(&self, item: Item) -> Fut<'_, bool>;
    /// Writes `item` only if the stored item's `t` is `expected` (`None`: no item) — the
    /// compare-and-set of a read-modify-write; false when someone wrote in between.
    fn put_if(&self, item: Item, expected: Option<i64>) -> Fut<'_, bool>;
    /// Deletes the item unless it is newer than `t`; false when it was.
    fn delete_unless_newer<'a>(&'a self, pk: &'a str, sk: &'a str, t: i64) -> Fut<'a, bool>;
}

/// The index keys under which a reference is found: the secret's or parameter's place and
/// name, without selectors, so that a full ARN, a partial ARN, a name and a JSON-key or
/// stage form of one secret share a key. A key over-approximates (two secrets whose names
/// differ only by a suffix share one); [`crate::verdict`] decides on the real references.
pub fn reference_keys(reference: &SecretReference, task: &TaskContext) -> Vec<String> {
    let place = |p: &str, r: &str, a: &str| format!("{p}:{r}:{a}");
    let here = place(&task.partition, &task.region, &task.account);
    match reference {
        SecretReference::SecretsManager(r) => match &r.secret {
            SecretTarget::Arn(arn) => {
                let at = place(&arn.partition, &arn.region, &arn.account);
                let mut keys = vec![format!("sm:{at}:{}", arn.name)];
                // A partial ARN whose name ends like a suffix also names the secret called
                // all of it (see `SecretArn::refers_to`).
                if let Some(suffix) = &arn.suffix {
                    keys.push(format!("sm:{at}:{}-{suffix}", arn.name));
                }
                keys
            }
            SecretTarget::Name(name) => vec![format!("sm:{here}:{name}")],
        },
        SecretReference::Parameter(p) => {
            let at = p
                .arn
                .as_ref()
                .map_or(here, |a| place(&a.partition, &a.region, &a.account));
            match p
                .name
                .strip_prefix(ecs_secrets_shared::arn::SECRETS_MANAGER_VIA_SSM)
            {
                Some(secret) => vec![format!("sm:{at}:{secret}")],
                None => vec![format!("ssm:{at}:{}", p.name)],
            }
        }
    }
}

/// A stable 64-bit hash (FNV-1a) for item keys.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The keys a change is looked up under: every key a reference that reads it has.
pub fn change_keys(change: &Change) -> Vec<String> {
    match change {
        Change::Secret { secret, .. } => {
            let at = format!("{}:{}:{}", secret.partition, secret.region, secret.account);
            let mut keys = vec![format!("sm:{at}:{}", secret.name)];
            if let Some(suffix) = &secret.suffix {
                keys.push(format!("sm:{at}:{}-{suffix}", secret.name));
            }
            keys
        }
        Change::Parameter { parameter } => vec![format!(
            "ssm:{}:{}:{}:{}",
            parameter.partition, parameter.region, parameter.account, parameter.name
        )],
    }
}

/// A revision as the index keeps it: its references (raw, parsed again when read) and images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    refs: Vec<(String, String, String)>,
    images: Vec<(String, String)>,
}

fn location_name(l: Location) -> &'static str {
    match l {
        Location::ContainerSecret => "secrets",
        Location::LogSecretOption => "log",
        Location::RepositoryCredentials => "repository",
    }
}

fn location_of(name: &str) -> Option<Location> {
    Some(match name {
        "secrets" => Location::ContainerSecret,
        "log" => Location::LogSecretOption,
        "repository" => Location::RepositoryCredentials,
        _ => return None,
    })
}

/// The revision's item data.
pub fn encode_revision(revision: &Revision) -> String {
    let stored = Stored {
        refs: revision
            .references
            .iter()
            .map(|r| {
                (
                    r.container.clone(),
                    location_name(r.location).to_owned(),
                    r.raw.clone(),
                )
            })
            .collect(),
        images: revision.images.clone(),
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

/// A revision from its item data.
fn decode_revision(item: &Item) -> Result<Revision, IndexError> {
    let corrupt = |cause: String| IndexError::Corrupt {
        pk: item.pk.clone(),
        sk: item.sk.clone(),
        cause,
    };
    let stored: Stored = serde_json::from_str(&item.data).map_err(|e| corrupt(e.to_string()))?;
    let mut references = Vec::with_capacity(stored.refs.len());
    for (container, location, raw) in stored.refs {
        let location =
            location_of(&location).ok_or_else(|| corrupt(format!("location `{location}`")))?;
        references.push(Reference {
            container,
            location,
            parsed: SecretReference::parse(&raw, location).ok(),
            raw,
        });
    }
    Ok(Revision {
        references,
        images: stored.images,
    })
}

/// What the index says of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ServiceEntry {
    cluster: String,
    revisions: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

/// One change to what the index holds, from a CloudTrail record of an ECS call.
#[derive(Debug, Clone, PartialEq)]
pub enum Maintenance {
    /// `RegisterTaskDefinition`: the revision, and what it holds when the record has it.
    Registered {
        revision: String,
        model: Option<Box<TaskDefinition>>,
        time: DateTime<Utc>,
    },
    /// `DeregisterTaskDefinition`: an INACTIVE revision still runs wherever it ran; nothing
    /// changes in the index.
    Deregistered { revision: String },
    /// `DeleteTaskDefinitions`.
    Deleted {
        revisions: Vec<String>,
        time: DateTime<Utc>,
    },
    /// `CreateService`/`UpdateService`: the revisions of its deployments.
    Service {
        arn: String,
        cluster: String,
        revisions: Vec<String>,
        time: DateTime<Utc>,
    },
    /// `CreateService`/`UpdateService` whose record has no service (CloudTrail leaves out
    /// large responses): the service is described.
    ServiceToDescribe {
        cluster: String,
        service: String,
        time: DateTime<Utc>,
    },
    /// `DeleteService`.
    ServiceDeleted {
        arn: String,
        cluster: String,
        time: DateTime<Utc>,
    },
}

/// The ECS calls whose CloudTrail records maintain the index.
pub const MAINTAINED_BY: [&str; 6] = [
    "RegisterTaskDefinition",
    "DeregisterTaskDefinition",
    "DeleteTaskDefinitions",
    "CreateService",
    "UpdateService",
    "DeleteService",
];

/// Whether an event is a CloudTrail record of an ECS call (`AWS API Call via CloudTrail`,
/// source `aws.ecs`): the index's maintenance, not a change.
pub fn is_ecs_api_call(event: &Value) -> bool {
    event["detail-type"] == "AWS API Call via CloudTrail" && event["source"] == "aws.ecs"
}

/// Reads a CloudTrail record of an ECS call: `Ok(None)` for a call that changes nothing the
/// index holds (a failed call, another operation); an error names the field.
pub fn maintenance(event: &Value) -> Result<Option<Maintenance>, String> {
    let detail = &event["detail"];
    let name = detail["eventName"]
        .as_str()
        .ok_or("detail.eventName: expected the name of an ECS call")?;
    if !MAINTAINED_BY.contains(&name) || !detail["errorCode"].is_null() {
        return Ok(None);
    }
    let time = detail["eventTime"]
        .as_str()
        .or_else(|| event["time"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or("detail.eventTime: expected an RFC 3339 time")?;
    // A record from the future would outrank every real one, for ever: refused.
    if time > Utc::now() + chrono::Duration::minutes(5) {
        return Err("detail.eventTime: later than now".into());
    }
    let response = &detail["responseElements"];
    let request = &detail["requestParameters"];
    // An update that names no task definition (a forced deployment — ours too —, a new
    // desired count) changes no revision: nothing for the index.
    if name == "UpdateService" && request.is_object() && request["taskDefinition"].is_null() {
        return Ok(None);
    }
    let text = |v: &Value, field: &str| -> Result<String, String> {
        v.as_str()
            .filter(|s| !s.is_empty() && s.len() <= 2048)
            .map(str::to_owned)
            .ok_or_else(|| format!("{field}: expected a non-empty string"))
    };
    Ok(Some(match name {
        "RegisterTaskDefinition" => {
            let td = &response["taskDefinition"];
            let revision = text(
                &td["taskDefinitionArn"],
                "detail.responseElements.taskDefinition.taskDefinitionArn",
            )?;
            // A model that does not read is described instead (the call answers the same).
            let model = TaskDefinition::from_json(td).ok().map(Box::new);
            Maintenance::Registered {
                revision,
                model,
                time,
            }
        }
        "DeregisterTaskDefinition" => Maintenance::Deregistered {
            revision: text(
                &response["taskDefinition"]["taskDefinitionArn"],
                "detail.responseElements.taskDefinition.taskDefinitionArn",
            )?,
        },
        "DeleteTaskDefinitions" => {
            let listed = response["taskDefinitions"]
                .as_array()
                .map(|tds| {
                    tds.iter()
                        .filter_map(|td| td["taskDefinitionArn"].as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            Maintenance::Deleted {
                revisions: listed,
                time,
            }
        }
        "CreateService" | "UpdateService" | "DeleteService" => {
            let service = &response["service"];
            if service.is_object() {
                let arn = text(
                    &service["serviceArn"],
                    "detail.responseElements.service.serviceArn",
                )?;
                let cluster = text(
                    &service["clusterArn"],
                    "detail.responseElements.service.clusterArn",
                )?;
                if name == "DeleteService" {
                    Maintenance::ServiceDeleted { arn, cluster, time }
                } else {
                    let mut revisions: Vec<String> = service["deployments"]
                        .as_array()
                        .map(|ds| {
                            ds.iter()
                                .filter_map(|d| d["taskDefinition"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(td) = service["taskDefinition"].as_str() {
                        revisions.push(td.to_owned());
                    }
                    Maintenance::Service {
                        arn,
                        cluster,
                        revisions,
                        time,
                    }
                }
            } else {
                let cluster = request["cluster"].as_str().unwrap_or("default").to_owned();
                let service = text(
                    if name == "CreateService" {
                        &request["serviceName"]
                    } else {
                        &request["service"]
                    },
                    "detail.requestParameters.service",
                )?;
                Maintenance::ServiceToDescribe {
                    cluster,
                    service,
                    time,
                }
            }
        }
        _ => return Ok(None),
    }))
}

/// The candidates of a set of changes: the services the index says run a revision that may
/// read one of them, by cluster, and those revisions.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Cluster ARN → service ARNs.
    pub services: BTreeMap<String, BTreeSet<String>>,
    pub revisions: HashMap<String, Arc<Revision>>,
}

/// What [`Index::set_service`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub applied: bool,
    /// Revisions the index did not know the service to run.
    pub added: Vec<String>,
}

/// What a reconciliation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub added: u64,
    pub removed: u64,
    pub services: u64,
    pub revisions: u64,
    /// The clusters the reconciliation covered (`CLUSTERS`, or `*`): an index built for
    /// other clusters is not used.
    pub scope: String,
}

/// How long before a reconciliation's scan the index's entries are left as they are: ECS's
/// list and describe calls are eventually consistent, so a call made just before the scan
/// may not show in it yet.
pub const RECONCILE_MARGIN_MS: i64 = 5 * 60 * 1000;

const META: (&str, &str) = ("meta", "reconcile");
/// How long the changes looked up in the index are remembered: longer than CloudTrail takes
/// to deliver a record (typically minutes).
pub const CHANGES_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

/// Conditional writes a reconciliation keeps in flight (and lookups a change keeps in flight).
const WRITES_IN_FLIGHT: usize = 16;
/// Attempts of a read-modify-write before giving up (each loses only to a concurrent writer).
const ATTEMPTS: usize = 8;

/// The index over a store.
#[derive(Debug, Clone)]
pub struct Index {
    pub store: Arc<dyn IndexStore>,
    /// How long after a reconciliation the index is trusted.
    pub max_age: chrono::Duration,
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl Index {
    pub fn new(store: Arc<dyn IndexStore>, max_age_hours: u32) -> Self {
        Self {
            store,
            max_age: chrono::Duration::hours(i64::from(max_age_hours)),
        }
    }

    /// `None` when the index may be used at `now` for the clusters `scope` names; otherwise
    /// why not.
    pub async fn unusable(
        &self,
        now: DateTime<Utc>,
        scope: &str,
    ) -> Result<Option<String>, IndexError> {
        let Some(meta) = self.store.get(META.0, META.1).await? else {
            return Ok(Some(
                "the index has not been reconciled yet (invoke {\"action\": \"reconcile\"})"
                    .to_owned(),
            ));
        };
        let meta_data = serde_json::from_str::<Value>(&meta.data).unwrap_or_default();
        if meta_data["distrusted"] == true {
            return Ok(Some(
                "a maintenance record could not be applied since the last reconciliation"
                    .to_owned(),
            ));
        }
        let built_for = meta_data["scope"].as_str().map(str::to_owned);
        if built_for.as_deref() != Some(scope) {
            return Ok(Some(format!(
                "the index was reconciled for other clusters ({}), not `{scope}`",
                built_for.as_deref().unwrap_or("unknown")
            )));
        }
        let at = DateTime::<Utc>::from_timestamp_millis(meta.t).unwrap_or_default();
        if now - at > self.max_age {
            return Ok(Some(format!(
                "the index was last reconciled at {}, more than {} hours ago",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                self.max_age.num_hours()
            )));
        }
        Ok(None)
    }

    /// Remembers that a change was looked up in the index (`data` says which), under each of
    /// its keys, for [`CHANGES_KEPT_MS`].
    pub async fn record_change(
        &self,
        change: &Change,
        t: i64,
        data: &str,
    ) -> Result<(), IndexError> {
        for key in change_keys(change) {
            self.store
                .put_unless_newer(Item {
                    pk: format!("chg#{key}"),
                    // The time and what changed: two changes in one second are both kept.
                    sk: format!("{t:013}#{:016x}", fnv(data)),
                    t,
                    data: data.to_owned(),
                })
                .await?;
        }
        Ok(())
    }

    /// The changes looked up in the index at or after `since` that a revision's references
    /// may read (their `data`, once each).
    pub async fn changes_since(
        &self,
        revision: &str,
        since: i64,
    ) -> Result<BTreeSet<String>, IndexError> {
        let Some(item) = self.store.get(&format!("rev#{revision}"), "rev").await? else {
            return Ok(BTreeSet::new());
        };
        let read = decode_revision(&item)?;
        let mut out = BTreeSet::new();
        for key in revision_keys(revision, &read) {
            for change in self.store.query(&format!("chg#{key}")).await? {
                if change.t >= since {
                    out.insert(change.data);
                }
            }
        }
        Ok(out)
    }

    /// Stops the index being used until the next reconciliation (changes scan the fleet):
    /// what a maintenance record that could not be applied leaves behind.
    pub async fn distrust(&self) -> Result<(), IndexError> {
        // A marker stamped now rather than a deletion: a reconciliation that started earlier
        // cannot write over it when it ends (its stamp is older).
        self.store
            .put_unless_newer(Item {
                pk: META.0.into(),
                sk: META.1.into(),
                t: millis(Utc::now()),
                data: "{\"distrusted\":true}".into(),
            })
            .await
            .map(|_| ())
    }

    /// When the index was last reconciled.
    pub async fn reconciled_at(&self) -> Result<Option<DateTime<Utc>>, IndexError> {
        Ok(self
            .store
            .get(META.0, META.1)
            .await?
            .and_then(|m| DateTime::<Utc>::from_timestamp_millis(m.t)))
    }

    /// Whether the index knows the revision.
    pub async fn has_revision(&self, revision: &str) -> Result<bool, IndexError> {
        Ok(self
            .store
            .get(&format!("rev#{revision}"), "rev")
            .await?
            .is_some())
    }

    /// Records a revision and its references. Revisions are immutable: writing one twice
    /// writes the same items.
    pub async fn add_revision(
        &self,
        arn: &str,
        revision: &Revision,
        t: i64,
    ) -> Result<(), IndexError> {
        let data = encode_revision(revision);
        for key in revision_keys(arn, revision) {
            self.store
                .put_unless_newer(Item {
                    pk: format!("ref#{key}"),
                    sk: arn.to_owned(),
                    t,
                    data: data.clone(),
                })
                .await?;
        }
        // Last: a revision is known only once all its keys are written (a crash in between
        // leaves it unknown, so the next service event writes them again).
        self.store
            .put_unless_newer(Item {
                pk: format!("rev#{arn}"),
                sk: "rev".to_owned(),
                t,
                data,
            })
            .await?;
        Ok(())
    }

    /// Forgets a deleted revision — unless a service still runs it (ECS deletes a revision
    /// only once nothing uses it; until then the index keeps it).
    pub async fn remove_revision(&self, arn: &str, t: i64) -> Result<bool, IndexError> {
        if !self.store.query(&format!("use#{arn}")).await?.is_empty() {
            return Ok(false);
        }
        let Some(item) = self.store.get(&format!("rev#{arn}"), "rev").await? else {
            return Ok(true);
        };
        let revision = decode_revision(&item)?;
        // The revision's marker first: a crash after it leaves keys that a later use of the
        // revision writes again, never a marker without its keys.
        self.store
            .delete_unless_newer(&format!("rev#{arn}"), "rev", t)
            .await?;
        for key in revision_keys(arn, &revision) {
            self.store
                .delete_unless_newer(&format!("ref#{key}"), arn, t)
                .await?;
        }
        Ok(true)
    }

    /// Sets what a service runs (or that it is deleted) as of `t`, unless the index knows a
    /// later state; keeps the revision → service entries in step. Returns whether it applied,
    /// and the revisions the service was not known to run before.
    pub async fn set_service(
        &self,
        arn: &str,
        cluster: &str,
        revisions: &[String],
        deleted: bool,
        t: i64,
    ) -> Result<Applied, IndexError> {
        let pk = format!("svc#{arn}");
        for _ in 0..ATTEMPTS {
            let stored = self.store.get(&pk, "svc").await?;
            let old: ServiceEntry = match &stored {
                Some(item) => {
                    serde_json::from_str(&item.data).map_err(|e| IndexError::Corrupt {
                        pk: pk.clone(),
                        sk: "svc".into(),
                        cause: e.to_string(),
                    })?
                }
                None => ServiceEntry::default(),
            };
            let stored_t = stored.as_ref().map(|i| i.t);
            if stored_t.is_some_and(|s| s > t) {
                return Ok(Applied::default());
            }
            let mut new = ServiceEntry {
                cluster: cluster.to_owned(),
                revisions: if deleted {
                    BTreeSet::new()
                } else {
                    revisions.iter().cloned().collect()
                },
                deleted,
            };
            // The same second twice: either may be the later call, so keep both.
            if stored_t == Some(t) {
                new.revisions.extend(old.revisions.iter().cloned());
                new.deleted = new.deleted && old.deleted;
                if !new.deleted {
                    new.revisions.extend(revisions.iter().cloned());
                }
            }
            // The revisions' entries first (idempotent): a crash or a lost race after them
            // leaves more candidates, never fewer. Then the service, always — even unchanged,
            // so its time moves on and a late record of an older call is refused.
            for revision in &new.revisions {
                self.store
                    .put_unless_newer(Item {
                        pk: format!("use#{revision}"),
                        sk: arn.to_owned(),
                        t,
                        data: cluster.to_owned(),
                    })
                    .await?;
            }
            let item = Item {
                pk: pk.clone(),
                sk: "svc".to_owned(),
                t,
                data: serde_json::to_string(&new).unwrap_or_default(),
            };
            if !self.store.put_if(item, stored_t).await? {
                continue;
            }
            for gone in old.revisions.difference(&new.revisions) {
                self.store
                    .delete_unless_newer(&format!("use#{gone}"), arn, t)
                    .await?;
            }
            return Ok(Applied {
                applied: true,
                added: new.revisions.difference(&old.revisions).cloned().collect(),
            });
        }
        Err(IndexError::Api {
            operation: "PutItem",
            message: format!("{arn}: still contended after {ATTEMPTS} attempts"),
        })
    }

    /// The candidates of `changes` (the lookups run [`WRITES_IN_FLIGHT`] at a time: one per
    /// key, then one per revision found).
    pub async fn candidates(&self, changes: &[&Change]) -> Result<Candidates, IndexError> {
        let mut out = Candidates::default();
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for change in changes {
            keys.extend(change_keys(change));
        }
        let found: Vec<Vec<Item>> = stream::iter(keys)
            .map(|key| async move { self.store.query(&format!("ref#{key}")).await })
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        for item in found.into_iter().flatten() {
            if out.revisions.contains_key(&item.sk) {
                continue;
            }
            let revision = decode_revision(&item)?;
            out.revisions.insert(item.sk.clone(), Arc::new(revision));
        }
        let users: Vec<Vec<Item>> = stream::iter(out.revisions.keys())
            .map(|revision| async move { self.store.query(&format!("use#{revision}")).await })
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        for item in users.into_iter().flatten() {
            out.services.entry(item.data).or_default().insert(item.sk);
        }
        Ok(out)
    }

    /// Makes the index say exactly `services` (service ARN → cluster and revisions) and
    /// `revisions`, as known at `t` (when the scan started): adds what is missing, removes
    /// what is not so — except what events wrote after `t` — and stamps the reconciliation.
    pub async fn reconcile(
        &self,
        services: &BTreeMap<String, (String, BTreeSet<String>)>,
        revisions: &HashMap<String, Arc<Revision>>,
        unreadable: &BTreeSet<String>,
        t: i64,
        scope: &str,
    ) -> Result<Drift, IndexError> {
        let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
        for (arn, (cluster, runs)) in services {
            let entry = ServiceEntry {
                cluster: cluster.clone(),
                revisions: runs.clone(),
                deleted: false,
            };
            want.insert(
                (format!("svc#{arn}"), "svc".into()),
                serde_json::to_string(&entry).unwrap_or_default(),
            );
            for revision in runs {
                want.insert((format!("use#{revision}"), arn.clone()), cluster.clone());
            }
        }
        for (arn, revision) in revisions {
            let data = encode_revision(revision);
            for key in revision_keys(arn, revision) {
                want.insert((format!("ref#{key}"), arn.clone()), data.clone());
            }
            want.insert((format!("rev#{arn}"), "rev".into()), data);
        }
        let have: BTreeMap<(String, String), Item> = self
            .store
            .scan()
            .await?
            .into_iter()
            .map(|i| ((i.pk.clone(), i.sk.clone()), i))
            .collect();
        let mut drift = Drift {
            services: services.len() as u64,
            revisions: revisions.len() as u64,
            scope: scope.to_owned(),
            ..Drift::default()
        };
        // What was written shortly before the scan may be newer than what the scan saw.
        let settled = t - RECONCILE_MARGIN_MS;
        let adds: Vec<Item> = want
            .iter()
            .filter(|((pk, sk), data)| {
                !have
                    .get(&(pk.clone(), sk.clone()))
                    .is_some_and(|i| &i.data == *data || i.t > settled)
            })
            .map(|((pk, sk), data)| Item {
                pk: pk.clone(),
                sk: sk.clone(),
                t,
                data: data.clone(),
            })
            .collect();
        let removes: Vec<(&String, &String)> = have
            .iter()
            .filter(|((pk, sk), item)| {
                let keep = (pk.as_str(), sk.as_str()) == META
                    || want.contains_key(&(pk.clone(), sk.clone()))
                    // What events wrote after (or just before) the scan started is newer.
                    || item.t > settled
                    // Recent changes are kept for the records that arrive after them.
                    || (pk.starts_with("chg#") && item.t > t - CHANGES_KEPT_MS)
                    // A revision that could not be read keeps what the index knew of it.
                    || (pk.starts_with("ref#") && unreadable.contains(sk))
                    || pk
                        .strip_prefix("rev#")
                        .is_some_and(|arn| unreadable.contains(arn));
                !keep
            })
            .map(|((pk, sk), _)| (pk, sk))
            .collect();
        // Writes in parallel (each is conditional on its own item): a fleet's worth of items
        // would otherwise take minutes of round trips.
        let added: Vec<bool> = stream::iter(adds)
            .map(|item| self.store.put_unless_newer(item))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        drift.added = added.iter().filter(|a| **a).count() as u64;
        let removed: Vec<bool> = stream::iter(removes)
            .map(|(pk, sk)| self.store.delete_unless_newer(pk, sk, t))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        drift.removed = removed.iter().filter(|r| **r).count() as u64;
        self.store
            .put_unless_newer(Item {
                pk: META.0.into(),
                sk: META.1.into(),
                t,
                data: serde_json::to_string(&drift).unwrap_or_default(),
            })
            .await?;
        Ok(drift)
    }
}

/// Every index key of a revision's references (in the account and region of the revision).
fn revision_keys(arn: &str, revision: &Revision) -> BTreeSet<String> {
    let Some(task) = context_of(arn) else {
        return BTreeSet::new();
    };
    revision
        .references
        .iter()
        .filter_map(|r| r.parsed.as_ref())
        .flat_map(|p| reference_keys(p, &task))
        .collect()
}

/// The DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

mod dynamo {
    use super::*;
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_dynamodb::types::AttributeValue as A;

    fn api<E: ProvideErrorMetadata + std::error::Error + 'static, R: Debug>(
        operation: &'static str,
        e: SdkError<E, R>,
    ) -> IndexError {
        let e = ecs_secrets_shared::aws::CallError::from_sdk(operation, &e);
        IndexError::Api {
            operation,
            message: e.message,
        }
    }

    fn conditional<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
        e.code() == Some("ConditionalCheckFailedException")
    }

    fn item_of(map: &HashMap<String, A>) -> Result<Item, IndexError> {
        let s = |k: &str| map.get(k).and_then(|v| v.as_s().ok()).cloned();
        let pk = s("pk").unwrap_or_default();
        let sk = s("sk").unwrap_or_default();
        let t = map
            .get("t")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok());
        match t {
            Some(t) => Ok(Item {
                data: s("data").unwrap_or_default(),
                pk,
                sk,
                t,
            }),
            None => Err(IndexError::Corrupt {
                pk,
                sk,
                cause: "no numeric `t`".into(),
            }),
        }
    }

    /// The items of a Query or Scan, every page (the SDK's paginator follows
    /// `LastEvaluatedKey`).
    fn items(found: &[HashMap<String, A>]) -> Result<Vec<Item>, IndexError> {
        found.iter().map(item_of).collect()
    }

    fn attributes(item: Item) -> HashMap<String, A> {
        HashMap::from([
            ("pk".to_owned(), A::S(item.pk)),
            ("sk".to_owned(), A::S(item.sk)),
            ("t".to_owned(), A::N(item.t.to_string())),
            ("data".to_owned(), A::S(item.data)),
        ])
    }

    impl IndexStore for DynamoStore {
        fn get<'a>(&'a self, pk: &'a str, sk: &'a str) -> Fut<'a, Option<Item>> {
            Box::pin(async move {
                let out = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", A::S(pk.to_owned()))
                    .key("sk", A::S(sk.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| api("GetItem", e))?;
                out.item.as_ref().map(item_of).transpose()
            })
        }

        fn query<'a>(&'a self, pk: &'a str) -> Fut<'a, Vec<Item>> {
            Box::pin(async move {
                let pages = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", A::S(pk.to_owned()))
                    .consistent_read(true)
                    .into_paginator()
                    .items()
                    .send();
                items(&pages.try_collect().await.map_err(|e| api("Query", e))?)
            })
        }

        fn scan(&self) -> Fut<'_, Vec<Item>> {
            Box::pin(async move {
                let pages = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .into_paginator()
                    .items()
                    .send();
                items(&pages.try_collect().await.map_err(|e| api("Scan", e))?)
            })
        }

        fn put_unless_newer(&self, item: Item) -> Fut<'_, bool> {
            Box::pin(async move {
                let t = item.t;
                let out = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(attributes(item)))
                    .condition_expression("attribute_not_exists(pk) OR t <= :t")
                    .expression_attribute_values(":t", A::N(t.to_string()))
                    .send()
                    .await;
                match out {
                    Ok(_) => Ok(true),
                    Err(e) if conditional(&e) => Ok(false),
                    Err(e) => Err(api("PutItem", e)),
                }
            })
        }

        fn put_if(&self, item: Item, expected: Option<i64>) -> Fut<'_, bool> {
            Box::pin(async move {
                let mut put = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(attributes(item)));
                put = match expected {
                    None => put.condition_expression("attribute_not_exists(pk)"),
                    Some(t) => put
                        .condition_expression("t = :expected")
                        .expression_attribute_values(":expected", A::N(t.to_string())),
                };
                match put.send().await {
                    Ok(_) => Ok(true),
                    Err(e) if conditional(&e) => Ok(false),
                    Err(e) => Err(api("PutItem", e)),
                }
            })
        }

        fn delete_unless_newer<'a>(&'a self, pk: &'a str, sk: &'a str, t: i64) -> Fut<'a, bool> {
            Box::pin(async move {
                let out = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", A::S(pk.to_owned()))
                    .key("sk", A::S(sk.to_owned()))
                    .condition_expression("attribute_not_exists(pk) OR t <= :t")
                    .expression_attribute_values(":t", A::N(t.to_string()))
                    .send()
                    .await;
                match out {
                    Ok(_) => Ok(true),
                    Err(e) if conditional(&e) => Ok(false),
                    Err(e) => Err(api("DeleteItem", e)),
                }
            })
        }
    }
}
