//! Propagation (issue 16): did a rotated secret reach every consumer? moto does not run tasks
//! or roll deployments out, so the fault proxy's scheduler simulation does, at the wire
//! (`harness::scheduler`), and is itself checked first.

use std::time::Duration;

use aws_sdk_ecs::types::{ContainerDefinition, Secret, Tag};
use harness::faults::{FaultProxy, Faults};
use harness::{Function, Moto, World};
use serde_json::{json, Value};

const DIGEST: &str = "public.ecr.aws/nginx/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn register(
    ecs: &aws_sdk_ecs::Client,
    family: &str,
    image: &str,
    value_from: &str,
) -> anyhow::Result<String> {
    let out = ecs
        .register_task_definition()
        .family(family)
        .execution_role_arn("arn:aws:iam::123456789012:role/exec")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(image)
                .memory(128)
                .secrets(
                    Secret::builder()
                        .name("DB_PASSWORD")
                        .value_from(value_from)
                        .build()?,
                )
                .build(),
        )
        .send()
        .await?;
    Ok(out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned())
}

async fn service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
    td: &str,
    desired: i32,
    tags: &[(&str, &str)],
) -> anyhow::Result<()> {
    let mut req = ecs
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(td)
        .desired_count(desired);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build());
    }
    req.send().await?;
    Ok(())
}

async fn scheduler_proxy(moto: &Moto) -> anyhow::Result<FaultProxy> {
    FaultProxy::start(
        moto.endpoint(),
        Faults {
            ecs_scheduler: true,
            secret_version_dates: true,
            ..Faults::default()
        },
    )
    .await
}

async fn describe(ecs: &aws_sdk_ecs::Client, cluster: &str, name: &str) -> anyhow::Result<Value> {
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await?;
    let s = out
        .services()
        .first()
        .ok_or_else(|| anyhow::anyhow!("no service {name}"))?;
    Ok(json!({
        "running": s.running_count(),
        "deployments": s.deployments().iter().map(|d| json!({
            "id": d.id(), "status": d.status(),
            "rollout": d.rollout_state().map(|r| r.as_str().to_owned()),
            "running": d.running_count(),
        })).collect::<Vec<_>>(),
    }))
}

async fn task_groups(ecs: &aws_sdk_ecs::Client, cluster: &str) -> anyhow::Result<Vec<String>> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .send()
        .await?
        .task_arns()
        .to_vec();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let tasks = ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await?;
    let mut groups: Vec<String> = tasks
        .tasks()
        .iter()
        .map(|t| t.group().unwrap_or_default().to_owned())
        .collect();
    groups.sort();
    Ok(groups)
}

/// The simulation itself: adoption, a roll-out step by step, a failure with rollback, a
/// standalone task, the events — and everything else is moto's answer unchanged.
#[tokio::test]
async fn the_scheduler_simulation_behaves_as_ecs_reports() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let proxy = scheduler_proxy(moto).await?;
    let ecs = proxy.ecs(moto);
    let direct = moto.ecs();
    ecs.create_cluster().cluster_name("sim").send().await?;
    let td = register(&direct, "web", "web:1", "/app/db").await?;
    service(&direct, "sim", "web", &td, 2, &[]).await?;
    service(&direct, "sim", "api", &td, 1, &[]).await?;

    // Adopted as ECS shows a settled service: one completed PRIMARY deployment, its tasks.
    let web = describe(&ecs, "sim", "web").await?;
    assert_eq!(web["running"], 2, "{web}");
    assert_eq!(web["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(web["deployments"][0]["rollout"], "COMPLETED");
    describe(&ecs, "sim", "api").await?;
    assert_eq!(
        task_groups(&ecs, "sim").await?,
        vec!["service:api", "service:web", "service:web"]
    );
    // The fields the simulation does not own are moto's: the same answer without the proxy,
    // once deployments and counts are set aside.
    let strip = |mut v: Value| {
        for s in v["services"].as_array_mut().into_iter().flatten() {
            for k in ["deployments", "runningCount", "pendingCount"] {
                s.as_object_mut().map(|o| o.remove(k));
            }
        }
        v
    };
    let raw = |endpoint: String| async move {
        let body = json!({"cluster": "sim", "services": ["web"]}).to_string();
        let out = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(endpoint)
            .header("x-amz-target", "AmazonEC2ContainerServiceV20141113.DescribeServices")
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=x",
            )
            .body(body)
            .send()
            .await?
            .json::<Value>()
            .await?;
        anyhow::Ok(out)
    };
    assert_eq!(
        strip(raw(proxy.endpoint().to_owned()).await?),
        strip(raw(moto.endpoint().to_owned()).await?)
    );

    // A forced deployment rolls out one task per step, then completes.
    proxy.scheduler().fail_next_deployment("api");
    for name in ["web", "api"] {
        ecs.update_service()
            .cluster("sim")
            .service(name)
            .force_new_deployment(true)
            .send()
            .await?;
    }
    let web = describe(&ecs, "sim", "web").await?;
    assert_eq!(web["deployments"][0]["status"], "PRIMARY");
    assert_eq!(web["deployments"][0]["rollout"], "IN_PROGRESS");
    assert_eq!(web["deployments"][1]["status"], "ACTIVE");
    proxy.scheduler().step();
    let web = describe(&ecs, "sim", "web").await?;
    assert_eq!(web["deployments"][0]["running"], 1, "{web}");
    assert_eq!(web["deployments"][1]["running"], 1, "{web}");
    // The failing one: FAILED, rolled back to a completed PRIMARY that keeps the old tasks.
    let api = describe(&ecs, "sim", "api").await?;
    assert_eq!(api["deployments"][0]["status"], "PRIMARY", "{api}");
    assert_eq!(api["deployments"][0]["rollout"], "COMPLETED");
    assert_eq!(api["deployments"][1]["rollout"], "FAILED");
    assert_eq!(api["running"], 1);
    proxy.scheduler().settle(10);
    let web = describe(&ecs, "sim", "web").await?;
    assert_eq!(web["deployments"].as_array().unwrap().len(), 1, "{web}");
    assert_eq!(web["deployments"][0]["rollout"], "COMPLETED");
    assert_eq!(web["running"], 2);

    // A task no service owns.
    proxy
        .scheduler()
        .run_task("sim", &td, chrono::Utc::now() - chrono::Duration::hours(1));
    let groups = task_groups(&ecs, "sim").await?;
    assert!(groups.contains(&"family:web".to_owned()), "{groups:?}");
    let only_web = ecs
        .list_tasks()
        .cluster("sim")
        .service_name("web")
        .send()
        .await?;
    assert_eq!(only_web.task_arns().len(), 2);

    // The events ECS would have sent, in order.
    let events: Vec<(String, String)> = proxy
        .scheduler()
        .take_events()
        .iter()
        .map(|e| {
            (
                e["resources"][0]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                e["detail"]["eventName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let of = |name: &str| -> Vec<&str> {
        events
            .iter()
            .filter(|(s, _)| s == name)
            .map(|(_, e)| e.as_str())
            .collect()
    };
    assert_eq!(
        of("web"),
        vec![
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_COMPLETED"
        ]
    );
    assert_eq!(
        of("api"),
        vec![
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_FAILED"
        ]
    );
    Ok(())
}

async fn cli(env: &[(String, String)], args: &[&str]) -> anyhow::Result<(i32, String, String)> {
    let out = harness::ecs_secrets(args, env).await?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

async fn status(env: &[(String, String)], secret: &str) -> anyhow::Result<(i32, Value)> {
    let (code, out, err) = cli(env, &["status", "--secret", secret, "--format", "json"]).await?;
    let v: Value = serde_json::from_str(&out).map_err(|e| anyhow::anyhow!("{e}: {out} {err}"))?;
    Ok((code, v))
}

/// consumer name → state.
fn states(status: &Value) -> std::collections::BTreeMap<String, String> {
    status["consumers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let name = if c["kind"] == "task" {
                "job".to_owned()
            } else {
                c["name"].as_str().unwrap_or_default().to_owned()
            };
            (name, c["state"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `ecs-secrets status` through a rotation: every consumer stale before the redeploy, rolling
/// during it, fresh after it — except the service whose deployment fails (failed) and the task
/// no service owns (stale, with the command that replaces it); pinned and opted-out services
/// are skipped with their reasons. Exit 1 until the change propagated, 0 once it has.
#[tokio::test]
async fn status_follows_a_rotation_to_every_consumer() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let proxy = scheduler_proxy(moto).await?;
    let env = proxy.env(moto);
    let ecs = moto.ecs();
    let sm = moto.secrets_manager();
    let db = moto.create_secret("db", r#"{"password":"old"}"#).await?;
    let cache = moto.create_secret("cache", r#"{"password":"old"}"#).await?;
    ecs.create_cluster().cluster_name("prod").send().await?;
    let web = register(&ecs, "web", "public.ecr.aws/nginx/nginx:latest", &db).await?;
    let pinned = register(
        &ecs,
        "pinned",
        DIGEST,
        &format!("{db}:password::EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"),
    )
    .await?;
    let worker = register(&ecs, "worker", DIGEST, &cache).await?;
    service(&ecs, "prod", "web", &web, 2, &[]).await?;
    service(&ecs, "prod", "api", &web, 1, &[]).await?;
    service(
        &ecs,
        "prod",
        "opted-out",
        &web,
        1,
        &[("secret-redeploy", "off")],
    )
    .await?;
    service(&ecs, "prod", "pinned", &pinned, 1, &[]).await?;
    service(&ecs, "prod", "worker", &worker, 1, &[]).await?;
    // The proxy adopts the services (their tasks start now), and a job no service owns.
    cli(&env, &["plan", "--secret", "db"]).await?;
    proxy.scheduler().run_task(
        "prod",
        &web,
        chrono::Utc::now() - chrono::Duration::minutes(5),
    );

    // The change, a second later than every task.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for id in [&db, &cache] {
        sm.put_secret_value()
            .secret_id(id.as_str())
            .secret_string(r#"{"password":"new"}"#)
            .send()
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let (code, before) = status(&env, "db").await?;
    assert_eq!(code, 1, "{before}");
    assert_eq!(before["propagated"], false);
    assert_eq!(
        states(&before),
        map(&[
            ("api", "stale"),
            ("job", "stale"),
            ("opted-out", "skipped"),
            ("pinned", "skipped"),
            ("web", "stale"),
        ])
    );
    let consumers = before["consumers"].as_array().unwrap();
    let find = |v: &Value, name: &str| -> Value {
        v["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name || (name == "job" && c["kind"] == "task"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert!(find(&before, "opted-out")["reason"]
        .as_str()
        .unwrap()
        .contains("opted out"));
    assert!(find(&before, "pinned")["reason"]
        .as_str()
        .unwrap()
        .contains("pinned"));
    assert!(find(&before, "job")["command"]
        .as_str()
        .unwrap()
        .contains("aws ecs stop-task --cluster prod"));
    assert!(find(&before, "web")["warnings"][0]
        .as_str()
        .unwrap()
        .contains("nginx:latest"));
    assert_eq!(consumers.len(), 5);

    // The redeployer forces the deployments; the one of `api` will fail.
    proxy.scheduler().fail_next_deployment("api");
    let lambda = world
        .lambda_with_env(Function::EcsRedeployer, env.clone())
        .await?;
    for (secret, name) in [(&db, "db"), (&cache, "cache")] {
        let summary = lambda
            .invoke_ok(&json!({
                "version": "0", "id": format!("evt-{name}"), "detail-type": "Secret Label Updated",
                "source": "aws.secretsmanager", "account": "123456789012",
                "region": "us-east-1", "resources": [secret],
                "detail": {"name": name, "labelUpdated": "AWSCURRENT"}
            }))
            .await?;
        assert!(
            !summary["redeployed"].as_array().unwrap().is_empty(),
            "{summary}"
        );
    }
    let (code, during) = status(&env, "db").await?;

    assert_eq!(code, 1);
    assert_eq!(
        states(&during),
        map(&[
            ("api", "rolling"),
            ("job", "stale"),
            ("opted-out", "skipped"),
            ("pinned", "skipped"),
            ("web", "rolling"),
        ])
    );
    let (_, text, _) = cli(&env, &["status", "--secret", "db"]).await?;
    assert!(text.contains("Propagated: no"), "{text}");
    assert!(text.contains("rolling  service prod/web"), "{text}");
    assert!(text.contains("replace it: aws ecs stop-task"), "{text}");

    proxy.scheduler().step();
    let (_, mid) = status(&env, "db").await?;
    assert_eq!(states(&mid)["web"], "rolling", "one of two tasks replaced");
    assert_eq!(states(&mid)["api"], "failed");
    assert!(find(&mid, "api")["reason"]
        .as_str()
        .unwrap()
        .contains("circuit breaker"));

    proxy.scheduler().settle(10);
    let (code, after) = status(&env, "db").await?;
    assert_eq!(code, 1, "api failed and the job is stale: not propagated");
    assert_eq!(
        states(&after),
        map(&[
            ("api", "failed"),
            ("job", "stale"),
            ("opted-out", "skipped"),
            ("pinned", "skipped"),
            ("web", "fresh"),
        ])
    );

    // The cache secret's only consumer is fresh: propagated, exit 0, with the time it took.
    let (code, cache_status) = status(&env, "cache").await?;
    assert_eq!(code, 0, "{cache_status}");
    assert_eq!(cache_status["propagated"], true);
    assert_eq!(states(&cache_status), map(&[("worker", "fresh")]));
    assert!(cache_status["propagation_seconds"].as_f64().unwrap() > 0.0);
    assert!(
        find(&cache_status, "worker")["warnings"].is_null(),
        "a digest is not a tag"
    );

    // Errors: exit 2 with the reason.
    let (code, _, err) = cli(&env, &["status", "--secret", "no-such-secret"]).await?;
    assert_eq!(code, 2);
    assert!(err.contains("cannot find secret"), "{err}");
    Ok(())
}

/// A forced deployment also pulls a mutable tag again: `plan` and the summary say so for a
/// `:latest` image and not for a digest.
#[tokio::test]
async fn plan_and_summary_warn_about_mutable_image_tags() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let ecs = moto.ecs();
    let db = moto.create_secret("db", r#"{"password":"x"}"#).await?;
    ecs.create_cluster().cluster_name("prod").send().await?;
    let latest = register(&ecs, "latest", "public.ecr.aws/nginx/nginx:latest", &db).await?;
    let digest = register(&ecs, "digest", DIGEST, &db).await?;
    service(&ecs, "prod", "by-tag", &latest, 1, &[]).await?;
    service(&ecs, "prod", "by-digest", &digest, 1, &[]).await?;
    let (code, text, err) = cli(&moto.env(), &["plan", "--secret", "db"]).await?;
    assert_eq!(code, 0, "{err}");
    let by_tag = text.find("prod/by-tag").expect("listed");
    let by_digest = text.find("prod/by-digest").expect("listed");
    let warning = text
        .find("warning: container `app` runs `public.ecr.aws/nginx/nginx:latest`, a tag rather than a digest")
        .expect(&text);
    assert!(warning > by_tag, "{text}");
    assert_eq!(text.matches("warning:").count(), 1, "{text}");
    let _ = by_digest;

    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let summary = lambda
        .invoke_ok(&json!({
            "version": "0", "id": "evt-1", "detail-type": "Secret Label Updated",
            "source": "aws.secretsmanager", "account": "123456789012",
            "region": "us-east-1", "resources": [db],
            "detail": {"name": "db", "labelUpdated": "AWSCURRENT"}
        }))
        .await?;
    let redeployed = summary["redeployed"].as_array().unwrap();
    let tagged = redeployed
        .iter()
        .find(|r| r["service"] == "by-tag")
        .unwrap();
    assert!(tagged["warnings"][0].as_str().unwrap().contains(":latest"));
    let pinned = redeployed
        .iter()
        .find(|r| r["service"] == "by-digest")
        .unwrap();
    assert!(pinned.get("warnings").is_none(), "{pinned}");
    Ok(())
}

/// The proxy's fix of moto's `ListSecretVersionIds` dates (every version "created" at the time
/// of the call): through the proxy each version has its own creation date, as in AWS.
#[tokio::test]
async fn secret_versions_keep_their_creation_dates_through_the_proxy() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let proxy = scheduler_proxy(moto).await?;
    let arn = moto.create_secret("db", r#"{"password":"old"}"#).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    moto.secrets_manager()
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(r#"{"password":"new"}"#)
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let dates = |client: aws_sdk_secretsmanager::Client| {
        let arn = arn.clone();
        async move {
            let out = client
                .list_secret_version_ids()
                .secret_id(arn)
                .send()
                .await?;
            let mut by_stage = std::collections::BTreeMap::new();
            for v in out.versions() {
                let stage = v.version_stages().first().cloned().unwrap_or_default();
                by_stage.insert(stage, v.created_date().map(|d| d.secs()).unwrap_or(0));
            }
            anyhow::Ok(by_stage)
        }
    };
    let now = chrono::Utc::now().timestamp();
    let direct = dates(moto.secrets_manager()).await?;
    assert!(
        direct.values().all(|d| *d >= now),
        "moto's own answer: the time of the call {direct:?}"
    );
    let fixed = dates(proxy.secrets_manager(moto)).await?;
    assert!(fixed["AWSPREVIOUS"] < fixed["AWSCURRENT"], "{fixed:?}");
    assert!(fixed["AWSCURRENT"] < now, "{fixed:?}");
    Ok(())
}

// ---- Propagation tracking in the function (EventBridge Scheduler + events) -----------------

const GROUP: &str = "ecs-secrets-test";
const SCHEDULER_ROLE: &str = "arn:aws:iam::123456789012:role/ecs-secrets-scheduler";

fn scheduler(moto: &Moto) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&moto.sdk_config())
}

/// The checks (schedules) in moto: name → the input EventBridge Scheduler would send.
async fn schedules(moto: &Moto) -> anyhow::Result<std::collections::BTreeMap<String, Value>> {
    let s = scheduler(moto);
    let mut out = std::collections::BTreeMap::new();
    for item in s
        .list_schedules()
        .group_name(GROUP)
        .send()
        .await?
        .schedules()
    {
        let name = item.name().unwrap_or_default().to_owned();
        let got = s
            .get_schedule()
            .group_name(GROUP)
            .name(&name)
            .send()
            .await?;
        let target = got.target().expect("a target");
        assert_eq!(target.role_arn(), SCHEDULER_ROLE);
        assert!(
            target.arn().starts_with("arn:aws:lambda:"),
            "{}",
            target.arn()
        );
        assert!(got
            .schedule_expression()
            .is_some_and(|e| e.starts_with("at(")));
        out.insert(
            name,
            serde_json::from_str(target.input().unwrap_or("null"))?,
        );
    }
    Ok(out)
}

/// Moves a check's deadline (in its schedule's input) into the past: the simulated passing of
/// the deadline.
async fn expire(moto: &Moto, name: &str) -> anyhow::Result<()> {
    let s = scheduler(moto);
    let got = s.get_schedule().group_name(GROUP).name(name).send().await?;
    let target = got.target().expect("a target");
    let mut input: Value = serde_json::from_str(target.input().unwrap_or("null"))?;
    input["check"]["deadline"] =
        json!((chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339());
    s.update_schedule()
        .group_name(GROUP)
        .name(name)
        .schedule_expression(got.schedule_expression().unwrap_or_default())
        .flexible_time_window(got.flexible_time_window().cloned().expect("a window"))
        .target(
            aws_sdk_scheduler::types::Target::builder()
                .arn(target.arn())
                .role_arn(target.role_arn())
                .input(input.to_string())
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// An SQS batch of EventBridge events, as the FIFO queue delivers them.
fn batch(events: &[Value]) -> Value {
    json!({"Records": events.iter().enumerate().map(|(i, e)| json!({
        "messageId": format!("m-{i}"), "receiptHandle": "r", "body": e.to_string(),
        "attributes": {"MessageGroupId": "changes"}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:changes.fifo", "awsRegion": "us-east-1"
    })).collect::<Vec<_>>()})
}

fn label_event(secret: &str) -> Value {
    json!({
        "version": "0", "id": format!("evt-{}", harness::random_token(6)), "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": "123456789012",
        "region": "us-east-1", "resources": [secret],
        "detail": {"labelUpdated": "AWSCURRENT"}
    })
}

/// The function tracks each change it acted on: a schedule per change, `Secret Propagated`
/// exactly once when the last consumer turns fresh (the deployment events delivered twice),
/// `Secret Propagation Failed` at once for a failed deployment, and at the deadline — through
/// the schedule's own input — for a task no service will replace, with its command.
#[tokio::test]
async fn the_redeployer_reports_propagation_exactly_once() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let proxy = scheduler_proxy(moto).await?;
    let ecs = moto.ecs();
    scheduler(moto)
        .create_schedule_group()
        .name(GROUP)
        .send()
        .await?;
    let captured = moto.capture_events("ecs-secrets.redeployer").await?;
    ecs.create_cluster().cluster_name("prod").send().await?;
    let web_db = moto
        .create_secret("web-db", r#"{"password":"old"}"#)
        .await?;
    let api_db = moto
        .create_secret("api-db", r#"{"password":"old"}"#)
        .await?;
    let job_db = moto
        .create_secret("job-db", r#"{"password":"old"}"#)
        .await?;
    let web = register(&ecs, "web", DIGEST, &web_db).await?;
    let api = register(&ecs, "api", DIGEST, &api_db).await?;
    let job = register(&ecs, "job", DIGEST, &job_db).await?;
    service(&ecs, "prod", "web", &web, 2, &[]).await?;
    service(&ecs, "prod", "api", &api, 1, &[]).await?;
    service(&ecs, "prod", "reporter", &job, 1, &[]).await?;
    let mut env = proxy.env(moto);
    env.extend([
        ("PROPAGATION_SCHEDULE_GROUP".to_owned(), GROUP.to_owned()),
        (
            "PROPAGATION_SCHEDULER_ROLE_ARN".to_owned(),
            SCHEDULER_ROLE.to_owned(),
        ),
    ]);
    // Adopt the services, start a job no service owns, then change every secret.
    cli(&env, &["plan", "--secret", "web-db"]).await?;
    proxy.scheduler().run_task(
        "prod",
        &job,
        chrono::Utc::now() - chrono::Duration::minutes(5),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for id in [&web_db, &api_db, &job_db] {
        moto.secrets_manager()
            .put_secret_value()
            .secret_id(id.as_str())
            .secret_string(r#"{"password":"new"}"#)
            .send()
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    proxy.scheduler().fail_next_deployment("api");

    let lambda = world
        .lambda_with_env(Function::EcsRedeployer, env.clone())
        .await?;
    let out = lambda
        .invoke_ok(&batch(&[
            label_event(&web_db),
            label_event(&api_db),
            label_event(&job_db),
        ]))
        .await?;
    assert_eq!(out["batchItemFailures"], json!([]), "{out}");
    let checks: Vec<String> = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["propagation_check"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        checks.iter().all(|c| c.starts_with("ecs-secrets-")),
        "{out}"
    );
    let held = schedules(moto).await?;
    assert_eq!(held.len(), 3, "one check per change: {held:?}");
    assert_eq!(held[&checks[0]]["action"], "propagation-check");

    // The roll-outs: web completes, api fails; their events reach the function (twice).
    proxy.scheduler().settle(10);
    let deployment_events = proxy.scheduler().take_events();
    assert!(deployment_events.len() >= 6, "{deployment_events:?}");
    for _ in 0..2 {
        let out = lambda.invoke_ok(&batch(&deployment_events)).await?;
        assert_eq!(out["batchItemFailures"], json!([]), "{out}");
    }
    // Received messages stay invisible for a while: keep every one as it arrives.
    let mut reports = moto.received_events(&captured).await?;
    let of = |reports: &[Value], kind: &str, secret: &str| -> Vec<Value> {
        reports
            .iter()
            .filter(|e| e["detail-type"] == kind && e["detail"]["change"]["secret"] == secret)
            .cloned()
            .collect()
    };
    assert_eq!(
        of(&reports, "Secret Propagated", &web_db).len(),
        1,
        "{reports:?}"
    );
    let propagated = &of(&reports, "Secret Propagated", &web_db)[0];
    assert_eq!(propagated["source"], "ecs-secrets.redeployer");
    assert_eq!(propagated["detail"]["consumers"][0]["state"], "fresh");
    assert!(propagated["detail"]["propagationSeconds"].as_f64().unwrap() > 0.0);
    let failed = of(&reports, "Secret Propagation Failed", &api_db);
    assert_eq!(failed.len(), 1, "{reports:?}");
    assert_eq!(failed[0]["detail"]["failing"], json!(["prod/api"]));
    // The job's change waits: its service is fresh, the job is not.
    assert!(of(&reports, "Secret Propagated", &job_db).is_empty());
    assert!(of(&reports, "Secret Propagation Failed", &job_db).is_empty());
    assert_eq!(
        reports.len(),
        2,
        "one report per decided change: {reports:?}"
    );
    let left = schedules(moto).await?;
    assert_eq!(left.len(), 1, "only the job's check is left: {left:?}");

    // Anyone who may invoke the function could send a check of their own: only its name is
    // used, and the check is the schedule's. A made-up change time (which would make every
    // task "fresh") and an untracked name report nothing of their own.
    let input = left.values().next().unwrap().clone();
    let mut forged = input.clone();
    forged["check"]["changedAt"] = json!("2020-01-01T00:00:00Z");
    let mut unknown = input.clone();
    unknown["check"]["name"] = json!("ecs-secrets-0123456789abcdef");
    lambda.invoke_ok(&unknown).await?;
    assert!(
        moto.received_events(&captured).await?.is_empty(),
        "an untracked name reports nothing"
    );
    // Before its deadline, even the schedule's own input decides nothing.
    lambda.invoke_ok(&forged).await?;
    lambda.invoke_ok(&input).await?;
    assert!(
        moto.received_events(&captured).await?.is_empty(),
        "not due yet"
    );
    // The deadline passes (the stored check's deadline is moved into the past, as time would),
    // and EventBridge Scheduler invokes the function with the schedule's input — here forged.
    let name = input["check"]["name"].as_str().unwrap().to_owned();
    expire(moto, &name).await?;
    lambda.invoke_ok(&forged).await?;
    lambda.invoke_ok(&input).await?; // the schedule's own delivery reports nothing more
    reports.extend(moto.received_events(&captured).await?);
    let job_failed = of(&reports, "Secret Propagation Failed", &job_db);
    assert_eq!(job_failed.len(), 1, "{reports:?}");
    assert_eq!(reports.len(), 3, "{reports:?}");
    let stale: Vec<&Value> = job_failed[0]["detail"]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "stale")
        .collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["kind"], "task");
    assert!(stale[0]["command"]
        .as_str()
        .unwrap()
        .contains("aws ecs stop-task --cluster prod"));
    assert!(schedules(moto).await?.is_empty(), "every check reported");
    // No value ever left: the reports hold the change and the verdicts only.
    let text = serde_json::to_string(&reports)?;
    assert!(
        !text.contains("\"new\"") && !text.contains("password"),
        "{text}"
    );
    Ok(())
}

/// The simulation's answer to what moto does not do: an update to another task definition
/// starts a deployment of it (PRIMARY, the old one ACTIVE until rolled out), forced or not; an
/// update to the same one starts nothing.
#[tokio::test]
async fn the_simulation_deploys_an_updated_task_definition() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let proxy = scheduler_proxy(moto).await?;
    let ecs = proxy.ecs(moto);
    ecs.create_cluster().cluster_name("sim").send().await?;
    let v1 = register(&ecs, "web", "web:1", "/app/db").await?;
    let v2 = register(&ecs, "web", "web:2", "/app/other").await?;
    service(&ecs, "sim", "web", &v1, 1, &[]).await?;
    let deployments = |ecs: aws_sdk_ecs::Client| async move {
        let out = ecs
            .describe_services()
            .cluster("sim")
            .services("web")
            .send()
            .await?;
        let s = out
            .services()
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no web"))?;
        Ok::<Vec<(String, String)>, anyhow::Error>(
            s.deployments()
                .iter()
                .map(|d| {
                    (
                        d.status().unwrap_or_default().to_owned(),
                        d.task_definition().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
        )
    };
    assert_eq!(
        deployments(ecs.clone()).await?,
        [("PRIMARY".to_owned(), v1.clone())]
    );
    ecs.update_service()
        .cluster("sim")
        .service("web")
        .task_definition(&v2)
        .send()
        .await?;
    let now = deployments(ecs.clone()).await?;
    assert!(now.contains(&("PRIMARY".to_owned(), v2.clone())), "{now:?}");
    assert!(now.contains(&("ACTIVE".to_owned(), v1.clone())), "{now:?}");
    // The same task definition again: no new deployment.
    ecs.update_service()
        .cluster("sim")
        .service("web")
        .task_definition(&v2)
        .send()
        .await?;
    assert_eq!(deployments(ecs.clone()).await?.len(), now.len());
    Ok(())
}
