//! The core against the in-memory ECS: discovery batching, the cache, dry runs, partial
//! failure, duplicates and pacing (tokio's paused clock), without moto.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ecs_secrets_shared::arn::SecretArn;
use ecs_secrets_shared::events::{ChangeEvent, Trigger};
use ecs_secrets_shared::reference::{Location, SecretReference};

use super::*;
use crate::memory::MemoryEcs;

const ACCOUNT: &str = "123456789012";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123";

fn cluster_arn(cluster: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{cluster}")
}

fn td(family: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{family}:1")
}

fn service(cluster: &str, name: &str, family: &str) -> Service {
    Service {
        cluster_arn: cluster_arn(cluster),
        cluster_name: cluster.into(),
        name: name.into(),
        arn: format!("arn:aws:ecs:us-east-1:{ACCOUNT}:service/{cluster}/{name}"),
        status: "ACTIVE".into(),
        controller: None,
        tags: HashMap::new(),
        primary_created_at: Some("2026-11-20T09:00:00Z".parse().unwrap()),
        task_definitions: vec![td(family)],
        ..Service::default()
    }
}

fn reference(raw: &str) -> Reference {
    Reference {
        container: "app".into(),
        location: Location::ContainerSecret,
        raw: raw.into(),
        parsed: SecretReference::parse(raw, Location::ContainerSecret).ok(),
    }
}

/// `n` services of `web` (reads the secret) in `prod`, and 3 of `other` (does not) in `dev`.
fn fleet(n: usize) -> MemoryEcs {
    let mut ecs = MemoryEcs::default();
    for i in 0..n {
        ecs.add(service("prod", &format!("web-{i:04}"), "web"));
    }
    for i in 0..3 {
        ecs.add(service("dev", &format!("other-{i}"), "other"));
    }
    ecs.task_definitions
        .insert(td("web"), vec![reference(SECRET), reference("/app/flag")]);
    ecs.task_definitions
        .insert(td("other"), vec![reference("/app/other")]);
    ecs
}

fn rotated(at: &str) -> ChangeEvent {
    ChangeEvent {
        id: format!("event-{at}"),
        time: Some(at.parse::<DateTime<Utc>>().unwrap()),
        region: "us-east-1".into(),
        account: ACCOUNT.into(),
        trigger: Trigger::RotationSucceeded {
            secret: SecretArn::parse(SECRET).unwrap(),
        },
    }
}

fn calls(summary: &Summary, op: &str) -> u64 {
    summary.api_calls.get(op).copied().unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn discovery_describes_ten_at_a_time_and_each_revision_once() {
    let config = Config {
        max_updates_per_second: 50.0,
        ..Config::default()
    };
    let r = Redeployer::new(fleet(25), config);
    let s = r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    assert_eq!(s.redeployed.len(), 25);
    assert!(s.skipped.is_empty() && s.failed.is_empty(), "{s:?}");
    assert_eq!(calls(&s, "ListClusters"), 1);
    assert_eq!(calls(&s, "ListServices"), 2, "one page per cluster");
    assert_eq!(calls(&s, "DescribeServices"), 3 + 1, "25 in tens, and 3");
    assert_eq!(
        calls(&s, "DescribeTaskDefinition"),
        2,
        "two revisions in use"
    );
    assert_eq!(calls(&s, "UpdateService"), 25);
    assert_eq!(r.ecs.updated().len(), 25);
    assert!(r.ecs.updated().iter().all(|s| s.starts_with("web-")));
}

#[tokio::test(start_paused = true)]
async fn revisions_are_read_once_per_process_and_a_duplicate_redeploys_nothing() {
    let r = Redeployer::new(fleet(3), Config::default());
    let first = r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    assert_eq!(first.redeployed.len(), 3);
    assert_eq!(r.cached_task_definitions(), 2);
    // The same change delivered again (EventBridge is at-least-once): each service's PRIMARY
    // deployment now started after the change, so nothing is deployed twice, and the
    // revisions come from the cache.
    let again = r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    assert!(again.redeployed.is_empty(), "{again:?}");
    assert_eq!(again.skipped.len(), 3);
    assert!(again.skipped[0].reason.starts_with("already redeployed"));
    assert_eq!(calls(&again, "DescribeTaskDefinition"), 0);
    assert_eq!(calls(&again, "UpdateService"), 0);
    assert_eq!(r.ecs.described.lock().unwrap().len(), 2);
    assert_eq!(r.ecs.updated().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_and_a_plan_deploy_nothing() {
    let dry = Redeployer::new(
        fleet(4),
        Config {
            dry_run: true,
            ..Config::default()
        },
    );
    let s = dry.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    assert!(s.dry_run);
    assert_eq!(s.redeployed.len(), 4);
    assert!(s.redeployed.iter().all(|r| r.deployment_id.is_none()));
    assert_eq!(calls(&s, "UpdateService"), 0);
    assert!(dry.ecs.updated().is_empty());

    // A plan never deploys, whatever DRY_RUN says, and names the change it was asked about.
    let live = Redeployer::new(fleet(4), Config::default());
    let change = Change::Secret {
        secret: SecretArn::parse(SECRET).unwrap(),
        labels: vec!["AWSCURRENT".into()],
    };
    let p = live.plan(&change, None).await.unwrap();
    assert!(p.dry_run);
    assert_eq!(p.redeployed.len(), 4);
    assert_eq!(p.trigger["kind"], "SecretLabelUpdated");
    assert_eq!(p.trigger["event_id"], "ecs-secrets-plan");
    assert_eq!(p.trigger["secret"], SECRET);
    assert!(live.ecs.updated().is_empty());
    // A plan for AWSPENDING answers why not, without a call.
    let pending = Change::Secret {
        secret: SecretArn::parse(SECRET).unwrap(),
        labels: vec!["AWSPENDING".into()],
    };
    let reason =
        match crate::change::label_moved(&SecretArn::parse(SECRET).unwrap(), "AWSPENDING", None) {
            Decision::Ignore { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
    let p = live.plan_nothing(&pending, reason);
    assert!(p.reason.unwrap().contains("rotation is in progress"));
    assert_eq!(p.trigger["label"], "AWSPENDING");
    assert!(p.api_calls.is_empty());
}

#[tokio::test(start_paused = true)]
async fn one_failure_does_not_stop_the_others_and_fails_the_change() {
    let mut ecs = fleet(5);
    ecs.failing_updates.insert("web-0002".into());
    // A third family whose revision cannot be read: its service fails, the rest proceed.
    ecs.add(service("prod", "secret-reader", "locked"));
    ecs.unreadable.insert(td("locked"));
    let r = Redeployer::new(ecs, Config::default());
    let batch = r
        .handle_batch(&[rotated("2026-11-20T10:00:00Z")])
        .await
        .unwrap();
    assert_eq!(batch.redeployed.len(), 4);
    let failed: Vec<&str> = batch.failed.iter().map(|f| f.service.as_str()).collect();
    assert_eq!(failed, vec!["secret-reader", "web-0002"]);
    assert!(batch.failed[0]
        .error
        .contains("cannot read its task definition"));
    assert!(batch.changes[0].failed, "the change is retried");
    assert_eq!(batch.changes[0].redeployed, 4);
}

#[tokio::test(start_paused = true)]
async fn updates_are_paced() {
    let config = Config {
        max_updates_per_second: 2.0,
        ..Config::default()
    };
    let r = Redeployer::new(fleet(7), config);
    r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    let times: Vec<tokio::time::Instant> =
        r.ecs.updates.lock().unwrap().iter().map(|u| u.2).collect();
    assert_eq!(times.len(), 7);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(500),
            "2 per second: {gap:?}"
        );
    }
    let total = (times[6] - times[0]).as_secs_f64();
    assert!((3.0..3.2).contains(&total), "six gaps of 0.5 s: {total}");
}

#[tokio::test(start_paused = true)]
async fn reads_draw_on_the_bucket() {
    // 1,000 services: 1 + 1 + 100 DescribeServices tokens from a bucket of burst 40 at 5/s.
    let config = Config {
        max_reads_per_second: 5.0,
        dry_run: true,
        ..Config::default()
    };
    let mut ecs = MemoryEcs::default();
    for i in 0..1000 {
        ecs.add(service("prod", &format!("s{i:04}"), "other"));
    }
    ecs.task_definitions
        .insert(td("other"), vec![reference("/app/other")]);
    let r = Redeployer::new(ecs, config);
    let start = tokio::time::Instant::now();
    let s = r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(calls(&s, "DescribeServices"), 100);
    assert!(s.redeployed.is_empty());
    let expected = (102.0 - crate::pace::READ_BURST) / 5.0;
    assert!(
        (expected - 0.5..expected + 1.0).contains(&elapsed),
        "expected about {expected} s, took {elapsed}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_that_changes_nothing_reads_nothing() {
    let r = Redeployer::new(fleet(3), Config::default());
    let mut event = rotated("2026-11-20T10:00:00Z");
    event.trigger = Trigger::SecretLabelUpdated {
        secret: SecretArn::parse(SECRET).unwrap(),
        label: "AWSPENDING".into(),
        version_id: None,
    };
    let s = r.handle(&event).await.unwrap();
    assert!(s.reason.is_some());
    assert!(s.api_calls.is_empty());
}

/// A full scan reads task definitions while it still describes services (two ECS buckets):
/// about the longer of the two reads, not their sum.
#[tokio::test(start_paused = true)]
async fn a_scan_reads_task_definitions_while_it_describes_services() {
    let config = Config {
        max_reads_per_second: 5.0,
        dry_run: true,
        ..Config::default()
    };
    let mut ecs = MemoryEcs::default();
    for i in 0..1000 {
        let family = format!("f{}", i % 100);
        ecs.add(service("prod", &format!("s{i:04}"), &family));
        ecs.task_definitions
            .insert(td(&family), vec![reference("/app/other")]);
    }
    let r = Redeployer::new(ecs, config);
    let start = tokio::time::Instant::now();
    let s = r.handle(&rotated("2026-11-20T10:00:00Z")).await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(calls(&s, "DescribeServices"), 100);
    assert_eq!(
        calls(&s, "DescribeTaskDefinition"),
        100,
        "each revision once"
    );
    // Services: 1 + 10 + 100 tokens, 40 at once then 5/s: 14.2 s. Task definitions: 100
    // tokens, 12 s on their own — one after the other 26 s.
    let services = (111.0 - crate::pace::READ_BURST) / 5.0;
    assert!(
        elapsed < services + 2.0,
        "the reads overlap: {elapsed} s, services alone {services} s"
    );
}
