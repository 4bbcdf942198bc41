//! taskdef-validator end to end: `ecs-secrets validate` on the fixtures (text, JSON, SARIF,
//! exit codes, bad input), the live checks against moto (IAM roles, resource and key
//! policies created there), and the Lambda binary under the Runtime API with its actions
//! (EventBridge event captured through SQS, Security Hub import, deregistration).

use harness::moto::{Moto, ACCOUNT, REGION};
use harness::{ecs_secrets, Function, World};
use serde_json::{json, Value};

const ACCESS_KEY: &str = "AKIA2OGYBAH6STMMNXNN";
const SECRET_KEY: &str = "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";

fn testdata(name: &str) -> String {
    harness::paths::workspace_root()
        .join("functions/taskdef-validator/testdata")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn cli_text_json_and_sarif_on_the_fixtures() -> anyhow::Result<()> {
    let leaky = testdata("leaky-register.json");
    let template = testdata("template.yaml");
    let clean = testdata("clean-describe.json");

    let text = ecs_secrets(&["validate", &leaky, &template, &clean], &[]).await?;
    assert_eq!(text.status.code(), Some(1), "{}", stderr(&text));
    let t = stdout(&text);
    assert!(t.contains("payments — container api"), "{t}");
    assert!(
        t.contains(
            "critical plaintext-secret /containerDefinitions/0/environment/1/value (line 14)"
        ),
        "{t}"
    );
    assert!(t.contains("3 task definition(s) checked"), "{t}");
    assert!(
        !t.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );

    let json_out = ecs_secrets(
        &["validate", "--format", "json", &leaky, &template, &clean],
        &[],
    )
    .await?;
    let report: Value = serde_json::from_slice(&json_out.stdout)?;
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings
        .iter()
        .all(|f| f["file"].is_string() && f["pointer"].is_string()));
    let rules: std::collections::BTreeSet<&str> =
        findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    for r in [
        "plaintext-secret",
        "secret-in-command",
        "plaintext-dynamic-reference",
        "invalid-secret-reference",
        "partial-secret-arn",
        "missing-execution-role",
        "pinned-secret-version",
        "platform-version-incompatible",
        "privileged-container",
        "root-user",
        "same-task-and-execution-role",
    ] {
        assert!(rules.contains(r), "{r} missing from {rules:?}");
    }
    assert!(
        !findings
            .iter()
            .any(|f| f["file"].as_str() == Some(clean.as_str())),
        "the clean fixture has no finding: {findings:#?}"
    );
    assert_eq!(report["summary"]["critical"], 4, "{:#}", report["summary"]);

    let sarif_out = ecs_secrets(&["validate", "--format", "sarif", &leaky, &template], &[]).await?;
    let sarif: Value = serde_json::from_slice(&sarif_out.stdout)?;
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(
                r["properties"]["security-severity"].as_str().is_some(),
                "{r}"
            );
            r["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(rule_ids.len(), 20);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut prints = std::collections::HashSet::new();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert_eq!(rule_ids[r["ruleIndex"].as_u64().unwrap() as usize], id);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with(".json")
                || loc["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .ends_with(".yaml")
        );
        assert!(prints.insert(
            r["partialFingerprints"]["ecsSecretsFinding/v1"]
                .as_str()
                .unwrap()
                .to_owned()
        ));
    }
    // Fingerprints are stable across runs.
    let again: Value = serde_json::from_slice(
        &ecs_secrets(&["validate", "--format", "sarif", &leaky, &template], &[])
            .await?
            .stdout,
    )?;
    assert_eq!(again["runs"][0]["results"], run["results"]);

    for out in [&text, &json_out, &sarif_out] {
        for secret in [
            ACCESS_KEY,
            "Xk9#mP2vL7qR",
            "Tr0ub4dor3x",
            "ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u",
        ] {
            assert!(
                !stdout(out).contains(secret) && !stderr(out).contains(secret),
                "{secret} leaked"
            );
        }
    }

    // --fail-on
    let never = ecs_secrets(&["validate", "--fail-on", "never", &leaky], &[]).await?;
    assert_eq!(never.status.code(), Some(0));
    let clean_out = ecs_secrets(&["validate", "--fail-on", "low", &clean], &[]).await?;
    assert_eq!(clean_out.status.code(), Some(0), "{}", stdout(&clean_out));
    let medium = ecs_secrets(
        &[
            "validate",
            "--fail-on",
            "medium",
            &template,
            "--platform-version",
            "1.4.0",
        ],
        &[],
    )
    .await?;
    assert_eq!(medium.status.code(), Some(1));
    Ok(())
}

#[tokio::test]
async fn cli_bad_input_is_reported_and_the_other_files_still_checked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    std::fs::write(
        path("invalid.json"),
        "{\n  \"family\": \"x\",\n  \"containerDefinitions\": [,]\n}\n",
    )?;
    std::fs::write(
        path("junk.bin"),
        [0x7fu8, b'E', b'L', b'F', 0, 1, 2, 0xff, 0xfe],
    )?;
    std::fs::write(
        path("shape.json"),
        r#"{"containerDefinitions": [{"environment": "A=b"}]}"#,
    )?;
    std::fs::write(path("not-a-task.json"), r#"{"hello": "world"}"#)?;
    let huge = std::fs::File::create(path("huge.json"))?;
    huge.set_len(17 * 1024 * 1024)?;
    let leaky = testdata("leaky-register.json");
    let files = [
        "invalid.json",
        "junk.bin",
        "shape.json",
        "not-a-task.json",
        "huge.json",
        "missing.json",
    ];
    let mut args = vec![
        "validate".to_owned(),
        "--format".into(),
        "json".into(),
        leaky.clone(),
    ];
    args.extend(files.iter().map(|f| path(f)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ecs_secrets(&args, &[]).await?;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:3:", path("invalid.json"))),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:1:5: NUL byte", path("junk.bin"))),
        "{err}"
    );
    assert!(
        err.contains("containerDefinitions[0]: environment"),
        "{err}"
    );
    assert!(err.contains("no containerDefinitions"), "{err}");
    assert!(err.contains("larger than the limit"), "{err}");
    assert!(
        err.contains(&path("missing.json")) && err.contains("cannot read"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(6));
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["file"] == leaky.as_str()));
    // Usage errors exit 2 too.
    let usage = ecs_secrets(&["validate", "--format", "xml", &leaky], &[]).await?;
    assert_eq!(usage.status.code(), Some(2));
    Ok(())
}

/// `--jobs`: 1 thread and 4 give the same report byte for byte, the same notes and errors and
/// the same exit code, on every fixture, the realistic set, generated task definitions, a
/// template without a task definition and a file that does not exist; `-j 0` and `-j x` are
/// usage errors.
#[tokio::test]
async fn cli_any_number_of_jobs_gives_the_same_report() -> anyhow::Result<()> {
    use taskdef_validator::corpus;
    let mut files = Vec::new();
    let mut dirs =
        vec![harness::paths::workspace_root().join("functions/taskdef-validator/testdata")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                // The hook's fixtures are hook requests, not task definitions.
                if !path.ends_with("hook") {
                    dirs.push(path);
                }
            } else if path.extension().is_none_or(|e| e != "tsv") {
                files.push(path.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let tmp = tempfile::tempdir()?;
    // Generated task definitions: every corpus value as a variable, 25 to a file.
    for (n, chunk) in corpus::generate(7, 2).chunks(25).enumerate() {
        let env: Vec<Value> = chunk
            .iter()
            .map(|s| json!({"name": s.name, "value": s.value}))
            .collect();
        let td = json!({"family": format!("gen-{n}"), "containerDefinitions": [
            {"name": "app", "image": "app:1", "environment": env, "command": ["serve", "--port=8080"]}]});
        let path = tmp.path().join(format!("gen-{n:03}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&td)?)?;
        files.push(path.to_string_lossy().into_owned());
    }
    let empty = tmp.path().join("no-task.yaml");
    std::fs::write(&empty, "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")?;
    files.push(empty.to_string_lossy().into_owned());
    files.push(
        tmp.path()
            .join("missing.json")
            .to_string_lossy()
            .into_owned(),
    );
    let run = |jobs: &'static str| {
        let mut args = vec![
            "validate",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--jobs",
            jobs,
        ];
        args.extend(files.iter().map(String::as_str));
        async move { ecs_secrets(&args, &[]).await }
    };
    let one = run("1").await?;
    let four = run("4").await?;
    assert_eq!(one.status.code(), Some(2), "{}", stderr(&one));
    assert_eq!(four.status.code(), one.status.code());
    assert_eq!(stdout(&four), stdout(&one));
    assert_eq!(stderr(&four), stderr(&one));
    assert!(
        stderr(&one).contains("no-task.yaml: no AWS::ECS::TaskDefinition"),
        "{}",
        stderr(&one)
    );
    let report: Value = serde_json::from_slice(&one.stdout)?;
    assert!(report["checked"].as_u64() > Some(20), "{report}");
    assert!(report["findings"].as_array().map_or(0, Vec::len) > 50);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(1));
    for bad in ["0", "x"] {
        let out = ecs_secrets(&["validate", "--jobs", bad, &files[0]], &[]).await?;
        assert_eq!(out.status.code(), Some(2), "-j {bad}");
        assert!(stderr(&out).contains("--jobs"), "{}", stderr(&out));
    }
    Ok(())
}

/// The CLI runs without transparent huge pages (`main`): the kernel says so of the process
/// while it waits for its standard input, and the file it then reads is checked as usual.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn cli_runs_without_transparent_huge_pages() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(harness::paths::binary("ecs-secrets")?)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(["validate", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let status = format!("/proc/{pid}/status");
    // `THP_enabled` is in the status of every process since Linux 5.0; the flag is set first
    // thing in `main`, before standard input is read.
    // A deadline, not a count of tries: a loaded machine may take seconds to start the
    // debug binary. A process that exited is reported at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut thp = None;
    while std::time::Instant::now() < deadline {
        if let Some(exit) = child.try_wait()? {
            anyhow::bail!("ecs-secrets exited ({exit}) before it read its input");
        }
        let text = std::fs::read_to_string(&status)?;
        thp = text
            .lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(|v| v.trim().to_owned());
        if thp.as_deref() == Some("0") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(thp.as_deref(), Some("0"), "{status}");
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    stdin
        .write_all(std::fs::read(testdata("leaky-register.json"))?.as_slice())
        .await?;
    drop(stdin);
    let out = child.wait_with_output().await?;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert!(report["findings"].as_array().map_or(0, Vec::len) > 0);
    Ok(())
}

/// The account the live tests build in moto: an execution role that may read `prod/*`
/// secrets and `/app/*` parameters, and secrets and keys around it.
struct Account {
    role_arn: String,
    db: String,
    staging: String,
    locked: String,
    key_arn: String,
}

async fn account(moto: &Moto) -> anyhow::Result<Account> {
    let role_arn = moto
        .create_execution_role(
            "app-execution",
            "read-prod",
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "ProdSecrets", "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*")}]}),
        )
        .await?;
    let iam = moto.iam();
    let managed = iam
        .create_policy()
        .policy_name("read-app-parameters")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Params", "Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"],
                 "Resource": format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/*")},
                {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})
            .to_string(),
        )
        .send()
        .await?;
    iam.attach_role_policy()
        .role_name("app-execution")
        .policy_arn(managed.policy().and_then(|p| p.arn()).unwrap_or_default())
        .send()
        .await?;
    let sm = moto.secrets_manager();
    let mut arns = Vec::new();
    for name in ["prod/db", "staging/api", "prod/locked"] {
        let s = sm
            .create_secret()
            .name(name)
            .secret_string("{\"password\":\"V4lue-Never-Read\"}")
            .send()
            .await?;
        arns.push(s.arn().unwrap_or_default().to_owned());
    }
    sm.put_resource_policy()
        .secret_id(&arns[2])
        .resource_policy(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoTasks", "Effect": "Deny",
                "Principal": {"AWS": &role_arn}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
            .to_string(),
        )
        .send()
        .await?;
    // A customer managed key whose policy only lets an admin role use it: the execution role's
    // kms:Decrypt allow is not enough.
    let key = moto
        .kms()
        .create_key()
        .policy(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "AdminsOnly", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/admin")}, "Action": "kms:*", "Resource": "*"}]})
            .to_string(),
        )
        .send()
        .await?;
    let key_arn = key
        .key_metadata()
        .and_then(|k| k.arn())
        .unwrap_or_default()
        .to_owned();
    moto.ssm()
        .put_parameter()
        .name("/app/token")
        .value("V4lue-Never-Read")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .key_id(&key_arn)
        .send()
        .await?;
    moto.ssm()
        .put_parameter()
        .name("/app/plain")
        .value("V4lue-Never-Read")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await?;
    Ok(Account {
        role_arn,
        db: arns[0].clone(),
        staging: arns[1].clone(),
        locked: arns[2].clone(),
        key_arn,
    })
}

fn live_task_definition(a: &Account) -> Value {
    json!({
        "family": "live",
        "executionRoleArn": a.role_arn,
        "containerDefinitions": [{
            "name": "app", "image": "app:1", "user": "1000", "readonlyRootFilesystem": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/live"}},
            "secrets": [
                {"name": "DB", "valueFrom": format!("{}:password::", a.db)},
                {"name": "STAGING", "valueFrom": a.staging},
                {"name": "MISSING", "valueFrom": format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/missing-AbCdEf")},
                {"name": "LOCKED", "valueFrom": a.locked},
                {"name": "TOKEN", "valueFrom": "/app/token"},
                {"name": "PLAIN", "valueFrom": "/app/plain"},
                {"name": "OTHER", "valueFrom": "/other/plain"}
            ]
        }]
    })
}

fn by_entry(findings: &[Value], index: usize) -> Vec<&Value> {
    let pointer = format!("/containerDefinitions/0/secrets/{index}/valueFrom");
    findings
        .iter()
        .filter(|f| f["pointer"] == pointer.as_str())
        .collect()
}

#[tokio::test]
async fn cli_live_checks_against_moto() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("live.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&live_task_definition(&a))?)?;
    let file = file.to_string_lossy().into_owned();

    // Offline, none of this is visible.
    let offline = ecs_secrets(&["validate", "--format", "json", &file], &moto.env()).await?;
    assert_eq!(offline.status.code(), Some(0), "{}", stdout(&offline));

    let out = ecs_secrets(
        &["validate", "--live", "--format", "json", &file],
        &moto.env(),
    )
    .await?;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["live"], true);
    let findings = report["findings"].as_array().unwrap().clone();

    assert!(
        by_entry(&findings, 0).is_empty(),
        "prod/db is readable: {:#?}",
        by_entry(&findings, 0)
    );
    let staging = by_entry(&findings, 1);
    assert_eq!(staging.len(), 1, "{findings:#?}");
    assert_eq!(staging[0]["rule"], "execution-role-cannot-read-secret");
    assert_eq!(staging[0]["access"]["decision"], "denied");
    assert!(staging[0]["message"]
        .as_str()
        .unwrap()
        .contains("implicit deny"));
    let missing = by_entry(&findings, 2);
    assert_eq!(
        (missing.len(), missing[0]["rule"].as_str()),
        (1, Some("secret-not-found"))
    );
    let locked = by_entry(&findings, 3);
    assert_eq!(
        locked[0]["access"]["statement"], "secret resource policy#NoTasks",
        "{locked:#?}"
    );
    let token = by_entry(&findings, 4);
    assert_eq!(token.len(), 1, "{findings:#?}");
    assert_eq!(token[0]["access"]["action"], "kms:Decrypt");
    assert_eq!(token[0]["access"]["resource"], a.key_arn.as_str());
    assert_eq!(token[0]["access"]["decision"], "denied");
    assert!(by_entry(&findings, 5).is_empty(), "{findings:#?}");
    let other = by_entry(&findings, 6);
    assert_eq!(other[0]["rule"], "secret-not-found");
    assert!(
        !stdout(&out).contains("V4lue-Never-Read"),
        "a value was read and printed: {}",
        stdout(&out)
    );
    Ok(())
}

#[tokio::test]
async fn lambda_validates_acts_and_never_logs_a_secret() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let ecs = moto.ecs();
    let registered = ecs
        .register_task_definition()
        .family("leaky")
        .execution_role_arn(&a.role_arn)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("app")
                .image("app:1")
                .memory(512)
                .environment(
                    aws_sdk_ecs::types::KeyValuePair::builder()
                        .name("UPLOAD_ID")
                        .value(ACCESS_KEY)
                        .build(),
                )
                .environment(
                    aws_sdk_ecs::types::KeyValuePair::builder()
                        .name("UPLOAD_MATERIAL")
                        .value(SECRET_KEY)
                        .build(),
                )
                .secrets(
                    aws_sdk_ecs::types::Secret::builder()
                        .name("DB")
                        .value_from(&a.db)
                        .build()?,
                )
                .secrets(
                    aws_sdk_ecs::types::Secret::builder()
                        .name("GONE")
                        .value_from(format!(
                            "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/gone-AbCdEf"
                        ))
                        .build()?,
                )
                .build(),
        )
        .send()
        .await?;
    let arn = registered
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    let queue = moto.capture_events("ecs-secrets.validator").await?;
    moto.securityhub()
        .enable_security_hub()
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("EnableSecurityHub: {e:?}"))?;

    let lambda = world
        .lambda(
            Function::TaskdefValidator,
            &[("SECURITY_HUB", "true"), ("ENFORCE", "true")],
        )
        .await?;
    // CloudTrail omitted the response: the function fetches the revision by family.
    let event = json!({
        "version": "0", "id": "5d1c", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs",
        "account": ACCOUNT, "region": REGION, "time": "2026-11-23T10:00:00Z", "resources": [],
        "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "RegisterTaskDefinition",
                   "requestParameters": {"family": "leaky"}, "responseElements": null}
    });
    let report = lambda.invoke_ok(&event).await?;
    let rules: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert!(
        rules.contains(&("plaintext-secret", "critical")),
        "{rules:?}"
    );
    assert_eq!(
        rules
            .iter()
            .filter(|(r, s)| *r == "plaintext-secret" && *s == "critical")
            .count(),
        2
    );
    assert!(rules.contains(&("secret-not-found", "high")), "{rules:?}");
    let actions: Vec<&str> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        actions[0].starts_with(&format!("deregistered {arn}")),
        "{actions:?}"
    );

    // Deregistered in ECS.
    let described = ecs
        .describe_task_definition()
        .task_definition(&arn)
        .send()
        .await?;
    assert_eq!(
        described
            .task_definition()
            .and_then(|t| t.status())
            .map(|s| s.as_str()),
        Some("INACTIVE")
    );
    // Imported into Security Hub.
    let hub = moto.securityhub().get_findings().send().await?;
    assert_eq!(hub.findings().len(), rules.len());
    assert!(hub
        .findings()
        .iter()
        .all(|f| f.generator_id().unwrap_or("").starts_with("ecs-secrets/")));
    // Published on EventBridge.
    let events = moto.received_events(&queue).await?;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["source"], "ecs-secrets.validator");
    assert_eq!(events[0]["detail"]["taskDefinitionArn"], arn.as_str());
    assert_eq!(
        events[0]["detail"]["findings"].as_array().map(Vec::len),
        Some(rules.len())
    );

    let output = lambda.stop().await;
    assert!(output
        .iter()
        .any(|l| l.contains("\"rule\":\"plaintext-secret\"") || l.contains("plaintext-secret")));
    for line in &output {
        assert!(
            !line.contains(ACCESS_KEY) && !line.contains(SECRET_KEY),
            "secret in a log line: {line}"
        );
    }
    for secret in [ACCESS_KEY, SECRET_KEY] {
        assert!(!report.to_string().contains(secret));
        assert!(!events[0].to_string().contains(secret));
    }
    Ok(())
}

/// At TRACE (RUST_LOG and AWS_LAMBDA_LOG_LEVEL), the event — whose requestParameters carry
/// the plaintext values the validator finds — never reaches the logs.
#[tokio::test]
async fn lambda_at_trace_never_logs_the_event_or_a_value() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let lambda = world
        .lambda(
            Function::TaskdefValidator,
            &[("RUST_LOG", "trace"), ("AWS_LAMBDA_LOG_LEVEL", "TRACE")],
        )
        .await?;
    let event = json!({
        "version": "0", "id": "5d1d", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs",
        "account": ACCOUNT, "region": REGION, "time": "2026-11-23T10:00:00Z", "resources": [],
        "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "RegisterTaskDefinition",
                   "requestParameters": {"family": "leaky-trace", "executionRoleArn": a.role_arn,
                       "containerDefinitions": [{"name": "app", "image": "app:1", "memory": 512,
                           "environment": [{"name": "UPLOAD_ID", "value": ACCESS_KEY},
                                           {"name": "UPLOAD_MATERIAL", "value": SECRET_KEY}]}]},
                   "responseElements": {"taskDefinition": {"taskDefinitionArn":
                       format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/leaky-trace:1"),
                       "family": "leaky-trace", "revision": 1, "executionRoleArn": a.role_arn,
                       "containerDefinitions": [{"name": "app", "image": "app:1", "memory": 512,
                           "environment": [{"name": "UPLOAD_ID", "value": ACCESS_KEY},
                                           {"name": "UPLOAD_MATERIAL", "value": SECRET_KEY}]}]}}}
    });
    let report = lambda.invoke_ok(&event).await?;
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"] == "plaintext-secret")),
        "{report}"
    );
    let output = lambda.stop().await.join("\n");
    assert!(
        output.contains("\"level\":\"DEBUG\""),
        "the function logged at debug and below"
    );
    for secret in [ACCESS_KEY, SECRET_KEY] {
        assert!(
            !output.contains(secret),
            "a value reached the output at TRACE"
        );
        assert!(!report.to_string().contains(secret));
    }
    Ok(())
}

/// The evaluator's answer for each secret of a task definition, through `validate --live`.
async fn live_decisions(
    env: &[(String, String)],
    role_arn: &str,
    secrets: &[(&str, &str)],
) -> anyhow::Result<Vec<Option<String>>> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("iam.json");
    let td = json!({
        "family": "iam", "executionRoleArn": role_arn,
        "containerDefinitions": [{"name": "app", "image": "app:1", "user": "1000", "readonlyRootFilesystem": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/iam"}},
            "secrets": secrets.iter().map(|(n, v)| json!({"name": n, "valueFrom": v})).collect::<Vec<_>>()}]
    });
    std::fs::write(&file, serde_json::to_vec(&td)?)?;
    let out = ecs_secrets(
        &[
            "validate",
            "--live",
            "--format",
            "json",
            "--fail-on",
            "never",
            &file.to_string_lossy(),
        ],
        env,
    )
    .await?;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    Ok((0..secrets.len())
        .map(|i| {
            let f = by_entry(&findings, i);
            assert!(f.len() <= 1, "{f:#?}");
            f.first().map(|f| {
                assert_eq!(f["rule"], "execution-role-cannot-read-secret", "{f:#}");
                format!(
                    "{} {}",
                    f["access"]["decision"].as_str().unwrap_or(""),
                    f["access"]["statement"].as_str().unwrap_or("")
                )
            })
        })
        .collect())
}

/// Issue 12: never a false "allowed". Real role, identity and resource policies in moto; the
/// answer for each through the CLI.
#[tokio::test]
async fn live_iam_never_says_allowed_when_aws_would_deny() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let role_arn = moto
        .create_execution_role(
            "ecs-exec-iam",
            "read-iam",
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadIam", "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:iam/*")}]}),
        )
        .await?;
    let sm = moto.secrets_manager();
    let mut arns = std::collections::HashMap::new();
    let policies = [
        ("iam/control", None),
        (
            "iam/vpce",
            Some(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyThroughVpce", "Effect": "Deny",
                "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]}),
            ),
        ),
        (
            "iam/not-principal",
            Some(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyTheRole", "Effect": "Deny",
                "NotPrincipal": {"AWS": &role_arn}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
            ),
        ),
        (
            "iam/arn-equals",
            Some(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoEcsRoles", "Effect": "Deny",
                "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/ecs-*")}}}]}),
            ),
        ),
        (
            "iam/garbled",
            Some(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                "Action": "secretsmanager:*", "Resource": "*", "Condition": "aws:SourceVpce"}]}),
            ),
        ),
    ];
    for (name, policy) in &policies {
        let s = sm
            .create_secret()
            .name(*name)
            .secret_string("V4lue-Never-Read")
            .send()
            .await?;
        let arn = s.arn().unwrap_or_default().to_owned();
        if let Some(p) = policy {
            sm.put_resource_policy()
                .secret_id(&arn)
                .resource_policy(p.to_string())
                .send()
                .await?;
        }
        arns.insert(*name, arn);
    }
    let secrets: Vec<(&str, &str)> = policies
        .iter()
        .map(|(n, _)| (*n, arns[n].as_str()))
        .collect();
    let decisions = live_decisions(&moto.env(), &role_arn, &secrets).await?;
    assert_eq!(
        decisions,
        vec![
            None,
            Some("unknown secret resource policy#OnlyThroughVpce".to_owned()),
            Some("denied secret resource policy#OnlyTheRole".to_owned()),
            Some("denied secret resource policy#NoEcsRoles".to_owned()),
            Some("unknown secret resource policy".to_owned()),
        ],
        "control, undecidable Deny, NotPrincipal, ArnEquals, unparsable policy"
    );

    // GetResourcePolicy refused to the caller: the control secret is no longer "allowed".
    use harness::faults::{FaultProxy, Faults};
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            fail_target: Some((
                "secretsmanager.GetResourcePolicy".into(),
                "AccessDeniedException".into(),
            )),
            ..Faults::default()
        },
    )
    .await?;
    // The simulation itself: the call fails through the proxy, and only that call.
    let through = proxy.secrets_manager(moto);
    assert!(through
        .get_resource_policy()
        .secret_id(&arns["iam/control"])
        .send()
        .await
        .is_err());
    through
        .describe_secret()
        .secret_id(&arns["iam/control"])
        .send()
        .await?;
    let decisions = live_decisions(
        &proxy.env(moto),
        &role_arn,
        &[("CONTROL", &arns["iam/control"])],
    )
    .await?;
    assert_eq!(
        decisions,
        vec![Some("unknown secret resource policy".to_owned())]
    );
    Ok(())
}

const GITHUB_TOKEN: &str = "ghp_Xk9mP2vL7qR4tY8wZ3nB6cD1fG5hJ0sA2eUi";
const SLACK_TOKEN: &str = "xoxb-2048193756-4815162342-Qm7Rt2Xk9PzLw3Vb8NcY";

/// A task definition with credentials pasted where references belong.
fn pasted(role_arn: &str) -> Value {
    json!({
        "family": "pasted", "executionRoleArn": role_arn,
        "containerDefinitions": [{"name": "app", "image": "app:1", "memory": 512, "user": "1000",
            "readonlyRootFilesystem": true,
            "secrets": [{"name": "GITHUB", "valueFrom": GITHUB_TOKEN},
                        {"name": "PLAIN", "valueFrom": "/app/plain"}],
            "repositoryCredentials": {"credentialsParameter": SECRET_KEY},
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-url": "https://splunk.example.com"},
                "secretOptions": [{"name": "splunk-token", "valueFrom": SLACK_TOKEN}]}}]
    })
}

fn assert_never_repeated(what: &str, text: &str) {
    for value in [GITHUB_TOKEN, SLACK_TOKEN, SECRET_KEY] {
        assert!(
            !text.contains(value),
            "{what} repeats a credential written as a reference"
        );
    }
}

/// Issue 12: a credential written in `valueFrom` / `credentialsParameter` /
/// `secretOptions[].valueFrom` is a finding, and never repeated: offline or live, in text,
/// JSON and SARIF.
#[tokio::test]
async fn credentials_written_as_references_are_found_and_never_repeated() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("pasted.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&pasted(&a.role_arn))?)?;
    let file = file.to_string_lossy().into_owned();
    for live in [false, true] {
        for format in ["text", "json", "sarif"] {
            let mut args = vec!["validate", "--format", format, "--colour", "never"];
            if live {
                args.push("--live");
            }
            args.push(&file);
            let out = ecs_secrets(&args, &moto.env()).await?;
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            let what = format!("{format} (live: {live})");
            assert_never_repeated(&what, &stdout(&out));
            assert_never_repeated(&what, &stderr(&out));
            if format == "json" {
                let report: Value = serde_json::from_slice(&out.stdout)?;
                let mut leaks: Vec<(&str, &str)> = report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["rule"] == "plaintext-secret")
                    .map(|f| {
                        (
                            f["pointer"].as_str().unwrap(),
                            f["severity"].as_str().unwrap(),
                        )
                    })
                    .collect();
                leaks.sort();
                assert_eq!(
                    leaks,
                    vec![
                        (
                            "/containerDefinitions/0/logConfiguration/secretOptions/0/valueFrom",
                            "critical"
                        ),
                        (
                            "/containerDefinitions/0/repositoryCredentials/credentialsParameter",
                            "critical"
                        ),
                        ("/containerDefinitions/0/secrets/0/valueFrom", "critical"),
                    ],
                    "{what}"
                );
                // Neither checked as a reference nor looked up.
                assert!(
                    !report["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f["rule"] == "invalid-secret-reference"
                            || (f["rule"] == "secret-not-found"
                                && f["pointer"] != "/containerDefinitions/0/secrets/1/valueFrom")),
                    "{what}: {report:#}"
                );
            }
        }
    }
    Ok(())
}

/// Issue 12: the Lambda with ENFORCE and SECURITY_HUB, invoked directly with a body that
/// differs from the registered revision, acts on the registered one only; credentials written
/// as references never reach its report, its event, Security Hub or its logs.
#[tokio::test]
async fn lambda_acts_only_on_the_registered_revision() -> anyhow::Result<()> {
    use aws_sdk_ecs::types::{
        ContainerDefinition, LogConfiguration, LogDriver, RepositoryCredentials, Secret,
    };
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let ecs = moto.ecs();
    let register = |family: &str, pasted: bool| {
        let mut c = ContainerDefinition::builder()
            .name("app")
            .image("app:1")
            .memory(512)
            .user("1000")
            .readonly_root_filesystem(true)
            .secrets(
                Secret::builder()
                    .name("DB")
                    .value_from(&a.db)
                    .build()
                    .unwrap(),
            );
        if pasted {
            c = c
                .secrets(
                    Secret::builder()
                        .name("GITHUB")
                        .value_from(GITHUB_TOKEN)
                        .build()
                        .unwrap(),
                )
                .repository_credentials(
                    RepositoryCredentials::builder()
                        .credentials_parameter(SECRET_KEY)
                        .build()
                        .unwrap(),
                )
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Splunk)
                        .secret_options(
                            Secret::builder()
                                .name("splunk-token")
                                .value_from(SLACK_TOKEN)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                );
        } else {
            c = c.log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", "/ecs/victim")
                    .build()
                    .unwrap(),
            );
        }
        ecs.register_task_definition()
            .family(family)
            .execution_role_arn(&a.role_arn)
            .container_definitions(c.build())
            .send()
    };
    let victim = register("victim", false).await?;
    let victim_arn = victim
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    let leaky = register("pasted", true).await?;
    let leaky_arn = leaky
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_owned();
    let queue = moto.capture_events("ecs-secrets.validator").await?;
    moto.securityhub()
        .enable_security_hub()
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("EnableSecurityHub: {e:?}"))?;
    let lambda = world
        .lambda(
            Function::TaskdefValidator,
            &[("SECURITY_HUB", "true"), ("ENFORCE", "true")],
        )
        .await?;

    // A planted credential in a body naming the clean revision: nothing is deregistered or filed.
    let mut planted = json!({"taskDefinitionArn": victim_arn, "family": "victim", "executionRoleArn": a.role_arn,
        "containerDefinitions": [{"name": "app", "image": "app:1",
            "environment": [{"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY}]}]});
    let report = lambda
        .invoke_ok(&json!({ "taskDefinition": planted.take() }))
        .await?;
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "plaintext-secret"),
        "{report:#}"
    );
    let status = |arn: String| {
        let ecs = ecs.clone();
        async move {
            let d = ecs
                .describe_task_definition()
                .task_definition(arn)
                .send()
                .await?;
            anyhow::Ok(
                d.task_definition()
                    .and_then(|t| t.status())
                    .map(|s| s.as_str().to_owned()),
            )
        }
    };
    assert_eq!(status(victim_arn.clone()).await?.as_deref(), Some("ACTIVE"));
    let hub = moto.securityhub().get_findings().send().await?;
    assert!(
        !hub.findings()
            .iter()
            .any(|f| f.generator_id() == Some("ecs-secrets/plaintext-secret")),
        "a finding was filed against the clean revision"
    );

    // The registered revision with credentials in its references: found, acted on, never repeated.
    let report = lambda
        .invoke_ok(&json!({ "taskDefinitionArn": leaky_arn }))
        .await?;
    let leaks = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "plaintext-secret")
        .count();
    assert_eq!(leaks, 3, "{report:#}");
    assert_eq!(
        status(leaky_arn.clone()).await?.as_deref(),
        Some("INACTIVE")
    );
    let hub = moto.securityhub().get_findings().send().await?;
    assert!(hub
        .findings()
        .iter()
        .any(|f| f.generator_id() == Some("ecs-secrets/plaintext-secret")));
    let events = moto.received_events(&queue).await?;
    assert_eq!(events.len(), 2, "{events:?}");
    let output = lambda.stop().await.join("\n");
    assert_never_repeated("the report", &report.to_string());
    assert_never_repeated("the events", &serde_json::to_string(&events)?);
    assert_never_repeated("Security Hub", &format!("{:?}", hub.findings()));
    assert_never_repeated("the logs", &output);
    Ok(())
}

/// Runs `ecs-secrets` as a child and returns its output, the largest resident set (KiB) of
/// this process's children so far, and the child's CPU time (user + system). nextest runs each
/// test in a process of its own, so the children are this test's CLI runs.
async fn measured(args: &[&str]) -> anyhow::Result<(std::process::Output, i64, f64)> {
    use nix::sys::resource::{getrusage, Usage, UsageWho};
    let cpu = |u: &Usage| {
        let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        s(u.user_time()) + s(u.system_time())
    };
    let before = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let out = ecs_secrets(args, &[]).await?;
    let after = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    // CPU time adds up over children; the resident peak is the largest child's so far.
    Ok((out, after.max_rss(), cpu(&after) - cpu(&before)))
}

/// What a hostile file may cost the CLI, resident: a few tens of MiB, where the expansions
/// these files hold would take gigabytes. The CLI's allocator (mimalloc) keeps freed pages for
/// reuse a while: `nested.yaml` peaks at about 80 MiB with it in a debug build, 51 MiB with
/// glibc's malloc (the bound was 64 MiB then); the scan of many files is a fifth faster with it.
const RSS_BOUND_KIB: i64 = 96 * 1024;

/// Issue 12: hostile YAML under the input limit is refused with exit 2 and a position, within
/// bounded memory and CPU time (measured, not timed against a wall clock).
#[tokio::test]
async fn hostile_yaml_is_refused_in_bounded_memory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // A 4 MiB scalar anchored once and aliased 2,500 times (10 GiB if expanded).
    let bomb = dir.path().join("bomb.yaml");
    let mut text = String::from("family: bomb\nbig: &big \"");
    text.push_str(&"x".repeat(4 * 1024 * 1024));
    text.push_str("\"\ncontainerDefinitions:\n");
    for _ in 0..2500 {
        text.push_str("  - *big\n");
    }
    std::fs::write(&bomb, &text)?;
    drop(text);
    // A chain of aliases each nesting the previous: deep only once expanded.
    let chain = dir.path().join("chain.yaml");
    let mut text = String::from("family: chain\nl0: &l0 [x]\n");
    for i in 1..3000 {
        text.push_str(&format!("l{i}: &l{i} [*l{}]\n", i - 1));
    }
    text.push_str("containerDefinitions: [*l2999]\n");
    std::fs::write(&chain, &text)?;
    drop(text);
    // 126 nested anchors around 100,000 scalars, each aliased once: copying each
    // anchored collection when it closes would cost 126 copies of the list.
    let nested = dir.path().join("nested.yaml");
    let mut text = String::from("family: nested\nx: ");
    for i in 0..126 {
        text.push_str(&format!("&a{i} ["));
    }
    text.push('a');
    for _ in 1..100_000 {
        text.push_str(",a");
    }
    text.push_str(&"]".repeat(126));
    text.push_str("\ny: [");
    text.push_str(
        &(0..126)
            .map(|i| format!("*a{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("]\ncontainerDefinitions: []\n");
    std::fs::write(&nested, &text)?;
    drop(text);
    // Block nesting on one line: the YAML parser recurses per level before any check of ours.
    let stairs = dir.path().join("stairs.yaml");
    std::fs::write(&stairs, format!("{}x\n", "- ".repeat(100_000)))?;
    // Three million JSON values in 6 MB: refused before any is built.
    let values = dir.path().join("values.json");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&values)?);
        f.write_all(br#"{"family": "values", "containerDefinitions": [], "x": [0"#)?;
        for _ in 1..3_000_000 {
            f.write_all(b",0")?;
        }
        f.write_all(b"]}")?;
    }
    // The CLI's peak includes this process's at the moment it is spawned (the child starts
    // as a copy): nothing large stays allocated here.

    for (file, cause, line) in [
        // The anchored copy is charged too: the first alias passes the budget.
        (&bomb, "aliases expand to more than", 4),
        (&nested, "aliases expand to more than", 2),
        (&values, "more than 500000 JSON values", 1),
        (&stairs, "nested deeper than 1000 levels", 1),
        (
            &chain,
            "nested deeper than 128 levels (aliases expanded)",
            129,
        ),
    ] {
        let (out, max_rss_kib, cpu) = measured(&["validate", &file.to_string_lossy()]).await?;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(cause), "{err}");
        assert!(
            err.contains(&format!(":{line}:")),
            "the position is given: {err}"
        );
        // The file itself is read into memory once (4 MiB); the limit is a few tens of MiB.
        assert!(
            max_rss_kib < RSS_BOUND_KIB,
            "{}: {max_rss_kib} KiB resident",
            file.display()
        );
        // Under a second in a release build; this is the debug build the tests run.
        assert!(cpu < 2.0, "{}: {cpu:.2} s of CPU", file.display());
    }

    // JSON whose values sit under 120 levels of long keys: the line map keeps a hash per value,
    // not its 7 KiB pointer (which made this 300 KiB file cost gigabytes).
    let deep = dir.path().join("deep.json");
    let mut text = String::from(r#"{"family": "deep", "containerDefinitions": [], "#);
    for i in 0..120 {
        text.push_str(&format!("\"{}{i:03}\": {{", "k".repeat(57)));
    }
    text.push_str(r#""values": ["#);
    text.push_str(&vec!["1"; 150_000].join(","));
    text.push(']');
    text.push_str(&"}".repeat(121));
    std::fs::write(&deep, &text)?;
    let (out, max_rss_kib, _) = measured(&["validate", &deep.to_string_lossy()]).await?;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        max_rss_kib < RSS_BOUND_KIB,
        "deep.json: {max_rss_kib} KiB resident"
    );
    Ok(())
}

/// Issue 12: evidence carries a fingerprint only under a key the user sets (HMAC-SHA-256), the
/// same for the same value and key whether the key comes from the environment or from SSM,
/// in the CLI and in the Lambda.
#[tokio::test]
async fn evidence_fingerprints_need_the_organisation_key() -> anyhow::Result<()> {
    const KEY: &str = "org-evidence-key-2f9c41d7a8e3";
    let world = World::new();
    let moto = world.moto().await?;
    moto.ssm()
        .put_parameter()
        .name("/ecs-secrets/evidence-key")
        .value(KEY)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await?;
    let dir = tempfile::tempdir()?;
    let td = |family: &str| {
        json!({"family": family, "containerDefinitions": [{"name": "app", "image": "app:1",
            "environment": [{"name": "UPLOAD_ID", "value": ACCESS_KEY}, {"name": "UPLOAD_MATERIAL", "value": SECRET_KEY}]}]})
    };
    let mut files = Vec::new();
    for family in ["one", "two"] {
        let f = dir.path().join(format!("{family}.json"));
        std::fs::write(&f, serde_json::to_vec(&td(family))?)?;
        files.push(f.to_string_lossy().into_owned());
    }
    let evidence = |out: &std::process::Output| -> anyhow::Result<Vec<Value>> {
        let report: Value = serde_json::from_slice(&out.stdout)?;
        Ok(report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "plaintext-secret")
            .map(|f| f["evidence"].clone())
            .collect())
    };
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = ["validate", "--format", "json", "--fail-on", "never"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(files.iter().cloned());
        a
    };
    let run = |a: Vec<String>, env: Vec<(String, String)>| async move {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        ecs_secrets(&a, &env).await
    };

    // No key: kind and length, no fingerprint.
    let plain = run(args(&[]), moto.env()).await?;
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let e = evidence(&plain)?;
    assert_eq!(e.len(), 4);
    assert!(
        e.iter()
            .all(|e| e.get("fingerprint").is_none() && e["length"].is_u64()),
        "{e:?}"
    );

    // Key from the environment: 16 hex digits, equal for the same value in both files.
    let mut env = moto.env();
    env.push(("ECS_SECRETS_EVIDENCE_KEY".into(), KEY.into()));
    let keyed = run(args(&[]), env).await?;
    let e = evidence(&keyed)?;
    let prints: Vec<&str> = e
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap())
        .collect();
    assert!(prints
        .iter()
        .all(|p| p.len() == 16 && p.chars().all(|c| c.is_ascii_hexdigit())));
    let mut distinct = prints.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        2,
        "two values, each in two files: {prints:?}"
    );

    // Key from SSM: the same fingerprints.
    let from_ssm = run(
        args(&["--evidence-key-parameter", "/ecs-secrets/evidence-key"]),
        moto.env(),
    )
    .await?;
    assert_eq!(evidence(&from_ssm)?, e);

    // A key too short to be a key is refused, named.
    let mut env = moto.env();
    env.push(("ECS_SECRETS_EVIDENCE_KEY".into(), "short".into()));
    let short = run(args(&[]), env).await?;
    assert_eq!(short.status.code(), Some(2));
    assert!(
        stderr(&short).contains("ECS_SECRETS_EVIDENCE_KEY"),
        "{}",
        stderr(&short)
    );

    // The Lambda reads the key once from EVIDENCE_KEY_PARAMETER.
    let lambda = world
        .lambda(
            Function::TaskdefValidator,
            &[
                ("EVIDENCE_KEY_PARAMETER", "/ecs-secrets/evidence-key"),
                ("PUBLISH_EVENTS", "false"),
            ],
        )
        .await?;
    let report = lambda
        .invoke_ok(&json!({ "taskDefinition": td("one") }))
        .await?;
    let mut from_lambda: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["evidence"]["fingerprint"].as_str())
        .collect();
    from_lambda.sort();
    assert_eq!(from_lambda, distinct);
    let output = lambda.stop().await.join("\n");
    assert!(!output.contains(KEY), "the key reached a log line");
    Ok(())
}

/// Issue 13: a task definition injecting an RDS-managed master secret gets
/// `managed-master-secret`, never `invalid-secret-reference`, offline and live.
#[tokio::test]
async fn managed_master_secrets_are_recognised_not_rejected() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let role_arn = moto
        .create_execution_role(
            "rds-reader",
            "read-rds",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-*")}]}),
        )
        .await?;
    let arn = moto
        .create_secret(
            "rds!cluster-7c1e2f3a-9b8d-4e6f-a5c4-3b2a1d0e9f8c",
            r#"{"username":"postgres","password":"V4lue-Never-Read"}"#,
        )
        .await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("rds.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!({
            "family": "rds", "executionRoleArn": role_arn,
            "containerDefinitions": [{"name": "app", "image": "app:1", "user": "1000", "readonlyRootFilesystem": true,
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/rds"}},
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": format!("{arn}:password::")},
                            {"name": "DB_USER", "valueFrom": format!("{}:username::", arn.rsplit_once('-').map(|(p, _)| p).unwrap_or_default())}]}]
        }))?,
    )?;
    let file = file.to_string_lossy().into_owned();
    for live in [false, true] {
        let mut args = vec!["validate", "--format", "json", "--fail-on", "never"];
        if live {
            args.push("--live");
        }
        args.push(&file);
        let out = ecs_secrets(&args, &moto.env()).await?;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout)?;
        let rules: Vec<(&str, &str)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["rule"].as_str().unwrap(), f["pointer"].as_str().unwrap()))
            .collect();
        assert!(
            !rules.iter().any(|(r, _)| *r == "invalid-secret-reference"),
            "{rules:?}"
        );
        let managed: Vec<&str> = rules
            .iter()
            .filter(|(r, _)| *r == "managed-master-secret")
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(
            managed,
            vec![
                "/containerDefinitions/0/secrets/0/valueFrom",
                "/containerDefinitions/0/secrets/1/valueFrom"
            ],
            "live: {live}: {rules:?}"
        );
        if live {
            // It exists and the role may read it: nothing else about these references.
            assert!(
                !rules
                    .iter()
                    .any(|(r, _)| *r == "secret-not-found"
                        || *r == "execution-role-cannot-read-secret"),
                "{rules:?}"
            );
        }
    }
    // `parse-reference` reads the same model.
    let out = ecs_secrets(&["parse-reference", &format!("{arn}:password::")], &[]).await?;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("rds!cluster-"), "{}", stdout(&out));
    Ok(())
}

/// Issue 12, item 8, through the CLI: a shape error never repeats a value, even one with an
/// embedded `", ` (serde quotes it escaped); a live reference to another region gets an
/// `info` "not looked up" note instead of being skipped silently.
#[tokio::test]
async fn shape_errors_drop_values_and_other_regions_are_noted() -> anyhow::Result<()> {
    const TAIL: &str = "tail-of-the-secret-9Qx";
    let dir = tempfile::tempdir()?;
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        serde_json::to_vec(
            &json!({"family": "broken", "containerDefinitions": [{"name": "app",
            "environment": format!("DB_PASSWORD=Xk9#mP2v\", {TAIL}")}]}),
        )?,
    )?;
    let out = ecs_secrets(&["validate", &broken.to_string_lossy()], &[]).await?;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("environment"), "{}", stderr(&out));
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(TAIL) && !text.contains("Xk9#"), "{text}");
    }

    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let far = dir.path().join("far.json");
    std::fs::write(
        &far,
        serde_json::to_vec(&json!({"family": "far", "executionRoleArn": a.role_arn,
            "containerDefinitions": [{"name": "app", "image": "app:1", "user": "1000", "readonlyRootFilesystem": true,
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/far"}},
                "secrets": [{"name": "DB", "valueFrom": format!("arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-AbCdEf")}]}]}))?,
    )?;
    let out = ecs_secrets(
        &[
            "validate",
            "--live",
            "--format",
            "json",
            "--fail-on",
            "never",
            &far.to_string_lossy(),
        ],
        &moto.env(),
    )
    .await?;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let notes: Vec<&Value> = by_entry(report["findings"].as_array().unwrap(), 0);
    assert_eq!(notes.len(), 1, "{report:#}");
    assert_eq!(notes[0]["rule"], "secret-not-found");
    assert_eq!(notes[0]["severity"], "info");
    assert!(notes[0]["message"]
        .as_str()
        .unwrap()
        .contains("not looked up: the reference is in eu-west-1"));
    Ok(())
}

/// A hook fixture (the CloudFormation Hooks User Guide's resource operation input) with the
/// account's ARNs and the test credentials put in.
fn hook_fixture(name: &str, a: &Account) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(testdata(&format!("hook/{name}.json")))?
        .replace("${ROLE_ARN}", &a.role_arn)
        .replace("${SECRET_ARN}", &a.db)
        .replace("${ACCESS_KEY}", ACCESS_KEY)
        .replace("${SECRET_KEY}", SECRET_KEY);
    Ok(serde_json::from_str(&text)?)
}

/// The CloudFormation Lambda hook through the built binary: create and update of a clean, a
/// leaky and a broken task definition, a deletion, and malformed requests; the hook never
/// acts (nothing published) and no value reaches its answer or its logs.
#[tokio::test]
async fn cloudformation_hook_refuses_leaky_and_broken_task_definitions() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let a = account(moto).await?;
    let queue = moto.capture_events("ecs-secrets.validator").await?;
    let lambda = world
        .lambda(Function::TaskdefValidator, &[("RUST_LOG", "trace")])
        .await?;
    let mut answers = Vec::new();
    for (fixture, status, rule) in [
        ("create-clean", "SUCCESS", None),
        ("update-clean", "SUCCESS", None),
        ("delete", "SUCCESS", None),
        ("create-leaky", "FAILED", Some("plaintext-secret")),
        ("update-leaky", "FAILED", Some("plaintext-secret")),
        ("create-broken", "FAILED", Some("invalid-secret-reference")),
        ("update-broken", "FAILED", Some("invalid-secret-reference")),
    ] {
        let request = hook_fixture(fixture, &a)?;
        let answer = lambda.invoke_ok(&request).await?;
        assert_eq!(answer["hookStatus"], status, "{fixture}: {answer:#}");
        assert_eq!(
            answer["clientRequestToken"], request["clientRequestToken"],
            "{fixture}"
        );
        let message = answer["message"].as_str().unwrap_or_default();
        match rule {
            Some(rule) => {
                assert_eq!(answer["errorCode"], "NonCompliant", "{fixture}");
                assert!(message.contains(rule), "{fixture}: {message}");
                assert!(
                    answer["annotations"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|n| n["annotationName"] == rule)),
                    "{fixture}: {answer:#}"
                );
            }
            None => assert!(answer.get("errorCode").is_none(), "{fixture}: {answer:#}"),
        }
        answers.push(answer);
    }
    // The leaky definition's two credentials are both named.
    let leaky = answers[3]["message"].as_str().unwrap_or_default();
    assert!(leaky.contains("2 finding(s) at or above high"), "{leaky}");

    // Malformed requests: a clear InternalFailure naming the field, never a panic or a value.
    let mut no_properties = hook_fixture("create-leaky", &a)?;
    no_properties["requestData"]["targetModel"]["resourceProperties"] = json!(SECRET_KEY);
    let mut no_token = hook_fixture("create-clean", &a)?;
    no_token
        .as_object_mut()
        .map(|o| o.remove("clientRequestToken"));
    for (request, field) in [
        (no_properties, "requestData.targetModel.resourceProperties"),
        (no_token, "clientRequestToken"),
        (
            json!({"actionInvocationPoint": SECRET_KEY, "clientRequestToken": "t"}),
            "actionInvocationPoint",
        ),
    ] {
        let answer = lambda.invoke_ok(&request).await?;
        assert_eq!(answer["hookStatus"], "FAILED", "{answer:#}");
        assert_eq!(answer["errorCode"], "InternalFailure", "{answer:#}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{answer:#}"
        );
        answers.push(answer);
    }

    let logs = lambda.stop().await;
    assert!(
        logs.iter().any(|l| l.contains("hook answered")),
        "the hook logs its answer"
    );
    for secret in [ACCESS_KEY, SECRET_KEY] {
        for answer in &answers {
            assert!(!answer.to_string().contains(secret), "a value in {answer}");
        }
        for line in &logs {
            assert!(!line.contains(secret), "a value in a log line: {line}");
        }
    }
    assert!(
        moto.received_events(&queue).await?.is_empty(),
        "a hook invocation published an event"
    );
    Ok(())
}

/// `validate --account` against moto, through the proxy that applies ECS's token buckets:
/// every ACTIVE revision read once and judged (its ARN in place of a file), INACTIVE ones
/// skipped, and no read beyond ECS's DescribeTaskDefinition bucket.
#[tokio::test]
async fn account_scan_reads_every_active_revision_once_within_the_rate() -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let moto = world.moto().await?;
    let ecs = moto.ecs();
    let (active, inactive) = (70usize, 10usize);
    let mut arns = Vec::new();
    for i in 0..active + inactive {
        let out = ecs
            .register_task_definition()
            .family(format!("scan-{i}"))
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("app")
                    .image("app:1.0.0")
                    .memory(256)
                    .environment(
                        aws_sdk_ecs::types::KeyValuePair::builder()
                            .name(format!("LEAK_{i}_ACCESS_KEY_ID"))
                            .value(ACCESS_KEY)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await?;
        arns.push(
            out.task_definition()
                .and_then(|t| t.task_definition_arn())
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for arn in &arns[active..] {
        ecs.deregister_task_definition()
            .task_definition(arn)
            .send()
            .await?;
    }
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            ecs_buckets: true,
            ..Faults::default()
        },
    )
    .await?;
    // At the default pace (15 a second). At 20, ECS's own refill, the only slack is the 10
    // tokens between the CLI's burst and ECS's: the proxy stamps a call when its runtime
    // handles it, and a loaded machine that stalls it for half a second delivers a backlog
    // at once (the CI run that failed here). Real networks jitter too: the default is 15.
    let out = ecs_secrets(
        &["validate", "--account", "--format", "json"],
        &proxy.env(moto),
    )
    .await?;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out))?;
    assert_eq!(report["checked"], active, "{report:#}");
    let mut leaks: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "plaintext-secret")
        .filter_map(|f| f["file"].as_str())
        .collect();
    leaks.sort_unstable();
    let mut expected: Vec<&str> = arns[..active].iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(
        leaks, expected,
        "one leak per ACTIVE revision, none from INACTIVE ones"
    );
    assert!(!stdout(&out).contains(ACCESS_KEY));

    let calls = proxy.calls();
    let describes = calls
        .iter()
        .filter(|c| c.operation == "DescribeTaskDefinition")
        .count();
    assert_eq!(describes, active, "each ACTIVE revision described once");
    let throttled: Vec<&str> = calls
        .iter()
        .filter(|c| c.faulted)
        .map(|c| c.operation.as_str())
        .collect();
    assert!(
        throttled.is_empty(),
        "calls beyond ECS's buckets: {throttled:?}"
    );

    // With --include-inactive the deregistered revisions are read too; in SARIF a revision
    // is a logical location (its ARN), not a file with a line.
    let out = ecs_secrets(
        &[
            "validate",
            "--account",
            "--include-inactive",
            "--format",
            "sarif",
        ],
        &proxy.env(moto),
    )
    .await?;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif: Value = serde_json::from_str(&stdout(&out))?;
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut named: Vec<String> = results
        .iter()
        .filter(|r| r["ruleId"] == "plaintext-secret")
        .map(|r| {
            assert!(r["locations"][0].get("physicalLocation").is_none(), "{r:#}");
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap_or_default()
                .split("/containerDefinitions")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    named.sort();
    let mut all = arns.clone();
    all.sort();
    assert_eq!(named, all, "every revision, ACTIVE and INACTIVE, once");
    Ok(())
}

/// The repository's `.pre-commit-hooks.yaml`, run by pre-commit itself (`try-repo`) in a
/// scratch repository: a commit's leaky task definition fails the hook (named, never echoed);
/// the unrelated JSON, YAML and Terraform files beside it are passed over.
#[tokio::test]
async fn the_pre_commit_hook_checks_the_files_of_a_commit() -> anyhow::Result<()> {
    let root = harness::paths::workspace_root();
    let bin = harness::paths::binary("ecs-secrets")?;
    let bin_dir = bin
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let repo = tempfile::tempdir()?;
    let home = tempfile::tempdir()?;
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        bin_dir.display(),
        root.join(".tools/venv/bin").display()
    );
    let run = |program: &str, args: &[&str]| {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(repo.path())
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("PRE_COMMIT_HOME", home.path().join("pre-commit"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com");
        cmd.output()
    };
    let td = |env: Value| {
        json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "web:1.2.3",
            "memory": 256, "environment": env}]})
        .to_string()
    };
    std::fs::create_dir_all(repo.path().join("infra"))?;
    std::fs::write(
        repo.path().join("leaky.json"),
        td(json!([{"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY}])),
    )?;
    std::fs::write(
        repo.path().join("clean.json"),
        td(json!([{"name": "LOG_LEVEL", "value": "info"}])),
    )?;
    std::fs::write(repo.path().join("package.json"), r#"{"name": "web"}"#)?;
    // Files a hook meets that are no task definition and cannot be read as one: a playbook (a
    // list), a comment-only values file, a Helm template, variables.
    std::fs::write(
        repo.path().join("playbook.yml"),
        "- hosts: all\n  tasks: []\n",
    )?;
    std::fs::write(repo.path().join("values.yaml"), "# nothing set\n")?;
    std::fs::write(
        repo.path().join("deployment.yaml"),
        "spec:\n  replicas: {{ .Values.replicas }}\n  {{- if .Values.x }}\n",
    )?;
    std::fs::write(repo.path().join("prod.tfvars"), "region = \"us-east-1\"\n")?;
    // A CloudFormation template by its .template name, with a leak.
    std::fs::write(
        repo.path().join("stack.template"),
        json!({"Resources": {"Web": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "ContainerDefinitions": [{"Name": "web", "Image": "web:1.2.3", "Memory": 256,
                "Environment": [{"Name": "AWS_ACCESS_KEY_ID", "Value": ACCESS_KEY}]}]}}}})
        .to_string(),
    )?;
    // A task definition under a wrapper the reader does not know: an error, never skipped.
    std::fs::write(
        repo.path().join("wrapped.json"),
        json!({"TaskDefinitions": {"containerDefinitionz": []}}).to_string(),
    )?;
    std::fs::write(repo.path().join("config.yaml"), "replicas: 2\n")?;
    std::fs::write(
        repo.path().join("infra/main.tf"),
        "resource \"aws_s3_bucket\" \"b\" {}\n",
    )?;
    let init = run("git", &["init", "-q"]).await?;
    anyhow::ensure!(init.status.success(), "git init: {init:?}");
    let add = run("git", &["add", "."]).await?;
    anyhow::ensure!(add.status.success(), "git add: {add:?}");
    let root_arg = root.to_string_lossy().into_owned();
    let try_repo = |files: &'static [&'static str]| {
        let mut args = vec![
            "try-repo",
            root_arg.as_str(),
            "ecs-secrets-validate",
            "--files",
        ];
        args.extend_from_slice(files);
        run("pre-commit", &args.clone())
    };

    let failed = try_repo(&["leaky.json", "package.json", "config.yaml", "infra/main.tf"]).await?;
    let out = format!("{}{}", stdout(&failed), stderr(&failed));
    assert_eq!(failed.status.code(), Some(1), "{out}");
    assert!(out.contains("ecs-secrets validate"), "{out}");
    assert!(
        out.contains("plaintext-secret") && out.contains("leaky.json"),
        "{out}"
    );
    assert!(
        !out.contains(ACCESS_KEY),
        "the hook echoed the value: {out}"
    );

    let template = try_repo(&["stack.template"]).await?;
    let out = format!("{}{}", stdout(&template), stderr(&template));
    assert_eq!(template.status.code(), Some(1), "{out}");
    assert!(
        out.contains("plaintext-secret") && out.contains("stack.template"),
        "{out}"
    );

    let wrapped = try_repo(&["wrapped.json", "clean.json"]).await?;
    let out = format!("{}{}", stdout(&wrapped), stderr(&wrapped));
    assert_eq!(wrapped.status.code(), Some(1), "fails closed: {out}");
    assert!(out.contains("wrapped.json"), "{out}");

    let passed = try_repo(&[
        "clean.json",
        "package.json",
        "config.yaml",
        "infra/main.tf",
        "playbook.yml",
        "values.yaml",
        "deployment.yaml",
        "prod.tfvars",
    ])
    .await?;
    let out = format!("{}{}", stdout(&passed), stderr(&passed));
    assert_eq!(passed.status.code(), Some(0), "{out}");
    Ok(())
}
