//! The index against the in-memory ECS and table: keys of every reference form, maintenance
//! applied in any order and twice, the candidates against a full scan, reconciliation, and
//! what a stale or missing index does.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ecs_secrets_shared::arn::{ParameterArn, SecretArn};
use ecs_secrets_shared::reference::{Location, SecretReference, TaskContext};
use proptest::prelude::*;
use serde_json::json;

use super::memory::MemoryStore;
use super::*;
use crate::config::Config;
use crate::ecs::EcsApi;
use crate::memory::MemoryEcs;
use crate::redeploy::Redeployer;
use crate::verdict::{Reference, Service};

const ACCOUNT: &str = "123456789012";

fn cluster_arn(cluster: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{cluster}")
}

fn td(family: &str, revision: usize) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{family}:{revision}")
}

fn service_arn(cluster: &str, name: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:service/{cluster}/{name}")
}

fn service(cluster: &str, name: &str, revisions: &[String]) -> Service {
    Service {
        cluster_arn: cluster_arn(cluster),
        cluster_name: cluster.into(),
        name: name.into(),
        arn: service_arn(cluster, name),
        status: "ACTIVE".into(),
        primary_created_at: Some("2026-11-20T09:00:00Z".parse().unwrap()),
        task_definitions: revisions.to_vec(),
        ..Service::default()
    }
}

fn reference(raw: &str, location: Location) -> Reference {
    Reference {
        container: "app".into(),
        location,
        raw: raw.into(),
        parsed: SecretReference::parse(raw, location).ok(),
    }
}

fn secret(i: usize) -> SecretArn {
    SecretArn::parse(&format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/s{i}-AbC12{i}"
    ))
    .unwrap()
}

/// The ways a task definition can name secret `i` (or parameter `i`).
fn forms(i: usize) -> Vec<(String, Location)> {
    let full = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/s{i}-AbC12{i}");
    let partial = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/s{i}");
    vec![
        (full.clone(), Location::ContainerSecret),
        (partial.clone(), Location::ContainerSecret),
        (format!("{full}:password::"), Location::ContainerSecret),
        (
            format!("{partial}:user:AWSPREVIOUS:"),
            Location::LogSecretOption,
        ),
        (format!("app/s{i}"), Location::RepositoryCredentials),
        (
            format!("/aws/reference/secretsmanager/app/s{i}"),
            Location::ContainerSecret,
        ),
        (format!("/app/p{i}"), Location::ContainerSecret),
        (
            format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/p{i}"),
            Location::ContainerSecret,
        ),
    ]
}

fn rotated(i: usize) -> Change {
    Change::Secret {
        secret: secret(i),
        labels: vec!["AWSCURRENT".into()],
    }
}

fn parameter(i: usize) -> Change {
    Change::Parameter {
        parameter: ParameterArn::parse(&format!(
            "arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/p{i}"
        ))
        .unwrap(),
    }
}

fn context() -> TaskContext {
    TaskContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: ACCOUNT.into(),
    }
}

#[test]
fn every_form_that_reads_a_change_shares_one_of_its_keys() {
    let task = context();
    for i in 0..3 {
        for change in [rotated(i), parameter(i)] {
            let keys: BTreeSet<String> = change_keys(&change).into_iter().collect();
            for j in 0..3 {
                for (raw, location) in forms(j) {
                    let parsed = SecretReference::parse(&raw, location).unwrap();
                    let reads = match &change {
                        Change::Secret { secret, .. } => parsed.matches_secret(secret, &task),
                        Change::Parameter { parameter } => {
                            parsed.matches_parameter(parameter, &task)
                        }
                    }
                    .is_some();
                    let shares = reference_keys(&parsed, &task)
                        .iter()
                        .any(|k| keys.contains(k));
                    assert_eq!(reads, shares, "{raw} for {change:?}");
                }
            }
        }
    }
    // Redshift's `redshift!<cluster>-<admin>` partial ARN reads as full: it still finds the
    // secret named all of it.
    let task = context();
    let odd = SecretReference::parse(
        &format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:redshift!c1-admin1"),
        Location::ContainerSecret,
    )
    .unwrap();
    let full = SecretArn::parse(&format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:redshift!c1-admin1-XyZ123"
    ))
    .unwrap();
    assert!(odd.matches_secret(&full, &task).is_some());
    let change = Change::Secret {
        secret: full,
        labels: vec!["AWSCURRENT".into()],
    };
    let keys = change_keys(&change);
    assert!(reference_keys(&odd, &task).iter().any(|k| keys.contains(k)));
}

fn index() -> (Arc<MemoryStore>, Index) {
    let store = Arc::new(MemoryStore::default());
    (store.clone(), Index::new(store, 48))
}

fn at(seconds: i64) -> DateTime<Utc> {
    "2026-12-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(seconds)
}

/// One service's history: the revisions it ran (each a CloudTrail record a second apart),
/// then maybe its deletion.
#[derive(Debug, Clone)]
struct History {
    cluster: String,
    name: String,
    states: Vec<Vec<String>>,
    deleted: bool,
}

impl History {
    fn records(&self, start: i64) -> Vec<Maintenance> {
        let arn = service_arn(&self.cluster, &self.name);
        let mut out: Vec<Maintenance> = self
            .states
            .iter()
            .enumerate()
            .map(|(k, revisions)| Maintenance::Service {
                arn: arn.clone(),
                cluster: cluster_arn(&self.cluster),
                revisions: revisions.clone(),
                time: at(start + k as i64),
            })
            .collect();
        if self.deleted {
            out.push(Maintenance::ServiceDeleted {
                arn,
                cluster: cluster_arn(&self.cluster),
                time: at(start + self.states.len() as i64),
            });
        }
        out
    }
}

/// Revisions `family-k:1`, each reading secrets and parameters in random forms.
fn fleet_strategy() -> impl Strategy<Value = (Vec<Vec<(usize, usize)>>, Vec<History>)> {
    let revisions = prop::collection::vec(prop::collection::vec((0..4usize, 0..8usize), 0..3), 6);
    let histories = prop::collection::vec(
        (
            0..3usize,
            prop::collection::vec(prop::collection::vec(0..6usize, 1..3), 1..4),
            prop::bool::weighted(0.2),
        ),
        1..24,
    );
    (revisions, histories).prop_map(|(revisions, histories)| {
        let histories = histories
            .into_iter()
            .enumerate()
            .map(|(n, (cluster, states, deleted))| History {
                cluster: format!("c{cluster}"),
                name: format!("s{n}"),
                states: states
                    .into_iter()
                    .map(|s| s.into_iter().map(|r| td(&format!("f{r}"), 1)).collect())
                    .collect(),
                deleted,
            })
            .collect();
        (revisions, histories)
    })
}

fn ecs_for(revisions: &[Vec<(usize, usize)>], histories: &[History]) -> MemoryEcs {
    let mut ecs = MemoryEcs::default();
    for (r, refs) in revisions.iter().enumerate() {
        let refs = refs
            .iter()
            .map(|(secret, form)| {
                let (raw, location) = forms(*secret)[*form].clone();
                reference(&raw, location)
            })
            .collect();
        ecs.task_definitions.insert(td(&format!("f{r}"), 1), refs);
    }
    for h in histories.iter().filter(|h| !h.deleted) {
        let last = h.states.last().cloned().unwrap_or_default();
        ecs.add(service(&h.cluster, &h.name, &last));
    }
    ecs
}

fn redeployer(ecs: MemoryEcs, index: Index) -> Redeployer<MemoryEcs> {
    let config = Config {
        max_reads_per_second: 20.0,
        ..Config::default()
    };
    Redeployer::new(ecs, config).with_index(index)
}

fn deployed(summary: &crate::redeploy::Summary) -> BTreeSet<String> {
    summary
        .redeployed
        .iter()
        .map(|r| format!("{}/{}", r.cluster, r.service))
        .collect()
}

/// Makes the index say `service` runs `family:1` (whatever ECS says): a stale entry.
async fn plant(r: &Redeployer<MemoryEcs>, idx: &Index, cluster: &str, service: &str, family: &str) {
    let revision = td(family, 1);
    let read = r.ecs.task_definition(&revision).await.unwrap();
    idx.add_revision(&revision, &read, 0).await.unwrap();
    idx.set_service(
        &service_arn(cluster, service),
        &cluster_arn(cluster),
        &[revision],
        false,
        0,
    )
    .await
    .unwrap();
}

fn stamp_fresh() -> Item {
    Item {
        pk: "meta".into(),
        sk: "reconcile".into(),
        t: Utc::now().timestamp_millis(),
        data: "{\"scope\":\"*\"}".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Maintenance records in any order, each delivered twice (the second copies
    /// concurrently), leave an index whose plan equals a full scan's for every change; a
    /// reconciliation then changes nothing the plans see.
    #[test]
    fn maintenance_in_any_order_finds_what_a_scan_finds(
        (revisions, histories) in fleet_strategy(),
        seed in any::<u64>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let (store, idx) = index();
            let mut records: Vec<Maintenance> = histories
                .iter()
                .enumerate()
                .flat_map(|(n, h)| h.records(n as i64 * 10))
                .collect();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..records.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                records.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let with_index = redeployer(ecs_for(&revisions, &histories), idx.clone());
            for r in &records {
                with_index.maintain(r.clone()).await.unwrap();
            }
            let again = records.iter().map(|r| with_index.maintain(r.clone()));
            for done in futures_util::future::join_all(again).await {
                done.unwrap();
            }
            store.put_if(stamp_fresh(), None).await.unwrap();
            let scan = Redeployer::new(ecs_for(&revisions, &histories), Config::default());
            for change in (0..4).flat_map(|i| [rotated(i), parameter(i)]) {
                let by_index = with_index.plan(&change, None).await.unwrap();
                prop_assert_eq!(by_index.discovery.as_deref(), Some("index"));
                let by_scan = scan.plan(&change, None).await.unwrap();
                prop_assert_eq!(deployed(&by_index), deployed(&by_scan), "{:?}", change);
                // The plans describe only the candidates: never more ListServices than none.
                prop_assert_eq!(by_index.api_calls.get("ListServices"), None);
            }
            let before = store.snapshot();
            let drift = with_index.reconcile().await.unwrap();
            let after = store.snapshot();
            let keys = |m: &std::collections::BTreeMap<(String, String), Item>| -> BTreeSet<(String, String)> {
                m.keys().filter(|(pk, _)| pk.starts_with("use#") || pk.starts_with("ref#")).cloned().collect()
            };
            // Entries of live services and their revisions were right; the reconciliation may
            // only drop tombstones and revisions nothing runs.
            prop_assert!(keys(&after).is_subset(&keys(&before)), "{:?}", drift);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn reconcile_rebuilds_a_damaged_index_to_what_a_scan_says() {
    let revisions = vec![vec![(0, 0)], vec![(1, 6)], vec![]];
    let histories = vec![
        History {
            cluster: "c0".into(),
            name: "a".into(),
            states: vec![vec![td("f0", 1)]],
            deleted: false,
        },
        History {
            cluster: "c1".into(),
            name: "b".into(),
            states: vec![vec![td("f1", 1), td("f2", 1)]],
            deleted: false,
        },
    ];
    let (clean_store, clean) = index();
    redeployer(ecs_for(&revisions, &histories), clean)
        .reconcile()
        .await
        .unwrap();
    let (store, idx) = index();
    // Junk: a service that is gone, a revision nothing runs, a missing entry.
    for (pk, sk) in [
        (
            format!("svc#{}", service_arn("c9", "gone")),
            "svc".to_owned(),
        ),
        (format!("use#{}", td("f0", 1)), service_arn("c9", "gone")),
        (
            format!("ref#sm:aws:us-east-1:{ACCOUNT}:app/s0"),
            td("f7", 1),
        ),
    ] {
        store
            .put_unless_newer(Item {
                pk,
                sk,
                t: 1,
                data: "{\"cluster\":\"x\",\"revisions\":[]}".into(),
            })
            .await
            .unwrap();
    }
    let r = redeployer(ecs_for(&revisions, &histories), idx);
    let drift = r.reconcile().await.unwrap();
    assert_eq!(drift.removed, 3, "{drift:?}");
    let strip = |m: std::collections::BTreeMap<(String, String), Item>| {
        m.into_iter()
            .filter(|((pk, _), _)| pk != "meta")
            .map(|(k, i)| (k, i.data))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(store.snapshot()), strip(clean_store.snapshot()));
    // A second reconciliation finds nothing to do.
    let drift = r.reconcile().await.unwrap();
    assert_eq!((drift.added, drift.removed), (0, 0));
}

#[tokio::test]
async fn a_stale_index_costs_a_describe_never_a_wrong_deployment() {
    let revisions = vec![vec![(0, 0)], vec![]];
    let histories = vec![History {
        cluster: "c0".into(),
        name: "moved".into(),
        // The index will only learn the first state: the service now runs f1 (no secret).
        states: vec![vec![td("f0", 1)], vec![td("f1", 1)]],
        deleted: false,
    }];
    let (store, idx) = index();
    let r = redeployer(ecs_for(&revisions, &histories), idx.clone());
    plant(&r, &idx, "c0", "moved", "f0").await;
    store.put_if(stamp_fresh(), None).await.unwrap();
    let summary = r.plan(&rotated(0), None).await.unwrap();
    assert_eq!(summary.discovery.as_deref(), Some("index"));
    assert!(summary.redeployed.is_empty(), "{summary:?}");
    assert_eq!(summary.api_calls.get("DescribeServices"), Some(&1));
    assert_eq!(
        summary.api_calls.get("DescribeTaskDefinition"),
        Some(&1),
        "the revision the service really runs is read"
    );
}

#[tokio::test]
async fn an_index_never_reconciled_or_too_old_is_not_used() {
    let revisions = vec![vec![(0, 0)]];
    let histories = vec![History {
        cluster: "c0".into(),
        name: "a".into(),
        states: vec![vec![td("f0", 1)]],
        deleted: false,
    }];
    let (store, idx) = index();
    let r = redeployer(ecs_for(&revisions, &histories), idx);
    let summary = r.plan(&rotated(0), None).await.unwrap();
    let why = summary.discovery.clone().unwrap();
    assert!(
        why.starts_with("full scan: the index has not been reconciled"),
        "{why}"
    );
    assert_eq!(
        deployed(&summary).len(),
        1,
        "the scan still finds the service"
    );
    let old = Item {
        t: (Utc::now() - Duration::hours(49)).timestamp_millis(),
        ..stamp_fresh()
    };
    store.put_if(old, None).await.unwrap();
    let why = r.plan(&rotated(0), None).await.unwrap().discovery.unwrap();
    assert!(why.contains("more than 48 hours ago"), "{why}");
}

// Paused time: the reconciliation's scan draws on the read buckets.
#[tokio::test(start_paused = true)]
async fn a_change_costs_a_describe_per_ten_candidates_whatever_the_fleet() {
    let mut revisions = vec![vec![(0, 0)]];
    revisions.extend((1..50).map(|_| vec![(1, 1)]));
    let mut histories = Vec::new();
    for n in 0..2000 {
        // 20 services read secret 0 (family f0); the rest other revisions.
        let family = if n % 100 == 0 { 0 } else { 1 + n % 49 };
        histories.push(History {
            cluster: format!("c{}", n % 20),
            name: format!("s{n}"),
            states: vec![vec![td(&format!("f{family}"), 1)]],
            deleted: false,
        });
    }
    let (store, idx) = index();
    let r = redeployer(ecs_for(&revisions, &histories), idx);
    r.reconcile().await.unwrap();
    assert!(store
        .snapshot()
        .contains_key(&("meta".into(), "reconcile".into())));
    let summary = r.plan(&rotated(0), None).await.unwrap();
    assert_eq!(summary.discovery.as_deref(), Some("index"));
    assert_eq!(summary.redeployed.len(), 20);
    // 20 candidates (all in one cluster): two DescribeServices of ten, nothing else — no
    // ListClusters, ListServices or DescribeTaskDefinition.
    let calls: Vec<(&str, u64)> = summary.api_calls.iter().map(|(op, n)| (*op, *n)).collect();
    assert_eq!(calls, vec![("DescribeServices", 2)]);
}

#[tokio::test]
async fn a_deleted_service_stays_deleted_and_a_revision_in_use_is_kept() {
    let revisions = vec![vec![(0, 0)]];
    let histories = vec![History {
        cluster: "c0".into(),
        name: "a".into(),
        states: vec![vec![td("f0", 1)]],
        deleted: true,
    }];
    let (store, idx) = index();
    let mut ecs = ecs_for(&revisions, &histories);
    ecs.add(service("c0", "b", &[td("f0", 1)]));
    let r = redeployer(ecs, idx);
    let records = histories[0].records(0);
    // The deletion first, the creation late: the service stays deleted.
    r.maintain(records[1].clone()).await.unwrap();
    r.maintain(records[0].clone()).await.unwrap();
    assert!(store
        .query(&format!("use#{}", td("f0", 1)))
        .await
        .unwrap()
        .is_empty());
    // Another service runs the revision: DeleteTaskDefinitions keeps it while it is in use.
    r.maintain(Maintenance::Service {
        arn: service_arn("c0", "b"),
        cluster: cluster_arn("c0"),
        revisions: vec![td("f0", 1)],
        time: at(5),
    })
    .await
    .unwrap();
    let done = r
        .maintain(Maintenance::Deleted {
            revisions: vec![td("f0", 1)],
            time: at(6),
        })
        .await
        .unwrap();
    assert_eq!(done["kept_in_use"], json!([td("f0", 1)]));
    assert!(idx_has(&store, &format!("rev#{}", td("f0", 1))));
}

fn idx_has(store: &MemoryStore, pk: &str) -> bool {
    store.snapshot().keys().any(|(p, _)| p == pk)
}

fn cloudtrail(name: &str, response: serde_json::Value) -> serde_json::Value {
    json!({
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecs",
        "time": "2026-12-01T10:00:05Z",
        "detail": {
            "eventSource": "ecs.amazonaws.com",
            "eventName": name,
            "eventTime": "2026-12-01T10:00:04Z",
            "requestParameters": {"cluster": "prod", "service": "web", "taskDefinition": "web:3"},
            "responseElements": response,
        }
    })
}

#[test]
fn cloudtrail_records_read_as_maintenance() {
    let svc = json!({"service": {
        "serviceArn": service_arn("prod", "web"),
        "clusterArn": cluster_arn("prod"),
        "taskDefinition": td("web", 3),
        "deployments": [
            {"status": "PRIMARY", "taskDefinition": td("web", 3)},
            {"status": "ACTIVE", "taskDefinition": td("web", 2)},
        ],
    }});
    let event = cloudtrail("UpdateService", svc);
    assert!(is_ecs_api_call(&event));
    let Some(Maintenance::Service {
        revisions, time, ..
    }) = maintenance(&event).unwrap()
    else {
        panic!("not a service update");
    };
    assert_eq!(revisions, vec![td("web", 3), td("web", 2), td("web", 3)]);
    assert_eq!(
        time,
        "2026-12-01T10:00:04Z".parse::<DateTime<Utc>>().unwrap()
    );
    // CloudTrail left the response out: the service is described.
    let m = maintenance(&cloudtrail("UpdateService", serde_json::Value::Null)).unwrap();
    assert!(
        matches!(m, Some(Maintenance::ServiceToDescribe { ref service, .. }) if service == "web")
    );
    // An update naming no task definition (a forced deployment, a new count) changes nothing.
    let mut scaled = cloudtrail("UpdateService", serde_json::Value::Null);
    scaled["detail"]["requestParameters"] =
        json!({"cluster": "prod", "service": "web", "desiredCount": 4});
    assert_eq!(maintenance(&scaled).unwrap(), None);
    // A failed call changes nothing.
    let mut failed = cloudtrail("UpdateService", serde_json::Value::Null);
    failed["detail"]["errorCode"] = json!("AccessDenied");
    assert_eq!(maintenance(&failed).unwrap(), None);
    // Registration carries the task definition.
    let reg = cloudtrail(
        "RegisterTaskDefinition",
        json!({"taskDefinition": {
            "taskDefinitionArn": td("web", 4),
            "containerDefinitions": [{"name": "app", "image": "app:1",
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/s0"}]}],
        }}),
    );
    let Some(Maintenance::Registered {
        model: Some(model), ..
    }) = maintenance(&reg).unwrap()
    else {
        panic!("not a registration");
    };
    assert_eq!(Revision::of(&model).references.len(), 1);
    // Malformed records name the field.
    let mut bad = cloudtrail("DeleteService", json!({"service": {"serviceArn": 7}}));
    let e = maintenance(&bad).unwrap_err();
    assert!(e.contains("responseElements.service.serviceArn"), "{e}");
    bad["detail"]["eventTime"] = json!("yesterday");
    bad["time"] = json!(null);
    let e = maintenance(&bad).unwrap_err();
    assert!(e.contains("eventTime"), "{e}");
    let e = maintenance(&json!({"detail": {}})).unwrap_err();
    assert!(e.contains("eventName"), "{e}");
}

/// A record is a hint: what the revision reads is ECS's answer, not the record's (which
/// anyone able to invoke the function could write).
#[tokio::test]
async fn a_registration_is_indexed_from_what_ecs_says() {
    let (_, idx) = index();
    let mut ecs = MemoryEcs::default();
    let (raw, location) = forms(1)[0].clone();
    ecs.task_definitions
        .insert(td("web", 4), vec![reference(&raw, location)]);
    let r = redeployer(ecs, idx.clone());
    let reg = cloudtrail(
        "RegisterTaskDefinition",
        json!({"taskDefinition": {
            "taskDefinitionArn": td("web", 4),
            "containerDefinitions": [{"name": "app", "image": "app:1",
                "secrets": [{"name": "DB", "valueFrom": format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/s0")}]}],
        }}),
    );
    r.maintain(maintenance(&reg).unwrap().unwrap())
        .await
        .unwrap();
    assert!(idx.has_revision(&td("web", 4)).await.unwrap());
    let claimed = idx.candidates(&[&rotated(0)]).await.unwrap();
    assert!(
        claimed.revisions.is_empty(),
        "the record's claim is not taken"
    );
    let real = idx.candidates(&[&rotated(1)]).await.unwrap();
    assert!(real.revisions.contains_key(&td("web", 4)));
    assert_eq!(r.ecs.api_calls().get("DescribeTaskDefinition"), Some(&1));
}

#[test]
fn stored_revisions_read_back_the_same() {
    let revision = Revision {
        references: forms(1)
            .into_iter()
            .map(|(raw, l)| reference(&raw, l))
            .collect(),
        images: vec![("app".into(), "app:1".into())],
    };
    let item = Item {
        pk: "rev#x".into(),
        sk: "rev".into(),
        t: 0,
        data: encode_revision(&revision),
    };
    assert_eq!(decode_revision(&item).unwrap(), revision);
    let junk = Item {
        data: "{\"refs\":[[\"a\",\"nowhere\",\"x\"]],\"images\":[]}".into(),
        ..item
    };
    let e = decode_revision(&junk).unwrap_err().to_string();
    assert!(e.contains("rev#x") && e.contains("nowhere"), "{e}");
}

#[tokio::test]
async fn a_retried_or_repeated_record_restores_entries_and_moves_time_on() {
    let (store, idx) = index();
    let arn = service_arn("c0", "a");
    let (r1, r2) = (td("f1", 1), td("f2", 1));
    let both = [r1.clone(), r2.clone()];
    assert!(
        idx.set_service(&arn, &cluster_arn("c0"), &both, false, 0)
            .await
            .unwrap()
            .applied
    );
    // A crash after the service was written lost an entry; the record's retry restores it.
    store
        .delete_unless_newer(&format!("use#{r2}"), &arn, i64::MAX)
        .await
        .unwrap();
    idx.set_service(&arn, &cluster_arn("c0"), &both, false, 0)
        .await
        .unwrap();
    assert!(idx_has(&store, &format!("use#{r2}")));
    // The same revisions at a later time move the service's time on: a late record of an
    // earlier call is then refused.
    idx.set_service(&arn, &cluster_arn("c0"), &both, false, 30)
        .await
        .unwrap();
    let late = idx
        .set_service(
            &arn,
            &cluster_arn("c0"),
            std::slice::from_ref(&r2),
            false,
            20,
        )
        .await
        .unwrap();
    assert!(!late.applied);
    assert!(idx_has(&store, &format!("use#{r1}")), "r1 still runs");
}

#[tokio::test]
async fn an_index_for_other_clusters_or_set_aside_is_not_used() {
    let (store, idx) = index();
    store.put_if(stamp_fresh(), None).await.unwrap();
    assert_eq!(idx.unusable(Utc::now(), "*").await.unwrap(), None);
    let why = idx
        .unusable(Utc::now(), "prod,prod2")
        .await
        .unwrap()
        .unwrap();
    assert!(why.contains("other clusters"), "{why}");
    idx.distrust().await.unwrap();
    let why = idx.unusable(Utc::now(), "*").await.unwrap().unwrap();
    assert!(why.contains("could not be applied"), "{why}");
    // A reconciliation that started before cannot stamp over it when it ends.
    let earlier = Item {
        t: (Utc::now() - Duration::minutes(2)).timestamp_millis(),
        ..stamp_fresh()
    };
    assert!(!store.put_unless_newer(earlier).await.unwrap());
    assert!(idx.unusable(Utc::now(), "*").await.unwrap().is_some());
}

#[test]
fn a_record_from_the_future_is_refused() {
    let mut event = cloudtrail(
        "DeleteService",
        json!({"service": {
        "serviceArn": service_arn("prod", "web"), "clusterArn": cluster_arn("prod")}}),
    );
    event["detail"]["eventTime"] = json!("2999-01-01T00:00:00Z");
    let e = maintenance(&event).unwrap_err();
    assert!(e.contains("eventTime"), "{e}");
}

/// CloudTrail delivers a service's record after a change it matters to: the change, handled
/// through the index, missed the service; the record then judges it for the change (once).
#[tokio::test]
async fn a_record_that_arrives_after_the_change_catches_the_service_up() {
    let revisions = vec![vec![], vec![(0, 0)]];
    let histories = vec![History {
        cluster: "c0".into(),
        name: "late".into(),
        states: vec![vec![td("f0", 1)], vec![td("f1", 1)]],
        deleted: false,
    }];
    let (store, idx) = index();
    let config = Config {
        max_reads_per_second: 20.0,
        ..Config::default()
    };
    let r = Redeployer::new(ecs_for(&revisions, &histories), config).with_index(idx.clone());
    let now = Utc::now();
    // The index knows the service's first state only; then the change comes.
    plant(&r, &idx, "c0", "late", "f0").await;
    store.put_if(stamp_fresh(), None).await.unwrap();
    let change =
        crate::change::label_moved(&secret(0), "AWSCURRENT", Some(now - Duration::seconds(10)));
    let crate::change::Decision::Redeploy { change, time } = change else {
        panic!("a change");
    };
    let mut batch = r.empty_batch(false);
    batch.changes.push(crate::redeploy::ChangeOutcome {
        trigger: json!({}),
        reason: None,
        redeployed: 0,
        failed: false,
    });
    r.run(&[(0, change, time)], false, None, None, &mut batch)
        .await
        .unwrap();
    assert_eq!(batch.discovery.as_deref(), Some("index"));
    assert!(batch.redeployed.is_empty(), "the index did not know yet");
    // The record of the update (made before the change) arrives now.
    let late = Maintenance::Service {
        arn: service_arn("c0", "late"),
        cluster: cluster_arn("c0"),
        revisions: vec![td("f1", 1)],
        time: now - Duration::seconds(30),
    };
    let done = r.maintain(late.clone()).await.unwrap();
    assert_eq!(r.ecs.updated(), vec!["late".to_owned()], "{done}");
    // Delivered again: the service was redeployed after the change, nothing more.
    r.maintain(late).await.unwrap();
    assert_eq!(r.ecs.updated().len(), 1);
}
