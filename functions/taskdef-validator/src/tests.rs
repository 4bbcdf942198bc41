//! Rule fixtures (each rule positive and negative, pointer and severity asserted), readers and
//! the Lambda handler with in-memory fakes of both AWS boundaries.

use std::collections::HashMap;
use std::sync::Mutex;

use ecs_secrets_shared::aws::CallError;
use ecs_secrets_shared::task_definition::{TaskDefinition, Text};
use serde_json::{json, Value};

use super::*;
use crate::config::Config;
use crate::directory::{KeyMeta, NamedPolicy, ParameterMeta, SecretMeta};
use crate::finding::{rule, Finding, Severity};
use crate::handler::Validator;
use crate::platform::Platform;
use lambda_runtime::LambdaEvent;

const ROLE: &str = "arn:aws:iam::123456789012:role/app-execution";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

/// A hygienic task definition: no finding at all. Tests change one thing at a time.
fn base() -> Value {
    json!({
        "family": "app",
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3",
        "executionRoleArn": ROLE,
        "taskRoleArn": "arn:aws:iam::123456789012:role/app-task",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{
            "name": "app",
            "image": "app:1",
            "user": "1000",
            "readonlyRootFilesystem": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app"}},
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
            "secrets": [{"name": "DB", "valueFrom": SECRET}]
        }]
    })
}

fn offline(td: &Value, context: &rules::Context) -> Vec<Finding> {
    let doc = input::from_json_value(td.clone()).expect("readable");
    let subject = &doc.subjects[0];
    rules::check(subject, context)
        .expect("well-shaped")
        .findings
}

fn with(f: impl FnOnce(&mut Value)) -> Value {
    let mut td = base();
    f(&mut td);
    td
}

fn only(findings: &[Finding], rule_id: &str) -> Vec<(String, Severity)> {
    findings
        .iter()
        .filter(|f| f.rule == rule_id)
        .map(|f| (f.pointer.clone(), f.severity))
        .collect()
}

#[test]
fn the_base_fixture_is_clean() {
    assert_eq!(offline(&base(), &rules::Context::default()), vec![]);
}

#[test]
fn each_rule_positive_and_negative() {
    let ctx = rules::Context::default();
    let c0 = "/containerDefinitions/0";
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Value)>,
        Vec<(String, Severity)>,
    );
    let cases: Vec<Case> = vec![
        (
            rule::PLAINTEXT_SECRET,
            Box::new(|td| {
                td["containerDefinitions"][0]["environment"]
            .as_array_mut().unwrap().push(json!({"name": "GITHUB", "value": "ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"}))
            }),
            vec![(format!("{c0}/environment/1/value"), Severity::Critical)],
        ),
        (
            rule::PLAINTEXT_SECRET,
            Box::new(|td| {
                td["containerDefinitions"][0]["environment"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "SMTP_PASSWORD", "value": "Xk9#mP2vL7qR"}))
            }),
            vec![(format!("{c0}/environment/1/value"), Severity::High)],
        ),
        (
            rule::SECRET_IN_COMMAND,
            Box::new(|td| {
                td["containerDefinitions"][0]["command"] =
                    json!(["serve", "--token", "tG7#kLp2Qz9x"])
            }),
            vec![(format!("{c0}/command/2"), Severity::High)],
        ),
        (
            rule::SECRET_IN_COMMAND,
            Box::new(
                |td| td["containerDefinitions"][0]["healthCheck"] = json!({"command": ["CMD-SHELL", "curl -fsu admin:Hx8#vQ2mZ http://localhost/health"]}),
            ),
            vec![(format!("{c0}/healthCheck/command/1"), Severity::High)],
        ),
        (
            rule::SECRET_IN_COMMAND,
            Box::new(|td| {
                td["containerDefinitions"][0]["logConfiguration"]["options"]["splunk-token"] =
                    json!("9f2c4e1a-XXXX-Ab3dE7gH9jK2mN4pQ6rS")
            }),
            vec![(
                format!("{c0}/logConfiguration/options/splunk-token"),
                Severity::High,
            )],
        ),
        (
            rule::PLAINTEXT_DYNAMIC_REFERENCE,
            Box::new(|td| {
                td["containerDefinitions"][0]["environment"][0]["value"] =
                    json!("{{resolve:secretsmanager:prod/db:SecretString:password}}")
            }),
            vec![(format!("{c0}/environment/0/value"), Severity::High)],
        ),
        (
            rule::INVALID_SECRET_REFERENCE,
            Box::new(|td| {
                td["containerDefinitions"][0]["secrets"][0]["valueFrom"] = json!(
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password"
                )
            }),
            vec![(format!("{c0}/secrets/0/valueFrom"), Severity::High)],
        ),
        (
            rule::INVALID_SECRET_REFERENCE,
            Box::new(|td| {
                td["containerDefinitions"][0]["repositoryCredentials"] =
                    json!({"credentialsParameter": 42})
            }),
            vec![(
                format!("{c0}/repositoryCredentials/credentialsParameter"),
                Severity::High,
            )],
        ),
        (
            rule::PARTIAL_SECRET_ARN,
            Box::new(|td| {
                td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
                    json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db")
            }),
            vec![(format!("{c0}/secrets/0/valueFrom"), Severity::Medium)],
        ),
        (
            rule::MISSING_EXECUTION_ROLE,
            Box::new(|td| {
                td.as_object_mut().unwrap().remove("executionRoleArn");
            }),
            vec![(format!("{c0}/secrets/0"), Severity::High)],
        ),
        (
            rule::PINNED_SECRET_VERSION,
            Box::new(|td| {
                td["containerDefinitions"][0]["secrets"][0]["valueFrom"] = json!(format!(
                    "{SECRET}:password::EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
                ))
            }),
            vec![(format!("{c0}/secrets/0/valueFrom"), Severity::Low)],
        ),
        (
            rule::PINNED_SECRET_VERSION,
            Box::new(|td| {
                td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
                    json!(format!("{SECRET}::AWSPENDING:"))
            }),
            vec![(format!("{c0}/secrets/0/valueFrom"), Severity::Low)],
        ),
        (
            rule::PLATFORM_VERSION_INCOMPATIBLE,
            Box::new(|td| {
                td["runtimePlatform"] =
                    json!({"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"});
                td["containerDefinitions"][0]["environmentFiles"] =
                    json!([{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}]);
            }),
            vec![(format!("{c0}/environmentFiles"), Severity::Medium)],
        ),
        (
            rule::CROSS_REGION_SECRET_REFERENCE,
            Box::new(|td| {
                td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
                    json!("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db")
            }),
            vec![(format!("{c0}/secrets/0/valueFrom"), Severity::Medium)],
        ),
        (
            rule::PRIVILEGED_CONTAINER,
            Box::new(|td| td["containerDefinitions"][0]["privileged"] = json!(true)),
            vec![(format!("{c0}/privileged"), Severity::Medium)],
        ),
        (
            rule::ROOT_USER,
            Box::new(|td| td["containerDefinitions"][0]["user"] = json!("root:root")),
            vec![(format!("{c0}/user"), Severity::Medium)],
        ),
        (
            rule::ROOT_USER,
            Box::new(|td| {
                td["containerDefinitions"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("user");
            }),
            vec![(c0.to_owned(), Severity::Low)],
        ),
        (
            rule::WRITABLE_ROOT_FILESYSTEM,
            Box::new(|td| td["containerDefinitions"][0]["readonlyRootFilesystem"] = json!(false)),
            vec![(format!("{c0}/readonlyRootFilesystem"), Severity::Low)],
        ),
        (
            rule::HOST_NETWORK_MODE,
            Box::new(|td| td["networkMode"] = json!("host")),
            vec![("/networkMode".to_owned(), Severity::Medium)],
        ),
        (
            rule::MISSING_LOG_CONFIGURATION,
            Box::new(|td| {
                td["containerDefinitions"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("logConfiguration");
            }),
            vec![(c0.to_owned(), Severity::Low)],
        ),
        (
            rule::SAME_TASK_AND_EXECUTION_ROLE,
            Box::new(|td| td["taskRoleArn"] = json!(ROLE)),
            vec![("/taskRoleArn".to_owned(), Severity::Low)],
        ),
    ];
    for (rule_id, change, expected) in cases {
        let findings = offline(&with(change), &ctx);
        assert_eq!(
            only(&findings, rule_id),
            expected,
            "{rule_id}: {findings:#?}"
        );
        // The negative: the base fixture has none of it.
        assert!(
            only(&offline(&base(), &ctx), rule_id).is_empty(),
            "{rule_id}"
        );
    }
}

#[test]
fn platform_version_comes_from_the_caller_or_the_template() {
    let json_key = with(|td| {
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!(format!("{SECRET}:password::"))
    });
    let old = rules::Context {
        platform_version: Some("1.3.0".into()),
        task: None,
        evidence_key: None,
    };
    assert_eq!(
        only(
            &offline(&json_key, &old),
            rule::PLATFORM_VERSION_INCOMPATIBLE
        ),
        vec![(
            "/containerDefinitions/0/secrets/0/valueFrom".to_owned(),
            Severity::Medium
        )]
    );
    for ok in [None, Some("1.4.0"), Some("LATEST")] {
        let ctx = rules::Context {
            platform_version: ok.map(str::to_owned),
            task: None,
            evidence_key: None,
        };
        assert!(only(
            &offline(&json_key, &ctx),
            rule::PLATFORM_VERSION_INCOMPATIBLE
        )
        .is_empty());
    }
}

#[test]
fn the_access_key_pair_is_critical_whatever_the_name() {
    let td = with(|td| {
        td["containerDefinitions"][0]["environment"] = json!([
            {"name": "UPLOADER_ID", "value": "AKIA2OGYBAH6STMMNXNN"},
            {"name": "UPLOADER_MATERIAL", "value": "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo"}
        ])
    });
    let findings = offline(&td, &rules::Context::default());
    let secret = findings
        .iter()
        .find(|f| f.pointer.ends_with("/environment/1/value"))
        .expect("paired secret key");
    assert_eq!(secret.severity, Severity::Critical);
    assert!(
        secret.message.contains("next to an access key id"),
        "{}",
        secret.message
    );
}

/// The pair is found whichever comes first, with space around the key, in any container: the
/// access key id is looked for once a container has a value of a secret key's length.
#[test]
fn the_access_key_pair_is_found_in_either_order() {
    let key = "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo";
    let td = with(|td| {
        td["containerDefinitions"][0]["environment"] = json!([
            {"name": "UPLOADER_MATERIAL", "value": format!(" {key}\n")},
            {"name": "UPLOADER_ID", "value": "AKIA2OGYBAH6STMMNXNN"}
        ]);
        if let Some(containers) = td["containerDefinitions"].as_array_mut() {
            containers.push(json!({
                "name": "second", "image": "nginx",
                "environment": [{"name": "UPLOADER_MATERIAL", "value": key}]
            }));
        }
    });
    let findings = offline(&td, &rules::Context::default());
    let paired: Vec<&str> = findings
        .iter()
        .filter(|f| f.message.contains("next to an access key id"))
        .map(|f| f.pointer.as_str())
        .collect();
    // The second container has no access key id: its value is judged on its own.
    assert_eq!(paired, ["/containerDefinitions/0/environment/0/value"]);
}

#[test]
fn no_finding_contains_the_secret() {
    let values = [
        "AKIA2OGYBAH6STMMNXNN",
        "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo",
        "Xk9#mP2vL7qR",
        "Tr0ub4dor3x",
    ];
    let td = with(|td| {
        td["containerDefinitions"][0]["environment"] = json!([
            {"name": "AWS_ACCESS_KEY_ID", "value": values[0]},
            {"name": "AWS_SECRET_ACCESS_KEY", "value": values[1]},
            {"name": "DB_PASSWORD", "value": values[2]},
            {"name": "DATABASE_URL", "value": format!("postgres://u:{}@db/app", values[3])},
        ]);
        td["containerDefinitions"][0]["command"] = json!([format!("--password={}", values[2])]);
    });
    let report = report::Report {
        findings: offline(&td, &rules::Context::default()),
        ..Default::default()
    };
    assert!(report.findings.len() >= 5);
    for rendered in [
        report.to_text(false),
        report.to_json().to_string(),
        report.to_sarif().to_string(),
    ] {
        for v in values {
            assert!(!rendered.contains(v), "{v} leaked");
        }
    }
}

#[test]
fn readers_and_positions() {
    let describe = br#"{
  "taskDefinition": {
    "family": "x",
    "containerDefinitions": [
      {"name": "a", "environment": [
        {"name": "DB_PASSWORD", "value": "Xk9#mP2vL7qR"}
      ]}
    ]
  }
}"#;
    let doc = input::parse(describe).unwrap();
    assert_eq!(doc.subjects[0].base, "/taskDefinition");
    assert_eq!(
        doc.line(
            &doc.subjects[0],
            "/containerDefinitions/0/environment/0/value"
        ),
        Some(6)
    );
    let yaml = b"Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ExecutionRoleArn: !GetAtt Role.Arn\n      ContainerDefinitions:\n        - Name: web\n          Environment:\n            - Name: TOKEN\n              Value: !Sub '${Token}'\n            - Name: DB_PASSWORD\n              Value: Xk9#mP2vL7qR\n";
    let doc = input::parse(yaml).unwrap();
    let s = &doc.subjects[0];
    assert_eq!(s.label, "Task");
    assert_eq!(
        s.definition["executionRoleArn"],
        json!({"Fn::GetAtt": ["Role", "Arn"]})
    );
    assert_eq!(
        s.definition["containerDefinitions"][0]["environment"][0]["value"],
        json!({"Fn::Sub": "${Token}"})
    );
    assert_eq!(
        doc.line(s, "/containerDefinitions/0/environment/1/value"),
        Some(12)
    );
    let findings = rules::check(s, &rules::Context::default())
        .unwrap()
        .findings;
    assert_eq!(
        only(&findings, rule::PLAINTEXT_SECRET),
        vec![(
            "/containerDefinitions/0/environment/1/value".to_owned(),
            Severity::High
        )]
    );
}

#[test]
fn bad_input_is_an_error_with_a_position() {
    let cases: [(&[u8], &str, usize); 7] = [
        (
            b"{\n  \"family\": \"x\",\n  \"containerDefinitions\": [\n}",
            "invalid JSON",
            4,
        ),
        (b"[1, 2]", "a list must hold container definitions", 0),
        (b"{\"family\": \"x\"}", "no containerDefinitions", 0),
        (b"{\"containerDefinitions\": 7}", "", 0),
        (b"Resources:\n  A: [\n", "invalid YAML", 3),
        (b"\x00\x01\x02binary", "NUL byte", 1),
        (b"{\"a\": \"\xff\xfe\"}", "not UTF-8", 1),
    ];
    for (bytes, expected, line) in cases {
        match input::parse(bytes) {
            Err(e) => {
                assert!(e.message.contains(expected), "{e}");
                assert_eq!(e.line, line, "{e}");
            }
            Ok(doc) => {
                // Shape errors come from the typed model, naming the field.
                let err = rules::check(&doc.subjects[0], &rules::Context::default()).unwrap_err();
                assert!(err.to_string().contains("containerDefinitions"), "{err}");
            }
        }
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(input::parse(deep.as_bytes()).is_err());
    let deep_yaml = format!("a: {}1{}", "[".repeat(5000), "]".repeat(5000));
    assert!(input::parse(deep_yaml.as_bytes()).is_err());
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let e = input::parse(bomb.as_bytes()).unwrap_err();
    assert!(
        e.message.contains("aliases expand to more than"),
        "charged in bytes: {e}"
    );
    // Many small nodes in the file itself meet the node limit.
    let wide = format!("a: [{}]\n", vec!["1"; 600_000].join(","));
    let e = input::parse(wide.as_bytes()).unwrap_err();
    assert!(e.message.contains("YAML nodes"), "{e}");
    let huge = vec![b' '; input::MAX_INPUT_BYTES + 1];
    assert!(input::parse(&huge).unwrap_err().message.contains("limit"));
}

/// Mutations of the fixtures through the readers and the rules: never a panic. A short,
/// deterministic stand-in for the cargo-fuzz target (fuzz/), which runs longer by hand.
#[test]
fn mutated_inputs_never_panic() {
    // (file name, bytes): the name picks the reader as the CLI does (`.tf` is HCL).
    let seeds: Vec<(&str, &[u8])> = vec![
        ("a.json", include_bytes!("../testdata/leaky-register.json")),
        ("b.json", include_bytes!("../testdata/clean-describe.json")),
        ("c.yaml", include_bytes!("../testdata/template.yaml")),
        (
            "containers.json",
            include_bytes!("../testdata/terraform/containers.json"),
        ),
        (
            "containers.json.tpl",
            include_bytes!("../testdata/terraform/containers.json.tpl"),
        ),
        ("main.tf", include_bytes!("../testdata/terraform/main.tf")),
    ];
    let mut rng = corpus::Rng::new(99);
    for round in 0..6000 {
        let (name, seed) = seeds[round % seeds.len()];
        let mut bytes = seed.to_vec();
        for _ in 0..1 + rng.below(8) {
            if bytes.is_empty() {
                bytes.push(b'{');
            }
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = rng.next_u64() as u8,
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, *rng.pick(b"{}[]:,\"'!&*-\n $%=<")),
                _ => bytes.truncate(at.max(1)),
            }
        }
        if let Ok(doc) = input::parse_named(name, &bytes) {
            for s in &doc.subjects {
                if let Ok(checked) = rules::check(s, &rules::Context::default()) {
                    for f in &checked.findings {
                        let _ = doc.line(s, &f.pointer);
                        let _ = s.shown_pointer(&f.pointer);
                    }
                }
            }
        }
    }
}

// ---- The Lambda, with fakes of both boundaries ----

#[derive(Default)]
struct FakeDirectory {
    secrets: HashMap<String, SecretMeta>,
    roles: HashMap<String, Vec<NamedPolicy>>,
    boundaries: HashMap<String, NamedPolicy>,
}

impl Directory for FakeDirectory {
    async fn secret(&self, id: &str) -> Result<Option<SecretMeta>, CallError> {
        Ok(self.secrets.get(id).cloned())
    }
    async fn secret_policy(&self, _: &str) -> Result<Option<Value>, CallError> {
        Ok(None)
    }
    async fn parameters(&self, _: &[String]) -> Result<Vec<ParameterMeta>, CallError> {
        Ok(vec![])
    }
    async fn key(&self, _: &str) -> Result<Option<KeyMeta>, CallError> {
        Ok(None)
    }
    async fn role_policies(&self, name: &str) -> Result<Option<Vec<NamedPolicy>>, CallError> {
        Ok(self.roles.get(name).cloned())
    }
    async fn permissions_boundary(&self, name: &str) -> Result<Option<NamedPolicy>, CallError> {
        Ok(self.boundaries.get(name).cloned())
    }
}

#[derive(Default)]
struct FakePlatform {
    calls: Mutex<Vec<String>>,
    published: Mutex<Vec<Value>>,
    /// What ECS holds, by ARN (`base()` for any other).
    held: Mutex<std::collections::HashMap<String, Value>>,
}

impl Platform for FakePlatform {
    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinition, CallError> {
        self.calls.lock().unwrap().push(format!("describe {arn}"));
        let held = self
            .held
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .unwrap_or_else(base);
        // The fake holds JSON; ECS's answer reaches the function as the shared model.
        Ok(TaskDefinition::from_json(&held).expect("a held task definition"))
    }
    async fn publish(&self, bus: &str, detail: &Value) -> Result<(), CallError> {
        self.calls.lock().unwrap().push(format!("publish {bus}"));
        self.published.lock().unwrap().push(detail.clone());
        Ok(())
    }
    async fn import_findings(
        &self,
        f: &[Finding],
        arn: &str,
        _: &str,
        _: &str,
    ) -> Result<usize, CallError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("import {} {arn}", f.len()));
        Ok(f.len())
    }
    async fn deregister(&self, arn: &str) -> Result<(), CallError> {
        self.calls.lock().unwrap().push(format!("deregister {arn}"));
        Ok(())
    }
}

fn validator(security_hub: bool, enforce: bool) -> Validator<FakeDirectory, FakePlatform> {
    let mut directory = FakeDirectory::default();
    directory.secrets.insert(
        SECRET.to_owned(),
        SecretMeta {
            arn: SECRET.to_owned(),
            kms_key_id: None,
        },
    );
    directory.roles.insert(
        "app-execution".to_owned(),
        vec![NamedPolicy {
            name: "read".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*"}]}),
        }],
    );
    Validator {
        directory,
        platform: FakePlatform::default(),
        config: Config {
            event_bus: Some("default".into()),
            security_hub,
            enforce,
            evidence_key_parameter: None,
            hook_fail_on: Some(crate::finding::Severity::High),
            hook_live: false,
        },
        home: live::Home {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: Some("123456789012".into()),
            caller_account: Some("123456789012".into()),
        },
        evidence_key: None,
    }
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, lambda_runtime::Context::default())
}

fn cloudtrail(td: Value) -> Value {
    json!({
        "version": "0", "id": "e1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs",
        "account": "123456789012", "region": "us-east-1", "time": "2026-11-23T10:00:00Z",
        "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "RegisterTaskDefinition",
                   "requestParameters": {"family": "app"},
                   "responseElements": {"taskDefinition": td}}
    })
}

#[tokio::test]
async fn lambda_clean_definition_publishes_an_empty_report() {
    let v = validator(true, true);
    let out = v.handle(invoke(cloudtrail(base()))).await.unwrap();
    assert_eq!(out["checked"], 1);
    assert_eq!(out["findings"], json!([]));
    assert_eq!(out["live"], true);
    assert_eq!(
        *v.platform.calls.lock().unwrap(),
        vec![
            "describe arn:aws:ecs:us-east-1:123456789012:task-definition/app:3",
            "publish default"
        ]
    );
}

#[tokio::test]
async fn lambda_enforces_and_imports_on_a_critical_finding() {
    let v = validator(true, true);
    let td = with(|td| {
        td["containerDefinitions"][0]["environment"] = json!([{"name": "AWS_SECRET_ACCESS_KEY", "value": "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo"}]);
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/missing-Zz9Yy8");
    });
    v.platform.held.lock().unwrap().insert(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3".into(),
        td.clone(),
    );
    let out = v.handle(invoke(cloudtrail(td))).await.unwrap();
    let rules: Vec<&str> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"plaintext-secret") && rules.contains(&"secret-not-found"),
        "{rules:?}"
    );
    let calls = v.platform.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![
            "describe arn:aws:ecs:us-east-1:123456789012:task-definition/app:3".to_owned(),
            "deregister arn:aws:ecs:us-east-1:123456789012:task-definition/app:3".to_owned(),
            format!(
                "import {} arn:aws:ecs:us-east-1:123456789012:task-definition/app:3",
                rules.len()
            ),
            "publish default".to_owned(),
        ]
    );
    assert!(
        out["actions"][0]
            .as_str()
            .unwrap()
            .starts_with("deregistered"),
        "{out}"
    );
    assert!(
        !out.to_string().contains("q8Zt3k"),
        "the secret leaked into the report"
    );
    let published = v.platform.published.lock().unwrap();
    assert_eq!(
        published[0]["taskDefinitionArn"],
        "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3"
    );
}

#[tokio::test]
async fn lambda_live_role_check() {
    let v = validator(false, false);
    // The role may read prod/*, not staging/*.
    let td = with(|td| {
        td["containerDefinitions"][0]["secrets"] = json!([
            {"name": "A", "valueFrom": SECRET},
            {"name": "B", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/db-QwErTy"}
        ]);
    });
    let mut v = v;
    v.directory.secrets.insert(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/db-QwErTy".into(),
        SecretMeta {
            arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/db-QwErTy".into(),
            kms_key_id: None,
        },
    );
    let out = v
        .handle(invoke(json!({"taskDefinition": td})))
        .await
        .unwrap();
    let findings = out["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{out:#}");
    assert_eq!(findings[0]["rule"], "execution-role-cannot-read-secret");
    assert_eq!(
        findings[0]["pointer"],
        "/containerDefinitions/0/secrets/1/valueFrom"
    );
    assert_eq!(findings[0]["access"]["decision"], "denied");
}

#[tokio::test]
async fn lambda_event_shapes() {
    let v = validator(false, false);
    let out = v
        .handle(invoke(json!({"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3"})))
        .await
        .unwrap();
    assert_eq!(out["checked"], 1);
    assert_eq!(
        v.platform.calls.lock().unwrap()[0],
        "describe arn:aws:ecs:us-east-1:123456789012:task-definition/app:3"
    );
    let mut failed = cloudtrail(base());
    failed["detail"]["errorCode"] = json!("ClientException");
    let out = v.handle(invoke(failed)).await.unwrap();
    assert_eq!(out["checked"], 0);
    for (bad, says) in [
        (json!([1]), "JSON object"),
        (json!({"taskDefinition": "x"}), "taskDefinition"),
        (json!({"hello": 1}), "expected an EventBridge"),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "RunTask"}}),
            "RunTask",
        ),
    ] {
        let e = v.handle(invoke(bad)).await.unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn config_from_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let c = Config::from_lookup(env(&[])).unwrap();
    assert_eq!(
        (c.event_bus.as_deref(), c.security_hub, c.enforce),
        (Some("default"), false, false)
    );
    let c = Config::from_lookup(env(&[
        ("SECURITY_HUB", "true"),
        ("ENFORCE", "yes"),
        ("EVENT_BUS_NAME", "sec"),
    ]))
    .unwrap();
    assert_eq!(
        (c.event_bus.as_deref(), c.security_hub, c.enforce),
        (Some("sec"), true, true)
    );
    let e = Config::from_lookup(env(&[("ENFORCE", "maybe")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ENFORCE"), "{e}");
}

/// Issue 12: with ENFORCE or SECURITY_HUB, a body that differs from the registered revision is
/// only a hint: the function acts on what ECS holds.
#[tokio::test]
async fn lambda_acts_on_the_registered_revision_not_the_body() {
    let v = validator(true, true);
    let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3";
    let planted = with(|td| {
        td["containerDefinitions"][0]["environment"] = json!([{"name": "AWS_SECRET_ACCESS_KEY", "value": "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo"}]);
    });
    v.platform.held.lock().unwrap().insert(arn.into(), base());
    let out = v
        .handle(invoke(json!({ "taskDefinition": planted })))
        .await
        .unwrap();
    assert_eq!(out["findings"], json!([]), "{out}");
    let calls = v.platform.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![format!("describe {arn}"), "publish default".to_owned()]
    );
    // Without actions configured, the body itself is what is checked.
    let v = validator(false, false);
    let out = v
        .handle(invoke(json!({ "taskDefinition": planted })))
        .await
        .unwrap();
    assert_eq!(out["findings"][0]["rule"], "plaintext-secret", "{out}");
    assert!(!v
        .platform
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|c| c.starts_with("describe")));
}

/// References to another region are not looked up; the report says so (an info note) instead
/// of skipping them silently.
#[tokio::test]
async fn cross_region_references_get_a_note() {
    let v = validator(false, false);
    let td = with(|td| {
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf");
    });
    let out = v.handle(invoke(cloudtrail(td))).await.unwrap();
    let notes: Vec<&Value> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "secret-not-found")
        .collect();
    assert_eq!(notes.len(), 1, "{out:#}");
    assert_eq!(notes[0]["severity"], "info");
    assert!(
        notes[0]["message"]
            .as_str()
            .unwrap()
            .contains("not looked up: the reference is in eu-west-1"),
        "{out:#}"
    );
}

/// The live findings of one task definition, as (pointer, decision or severity, message).
async fn live_findings(
    v: &Validator<FakeDirectory, FakePlatform>,
    td: Value,
) -> Vec<(String, String, String)> {
    let out = v
        .handle(invoke(json!({ "taskDefinition": td })))
        .await
        .unwrap();
    out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "execution-role-cannot-read-secret")
        .map(|f| {
            (
                f["pointer"].as_str().unwrap().to_owned(),
                f["access"]["decision"]
                    .as_str()
                    .unwrap_or(f["severity"].as_str().unwrap())
                    .to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Review findings on issue 12: the request context, the key, the role and its boundary.
#[tokio::test]
async fn live_evaluation_sees_what_ecs_sends() {
    // A pinned version id does not carry the AWSCURRENT stage a condition asks for.
    let mut v = validator(false, false);
    v.directory.roles.insert(
        "app-execution".into(),
        vec![NamedPolicy {
            name: "read".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}}]}),
        }],
    );
    let pinned = with(|td| {
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!(format!("{SECRET}:::{}", "a".repeat(32)));
    });
    let found = live_findings(&v, pinned).await;
    assert!(
        found.len() == 1 && found[0].1 != "allowed",
        "a version id is not AWSCURRENT: {found:?}"
    );
    let staged = with(|td| {
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!(format!("{SECRET}::AWSCURRENT:"));
    });
    assert_eq!(live_findings(&v, staged).await, vec![]);

    // A secret of another account under the AWS managed key cannot be decrypted there.
    let mut v = validator(false, false);
    let shared = "arn:aws:secretsmanager:us-east-1:999999999999:secret:shared/db-AbCdEf";
    v.directory.secrets.insert(
        shared.into(),
        SecretMeta {
            arn: shared.into(),
            kms_key_id: None,
        },
    );
    v.directory.roles.insert(
        "app-execution".into(),
        vec![NamedPolicy {
            name: "read".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        }],
    );
    let td = with(|td| {
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"] = json!(shared);
    });
    let found = live_findings(&v, td).await;
    assert!(
        found
            .iter()
            .any(|(_, d, m)| d == "denied" && m.contains("AWS managed key")),
        "{found:?}"
    );

    // A permissions boundary without the action: denied, whatever the role's policies say.
    let mut v = validator(false, false);
    v.directory.boundaries.insert(
        "app-execution".into(),
        NamedPolicy {
            name: "permissions boundary".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}),
        },
    );
    let found = live_findings(&v, base()).await;
    assert!(
        found.len() == 1 && found[0].1 == "denied" && found[0].2.contains("permissions boundary"),
        "{found:?}"
    );

    // A role of another account than the caller's is not read as a same-named role here.
    let v = validator(false, false);
    let td = with(|td| {
        td["executionRoleArn"] = json!("arn:aws:iam::999999999999:role/app-execution");
    });
    let found = live_findings(&v, td).await;
    assert!(
        found.len() == 1 && found[0].2.contains("readability unknown"),
        "{found:?}"
    );

    // An unresolved role: a note, not a silent pass.
    let td = with(|td| {
        td["executionRoleArn"] = json!({"Fn::GetAtt": ["Role", "Arn"]});
    });
    let found = live_findings(&v, td).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "info");
}

/// A forged envelope does not move the checks or the filed findings to another region or
/// account: the fetched revision's ARN names them.
#[tokio::test]
async fn the_revision_arn_outranks_a_forged_envelope() {
    let v = validator(true, false);
    let mut event = cloudtrail(base());
    event["region"] = json!("eu-west-3");
    event["account"] = json!("999999999999");
    let out = v.handle(invoke(event)).await.unwrap();
    assert_eq!(out["findings"], json!([]), "{out:#}");
    let calls = v.platform.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|c| !c.starts_with("import")), "{calls:?}");
}

/// Issue 14, class 5: a flow sequence whose closing `]` sits at its key's indentation reads
/// as YAML 1.2 readers read it, with the same lines; block scalars and quotes are untouched.
#[test]
fn flow_sequences_closed_at_the_key_indentation() {
    let text = "Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/exec
      ContainerDefinitions:
        - Name: app
          Image: app:1
          Command: [
            \"sh\", \"-c\", \"echo ] [ # not a comment\"
          ]
          EntryPoint: [\"a\",
            \"b\"
          ]
          DockerLabels: {
            team: payments
          }
          Environment:
            - Name: SCRIPT
              Value: |
                [ -f /x ] && echo {
            - Name: DB_PASSWORD
              Value: summer2024
";
    let doc = input::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let c = &doc.subjects[0].definition["containerDefinitions"][0];
    assert_eq!(
        c["command"],
        json!(["sh", "-c", "echo ] [ # not a comment"])
    );
    assert_eq!(c["entryPoint"], json!(["a", "b"]));
    assert_eq!(c["dockerLabels"], json!({"team": "payments"}));
    assert_eq!(c["environment"][0]["value"], "[ -f /x ] && echo {\n");
    let checked = rules::check(&doc.subjects[0], &rules::Context::default()).unwrap();
    let leak = checked
        .findings
        .iter()
        .find(|f| f.rule == rule::PLAINTEXT_SECRET)
        .expect("the password is found");
    assert_eq!(leak.pointer, "/containerDefinitions/0/environment/1/value");
    assert_eq!(doc.line(&doc.subjects[0], &leak.pointer), Some(23));
    // Invalid indentation that is not a flow collection is still an error, at its place.
    let bad = input::parse(b"Resources:\n  A:\n    B: 1\n   C: 2\n").unwrap_err();
    assert_eq!(bad.line, 4, "{bad}");
}

/// Review of issue 14: the YAML retry pads lines inside a flow collection; deep inside an
/// indented block that could multiply the file. Past a small allowance it gives up and the
/// original error stands — quickly.
#[test]
fn the_yaml_retry_cannot_multiply_a_file() {
    let text = format!("a:\n{}k: [\n{}]\n", " ".repeat(990), "1,\n".repeat(100_000));
    let started = std::time::Instant::now();
    let e = input::parse(text.as_bytes()).unwrap_err();
    assert!(e.message.contains("invalid indentation"), "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Issue 15: one task definition in every form the validator reads — register input,
/// describe output, CloudFormation JSON and YAML, PascalCase properties on their own — gives
/// the same references, pointers and all, as the same task definition described by ECS
/// (`From<&aws_sdk_ecs::types::TaskDefinition>`), which is what the redeployer matches.
#[test]
fn every_form_and_the_sdk_give_the_same_references() {
    use aws_sdk_ecs::types as ecs;
    const DB: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123:password::";
    const TOKEN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/splunk/token";
    const REGISTRY: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-XyZ789";
    let secret = |n: &str, v: &str| {
        ecs::Secret::builder()
            .name(n)
            .value_from(v)
            .build()
            .unwrap()
    };
    let sdk = ecs::TaskDefinition::builder()
        .family("web")
        .container_definitions(
            ecs::ContainerDefinition::builder()
                .name("web")
                .image("web:1")
                .secrets(secret("DB_PASSWORD", DB))
                .secrets(secret("API_KEY", "/web/api-key"))
                .log_configuration(
                    ecs::LogConfiguration::builder()
                        .log_driver(ecs::LogDriver::Splunk)
                        .secret_options(secret("splunk-token", TOKEN))
                        .build()
                        .unwrap(),
                )
                .repository_credentials(
                    ecs::RepositoryCredentials::builder()
                        .credentials_parameter(REGISTRY)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .container_definitions(
            ecs::ContainerDefinition::builder()
                .name("sidecar")
                .image("sidecar:2")
                .secrets(secret(
                    "BROKEN",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123:password",
                ))
                .build(),
        )
        .build();
    let expected = ecs_secrets_shared::task_definition::TaskDefinition::from(&sdk).references();
    assert_eq!(expected.len(), 5);
    let camel = json!({
        "family": "web",
        "containerDefinitions": [
            {"name": "web", "image": "web:1",
             "secrets": [{"name": "DB_PASSWORD", "valueFrom": DB}, {"name": "API_KEY", "valueFrom": "/web/api-key"}],
             "logConfiguration": {"logDriver": "splunk", "secretOptions": [{"name": "splunk-token", "valueFrom": TOKEN}]},
             "repositoryCredentials": {"credentialsParameter": REGISTRY}},
            {"name": "sidecar", "image": "sidecar:2",
             "secrets": [{"name": "BROKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123:password"}]}
        ]
    });
    let pascal = json!({
        "Family": "web",
        "ContainerDefinitions": [
            {"Name": "web", "Image": "web:1",
             "Secrets": [{"Name": "DB_PASSWORD", "ValueFrom": DB}, {"Name": "API_KEY", "ValueFrom": "/web/api-key"}],
             "LogConfiguration": {"LogDriver": "splunk", "SecretOptions": [{"Name": "splunk-token", "ValueFrom": TOKEN}]},
             "RepositoryCredentials": {"CredentialsParameter": REGISTRY}},
            {"Name": "sidecar", "Image": "sidecar:2",
             "Secrets": [{"Name": "BROKEN", "ValueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123:password"}]}
        ]
    });
    let yaml = format!(
        "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Family: web\n      ContainerDefinitions:\n        - Name: web\n          Image: web:1\n          Secrets:\n            - Name: DB_PASSWORD\n              ValueFrom: \"{DB}\"\n            - {{Name: API_KEY, ValueFrom: /web/api-key}}\n          LogConfiguration:\n            LogDriver: splunk\n            SecretOptions:\n              - Name: splunk-token\n                ValueFrom: {TOKEN}\n          RepositoryCredentials:\n            CredentialsParameter: {REGISTRY}\n        - Name: sidecar\n          Image: sidecar:2\n          Secrets:\n            - Name: BROKEN\n              ValueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123:password\n"
    );
    let forms: Vec<(&str, String)> = vec![
        ("register input", camel.to_string()),
        ("describe output", json!({"taskDefinition": camel}).to_string()),
        (
            "CloudFormation JSON",
            json!({"Resources": {"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": pascal}}})
                .to_string(),
        ),
        ("CloudFormation YAML", yaml),
    ];
    for (form, text) in &forms {
        let doc = input::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(doc.subjects.len(), 1, "{form}");
        let checked = rules::check(&doc.subjects[0], &rules::Context::default())
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(checked.references, expected, "{form}");
    }
    // PascalCase properties read directly by the shared model, without the validator's input.
    let direct = ecs_secrets_shared::task_definition::TaskDefinition::from_json(&pascal).unwrap();
    assert_eq!(direct.references(), expected);
}

/// Review of issue 15: `valueFrom: null` is a broken reference (a high finding), and an odd
/// `secrets` entry does not hide a plaintext credential elsewhere in the task definition.
#[test]
fn a_null_reference_is_reported_and_odd_entries_hide_nothing() {
    let td = json!({
        "executionRoleArn": "arn:aws:iam::123456789012:role/e",
        "containerDefinitions": [{
            "name": "app", "image": "i",
            "environment": [{"name": "DB_PASSWORD", "value": "Xk9#mP2vL7qRw3Zt"}],
            "secrets": [{"name": "API_KEY", "valueFrom": null}, null]
        }]
    });
    let findings = offline(&td, &rules::Context::default());
    let null = findings
        .iter()
        .find(|f| f.pointer == "/containerDefinitions/0/secrets/0/valueFrom")
        .expect("the null reference is reported");
    assert_eq!(null.rule, rule::INVALID_SECRET_REFERENCE);
    assert!(null.message.contains("not a string"), "{}", null.message);
    assert!(
        findings.iter().any(|f| f.rule == rule::PLAINTEXT_SECRET
            && f.pointer == "/containerDefinitions/0/environment/0/value"),
        "{findings:?}"
    );
}

// ---- The CloudFormation hook, with fakes of both boundaries ----

fn hook_request(point: &str, properties: Value) -> Value {
    json!({
        "clientRequestToken": "tok-1", "awsAccountId": "123456789012",
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1a2b",
        "hookTypeName": "EcsSecrets::Validator::TaskDefinition", "hookTypeVersion": "00000001",
        "actionInvocationPoint": point,
        "requestData": {"targetName": "AWS::ECS::TaskDefinition", "targetType": "AWS::ECS::TaskDefinition",
            "targetLogicalId": "AppTask",
            "targetModel": {"resourceProperties": properties, "previousResourceProperties": {}}},
        "requestContext": {"invocation": 1, "callbackContext": null}
    })
}

/// Task-definition properties as CloudFormation passes them to a hook: PascalCase, numbers
/// as strings.
fn hook_properties(environment: Value, value_from: &str) -> Value {
    json!({
        "Family": "app", "ExecutionRoleArn": ROLE, "NetworkMode": "awsvpc", "Cpu": "256", "Memory": "512",
        "RequiresCompatibilities": ["FARGATE"],
        "ContainerDefinitions": [{"Name": "web", "Image": "web:1.4.2", "Essential": "true",
            "ReadonlyRootFilesystem": "true",
            "Environment": environment,
            "Secrets": [{"Name": "DB", "ValueFrom": value_from}]}]
    })
}

#[tokio::test]
async fn hook_passes_a_clean_definition_and_never_acts() {
    let v = validator(true, true);
    let out = v
        .handle(invoke(hook_request(
            "CREATE_PRE_PROVISION",
            hook_properties(json!([{"Name": "LOG_LEVEL", "Value": "info"}]), SECRET),
        )))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "SUCCESS", "{out}");
    assert_eq!(out["clientRequestToken"], "tok-1");
    assert!(out.get("errorCode").is_none());
    assert!(
        v.platform.calls.lock().unwrap().is_empty(),
        "a hook invocation acted"
    );
}

#[tokio::test]
async fn hook_fails_a_leaky_definition_naming_rules_never_values() {
    let key = "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo";
    let v = validator(true, true);
    let out = v
        .handle(invoke(hook_request(
            "UPDATE_PRE_PROVISION",
            hook_properties(
                json!([{"Name": "AWS_SECRET_ACCESS_KEY", "Value": key}]),
                SECRET,
            ),
        )))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "FAILED", "{out}");
    assert_eq!(out["errorCode"], "NonCompliant");
    let message = out["message"].as_str().unwrap();
    assert!(message.contains("plaintext-secret"), "{message}");
    assert!(
        message.contains("/containerDefinitions/0/environment/0/value"),
        "{message}"
    );
    assert_eq!(out["annotations"][0]["annotationName"], "plaintext-secret");
    assert_eq!(out["annotations"][0]["severityLevel"], "CRITICAL");
    assert!(!out.to_string().contains(key), "a value in the response");
    assert!(v.platform.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn hook_threshold_follows_hook_fail_on() {
    // A missing secret is high: it fails at the default threshold, not at `critical`.
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/missing-Zz9Yy8";
    let props = hook_properties(json!([]), missing);
    let mut v = validator(false, false);
    // Offline by default: the missing secret is not looked up.
    let out = v
        .handle(invoke(hook_request("CREATE_PRE_PROVISION", props.clone())))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "SUCCESS", "{out}");
    assert!(!out.to_string().contains("secret-not-found"), "{out}");
    v.config.hook_live = true;
    let out = v
        .handle(invoke(hook_request("CREATE_PRE_PROVISION", props.clone())))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "FAILED", "{out}");
    assert!(out["message"]
        .as_str()
        .unwrap()
        .contains("secret-not-found"));
    let mut lenient = validator(false, false);
    lenient.config.hook_live = true;
    lenient.config.hook_fail_on = Some(crate::finding::Severity::Critical);
    let out = lenient
        .handle(invoke(hook_request("CREATE_PRE_PROVISION", props)))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "SUCCESS", "{out}");
    let message = out["message"].as_str().unwrap();
    assert!(
        message.contains("below it") && message.contains("secret-not-found"),
        "{message}"
    );
}

#[tokio::test]
async fn hook_fails_an_invalid_reference_and_a_broken_definition() {
    let v = validator(false, false);
    let out = v
        .handle(invoke(hook_request(
            "CREATE_PRE_PROVISION",
            hook_properties(
                json!([]),
                "arn:aws:secretsmanager:us-east-1:123456789012:prod/db",
            ),
        )))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "FAILED", "{out}");
    assert!(out["message"]
        .as_str()
        .unwrap()
        .contains("invalid-secret-reference"));
    let mut broken = hook_properties(json!([]), SECRET);
    broken["ContainerDefinitions"] = json!("web");
    let out = v
        .handle(invoke(hook_request("CREATE_PRE_PROVISION", broken)))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "FAILED", "{out}");
    assert_eq!(out["errorCode"], "NonCompliant");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("containerDefinitions"),
        "{out}"
    );
}

#[tokio::test]
async fn hook_lets_deletions_pass_and_refuses_unreadable_requests() {
    let v = validator(false, false);
    let out = v
        .handle(invoke(hook_request("DELETE_PRE_PROVISION", json!({}))))
        .await
        .unwrap();
    assert_eq!(out["hookStatus"], "SUCCESS");
    let mut bad = hook_request("CREATE_PRE_PROVISION", json!({}));
    bad["requestData"]["targetModel"] = json!(null);
    let out = v.handle(invoke(bad)).await.unwrap();
    assert_eq!(out["hookStatus"], "FAILED");
    assert_eq!(out["errorCode"], "InternalFailure");
    assert_eq!(out["clientRequestToken"], "tok-1");
}

#[test]
fn hook_fail_on_is_a_severity_or_never() {
    let config =
        |v: &'static str| Config::from_lookup(move |k| (k == "HOOK_FAIL_ON").then(|| v.to_owned()));
    assert_eq!(
        config("").unwrap().hook_fail_on,
        Some(crate::finding::Severity::High)
    );
    assert_eq!(
        config("CRITICAL").unwrap().hook_fail_on,
        Some(crate::finding::Severity::Critical)
    );
    assert_eq!(config("never").unwrap().hook_fail_on, None);
    let e = config("severe").unwrap_err().to_string();
    assert!(e.contains("HOOK_FAIL_ON") && e.contains("severe"), "{e}");
}

/// Nothing of the request but what the rules report is repeated: not a hostile target name,
/// logical id or invocation point, and container names are cut.
#[tokio::test]
async fn hook_repeats_nothing_of_a_hostile_request() {
    let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let v = validator(false, false);
    let mut stack = hook_request("CREATE_PRE_PROVISION", json!({}));
    stack["requestData"]["targetName"] = json!(key);
    stack["requestData"]["targetType"] = json!("STACK");
    let mut point = hook_request("CREATE_PRE_PROVISION", json!({}));
    point["actionInvocationPoint"] = json!("AKIA2OGYBAH6STMMNXNN");
    let mut other = hook_request("CREATE_PRE_PROVISION", json!({}));
    other["requestData"]["targetName"] = json!("AKIA2OGYBAH6STMMNXNN");
    let mut logical = hook_request(
        "CREATE_PRE_PROVISION",
        hook_properties(
            json!([{"Name": "AWS_SECRET_ACCESS_KEY", "Value": key}]),
            SECRET,
        ),
    );
    logical["requestData"]["targetLogicalId"] = json!(format!("x-{key}"));
    let mut long_name = hook_properties(
        json!([{"Name": "AWS_SECRET_ACCESS_KEY", "Value": key}]),
        SECRET,
    );
    long_name["ContainerDefinitions"][0]["Name"] = json!("n".repeat(100_000));
    let long = hook_request("CREATE_PRE_PROVISION", long_name);
    for request in [stack, point, other, logical, long] {
        let out = v.handle(invoke(request)).await.unwrap();
        let text = out.to_string();
        assert!(
            !text.contains(key) && !text.contains("AKIA2OGYBAH6STMMNXNN"),
            "{text}"
        );
        assert!(text.len() < 40_000, "{} bytes", text.len());
    }
}

#[test]
fn a_file_that_names_a_task_definition_is_never_unrelated() {
    use crate::input::mentions_task_definition as mentions;
    for related in [
        &br#"{"containerDefinitions": "x"}"#[..],
        br#"{"TaskDefinition": {"ContainerDefinitions": []}}"#,
        b"Type: AWS::ECS::TaskDefinition\n",
        b"resource \"aws_ecs_task_definition\" \"x\" {",
        br#"{"containerdefinitions": [}"#,
        b"CONTAINER_DEFINITIONS = 1",
    ] {
        assert!(mentions(related), "{}", String::from_utf8_lossy(related));
    }
    for unrelated in [
        &br#"{"name": "web", "version": "1.0.0"}"#[..],
        b"- hosts: all\n  tasks: []\n",
        b"",
        b"# only a comment\n",
        b"resource \"aws_s3_bucket\" \"b\" {}",
    ] {
        assert!(
            !mentions(unrelated),
            "{}",
            String::from_utf8_lossy(unrelated)
        );
    }
}

/// A JSON document is normalised only when a key starts with an upper-case letter: the check
/// sees keys as serde does (escapes decoded), so PascalCase written with escapes, or only deep
/// inside, is still normalised — and a camelCase document reads the same without the walk.
#[test]
fn json_keys_are_normalised_whenever_one_is_upper_case() {
    // What the rules read (the model: a plain file never has a `Value`), and the line.
    let model = |doc: &input::Document| {
        rules::check(&doc.subjects[0], &rules::Context::default())
            .expect("well-shaped")
            .model
    };
    let read = |text: &str| {
        let doc = input::parse(text.as_bytes()).expect(text);
        let s = &doc.subjects[0];
        let td = model(&doc);
        let c = &td.container_definitions.items[0].1;
        (
            s.label.clone(),
            c.name().map(str::to_owned),
            c.environment.items[0]
                .1
                .value
                .as_ref()
                .and_then(Text::literal)
                .map(str::to_owned),
            doc.line(s, "/containerDefinitions/0/environment/0/value"),
        )
    };
    let expected = (
        "web".to_owned(),
        Some("app".to_owned()),
        Some("x".to_owned()),
        Some(2),
    );
    for text in [
        "{\"family\": \"web\", \"containerDefinitions\": [{\"name\": \"app\", \"environment\":\n[{\"name\": \"A\", \"value\": \"x\"}]}]}",
        "{\"\\u0046amily\": \"web\", \"\\u0043ontainerDefinitions\": [{\"Name\": \"app\", \"environment\":\n[{\"name\": \"A\", \"value\": \"x\"}]}]}",
        "{\"family\": \"web\", \"containerDefinitions\": [{\"name\": \"app\", \"environment\":\n[{\"name\": \"A\", \"Value\": \"x\"}]}]}",
        "{\"Family\": \"web\", \"ContainerDefinitions\": [{\"Name\": \"app\", \"Environment\":\n[{\"Name\": \"A\", \"Value\": \"x\"}]}]}",
    ] {
        assert_eq!(read(text), expected, "{text}");
    }
    // Free-form maps keep their keys either way.
    for text in [
        &br#"{"family": "web", "containerDefinitions": [{"name": "a", "dockerLabels": {"Team": "x"}}]}"#[..],
        br#"{"family": "web", "containerDefinitions": [{"name": "a", "dockerLabels": {"team": "x"}}]}"#,
    ] {
        let doc = input::parse(text).unwrap();
        let labels = model(&doc).container_definitions.items[0]
            .1
            .docker_labels
            .clone()
            .unwrap_or_default();
        let key = if text.windows(4).any(|w| w == b"Team") { "Team" } else { "team" };
        assert_eq!(labels.keys().collect::<Vec<_>>(), [key]);
    }
}
