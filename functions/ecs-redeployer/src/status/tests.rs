//! Every verdict, with the in-memory ECS: the deployments and tasks are set as ECS would
//! report them at one moment.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ecs_secrets_shared::arn::SecretArn;
use ecs_secrets_shared::reference::{Location, SecretReference};

use super::*;
use crate::config::Config;
use crate::memory::MemoryEcs;
use crate::verdict::Deployment;

const ACCOUNT: &str = "123456789012";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

fn t(s: &str) -> DateTime<Utc> {
    format!("2026-11-20T{s}Z").parse().unwrap()
}

fn td(family: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{family}:1")
}

fn reference(raw: &str) -> Reference {
    Reference {
        container: "app".into(),
        location: Location::ContainerSecret,
        raw: raw.into(),
        parsed: SecretReference::parse(raw, Location::ContainerSecret).ok(),
    }
}

fn deployment(id: &str, status: &str, created: &str, rollout: &str) -> Deployment {
    Deployment {
        id: id.into(),
        status: status.into(),
        task_definition: td("web"),
        created_at: Some(t(created)),
        rollout_state: Some(rollout.into()),
        rollout_state_reason: (rollout == "FAILED")
            .then(|| "ECS deployment circuit breaker: tasks failed to start.".into()),
        running_count: 0,
    }
}

fn service(name: &str, family: &str, deployments: Vec<Deployment>) -> Service {
    Service {
        cluster_arn: CLUSTER.into(),
        cluster_name: "prod".into(),
        name: name.into(),
        arn: format!("arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/{name}"),
        status: "ACTIVE".into(),
        primary_created_at: deployments.first().and_then(|d| d.created_at),
        task_definitions: vec![td(family)],
        deployments,
        desired_count: 2,
        running_count: 2,
        ..Service::default()
    }
}

fn task(id: &str, group: &str, family: &str, started: &str) -> RunningTask {
    RunningTask {
        arn: format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task/prod/{id}"),
        cluster_arn: CLUSTER.into(),
        task_definition: td(family),
        group: group.into(),
        started_by: group
            .starts_with("service:")
            .then(|| "ecs-svc/1".to_owned()),
        started_at: Some(t(started)),
        created_at: Some(t(started)),
    }
}

fn rotation() -> Change {
    Change::Secret {
        secret: SecretArn::parse(SECRET).unwrap(),
        labels: vec!["AWSCURRENT".into()],
    }
}

/// The change at 10:00:00; one consumer in each state.
fn fleet() -> MemoryEcs {
    let mut ecs = MemoryEcs::default();
    ecs.task_definitions
        .insert(td("web"), vec![reference(SECRET)]);
    ecs.images.insert(
        td("web"),
        vec![
            ("app".into(), "repo/web:latest".into()),
            (
                "proxy".into(),
                "repo/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            ),
        ],
    );
    ecs.task_definitions.insert(
        td("pinned"),
        vec![reference(&format!(
            "{SECRET}:password::EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
        ))],
    );
    ecs.task_definitions
        .insert(td("other"), vec![reference("/app/unrelated")]);
    let old = |name| {
        deployment(
            &format!("ecs-svc/{name}-0"),
            "PRIMARY",
            "09:00:00",
            "COMPLETED",
        )
    };
    ecs.add(service("stale", "web", vec![old("stale")]));
    ecs.add(service(
        "rolling",
        "web",
        vec![
            deployment("ecs-svc/rolling-1", "PRIMARY", "10:05:00", "IN_PROGRESS"),
            deployment("ecs-svc/rolling-0", "ACTIVE", "09:00:00", "COMPLETED"),
        ],
    ));
    ecs.add(service(
        "fresh",
        "web",
        vec![deployment(
            "ecs-svc/fresh-1",
            "PRIMARY",
            "10:05:00",
            "COMPLETED",
        )],
    ));
    ecs.add(service(
        "failed",
        "web",
        vec![
            deployment("ecs-svc/failed-2", "PRIMARY", "10:06:00", "COMPLETED"),
            deployment("ecs-svc/failed-1", "ACTIVE", "10:05:00", "FAILED"),
        ],
    ));
    let mut opted_out = service("opted-out", "web", vec![old("opted-out")]);
    opted_out.tags = HashMap::from([("secret-redeploy".into(), "off".into())]);
    ecs.add(opted_out);
    ecs.add(service("pinned", "pinned", vec![old("pinned")]));
    ecs.add(service("unrelated", "other", vec![old("unrelated")]));
    ecs.tasks = vec![
        task("s1", "service:stale", "web", "09:00:10"),
        task("s2", "service:stale", "web", "09:00:10"),
        task("r1", "service:rolling", "web", "09:00:10"),
        task("r2", "service:rolling", "web", "10:05:30"),
        task("f1", "service:fresh", "web", "10:05:30"),
        task("f2", "service:fresh", "web", "10:06:45"),
        task("x1", "service:failed", "web", "09:00:10"),
        task("x2", "service:failed", "web", "09:00:10"),
        task("o1", "service:opted-out", "web", "09:00:10"),
        task("p1", "service:pinned", "pinned", "09:00:10"),
        task("u1", "service:unrelated", "other", "09:00:10"),
        // No service owns these (RunTask): one old, one new, one reading something else.
        task("job-old", "family:web", "web", "09:30:00"),
        task("job-new", "family:web", "web", "10:30:00"),
        task("job-other", "family:other", "other", "09:30:00"),
        // In the change's own second: not proof of the new value.
        task("job-same-second", "family:web", "web", "10:00:00"),
        // RunTask --group service:impostor: no deployment started it, so no service owns it.
        RunningTask {
            started_by: Some("ci-job".into()),
            ..task("impostor", "service:impostor", "web", "09:45:00")
        },
    ];
    ecs
}

fn by_name(status: &Status) -> HashMap<String, &Consumer> {
    status
        .consumers
        .iter()
        .map(|c| (c.name.clone(), c))
        .collect()
}

#[tokio::test]
async fn every_consumer_gets_its_verdict() {
    let r = Redeployer::new(fleet(), Config::default());
    let status = r.status(&rotation(), t("10:00:00")).await.unwrap();
    let c = by_name(&status);
    let state = |n: &str| c.get(n).map(|c| c.state);
    assert_eq!(state("stale"), Some(State::Stale));
    assert_eq!(state("rolling"), Some(State::Rolling));
    assert_eq!(state("fresh"), Some(State::Fresh));
    assert_eq!(state("failed"), Some(State::Failed));
    assert_eq!(state("opted-out"), Some(State::Skipped));
    assert_eq!(state("pinned"), Some(State::Skipped));
    assert_eq!(state("job-old"), Some(State::Stale));
    assert_eq!(state("job-new"), Some(State::Fresh));
    assert_eq!(state("job-same-second"), Some(State::Stale));
    assert_eq!(
        state("impostor"),
        Some(State::Stale),
        "a RunTask group is not a service"
    );
    assert!(!c.contains_key("unrelated") && !c.contains_key("job-other"));
    assert_eq!(status.consumers.len(), 10);
    assert!(!status.propagated);
    assert_eq!(status.propagation_seconds, None);

    assert!(c["opted-out"].reason.contains("opted out"));
    // Skipped by policy, yet it reads the secret and its task holds the old value.
    assert!(c["opted-out"]
        .reason
        .ends_with("1 task(s) still run the old value"));
    assert!(c["opted-out"].reads_change);
    assert!(!c["pinned"].reads_change);
    assert!(c["pinned"].reason.contains("pinned"));
    assert!(
        c["failed"].reason.contains("circuit breaker"),
        "{}",
        c["failed"].reason
    );
    assert_eq!(c["failed"].tasks_started_before_change, 2);
    assert_eq!(c["rolling"].tasks_started_before_change, 1);
    assert_eq!(c["fresh"].fresh_since, Some(t("10:06:45")));
    let command = c["job-old"].command.as_deref().unwrap();
    assert!(
        command.contains("stop-task --cluster prod --task job-old"),
        "{command}"
    );
    // The mutable tag is named, the digest is not.
    assert_eq!(c["stale"].warnings.len(), 1);
    assert!(c["stale"].warnings[0].contains("repo/web:latest"));
    // Reads only.
    assert_eq!(status.api_calls.get("UpdateService"), None);
    assert!(r.ecs.updated().is_empty());
}

#[tokio::test]
async fn propagated_when_every_consumer_is_fresh_or_skipped() {
    let mut ecs = fleet();
    ecs.tasks.retain(|t| {
        ![
            "s1",
            "s2",
            "r1",
            "x1",
            "x2",
            "o1",
            "job-old",
            "job-same-second",
            "impostor",
        ]
        .iter()
        .any(|id| t.arn.ends_with(id))
    });
    let mut clusters = ecs.clusters.lock().unwrap().clone();
    for s in clusters.values_mut().flatten() {
        if ["stale", "rolling", "failed"].contains(&s.name.as_str()) {
            s.deployments = vec![deployment(
                &format!("ecs-svc/{}-9", s.name),
                "PRIMARY",
                "10:07:00",
                "COMPLETED",
            )];
        }
    }
    *ecs.clusters.lock().unwrap() = clusters;
    ecs.tasks
        .push(task("s9", "service:stale", "web", "10:08:00"));
    let r = Redeployer::new(ecs, Config::default());
    let status = r.status(&rotation(), t("10:00:00")).await.unwrap();
    assert!(status.propagated, "{:#?}", status.consumers);
    // The last consumer became fresh at 10:30:00 (the standalone job).
    assert_eq!(status.propagation_seconds, Some(1800.0));
    assert_eq!(status.count(State::Skipped), 2);
}

/// A consumer the redeployer skips by policy but that still runs a task created before the
/// change holds the old value: the change has not propagated (revoking the old value would
/// break it).
#[tokio::test]
async fn an_opted_out_reader_with_old_tasks_is_not_propagated() {
    let mut ecs = fleet();
    ecs.tasks.retain(|t| {
        ![
            "s1",
            "s2",
            "r1",
            "x1",
            "x2",
            "job-old",
            "job-same-second",
            "impostor",
        ]
        .iter()
        .any(|id| t.arn.ends_with(id))
    });
    let mut clusters = ecs.clusters.lock().unwrap().clone();
    for s in clusters.values_mut().flatten() {
        if ["stale", "rolling", "failed"].contains(&s.name.as_str()) {
            s.deployments = vec![deployment(
                &format!("ecs-svc/{}-9", s.name),
                "PRIMARY",
                "10:07:00",
                "COMPLETED",
            )];
        }
    }
    *ecs.clusters.lock().unwrap() = clusters;
    let r = Redeployer::new(ecs, Config::default());
    let status = r.status(&rotation(), t("10:00:00")).await.unwrap();
    assert!(!status.propagated, "{:#?}", status.consumers);
    assert_eq!(status.count(State::Skipped), 2);
}

/// A failed deployment since the change, then a successful one: every task is new, so the value
/// reached the service although ECS still lists the failed deployment.
#[tokio::test]
async fn a_failure_fixed_by_a_later_deployment_is_fresh() {
    let mut ecs = MemoryEcs::default();
    ecs.task_definitions
        .insert(td("web"), vec![reference(SECRET)]);
    ecs.add(service(
        "web",
        "web",
        vec![
            deployment("ecs-svc/3", "PRIMARY", "10:20:00", "COMPLETED"),
            deployment("ecs-svc/2", "ACTIVE", "10:05:00", "FAILED"),
        ],
    ));
    ecs.tasks = vec![task("w1", "service:web", "web", "10:21:00")];
    let r = Redeployer::new(ecs, Config::default());
    let status = r.status(&rotation(), t("10:00:00")).await.unwrap();
    assert_eq!(
        status.consumers[0].state,
        State::Fresh,
        "{:?}",
        status.consumers
    );
    assert!(status.propagated);
}
