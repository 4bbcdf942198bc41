//! The local demo: the embedded environment and every function, end to end, in readable form.
//!
//! It starts moto, PostgreSQL and MariaDB on loopback, puts a realistic secret and task
//! definition into moto, then runs each shipped function binary under the harness's Lambda
//! Runtime API endpoint with the event it would receive in production, and prints what each
//! one answered. Each function issue extends the scenario it plays.
#![allow(clippy::print_stdout)]

use anyhow::{Context, Result};
use ecs_secrets_shared::reference::TaskContext;
use ecs_secrets_shared::task_definition::TaskDefinition;
use harness::{Function, World};
use serde_json::json;

fn heading(text: &str) {
    println!("\n\x1b[1m== {text}\x1b[0m");
}

/// Rotates `arn` through the rotator binary and prints each step's outcome.
async fn rotate_and_report(world: &World, arn: &str, token: &str, what: &str) -> Result<()> {
    let moto = world.moto().await?;
    moto.prepare_rotation(arn, token).await?;
    println!("secret-rotator     rotating {arn} ({what})");
    let rotator = world
        .lambda(Function::SecretRotator, &[("RUST_LOG", "warn")])
        .await?;
    for step in harness::rotation::STEPS {
        let event = json!({"Step": step, "SecretId": arn, "ClientRequestToken": token});
        match rotator.invoke(&event).await? {
            Ok(response) => println!(
                "{:<18}   {step:<13} -> {}",
                "",
                response["outcome"].as_str().unwrap_or("?")
            ),
            Err(e) => println!("{:<18}   {step:<13} -> failed: {e}", ""),
        }
    }
    rotator.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    harness::lambda::ECHO_OUTPUT.store(false, std::sync::atomic::Ordering::Relaxed);
    let world = World::new();
    heading("Embedded environment (loopback only)");
    let (moto, pg, maria) = tokio::try_join!(world.moto(), world.postgres(), world.mariadb())?;
    println!("moto (AWS APIs)   {}", moto.endpoint());
    println!("PostgreSQL        127.0.0.1:{}", pg.port());
    println!("MariaDB           127.0.0.1:{}", maria.port());

    heading("A database login and its secret");
    let login = pg.fresh_database().await?;
    let secret_name = "demo/app/postgres";
    let secret_value = json!({
        "engine": "postgres", "host": login.host, "port": login.port,
        "username": login.user, "password": login.password, "dbname": login.dbname
    });
    let secret_arn = moto
        .create_secret(secret_name, secret_value.to_string())
        .await
        .context("creating the demo secret in moto")?;
    let client = login.connect().await?;
    let who: String = client
        .query_one("SELECT current_user::text", &[])
        .await?
        .get(0);
    println!("PostgreSQL role   {who} (logs in with the secret's password)");
    println!("secret            {secret_arn}");

    heading("A task definition that references it");
    let ecs = moto.ecs();
    let cluster = "demo";
    ecs.create_cluster().cluster_name(cluster).send().await?;
    let task_definition = json!({
        "family": "web",
        "executionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
        "containerDefinitions": [{
            "name": "web", "image": "public.ecr.aws/nginx/nginx:1.27",
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": format!("{secret_arn}:password::")},
                {"name": "DB_USER", "valueFrom": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret_name}:username::")}
            ]
        }]
    });
    let registered = ecs
        .register_task_definition()
        .family("web")
        .execution_role_arn("arn:aws:iam::123456789012:role/web-execution")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("public.ecr.aws/nginx/nginx:1.27")
                .memory(256)
                .set_secrets(Some(
                    task_definition["containerDefinitions"][0]["secrets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| {
                            aws_sdk_ecs::types::Secret::builder()
                                .name(s["name"].as_str().unwrap_or_default())
                                .value_from(s["valueFrom"].as_str().unwrap_or_default())
                                .build()
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ))
                .build(),
        )
        .send()
        .await?;
    let td_arn = registered
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    println!("task definition   {td_arn}");
    // Services that run it: two plain, one opted out by tag, one on another secret.
    let other_td = ecs
        .register_task_definition()
        .family("reports")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("reports")
                .image("public.ecr.aws/nginx/nginx:1.27")
                .memory(128)
                .secrets(
                    aws_sdk_ecs::types::Secret::builder()
                        .name("TOKEN")
                        .value_from("/reports/token")
                        .build()?,
                )
                .build(),
        )
        .send()
        .await?
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    for (service, td, tag) in [
        ("web", &td_arn, None),
        ("api", &td_arn, None),
        ("batch", &td_arn, Some("off")),
        ("reports", &other_td, None),
    ] {
        let mut req = ecs
            .create_service()
            .cluster(cluster)
            .service_name(service)
            .task_definition(td)
            .desired_count(1);
        if let Some(value) = tag {
            req = req.tags(
                aws_sdk_ecs::types::Tag::builder()
                    .key("secret-redeploy")
                    .value(value)
                    .build(),
            );
        }
        req.send().await?;
    }
    println!("ECS services      demo/web, demo/api, demo/batch (tagged secret-redeploy=off), demo/reports (another secret)");
    let secret = ecs_secrets_shared::arn::SecretArn::parse(&secret_arn)?;
    let task = TaskContext {
        partition: ecs_secrets_shared::arn::partition_of_region(harness::moto::REGION).into(),
        region: harness::moto::REGION.into(),
        account: harness::moto::ACCOUNT.into(),
    };
    for found in TaskDefinition::from_json(&task_definition)?.references() {
        let how = match &found.parsed {
            Some(Ok(r)) => match r.matches_secret(&secret, &task) {
                Some(m) => format!(
                    "reads the demo secret: {:?}, follows {:?}",
                    m.part, m.tracks
                ),
                None => "does not read the demo secret".into(),
            },
            Some(Err(e)) => format!("invalid: {e}"),
            None => "not a string".into(),
        };
        println!("  {:<48} {how}", found.pointer);
    }

    heading("The functions, run as Lambda runs them");
    // secret-rotator: a generic secret, then the application's PostgreSQL login, each rotated
    // as Secrets Manager rotates: RotateSecret prepares the pending version, then four steps.
    let api_key =
        json!({"engine": "generic", "client_id": "demo-client", "password": "initial-value"});
    let api_arn = moto
        .create_secret("demo/api-key", api_key.to_string())
        .await?;
    rotate_and_report(
        &world,
        &api_arn,
        "00000000-0000-4000-8000-0000000000aa",
        "generic",
    )
    .await?;
    let rotated = moto.current_json(&api_arn).await?;
    println!(
        "{:<18}   AWSCURRENT password changed: {}; other keys kept: {} (values are never printed)",
        "",
        rotated["password"] != api_key["password"],
        rotated["client_id"] == api_key["client_id"] && rotated["engine"] == api_key["engine"]
    );

    rotate_and_report(
        &world,
        &secret_arn,
        "00000000-0000-4000-8000-0000000000bb",
        "PostgreSQL, single user",
    )
    .await?;
    let rotated = moto.current_json(&secret_arn).await?;
    let mut new_login = login.clone();
    new_login.password = rotated["password"].as_str().unwrap_or_default().to_owned();
    let old_works = login.connect().await.is_ok();
    let new_works = new_login.connect().await.is_ok();
    println!(
        "{:<18}   old password logs in: {old_works}; new AWSCURRENT password logs in: {new_works}",
        ""
    );

    // ecs-redeployer: the event Secrets Manager sends when AWSCURRENT moved, with its
    // whole-second time, delivered (as by EventBridge) a moment later.
    let changed = chrono::Utc::now();
    let rest = 1000 - u64::from(changed.timestamp_subsec_millis()).min(999);
    tokio::time::sleep(std::time::Duration::from_millis(rest + 20)).await;
    let label_updated = json!({
        "version": "0", "id": "demo-1", "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": harness::moto::ACCOUNT,
        "time": changed.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": harness::moto::REGION, "resources": [secret_arn],
        "detail": {"name": secret_name, "labelUpdated": "AWSCURRENT", "versionId": "00000000-0000-4000-8000-0000000000bb"}
    });
    // moto runs no tasks: the harness's scheduler simulation (in the fault proxy, at the wire)
    // runs the services' tasks and rolls deployments out, so `status` has something to read.
    let proxy = harness::faults::FaultProxy::start(
        moto.endpoint(),
        harness::faults::Faults {
            ecs_scheduler: true,
            secret_version_dates: true,
            ..Default::default()
        },
    )
    .await?;
    let mut env = proxy.env(moto);
    println!("ecs-secrets status before the redeploy (every task started before the rotation):");
    show_status(&env, secret_name).await?;
    // The api service's next deployment will fail (its circuit breaker rolls it back).
    proxy.scheduler().fail_next_deployment("api");

    println!("ecs-redeployer     Secret Label Updated: AWSCURRENT of {secret_name} moved");
    env.push(("RUST_LOG".into(), "warn".into()));
    let redeployer = world
        .lambda_with_env(Function::EcsRedeployer, env.clone())
        .await?;
    for delivery in ["first delivery", "duplicate delivery"] {
        match redeployer.invoke(&label_updated).await? {
            Ok(summary) => {
                let list = |key: &str, field: &str| -> Vec<String> {
                    summary[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| {
                            format!(
                                "{}/{} ({})",
                                e["cluster"].as_str().unwrap_or(""),
                                e["service"].as_str().unwrap_or(""),
                                e[field].as_str().unwrap_or("-")
                            )
                        })
                        .collect()
                };
                println!(
                    "{:<18}   {delivery}: redeployed {:?}",
                    "",
                    list("redeployed", "deployment_id")
                );
                for skipped in list("skipped", "reason") {
                    println!("{:<18}     skipped {skipped}", "");
                }
                println!("{:<18}     ECS API calls: {}", "", summary["api_calls"]);
            }
            Err(e) => println!("{:<18}   {delivery}: failed: {e}", ""),
        }
    }
    redeployer.stop().await;

    println!("ecs-secrets status while the deployments roll out:");
    show_status(&env, secret_name).await?;
    proxy.scheduler().settle(10);
    println!("ecs-secrets status after them (api's deployment failed and was rolled back):");
    show_status(&env, secret_name).await?;

    validate(&world, &secret_arn).await?;
    println!("\nAll servers stop now; nothing was left running and no AWS account was used.");
    Ok(())
}

/// Runs `ecs-secrets status` for the secret and prints its report, indented.
async fn show_status(env: &[(String, String)], secret: &str) -> Result<()> {
    let out = harness::ecs_secrets(&["status", "--secret", secret], env).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        println!("{:<18}   {line}", "");
    }
    if !out.status.success() && out.status.code() != Some(1) {
        println!(
            "{:<18}   error: {}",
            "",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Registers a leaky, broken task definition and shows what the validator Lambda reports on
/// the RegisterTaskDefinition event: plaintext credentials (evidence only), a broken and a
/// missing reference, and a secret the execution role may not read.
async fn validate(world: &World, readable_secret: &str) -> Result<()> {
    use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Secret};
    let moto = world.moto().await?;
    moto.create_execution_role(
        "payments-execution",
        "read-demo-app-secrets",
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "AppSecrets", "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/app/*"}]}),
    )
    .await?;
    let other = moto
        .secrets_manager()
        .create_secret()
        .name("demo/billing/stripe")
        .secret_string("{\"key\":\"(never read)\"}")
        .send()
        .await?;
    let env = |name: &str, value: &str| KeyValuePair::builder().name(name).value(value).build();
    let secret = |name: &str, from: &str| Secret::builder().name(name).value_from(from).build();
    let registered = moto
        .ecs()
        .register_task_definition()
        .family("payments")
        .execution_role_arn("arn:aws:iam::123456789012:role/payments-execution")
        .container_definitions(
            ContainerDefinition::builder()
                .name("api")
                .image("public.ecr.aws/nginx/nginx:1.27")
                .memory(256)
                .environment(env("LOG_LEVEL", "info"))
                .environment(env("AWS_ACCESS_KEY_ID", "AKIA2OGYBAH6STMMNXNN"))
                .environment(env("AWS_SECRET_ACCESS_KEY", "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"))
                .environment(env("BUILD_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"))
                .secrets(secret("DB_PASSWORD", &format!("{readable_secret}:password::"))?)
                .secrets(secret("STRIPE_KEY", other.arn().unwrap_or_default())?)
                .secrets(secret(
                    "DB_USER",
                    &format!("{readable_secret}:username:AWSCURRENT:EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"),
                )?)
                .secrets(secret(
                    "API_TOKEN",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/app/api-token-AbCdEf",
                )?)
                .build(),
        )
        .send()
        .await?;
    let arn = registered
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    println!("taskdef-validator  RegisterTaskDefinition {arn}");
    let event = json!({
        "version": "0", "id": "demo", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs",
        "account": "123456789012", "region": "us-east-1", "time": "2026-11-23T10:00:00Z",
        "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "RegisterTaskDefinition",
                   "requestParameters": {"family": "payments"},
                   "responseElements": {"taskDefinition": {"taskDefinitionArn": arn}}}
    });
    let validator = world
        .lambda(Function::TaskdefValidator, &[("RUST_LOG", "warn")])
        .await?;
    match validator.invoke(&event).await? {
        Ok(report) => {
            for f in report["findings"].as_array().into_iter().flatten() {
                println!(
                    "{:<18}   {:<8} {:<34} {}",
                    "",
                    f["severity"].as_str().unwrap_or("?"),
                    f["rule"].as_str().unwrap_or("?"),
                    f["pointer"].as_str().unwrap_or("?")
                );
                println!(
                    "{:<18}            {}",
                    "",
                    f["message"].as_str().unwrap_or("")
                );
                if let Some(e) = f.get("evidence") {
                    println!(
                        "{:<18}            evidence: {}, {} characters (the value is never shown)",
                        "",
                        e["kind"].as_str().unwrap_or(""),
                        e["length"]
                    );
                }
            }
            println!("{:<18}   summary: {}", "", report["summary"]);
            for a in report["actions"].as_array().into_iter().flatten() {
                println!("{:<18}   action: {}", "", a.as_str().unwrap_or(""));
            }
        }
        Err(e) => println!(
            "taskdef-validator  -> {} ({})",
            e.error_message, e.error_type
        ),
    }
    // The same mistake stopped earlier: CloudFormation asks the hook before it registers.
    let hook = json!({
        "clientRequestToken": "demo-hook", "awsAccountId": "123456789012",
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/payments/demo",
        "hookTypeName": "EcsSecrets::Validator::TaskDefinition", "hookTypeVersion": "00000001",
        "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {"targetName": "AWS::ECS::TaskDefinition", "targetType": "AWS::ECS::TaskDefinition",
            "targetLogicalId": "PaymentsTask",
            "targetModel": {"resourceProperties": {
                "Family": "payments", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/payments-execution",
                "ContainerDefinitions": [{"Name": "api", "Image": "public.ecr.aws/nginx/nginx:1.27", "Memory": "256",
                    "Environment": [{"Name": "AWS_ACCESS_KEY_ID", "Value": "AKIA2OGYBAH6STMMNXNN"}],
                    "Secrets": [{"Name": "DB_PASSWORD", "ValueFrom": format!("{readable_secret}:password::")}]}]}}},
        "requestContext": {"invocation": 1, "callbackContext": null}
    });
    println!(
        "taskdef-validator  CloudFormation hook: CREATE PaymentsTask (nothing registered yet)"
    );
    match validator.invoke(&hook).await? {
        Ok(answer) => println!(
            "{:<18}   -> {} {}: {}",
            "",
            answer["hookStatus"].as_str().unwrap_or("?"),
            answer["errorCode"].as_str().unwrap_or(""),
            answer["message"].as_str().unwrap_or("")
        ),
        Err(e) => println!(
            "taskdef-validator  -> {} ({})",
            e.error_message, e.error_type
        ),
    }
    validator.stop().await;
    Ok(())
}
