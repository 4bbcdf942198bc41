//! Exactly one report per change, whatever the order and number of events: with the in-memory
//! ECS and an in-memory tracker (schedules in a map; DeleteSchedule succeeds once).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ecs_secrets_shared::reference::{Location, SecretReference};

use super::*;
use crate::config::Config;
use crate::ecs::RunningTask;
use crate::memory::MemoryEcs;
use crate::verdict::{Deployment, Reference, Service};

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";

#[derive(Default)]
struct MemoryTracker {
    schedules: Mutex<BTreeMap<String, (Check, String)>>,
    published: Mutex<Vec<(String, Value)>>,
    fail_publish: AtomicBool,
}

impl Tracker for MemoryTracker {
    async fn schedule(&self, check: &Check, target_arn: &str) -> Result<(), ApiError> {
        // As AwsTracker: the later change (or a retry's later deadline) wins.
        let mut schedules = self.schedules.lock().unwrap();
        let keep = schedules.get(&check.name).is_some_and(|(h, _)| {
            h.changed_at > check.changed_at
                || (h.changed_at == check.changed_at && h.deadline >= check.deadline)
        });
        if !keep {
            schedules.insert(check.name.clone(), (check.clone(), target_arn.to_owned()));
        }
        Ok(())
    }
    async fn tracked(&self) -> Result<Vec<Check>, ApiError> {
        Ok(self
            .schedules
            .lock()
            .unwrap()
            .values()
            .map(|(c, _)| c.clone())
            .collect())
    }
    async fn get(&self, name: &str) -> Result<Option<Check>, ApiError> {
        Ok(self
            .schedules
            .lock()
            .unwrap()
            .get(name)
            .map(|(c, _)| c.clone()))
    }
    async fn claim(&self, check: &Check) -> Result<bool, ApiError> {
        // Another invocation's status read may be in flight: let it interleave.
        tokio::task::yield_now().await;
        Ok(self.schedules.lock().unwrap().remove(&check.name).is_some())
    }
    async fn publish(&self, detail_type: &str, detail: &Value) -> Result<(), ApiError> {
        if self.fail_publish.load(Ordering::SeqCst) {
            return Err(ApiError {
                operation: "PutEvents",
                code: Some("InternalException".into()),
                message: "injected".into(),
            });
        }
        self.published
            .lock()
            .unwrap()
            .push((detail_type.to_owned(), detail.clone()));
        Ok(())
    }
}

/// A check whose deadline has passed.
fn due(mut check: Check) -> Check {
    check.deadline = Utc::now() - Duration::minutes(1);
    check
}

fn t(s: &str) -> DateTime<Utc> {
    format!("2026-11-20T{s}Z").parse().unwrap()
}

fn change() -> Change {
    Change::Secret {
        secret: SecretArn::parse(SECRET).unwrap(),
        labels: vec!["AWSCURRENT".into()],
    }
}

/// `web` reads the secret; its deployment since the change is `rollout`, its tasks started at
/// `started`.
fn fleet(rollout: &str, started: &[&str]) -> MemoryEcs {
    let mut ecs = MemoryEcs::default();
    ecs.task_definitions.insert(
        TD.into(),
        vec![Reference {
            container: "app".into(),
            location: Location::ContainerSecret,
            raw: SECRET.into(),
            parsed: SecretReference::parse(SECRET, Location::ContainerSecret).ok(),
        }],
    );
    ecs.add(Service {
        cluster_arn: CLUSTER.into(),
        cluster_name: "prod".into(),
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        status: "ACTIVE".into(),
        task_definitions: vec![TD.into()],
        deployments: vec![Deployment {
            id: "ecs-svc/2".into(),
            status: "PRIMARY".into(),
            task_definition: TD.into(),
            created_at: Some(t("10:05:00")),
            rollout_state: Some(rollout.into()),
            rollout_state_reason: None,
            running_count: 1,
        }],
        ..Service::default()
    });
    ecs.tasks = started
        .iter()
        .enumerate()
        .map(|(i, at)| RunningTask {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/t{i}"),
            cluster_arn: CLUSTER.into(),
            task_definition: TD.into(),
            group: "service:web".into(),
            started_by: Some("ecs-svc/2".into()),
            started_at: Some(t(at)),
            created_at: Some(t(at)),
        })
        .collect();
    ecs
}

const WEB: &str = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const ME: &str = "arn:aws:lambda:us-east-1:123456789012:function:redeployer";

#[test]
fn a_check_is_named_by_its_change_and_reads_back() {
    let a = Check::new(&change(), t("10:00:00"), Duration::minutes(30));
    let b = Check::new(&change(), t("10:00:00"), Duration::minutes(30));
    let later = Check::new(&change(), t("10:00:01"), Duration::minutes(30));
    assert_eq!(a.name, b.name, "one change, one schedule");
    assert_eq!(a.name, later.name, "the events of one rotation share it");
    let other = Change::Parameter {
        parameter: ParameterArn::parse("arn:aws:ssm:us-east-1:123456789012:parameter/app/db")
            .unwrap(),
    };
    assert_ne!(
        a.name,
        Check::new(&other, t("10:00:00"), Duration::minutes(30)).name
    );
    assert!(a.name.len() <= 64 && a.name.starts_with("ecs-secrets-"));
    // A deadline already past (a change processed late) is a minute from now.
    assert!(a.deadline > Utc::now());
    let now = Utc::now();
    assert_eq!(
        Check::new(&change(), now, Duration::minutes(30)).deadline,
        now + Duration::minutes(30)
    );
    assert_eq!(a.change().unwrap(), change());
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(serde_json::from_value::<Check>(json).unwrap(), a);
}

#[tokio::test]
async fn concurrent_and_repeated_completions_report_once() {
    let r = Redeployer::new(fleet("COMPLETED", &["10:06:00"]), Config::default());
    let tracker = MemoryTracker::default();
    let check = Check::new(&change(), t("10:00:00"), Duration::minutes(30));
    tracker.schedule(&check, ME).await.unwrap();
    let (a, b) = tokio::join!(
        on_deployments(&r, &tracker, &[WEB], ME),
        on_deployments(&r, &tracker, &[WEB], ME)
    );
    let outcomes: Vec<Outcome> = a
        .unwrap()
        .into_iter()
        .chain(b.unwrap())
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Reported(PROPAGATED))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(tracker.published.lock().unwrap().len(), 1);
    // A late duplicate, and the deadline: nothing more.
    assert!(on_deployments(&r, &tracker, &[WEB], ME)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        at_deadline(&r, &tracker, &check.name, ME).await.unwrap(),
        Outcome::AlreadyReported
    );
    let (kind, detail) = tracker.published.lock().unwrap()[0].clone();
    assert_eq!(kind, PROPAGATED);
    assert_eq!(detail["propagated"], true);
    assert_eq!(detail["propagationSeconds"], 360.0);
    assert_eq!(detail["consumers"][0]["state"], "fresh");
}

#[tokio::test]
async fn rolling_waits_failed_reports_at_once_stale_fails_at_the_deadline() {
    // Still rolling: nothing reported, the check stays.
    let r = Redeployer::new(
        fleet("IN_PROGRESS", &["09:00:00", "10:06:00"]),
        Config::default(),
    );
    let tracker = MemoryTracker::default();
    let check = Check::new(&change(), t("10:00:00"), Duration::minutes(30));
    tracker.schedule(&check, ME).await.unwrap();
    let out = on_deployments(&r, &tracker, &[WEB], ME).await.unwrap();
    assert_eq!(out[0].1, Outcome::Waiting);
    assert_eq!(tracker.schedules.lock().unwrap().len(), 1);
    // Another service's event: not a consumer.
    let other = "arn:aws:ecs:us-east-1:123456789012:service/prod/api";
    assert_eq!(
        on_deployments(&r, &tracker, &[other], ME).await.unwrap()[0].1,
        Outcome::NotAConsumer
    );

    // The deployment failed: reported at once, with the failing consumer.
    let r = Redeployer::new(fleet("FAILED", &["09:00:00"]), Config::default());
    let out = on_deployments(&r, &tracker, &[WEB], ME).await.unwrap();
    assert_eq!(out[0].1, Outcome::Reported(PROPAGATION_FAILED));
    let (_, detail) = tracker.published.lock().unwrap()[0].clone();
    assert_eq!(detail["failing"][0], "prod/web");
    assert_eq!(detail["consumers"][0]["state"], "failed");

    // At the deadline, old tasks and no deployment: failed.
    let r = Redeployer::new(fleet("COMPLETED", &["09:00:00"]), Config::default());
    let tracker = MemoryTracker::default();
    let check = due(check);
    tracker.schedule(&check, ME).await.unwrap();
    assert_eq!(
        at_deadline(&r, &tracker, &check.name, ME).await.unwrap(),
        Outcome::Reported(PROPAGATION_FAILED)
    );
}

#[tokio::test]
async fn a_failed_publish_schedules_the_report_again() {
    let r = Redeployer::new(fleet("COMPLETED", &["10:06:00"]), Config::default());
    let tracker = MemoryTracker::default();
    let check = due(Check::new(&change(), t("10:00:00"), Duration::minutes(30)));
    tracker.schedule(&check, ME).await.unwrap();
    tracker.fail_publish.store(true, Ordering::SeqCst);
    assert!(at_deadline(&r, &tracker, &check.name, ME).await.is_err());
    let again = tracker.schedules.lock().unwrap().get(&check.name).cloned();
    let (retry, target) = again.expect("scheduled again");
    assert!(retry.deadline > Utc::now(), "about a minute out");
    assert_eq!(target, ME);
    tracker.fail_publish.store(false, Ordering::SeqCst);
    let retry = due(retry);
    tracker.schedule(&retry, ME).await.unwrap();
    tracker
        .schedules
        .lock()
        .unwrap()
        .insert(retry.name.clone(), (retry.clone(), ME.to_owned()));
    assert_eq!(
        at_deadline(&r, &tracker, &retry.name, ME).await.unwrap(),
        Outcome::Reported(PROPAGATED)
    );
    assert_eq!(tracker.published.lock().unwrap().len(), 1);
}

/// An untracked name
/// and a name that is not tracked reports nothing.
#[tokio::test]
async fn a_forged_check_reports_nothing() {
    let r = Redeployer::new(fleet("COMPLETED", &["09:00:00"]), Config::default());
    let tracker = MemoryTracker::default();
    assert_eq!(
        at_deadline(&r, &tracker, "ecs-secrets-0000", ME)
            .await
            .unwrap(),
        Outcome::AlreadyReported
    );
    assert!(tracker.published.lock().unwrap().is_empty());
}

/// An event is only a reason to look: a (stale or forged) "deployment failed" for a service
/// whose roll-out is fine reports nothing; ECS's state decides.
#[tokio::test]
async fn only_ecs_state_decides() {
    let r = Redeployer::new(
        fleet("IN_PROGRESS", &["09:00:00", "10:06:00"]),
        Config::default(),
    );
    let tracker = MemoryTracker::default();
    let check = Check::new(&change(), t("10:00:00"), Duration::minutes(30));
    tracker.schedule(&check, ME).await.unwrap();
    let out = on_deployments(&r, &tracker, &[WEB], ME).await.unwrap();
    assert_eq!(out[0].1, Outcome::Waiting);
    assert!(tracker.published.lock().unwrap().is_empty());
}

/// The deadline is the schedule's: an invocation before it decides nothing.
#[tokio::test]
async fn an_early_check_decides_nothing() {
    let r = Redeployer::new(fleet("COMPLETED", &["09:00:00"]), Config::default());
    let tracker = MemoryTracker::default();
    let check = Check::new(&change(), Utc::now(), Duration::minutes(30));
    tracker.schedule(&check, ME).await.unwrap();
    assert_eq!(
        at_deadline(&r, &tracker, &check.name, ME).await.unwrap(),
        Outcome::Waiting
    );
    assert!(tracker.published.lock().unwrap().is_empty());
    assert_eq!(tracker.schedules.lock().unwrap().len(), 1, "still tracked");
}
