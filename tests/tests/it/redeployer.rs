//! `ecs-redeployer` end to end: a fleet in moto whose task definitions reference a secret in
//! every form and location, events delivered to the built binary, and the outcome checked in
//! ECS itself (which services got a new deployment) as well as in the summary.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecs::types::{
    ContainerDefinition, LogConfiguration, LogDriver, RepositoryCredentials, Secret, Tag,
};
use harness::{Function, Moto, World};
use serde_json::{json, Value};

const UUID: &str = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE";

/// Where a task definition puts its reference.
enum Place {
    Secret(String),
    LogOption(String),
    Repository(String),
    None,
}

async fn task_definition(moto: &Moto, family: &str, places: Vec<Place>) -> anyhow::Result<String> {
    let mut container = ContainerDefinition::builder()
        .name("app")
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(128);
    for (i, place) in places.into_iter().enumerate() {
        container = match place {
            Place::Secret(v) => container.secrets(
                Secret::builder()
                    .name(format!("S{i}"))
                    .value_from(v)
                    .build()?,
            ),
            Place::LogOption(v) => container.log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Splunk)
                    .secret_options(
                        Secret::builder()
                            .name("splunk-token")
                            .value_from(v)
                            .build()?,
                    )
                    .build()?,
            ),
            Place::Repository(v) => container.repository_credentials(
                RepositoryCredentials::builder()
                    .credentials_parameter(v)
                    .build()?,
            ),
            Place::None => container,
        };
    }
    let out = moto
        .ecs()
        .register_task_definition()
        .family(family)
        .execution_role_arn("arn:aws:iam::123456789012:role/exec")
        .container_definitions(container.build())
        .send()
        .await?;
    Ok(out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned())
}

async fn service(
    moto: &Moto,
    cluster: &str,
    name: &str,
    td: &str,
    tags: &[(&str, &str)],
) -> anyhow::Result<()> {
    let mut req = moto
        .ecs()
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(td)
        .desired_count(1);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build());
    }
    req.send().await?;
    Ok(())
}

/// cluster/service → the PRIMARY deployment's id.
async fn deployments(moto: &Moto) -> anyhow::Result<BTreeMap<String, String>> {
    let ecs = moto.ecs();
    let mut out = BTreeMap::new();
    for cluster in ecs.list_clusters().send().await?.cluster_arns() {
        let services = ecs
            .list_services()
            .cluster(cluster)
            .send()
            .await?
            .service_arns()
            .to_vec();
        for chunk in services.chunks(10) {
            let described = ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await?;
            for s in described.services() {
                let primary = s
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"))
                    .and_then(|d| d.id());
                let cluster_name = cluster.rsplit('/').next().unwrap_or_default();
                out.insert(
                    format!("{cluster_name}/{}", s.service_name().unwrap_or_default()),
                    primary.unwrap_or_default().to_owned(),
                );
            }
        }
    }
    Ok(out)
}

fn changed(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

fn names(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}/{}",
                e["cluster"].as_str().unwrap_or_default(),
                e["service"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// `cluster/service` of every skipped service whose reason contains `needle`.
fn skipped_because(summary: &Value, needle: &str) -> BTreeSet<String> {
    summary["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["reason"].as_str().is_some_and(|r| r.contains(needle)))
        .map(|s| {
            format!(
                "{}/{}",
                s["cluster"].as_str().unwrap_or_default(),
                s["service"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

fn label_updated(secret_arn: &str, time: &str) -> Value {
    json!({
        "version": "0", "id": "evt-1", "detail-type": "Secret Label Updated", "source": "aws.secretsmanager",
        "account": "123456789012", "time": time, "region": "us-east-1", "resources": [secret_arn],
        "detail": {"name": "db", "labelUpdated": "AWSCURRENT", "versionId": "00000000-0000-4000-8000-000000000001"}
    })
}

/// A change time after every existing deployment (whole seconds, as EventBridge sends it),
/// delivered in a later second, as EventBridge's delivery takes time: a deployment in the same
/// second as a whole-second change time is not proof that it came after the change.
async fn change_time() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let changed = chrono::Utc::now();
    let rest = 1000 - u64::from(changed.timestamp_subsec_millis()).min(999);
    tokio::time::sleep(std::time::Duration::from_millis(rest + 20)).await;
    changed.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

struct Fleet {
    secret: String,
    expected_redeploy: BTreeSet<String>,
    expected_skip: BTreeSet<String>,
    services: usize,
    clusters: usize,
    task_definitions: usize,
}

/// Four clusters, 36 services, 15 distinct task definitions. (The CODE_DEPLOY skip is unit
/// tested: moto does not return a service's deploymentController.)
async fn fleet(moto: &Moto) -> anyhow::Result<Fleet> {
    let secret = moto.create_secret("db", r#"{"password":"x"}"#).await?;
    let other = moto.create_secret("other", "y").await?;
    let partial = secret
        .rsplit_once('-')
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default();
    for c in ["prod", "stage", "batch", "bulk"] {
        moto.ecs().create_cluster().cluster_name(c).send().await?;
    }
    use Place::*;
    let tds = [
        ("full", vec![Secret(secret.clone())]),
        ("partial", vec![Secret(partial.clone())]),
        ("jsonkey", vec![Secret(format!("{secret}:password::"))]),
        ("previous", vec![Secret(format!("{partial}::AWSPREVIOUS:"))]),
        (
            "current-stage",
            vec![Secret(format!("{secret}::AWSCURRENT:"))],
        ),
        ("logopt", vec![LogOption(secret.clone())]),
        ("repo", vec![Repository(secret.clone())]),
        (
            "via-ssm",
            vec![Secret("/aws/reference/secretsmanager/db".into())],
        ),
        ("blue", vec![Secret(format!("{secret}::blue:"))]),
        ("pinned", vec![Secret(format!("{secret}:::{UUID}"))]),
        (
            "mixed",
            vec![Secret(format!("{secret}:::{UUID}")), Secret(other.clone())],
        ),
        ("other", vec![Secret(other.clone())]),
        ("nothing", vec![None]),
        ("param", vec![Secret("/app/key".into())]),
        (
            "two",
            vec![
                Secret(other.clone()),
                Secret(format!("{secret}:password::")),
            ],
        ),
    ];
    let mut arns = BTreeMap::new();
    for (family, places) in tds {
        arns.insert(family, task_definition(moto, family, places).await?);
    }
    let prod = [
        "full",
        "partial",
        "jsonkey",
        "previous",
        "current-stage",
        "logopt",
        "repo",
        "via-ssm",
        "blue",
        "pinned",
        "mixed",
        "other",
        "nothing",
        "param",
    ];
    for family in prod {
        service(moto, "prod", family, &arns[family], &[]).await?;
    }
    service(moto, "stage", "web", &arns["full"], &[]).await?;
    service(
        moto,
        "stage",
        "opted-out",
        &arns["jsonkey"],
        &[("secret-redeploy", "off")],
    )
    .await?;
    service(
        moto,
        "stage",
        "opted-in",
        &arns["two"],
        &[("secret-redeploy", "on")],
    )
    .await?;
    service(moto, "batch", "worker", &arns["partial"], &[]).await?;
    service(moto, "batch", "unrelated", &arns["other"], &[]).await?;
    service(moto, "batch", "gone", &arns["full"], &[]).await?;
    moto.ecs()
        .delete_service()
        .cluster("batch")
        .service("gone")
        .force(true)
        .send()
        .await?;
    // A generated cluster: every other service reads the secret.
    let mut bulk = Vec::new();
    for i in 0..16 {
        let reads = i % 2 == 0;
        let td = &arns[if reads { "jsonkey" } else { "other" }];
        service(moto, "bulk", &format!("svc-{i:02}"), td, &[]).await?;
        if reads {
            bulk.push(format!("bulk/svc-{i:02}"));
        }
    }
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    Ok(Fleet {
        secret,
        expected_redeploy: set(&[
            "prod/full",
            "prod/partial",
            "prod/jsonkey",
            "prod/previous",
            "prod/current-stage",
            "prod/logopt",
            "prod/repo",
            "prod/via-ssm",
            "stage/web",
            "stage/opted-in",
            "batch/worker",
        ])
        .into_iter()
        .chain(bulk)
        .collect(),
        expected_skip: set(&[
            "prod/blue",
            "prod/pinned",
            "prod/mixed",
            "stage/opted-out",
            "batch/gone",
        ]),
        services: 36,
        clusters: 4,
        task_definitions: 15,
    })
}

#[tokio::test]
async fn redeploys_exactly_the_referencing_services_once_with_minimal_api_calls(
) -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let lambda = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;

    let summary = lambda.invoke_ok(&label_updated(&f.secret, &time)).await?;
    let after = deployments(moto).await?;
    assert_eq!(
        changed(&before, &after),
        f.expected_redeploy,
        "services with a new deployment in ECS"
    );
    assert_eq!(names(&summary["redeployed"]), f.expected_redeploy);
    assert_eq!(
        names(&summary["skipped"]),
        f.expected_skip,
        "{}",
        summary["skipped"]
    );
    assert!(summary["failed"].as_array().is_some_and(Vec::is_empty));
    let reasons: BTreeMap<String, String> = summary["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s["cluster"].as_str().unwrap_or_default(),
                    s["service"].as_str().unwrap_or_default()
                ),
                s["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(reasons["prod/blue"].contains("did not move"), "{reasons:?}");
    assert!(reasons["prod/pinned"].contains("pinned"), "{reasons:?}");
    assert!(
        reasons["stage/opted-out"].contains("opted out"),
        "{reasons:?}"
    );
    assert!(
        reasons["batch/gone"].contains("INACTIVE") || reasons["batch/gone"].contains("DRAINING"),
        "{reasons:?}"
    );
    for r in summary["redeployed"].as_array().into_iter().flatten() {
        assert!(
            r["deployment_id"].as_str().is_some_and(|d| !d.is_empty()),
            "{r}"
        );
    }

    // API economy: the minimum for this fleet.
    let calls = &summary["api_calls"];
    assert_eq!(calls["ListClusters"], 1);
    assert_eq!(calls["ListServices"], f.clusters);
    // ceil(services / 10) per cluster: prod 14 → 2, stage 3 → 1, batch 3 → 1, bulk 16 → 2.
    assert_eq!(calls["DescribeServices"], 6);
    assert_eq!(f.services, 14 + 3 + 3 + 16);
    assert_eq!(calls["DescribeTaskDefinition"], f.task_definitions);
    assert_eq!(calls["UpdateService"], f.expected_redeploy.len());

    // The same event again (EventBridge delivers at least once), to the same warm process:
    // nothing is redeployed twice, and no task definition is read again.
    let again = lambda.invoke_ok(&label_updated(&f.secret, &time)).await?;
    assert!(
        again["redeployed"].as_array().is_some_and(Vec::is_empty),
        "{again}"
    );
    assert_eq!(deployments(moto).await?, after, "no second deployment");
    let already = skipped_because(&again, "already redeployed");
    assert_eq!(already, f.expected_redeploy);
    assert!(
        again["api_calls"].get("DescribeTaskDefinition").is_none(),
        "warm cache: {}",
        again["api_calls"]
    );
    Ok(())
}

#[tokio::test]
async fn events_that_must_not_redeploy_change_nothing() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let fixture = |name: &str| -> anyhow::Result<Value> {
        let path = harness::paths::workspace_root()
            .join("shared/testdata/events")
            .join(name);
        let text = std::fs::read_to_string(path)?.replace(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123",
            &f.secret,
        );
        Ok(serde_json::from_str(&text)?)
    };
    for (name, reason) in [
        ("put-secret-value-pending.json", "rotation is in progress"),
        ("update-secret-metadata.json", "metadata only"),
        ("rotation-failed.json", "RotationFailed"),
        ("put-secret-value-denied.json", "AccessDenied"),
    ] {
        let summary = lambda
            .invoke(&fixture(name)?)
            .await?
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        assert!(
            summary["redeployed"].as_array().is_some_and(Vec::is_empty),
            "{name}: {summary}"
        );
        assert!(
            summary["reason"]
                .as_str()
                .is_some_and(|r| r.contains(reason)),
            "{name}: {summary}"
        );
        assert!(
            summary["api_calls"]
                .as_object()
                .is_some_and(|m| m.is_empty()),
            "{name}: no ECS call at all"
        );
    }
    assert_eq!(deployments(moto).await?, before);
    Ok(())
}

#[tokio::test]
async fn dry_run_clusters_and_tag_selection() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let event = label_updated(&f.secret, &time);

    let dry = world
        .lambda(Function::EcsRedeployer, &[("DRY_RUN", "true")])
        .await?;
    let plan = dry.invoke_ok(&event).await?;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        names(&plan["redeployed"]),
        f.expected_redeploy,
        "the plan is complete"
    );
    assert!(plan["redeployed"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["deployment_id"].is_null()));
    assert!(plan["api_calls"].get("UpdateService").is_none());
    assert_eq!(
        deployments(moto).await?,
        before,
        "a dry run changes nothing in ECS"
    );

    let stage_only = world
        .lambda(
            Function::EcsRedeployer,
            &[("CLUSTERS", "stage"), ("DRY_RUN", "1")],
        )
        .await?;
    let plan = stage_only.invoke_ok(&event).await?;
    assert_eq!(
        names(&plan["redeployed"]),
        ["stage/web".to_string(), "stage/opted-in".to_string()]
            .into_iter()
            .collect()
    );
    // The other clusters are named, never read: one ListServices, for `stage`.
    assert_eq!(
        plan["clusters_not_scanned"],
        json!(["batch", "bulk", "prod"]),
        "{plan}"
    );
    assert_eq!(plan["api_calls"]["ListServices"], 1);
    assert!(skipped_because(&plan, "outside the configured clusters").is_empty());

    let tagged = world
        .lambda(Function::EcsRedeployer, &[("SERVICE_SELECTION", "tagged")])
        .await?;
    let result = tagged.invoke_ok(&event).await?;
    assert_eq!(
        names(&result["redeployed"]),
        ["stage/opted-in".to_string()].into_iter().collect()
    );
    assert!(result["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not opted in"))));
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        ["stage/opted-in".to_string()].into_iter().collect()
    );
    Ok(())
}

#[tokio::test]
async fn parameter_changes_reach_services_that_read_the_parameter() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let event = json!({
        "version": "0", "id": "p-1", "detail-type": "Parameter Store Change", "source": "aws.ssm",
        "account": "123456789012", "time": time, "region": "us-east-1",
        "resources": ["arn:aws:ssm:us-east-1:123456789012:parameter/app/key"],
        "detail": {"operation": "Update", "name": "/app/key", "type": "SecureString"}
    });
    let summary = lambda.invoke_ok(&event).await?;
    assert_eq!(
        names(&summary["redeployed"]),
        ["prod/param".to_string()].into_iter().collect()
    );
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        ["prod/param".to_string()].into_iter().collect()
    );
    let _ = f;
    Ok(())
}

#[tokio::test]
async fn throttled_ecs_still_redeploys_each_service_once_at_the_configured_pace(
) -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    // Every third ECS call is throttled; the SDK's retry must absorb it.
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            throttle_every: 3,
            ..Faults::default()
        },
    )
    .await?;
    let mut env = proxy.env(moto);
    env.push(("MAX_UPDATES_PER_SECOND".into(), "4".into()));
    let lambda = world.lambda_with_env(Function::EcsRedeployer, env).await?;
    let summary = lambda.invoke_ok(&label_updated(&f.secret, &time)).await?;
    assert_eq!(
        names(&summary["redeployed"]),
        f.expected_redeploy,
        "{summary}"
    );
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        f.expected_redeploy
    );

    let calls = proxy.calls();
    assert!(calls.iter().any(|c| c.faulted), "the proxy did throttle");
    // Successful UpdateService calls (one per service) respect the pace: 4/s → ≥ 250 ms apart
    // between the starts of consecutive updates (a retried call only adds delay).
    let updates: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "UpdateService" && !c.faulted)
        .collect();
    assert_eq!(
        updates.len(),
        f.expected_redeploy.len(),
        "each service updated exactly once"
    );
    let starts: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "UpdateService")
        .collect();
    let mut first_attempts = Vec::new();
    for (i, c) in starts.iter().enumerate() {
        // A call directly after a faulted one is its retry, not a new update.
        if i == 0 || !starts[i - 1].faulted {
            first_attempts.push(c.at);
        }
    }
    // The proxy stamps a call when it arrives, so one call delivered late by a loaded machine
    // shortens the next gap: the pace is checked over the whole run, and each gap only
    // against a burst.
    for pair in first_attempts.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= std::time::Duration::from_millis(150),
            "updates {gap:?} apart: a burst, not a pace of 4/s"
        );
    }
    if let (Some(first), Some(last)) = (first_attempts.first(), first_attempts.last()) {
        let span = last.duration_since(*first);
        let floor = std::time::Duration::from_millis(250 * (first_attempts.len() as u64 - 1));
        assert!(
            span + std::time::Duration::from_millis(50) >= floor,
            "{} updates in {span:?}, faster than 4/s",
            first_attempts.len()
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_retry_after_a_partial_failure_redeploys_only_what_is_missing() -> anyhow::Result<()> {
    use harness::faults::Faults;
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let (proxy, lambda) = redeployer_denying(&world, moto, "jsonkey").await?;
    let event = label_updated(&f.secret, &time);

    let err = lambda
        .invoke(&event)
        .await?
        .expect_err("one update failed: the invocation fails so EventBridge retries");
    assert_eq!(err.error_type, "UpdatesFailed", "{err}");
    assert!(
        err.error_message.contains("prod") && err.error_message.contains("jsonkey"),
        "{err}"
    );
    let first = changed(&before, &deployments(moto).await?);
    let mut others = f.expected_redeploy.clone();
    others.remove("prod/jsonkey");
    assert_eq!(
        first, others,
        "one failing service does not stop the others"
    );

    // The retry (the fault is gone): only the failed service is redeployed.
    proxy.set_faults(Faults::default());
    let mid = deployments(moto).await?;
    let summary = lambda.invoke_ok(&event).await?;
    assert_eq!(
        names(&summary["redeployed"]),
        ["prod/jsonkey".to_string()].into_iter().collect()
    );
    assert_eq!(
        changed(&mid, &deployments(moto).await?),
        ["prod/jsonkey".to_string()].into_iter().collect()
    );
    Ok(())
}

/// The redeployer behind a fault proxy whose UpdateService calls naming `service` are denied
/// (clear the fault with `proxy.set_faults`), updating at 50/s.
async fn redeployer_denying(
    world: &World,
    moto: &Moto,
    service: &str,
) -> anyhow::Result<(harness::faults::FaultProxy, harness::LambdaFunction)> {
    use harness::faults::{FaultProxy, Faults};
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            deny_update_of: Some(service.into()),
            ..Faults::default()
        },
    )
    .await?;
    let mut env = proxy.env(moto);
    env.push(("MAX_UPDATES_PER_SECOND".into(), "50".into()));
    let lambda = world.lambda_with_env(Function::EcsRedeployer, env).await?;
    Ok((proxy, lambda))
}

/// Runs the `ecs-secrets` CLI against this world's moto.
async fn cli(
    moto: &Moto,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> anyhow::Result<std::process::Output> {
    let mut env = moto.env();
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    harness::ecs_secrets(args, &env).await
}

#[tokio::test]
async fn cli_plan_is_a_complete_dry_run() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;

    // By name, JSON.
    let out = cli(moto, &["plan", "--secret", "db", "--format", "json"], &[]).await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(names(&plan["redeployed"]), f.expected_redeploy);
    assert_eq!(names(&plan["skipped"]), f.expected_skip);

    // By ARN, text, one cluster.
    let out = cli(
        moto,
        &["plan", "--secret", &f.secret],
        &[("CLUSTERS", "batch")],
    )
    .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("Would redeploy 1 service(s):\n  batch/worker\n"),
        "{text}"
    );
    assert!(text.contains("batch/gone: service is"), "{text}");
    assert!(
        text.contains("prod/full: outside the configured clusters (CLUSTERS)"),
        "{text}"
    );

    // A parameter by name (account from STS), and a custom label.
    let out = cli(
        moto,
        &["plan", "--parameter", "/app/key", "--format", "json"],
        &[],
    )
    .await?;
    let plan: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        names(&plan["redeployed"]),
        ["prod/param".to_string()].into_iter().collect()
    );
    let out = cli(
        moto,
        &[
            "plan", "--secret", "db", "--label", "blue", "--format", "json",
        ],
        &[],
    )
    .await?;
    let plan: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        names(&plan["redeployed"]),
        ["prod/blue".to_string()].into_iter().collect()
    );

    // Errors: unknown secret, no target, bad configuration — exit 2 with a message.
    let out = cli(moto, &["plan", "--secret", "no-such-secret"], &[]).await?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot find secret `no-such-secret`"));
    let out = cli(moto, &["plan"], &[]).await?;
    assert_eq!(out.status.code(), Some(2));
    let out = cli(
        moto,
        &["plan", "--secret", "db"],
        &[("MAX_CONCURRENCY", "0")],
    )
    .await?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAX_CONCURRENCY"));

    assert_eq!(deployments(moto).await?, before, "planning changes nothing");
    Ok(())
}

/// Discovery of more task definitions than ECS's DescribeTaskDefinition burst (50) stays under
/// the account's token buckets: the client-side pace spreads the calls instead of letting the
/// SDK's retry fight the throttling (which gave up on a 1,000-service fleet in the benchmark).
#[tokio::test]
async fn discovery_stays_under_ecs_token_buckets() -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let moto = world.moto().await?;
    let ecs = moto.ecs();
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bucket/db-AbC123";
    ecs.create_cluster().cluster_name("wide").send().await?;
    let defs = 90;
    for d in 0..defs {
        let value_from = if d % 3 == 0 {
            secret.to_owned()
        } else {
            format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:other/{d}-XyZ789")
        };
        moto.register_with_secret(&format!("wide-{d}"), &value_from)
            .await?;
        service(moto, "wide", &format!("svc-{d}"), &format!("wide-{d}"), &[]).await?;
    }
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            ecs_buckets: true,
            ..Faults::default()
        },
    )
    .await?;
    let mut env = proxy.env(moto);
    env.push(("DRY_RUN".into(), "true".into()));
    // Retries off: a single throttled call would fail the invocation.
    env.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
    let lambda = world.lambda_with_env(Function::EcsRedeployer, env).await?;
    let time = change_time().await;
    let started = std::time::Instant::now();
    let summary = lambda.invoke_ok(&label_updated(secret, &time)).await?;
    let calls = proxy.calls();
    assert!(
        calls.iter().all(|c| !c.faulted),
        "throttled calls: {}",
        calls.iter().filter(|c| c.faulted).count()
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.operation == "DescribeTaskDefinition")
            .count(),
        defs
    );
    assert_eq!(
        summary["redeployed"].as_array().map(Vec::len),
        Some(defs / 3)
    );
    // 90 definitions at 15/s after a burst of 40: over 3 s, well under a retry storm.
    assert!(
        started.elapsed().as_secs_f64() > 3.0,
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

/// An SQS batch as the event source mapping delivers it from the FIFO queue: one message
/// group, records in order, each body an EventBridge event.
fn sqs_batch(bodies: &[Value]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let body = match body {
                Value::String(raw) => raw.clone(),
                other => other.to_string(),
            };
            json!({
                "messageId": format!("m-{i}"), "receiptHandle": format!("rh-{i}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "changes",
                               "MessageDeduplicationId": format!("d-{i}"), "SequenceNumber": format!("{}", 1000 + i),
                               "SentTimestamp": "1764750000000", "SenderId": "AIDAEXAMPLE",
                               "ApproximateFirstReceiveTimestamp": "1764750000001"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ecs-secrets-changes.fifo",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

fn failed_items(summary: &Value) -> Vec<String> {
    summary["batchItemFailures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
        .collect()
}

/// The three events one rotation emits (native label update, CloudTrail
/// UpdateSecretVersionStage moving AWSCURRENT, RotationSucceeded), at `time`.
fn rotation_events(secret: &str, time: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = vec![label_updated(secret, time)];
    for name in [
        "update-secret-version-stage.json",
        "rotation-succeeded.json",
    ] {
        let path = harness::paths::workspace_root()
            .join("shared/testdata/events")
            .join(name);
        let text = std::fs::read_to_string(path)?.replace(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123",
            secret,
        );
        let mut event: Value = serde_json::from_str(&text)?;
        event["time"] = json!(time);
        if event["detail"].get("eventTime").is_some() {
            event["detail"]["eventTime"] = json!(time);
        }
        out.push(event);
    }
    Ok(out)
}

#[tokio::test]
async fn one_batch_one_discovery_one_deployment_per_service() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let second = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/db-XyZ789";
    let td = task_definition(moto, "other", vec![Place::Secret(second.into())]).await?;
    service(moto, "prod", "other-a", &td, &[]).await?;
    service(moto, "stage", "other-b", &td, &[]).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let lambda = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;
    let mut bodies = rotation_events(&f.secret, &time)?;
    bodies.push(label_updated(second, &time));
    let summary = lambda.invoke_ok(&sqs_batch(&bodies)).await?;

    let mut expected = f.expected_redeploy.clone();
    expected.extend(["prod/other-a".to_string(), "stage/other-b".to_string()]);
    let after = deployments(moto).await?;
    assert_eq!(changed(&before, &after), expected, "{summary}");
    assert_eq!(names(&summary["redeployed"]), expected);
    assert_eq!(
        summary["api_calls"]["UpdateService"],
        expected.len(),
        "one deployment per service: {}",
        summary["api_calls"]
    );
    assert_eq!(
        summary["api_calls"]["ListClusters"], 1,
        "one discovery pass"
    );
    assert_eq!(
        summary["api_calls"]["DescribeTaskDefinition"],
        f.task_definitions + 1,
        "each distinct revision read once"
    );
    assert!(failed_items(&summary).is_empty(), "{summary}");
    let changes = summary["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 4);
    assert_eq!(changes[3]["messageId"], "m-3");
    assert_eq!(changes[3]["redeployed"], 2);
    Ok(())
}

#[tokio::test]
async fn the_events_of_one_rotation_in_separate_batches_deploy_once() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let lambda = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;
    let mut updates = 0;
    for event in rotation_events(&f.secret, &time)? {
        let summary = lambda.invoke_ok(&sqs_batch(&[event])).await?;
        assert!(failed_items(&summary).is_empty(), "{summary}");
        updates += summary["api_calls"]["UpdateService"].as_u64().unwrap_or(0);
    }
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        f.expected_redeploy
    );
    assert_eq!(
        updates as usize,
        f.expected_redeploy.len(),
        "one deployment each"
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_record_is_retried_and_the_good_change_is_redeployed() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let lambda = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;
    let summary = lambda
        .invoke_ok(&sqs_batch(&[
            label_updated(&f.secret, &time),
            Value::String("{not an event".into()),
        ]))
        .await?;
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        f.expected_redeploy
    );
    assert_eq!(failed_items(&summary), ["m-1"]);
    assert_eq!(summary["invalid"][0]["messageId"], "m-1");
    Ok(())
}

#[tokio::test]
async fn a_failing_service_fails_its_record_and_the_redelivery_completes() -> anyhow::Result<()> {
    use harness::faults::Faults;
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let second = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/db-XyZ789";
    let td = task_definition(moto, "other", vec![Place::Secret(second.into())]).await?;
    service(moto, "prod", "other-a", &td, &[]).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let (proxy, lambda) = redeployer_denying(&world, moto, "jsonkey").await?;
    // The second secret's change first, then the one whose services include the failing one.
    let batch = sqs_batch(&[
        label_updated(second, &time),
        label_updated(&f.secret, &time),
    ]);
    let summary = lambda.invoke_ok(&batch).await?;
    assert_eq!(failed_items(&summary), ["m-1"], "{summary}");
    let mut others = f.expected_redeploy.clone();
    others.remove("prod/jsonkey");
    others.insert("prod/other-a".into());
    assert_eq!(changed(&before, &deployments(moto).await?), others);

    // Redelivery of the same batch (the fault is gone): only the missing service.
    proxy.set_faults(Faults::default());
    let mid = deployments(moto).await?;
    let again = lambda.invoke_ok(&batch).await?;
    assert!(failed_items(&again).is_empty(), "{again}");
    assert_eq!(
        changed(&mid, &deployments(moto).await?),
        ["prod/jsonkey".to_string()].into_iter().collect()
    );
    Ok(())
}

#[tokio::test]
async fn a_deployment_in_the_same_second_as_the_change_is_redeployed() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:same/second-AbC123";
    let td = task_definition(moto, "same", vec![Place::Secret(secret.into())]).await?;
    moto.ecs()
        .create_cluster()
        .cluster_name("edge")
        .send()
        .await?;
    service(moto, "edge", "web", &td, &[]).await?;
    let described = moto
        .ecs()
        .describe_services()
        .cluster("edge")
        .services("web")
        .send()
        .await?;
    let created = described
        .services()
        .first()
        .and_then(|s| s.deployments().first())
        .and_then(|d| d.created_at())
        .map(|t| t.secs())
        .ok_or_else(|| anyhow::anyhow!("no deployment time"))?;
    // EventBridge's whole-second time of a change that happened later in that second.
    let time = chrono::DateTime::from_timestamp(created, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let before = deployments(moto).await?;
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let summary = lambda.invoke_ok(&label_updated(secret, &time)).await?;
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        ["edge/web".to_string()].into_iter().collect(),
        "{summary}"
    );
    Ok(())
}

#[tokio::test]
async fn near_the_deadline_no_update_starts_and_the_rest_is_retried() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    // One update every 2 s and a 30 s invocation: updates start while 15 s are left (at most
    // 8 of the fleet's services), then the deadline is too near for the next. The window is
    // 15 s, not 5, so that a loaded machine's start-up and discovery still leave room for one.
    let lambda = world
        .lambda(
            Function::EcsRedeployer,
            &[("MAX_UPDATES_PER_SECOND", "0.5")],
        )
        .await?
        .with_timeout(std::time::Duration::from_secs(30));
    let batch = sqs_batch(&[label_updated(&f.secret, &time)]);
    let summary = lambda.invoke_ok(&batch).await?;
    assert_eq!(failed_items(&summary), ["m-0"], "{summary}");
    let done = changed(&before, &deployments(moto).await?);
    assert!(
        !done.is_empty() && done.len() < f.expected_redeploy.len(),
        "some, not all: {done:?}"
    );
    assert!(summary["failed"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|s| s["error"].as_str().is_some_and(|e| e.contains("deadline"))));

    // The redelivery (with time enough) redeploys exactly what is left.
    let patient = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;
    let mid = deployments(moto).await?;
    let again = patient.invoke_ok(&batch).await?;
    assert!(failed_items(&again).is_empty(), "{again}");
    let rest = changed(&mid, &deployments(moto).await?);
    assert_eq!(
        done.union(&rest).cloned().collect::<BTreeSet<_>>(),
        f.expected_redeploy
    );
    assert!(done.is_disjoint(&rest), "nothing deployed twice");
    Ok(())
}

/// The deployed delivery path on moto: rule → FIFO queue (content-based deduplication) →
/// the event source mapping's batch → the binary → settled messages.
#[tokio::test]
async fn through_the_fifo_queue_duplicates_meet_in_one_batch_and_nothing_is_left(
) -> anyhow::Result<()> {
    use harness::esm::FifoSource;
    let world = World::new();
    let moto = world.moto().await?;
    let f = fleet(moto).await?;
    let source = FifoSource::start(moto, &["aws.secretsmanager", "aws.ssm"], 5).await?;
    let before = deployments(moto).await?;
    let time = change_time().await;
    let events = rotation_events(&f.secret, &time)?;
    for event in &events {
        source.send(event).await?;
    }
    // The same event twice within the deduplication window: one message.
    source.send(&events[0]).await?;
    // Routed by the rule (the simulation's own check): a parameter no service reads.
    aws_sdk_eventbridge::Client::new(&moto.sdk_config())
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .source("aws.ssm")
                .detail_type("Parameter Store Change")
                .detail(
                    json!({"name": "/nobody/reads", "type": "String", "operation": "Update"})
                        .to_string(),
                )
                .resources("arn:aws:ssm:us-east-1:123456789012:parameter/nobody/reads")
                .build(),
        )
        .send()
        .await?;
    let lambda = world
        .lambda(Function::EcsRedeployer, &[("MAX_UPDATES_PER_SECOND", "50")])
        .await?;
    let summary = source
        .deliver(&lambda)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no batch"))?;
    assert_eq!(summary["records"], 4, "3 distinct + 1 routed: {summary}");
    assert!(failed_items(&summary).is_empty(), "{summary}");
    assert_eq!(
        changed(&before, &deployments(moto).await?),
        f.expected_redeploy
    );
    assert_eq!(
        summary["api_calls"]["UpdateService"],
        f.expected_redeploy.len()
    );
    assert!(
        source.deliver(&lambda).await?.is_none(),
        "every message settled"
    );
    assert_eq!(source.dead_letters().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_record_that_keeps_failing_reaches_the_fifo_dead_letter_queue() -> anyhow::Result<()> {
    use harness::esm::FifoSource;
    let world = World::new();
    let moto = world.moto().await?;
    let source = FifoSource::start(moto, &["aws.secretsmanager"], 2).await?;
    source.send(&json!("not an event")).await?;
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let mut deliveries = 0;
    while let Some(summary) = source.deliver(&lambda).await? {
        deliveries += 1;
        assert_eq!(failed_items(&summary).len(), 1, "{summary}");
        anyhow::ensure!(deliveries < 5, "never redriven");
    }
    assert_eq!(
        deliveries, 2,
        "maxReceiveCount receives, then the dead-letter queue"
    );
    assert_eq!(source.dead_letters().await?, 1);
    Ok(())
}

/// Issue 13: a service-managed secret (`rds!db-…`, rotated by RDS without a Lambda) on its
/// label event and on both shapes of `RotationSucceeded`: exactly its consumers — by full
/// ARN, JSON key and partial ARN — are redeployed, each time.
#[tokio::test]
async fn managed_rds_secret_changes_redeploy_exactly_their_consumers() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let name = "rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93";
    let secret = moto
        .create_secret(name, r#"{"username":"postgres","password":"x"}"#)
        .await?;
    assert!(secret.contains(":secret:rds!db-"), "{secret}");
    let other = moto.create_secret("other", "y").await?;
    let partial = secret
        .rsplit_once('-')
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default();
    moto.ecs()
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await?;
    use Place::*;
    for (family, place) in [
        ("full", Secret(secret.clone())),
        ("jsonkey", Secret(format!("{secret}:password::"))),
        ("partial", Secret(format!("{partial}:username::"))),
        ("other", Secret(other.clone())),
    ] {
        let td = task_definition(moto, family, vec![place]).await?;
        service(moto, "prod", family, &td, &[]).await?;
    }
    let expected: BTreeSet<String> = ["prod/full", "prod/jsonkey", "prod/partial"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    // `plan` names the same consumers, by ARN or by the service-managed name.
    for target in [secret.as_str(), name] {
        let out = cli(moto, &["plan", "--secret", target, "--format", "json"], &[]).await?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(names(&plan["redeployed"]), expected, "{plan:#}");
    }
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let fixtures = harness::paths::workspace_root().join("shared/testdata/events");
    let fixture = |file: &str, time: &str| -> anyhow::Result<Value> {
        let text = std::fs::read_to_string(fixtures.join(file))?;
        let mut event: Value = serde_json::from_str(&text.replace(
            "rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93-Xy7Zq2",
            secret.rsplit(":secret:").next().unwrap_or_default(),
        ))?;
        event["time"] = json!(time);
        Ok(event)
    };
    for event in [
        "label",
        "rotation-succeeded-managed-additional.json",
        "rotation-succeeded-managed-service-details.json",
    ] {
        let before = deployments(moto).await?;
        let time = change_time().await;
        let event = if event == "label" {
            label_updated(&secret, &time)
        } else {
            fixture(event, &time)?
        };
        let summary = lambda.invoke_ok(&event).await?;
        assert_eq!(names(&summary["redeployed"]), expected, "{summary:#}");
        assert_eq!(changed(&before, &deployments(moto).await?), expected);
    }
    Ok(())
}

/// A CloudTrail record of an ECS call, as EventBridge delivers it.
fn ecs_call(name: &str, time: &str, request: Value, response: Value) -> Value {
    json!({
        "version": "0", "id": format!("ct-{name}-{time}"), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "us-east-1",
        "resources": [],
        "detail": {"eventVersion": "1.08", "eventSource": "ecs.amazonaws.com", "eventName": name,
                   "eventTime": time, "awsRegion": "us-east-1",
                   "requestParameters": request, "responseElements": response}
    })
}

fn ecs_counts(calls: &[harness::faults::Call]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls {
        *out.entry(c.operation.clone()).or_default() += 1;
    }
    out
}

/// Issue 17 through the built binary against moto's ECS and DynamoDB: a 2,000-service fleet
/// indexed by `{"action": "reconcile"}`; a change read by 20 services costs two
/// DescribeServices and 20 UpdateService — no ListClusters, ListServices or
/// DescribeTaskDefinition; CloudTrail records of a registration and of an UpdateService that
/// moves a service onto another secret (through the SQS batch, twice) are applied — what they
/// claim checked with one describe each — and the next change of that secret finds the service.
#[tokio::test]
async fn the_reference_index_finds_consumers_without_scanning_the_fleet() -> anyhow::Result<()> {
    use futures_util::{StreamExt, TryStreamExt};
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let moto = world.moto().await?;
    let ecs = moto.ecs();
    moto.create_index_table("ecs-secrets-index").await?;
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet/db-AbC123";
    let other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet/cache-XyZ789";
    ecs.create_cluster().cluster_name("big").send().await?;
    moto.register_with_secret("reads-db", secret).await?;
    for f in 0..19 {
        moto.register_with_secret(
            &format!("other-{f}"),
            &format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:noise/{f}-QwE{f:03}"),
        )
        .await?;
    }
    let services: Vec<(String, String)> = (0..2000)
        .map(|n| {
            let family = if n % 100 == 0 {
                "reads-db".to_owned()
            } else {
                format!("other-{}", n % 19)
            };
            (format!("svc-{n:04}"), family)
        })
        .collect();
    futures_util::stream::iter(&services)
        .map(|(name, family)| service(moto, "big", name, family, &[]))
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            ecs_scheduler: true,
            ..Faults::default()
        },
    )
    .await?;
    let mut env = proxy.env(moto);
    env.push(("INDEX_TABLE".into(), "ecs-secrets-index".into()));
    env.push(("MAX_READS_PER_SECOND".into(), "20".into()));
    env.push(("MAX_UPDATES_PER_SECOND".into(), "50".into()));
    let lambda = world
        .lambda_with_env(Function::EcsRedeployer, env)
        .await?
        .with_timeout(std::time::Duration::from_secs(300));

    // The scheduled reconciliation, invoked by hand: the whole fleet indexed.
    let summary = lambda.invoke_ok(&json!({"action": "reconcile"})).await?;
    assert_eq!(summary["reconciled"]["services"], 2000, "{summary}");
    assert!(
        summary["reconciled"]["added"].as_u64() > Some(4000),
        "{summary}"
    );
    proxy.clear_calls();
    let before = deployments(moto).await?;
    proxy.clear_calls();
    let time = change_time().await;
    let summary = lambda.invoke_ok(&label_updated(secret, &time)).await?;
    assert_eq!(summary["discovery"], "index", "{summary}");
    let counts = ecs_counts(&proxy.calls());
    assert_eq!(
        counts,
        BTreeMap::from([
            ("DescribeServices".to_owned(), 2),
            ("UpdateService".to_owned(), 20)
        ]),
        "{summary}"
    );
    let after = deployments(moto).await?;
    let moved = changed(&before, &after);
    let expected: BTreeSet<String> = (0..2000)
        .step_by(100)
        .map(|n| format!("big/svc-{n:04}"))
        .collect();
    assert_eq!(moved, expected);

    // A pipeline registers a revision reading `other` and moves svc-0001 onto it; CloudTrail's
    // records reach the function through the queue, then `other` changes.
    let registered = ecs
        .register_task_definition()
        .family("reads-cache")
        .execution_role_arn("arn:aws:iam::123456789012:role/exec")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(
                    "app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                )
                .memory(128)
                .secrets(Secret::builder().name("CACHE").value_from(other).build()?)
                .build(),
        )
        .send()
        .await?;
    let revision = registered
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    // Through the proxy, whose simulation starts the deployment of the new revision (moto
    // alone keeps the old one).
    let updated = proxy
        .ecs(moto)
        .update_service()
        .cluster("big")
        .service("svc-0001")
        .task_definition(&revision)
        .send()
        .await?;
    let service_arn = updated
        .service()
        .and_then(|s| s.service_arn())
        .unwrap_or_default()
        .to_owned();
    let cluster_arn = "arn:aws:ecs:us-east-1:123456789012:cluster/big";
    let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let records = [
        ecs_call(
            "RegisterTaskDefinition",
            &at,
            json!({"family": "reads-cache"}),
            json!({"taskDefinition": {
                "taskDefinitionArn": revision, "family": "reads-cache", "revision": 1,
                "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
                "containerDefinitions": [{"name": "app", "image": "app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    "secrets": [{"name": "CACHE", "valueFrom": other}]}]}}),
        ),
        ecs_call(
            "UpdateService",
            &at,
            json!({"cluster": "big", "service": "svc-0001", "taskDefinition": revision}),
            json!({"service": {"serviceArn": service_arn, "clusterArn": cluster_arn,
                "serviceName": "svc-0001", "taskDefinition": revision,
                "deployments": [{"status": "PRIMARY", "taskDefinition": revision}]}}),
        ),
    ];
    proxy.clear_calls();
    let summary = lambda.invoke_ok(&sqs_batch(&records)).await?;
    assert!(failed_items(&summary).is_empty(), "{summary}");
    assert_eq!(summary["maintenance"].as_array().map(Vec::len), Some(2));
    // Records are hints: the revision and the service are read from ECS (one call each).
    assert_eq!(
        ecs_counts(&proxy.calls()),
        BTreeMap::from([
            ("DescribeServices".to_owned(), 1),
            ("DescribeTaskDefinition".to_owned(), 1)
        ]),
        "{summary}"
    );
    // The same records again (SQS delivers at least once): nothing changes.
    let summary = lambda.invoke_ok(&sqs_batch(&records)).await?;
    assert!(failed_items(&summary).is_empty(), "{summary}");
    let before = deployments(moto).await?;
    proxy.clear_calls();
    let time = change_time().await;
    let summary = lambda.invoke_ok(&label_updated(other, &time)).await?;
    assert_eq!(summary["discovery"], "index", "{summary}");
    let after = deployments(moto).await?;
    assert_eq!(
        changed(&before, &after),
        BTreeSet::from(["big/svc-0001".to_owned()])
    );
    let counts = ecs_counts(&proxy.calls());
    assert_eq!(counts.get("ListServices"), None, "{counts:?}");
    assert_eq!(counts.get("DescribeServices"), Some(&1), "{counts:?}");
    Ok(())
}

/// Moto's answer to AssumeRole into `account`: an SDK configuration whose calls moto books to
/// that account (as AWS would), and the same credentials as environment variables.
async fn as_account(
    moto: &Moto,
    account: &str,
) -> anyhow::Result<(aws_config::SdkConfig, Vec<(String, String)>)> {
    let sts = aws_sdk_sts::Client::new(&moto.sdk_config());
    let out = sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/ecs-secrets-read-us-east-1"
        ))
        .role_session_name("test")
        .send()
        .await?;
    let c = out
        .credentials()
        .ok_or_else(|| anyhow::anyhow!("no credentials"))?;
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    let sdk = moto
        .sdk_config()
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build();
    let mut env: Vec<(String, String)> = moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY") && !k.starts_with("AWS_SECRET"))
        .collect();
    env.push(("AWS_ACCESS_KEY_ID".into(), c.access_key_id().to_owned()));
    env.push((
        "AWS_SECRET_ACCESS_KEY".into(),
        c.secret_access_key().to_owned(),
    ));
    env.push(("AWS_SESSION_TOKEN".into(), c.session_token().to_owned()));
    Ok((sdk, env))
}

/// In `ecs` (some account): a cluster `apps`, a service `name` whose task definition reads
/// `value_from`.
async fn consumer(ecs: &aws_sdk_ecs::Client, name: &str, value_from: &str) -> anyhow::Result<()> {
    ecs.create_cluster().cluster_name("apps").send().await?;
    harness::moto::register_with_secret(ecs, name, value_from).await?;
    ecs.create_service()
        .cluster("apps")
        .service_name(name)
        .task_definition(name)
        .desired_count(1)
        .send()
        .await?;
    Ok(())
}

/// `ecs-secrets <command> --secret … --accounts … --role-name ecs-secrets-read-us-east-1`.
async fn across(
    moto: &Moto,
    command: &str,
    secret: &str,
    accounts: &str,
    json: bool,
) -> anyhow::Result<std::process::Output> {
    let mut args = vec![
        command,
        "--secret",
        secret,
        "--accounts",
        accounts,
        "--role-name",
        "ecs-secrets-read-us-east-1",
    ];
    if json {
        args.extend(["--format", "json"]);
    }
    cli(moto, &args, &[]).await
}

/// `account/<field>` of every item of `list` in each place's result.
fn per_account(answer: &Value, list: &str, field: &str) -> BTreeSet<String> {
    answer["places"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            let account = p["account"].as_str().unwrap_or_default().to_owned();
            p["result"][list]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |r| format!("{account}/{}", r[field].as_str().unwrap_or_default()))
        })
        .collect()
}

/// Issue 17, across accounts on moto (accounts through assumed roles, as the StackSet's
/// read-only role gives them): a change of a secret owned by account A, forwarded to account
/// B, redeploys B's service that references it by full ARN and not B's service that names a
/// secret of the same name in its own account; `plan --accounts A,B,C --role-name …` lists the
/// consumers of all three in one answer; bad options are usage errors.
#[tokio::test]
async fn a_secret_of_one_account_redeploys_its_consumers_in_others() -> anyhow::Result<()> {
    const A: &str = "123456789012";
    const B: &str = "210987654321";
    const C: &str = "333333333333";
    let world = World::new();
    let moto = world.moto().await?;
    let secret = moto
        .create_secret("shared/db", r#"{"password":"x"}"#)
        .await?;
    assert!(secret.contains(&format!(":{A}:")), "{secret}");
    consumer(&moto.ecs(), "in-a", &secret).await?;
    let (b_sdk, b_env) = as_account(moto, B).await?;
    let b_ecs = aws_sdk_ecs::Client::new(&b_sdk);
    consumer(&b_ecs, "reads-a", &secret).await?;
    // The same name in B's own region and account: another secret (ECS reads B's).
    consumer(
        &b_ecs,
        "reads-own",
        "/aws/reference/secretsmanager/shared/db",
    )
    .await?;
    let (c_sdk, _) = as_account(moto, C).await?;
    consumer(&aws_sdk_ecs::Client::new(&c_sdk), "in-c", &secret).await?;
    let before: BTreeMap<String, String> = {
        let d = b_ecs
            .describe_services()
            .cluster("apps")
            .services("reads-a")
            .services("reads-own")
            .send()
            .await?;
        d.services()
            .iter()
            .map(|s| {
                (
                    s.service_name().unwrap_or_default().to_owned(),
                    s.deployments()[0].id().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(before.len(), 2, "B's services live in B");
    let lambda = world
        .lambda_with_env(Function::EcsRedeployer, b_env)
        .await?;
    let time = change_time().await;
    // The owner's event, as B's bus receives it forwarded: account A, the secret's full ARN.
    let summary = lambda.invoke_ok(&label_updated(&secret, &time)).await?;
    let redeployed: Vec<&str> = summary["redeployed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["service"].as_str())
        .collect();
    assert_eq!(redeployed, ["reads-a"], "{summary}");
    let after = b_ecs
        .describe_services()
        .cluster("apps")
        .services("reads-a")
        .services("reads-own")
        .send()
        .await?;
    for s in after.services() {
        let name = s.service_name().unwrap_or_default();
        let moved = s.deployments()[0].id().unwrap_or_default() != before[name];
        assert_eq!(moved, name == "reads-a", "{name}");
    }

    let accounts = format!("{A},{B},{C}");
    let out = across(moto, "plan", &secret, &accounts, true).await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = BTreeSet::from([
        format!("{A}/in-a"),
        format!("{B}/reads-a"),
        format!("{C}/in-c"),
    ]);
    let plan: Value = serde_json::from_str(&stdout)?;
    assert_eq!(
        per_account(&plan, "redeployed", "service"),
        expected,
        "{stdout}"
    );
    let text = across(moto, "plan", &secret, &accounts, false).await?;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Would redeploy 3 service(s) in 3 place(s)"),
        "{text}"
    );
    assert!(text.contains(&format!("{B}/us-east-1")), "{text}");

    // `status` across the same accounts: one answer, B's second service is no consumer, and
    // not every consumer runs the new value yet (the plan redeployed nothing): exit 1.
    let out = across(moto, "status", &secret, &accounts, true).await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let status: Value = serde_json::from_str(&stdout)?;
    assert_eq!(
        per_account(&status, "consumers", "name"),
        expected,
        "{stdout}"
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stdout}");

    // Bad options are usage errors naming the option.
    let bad = cli(
        moto,
        &[
            "plan",
            "--secret",
            &secret,
            "--accounts",
            "12345",
            "--role-name",
            "r",
        ],
        &[],
    )
    .await?;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--accounts"));
    let no_role = cli(moto, &["plan", "--secret", &secret, "--accounts", A], &[]).await?;
    assert_eq!(
        no_role.status.code(),
        Some(2),
        "--accounts needs --role-name"
    );
    Ok(())
}
