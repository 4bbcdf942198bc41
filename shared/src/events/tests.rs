use super::*;
use serde_json::json;

const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123";

/// The fixtures directory, found at run time first (a binary built in another checkout that
/// shares this target directory must read this checkout's fixtures).
fn fixtures() -> String {
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    format!("{dir}/testdata/events")
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/{name}", fixtures());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> ChangeEvent {
    ChangeEvent::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn api(name: &str) -> SecretApiCall {
    match parse(name).trigger {
        Trigger::SecretApiCall(call) => call,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn label_updated() {
    let event = parse("secret-label-updated.json");
    assert_eq!(event.region, "us-east-1");
    assert_eq!(event.account, "123456789012");
    assert_eq!(
        event.time.unwrap().to_rfc3339(),
        "2026-11-20T10:15:30+00:00"
    );
    match event.trigger {
        Trigger::SecretLabelUpdated {
            secret,
            label,
            version_id,
        } => {
            assert_eq!(secret.to_string(), ARN);
            assert_eq!(label, "AWSCURRENT");
            assert_eq!(
                version_id.as_deref(),
                Some("b7f3c1d2-0a4e-4c9b-8f21-6d5e4a3b2c10")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rotation_service_events() {
    match parse("rotation-succeeded.json").trigger {
        Trigger::RotationSucceeded { secret } => assert_eq!(secret.to_string(), ARN),
        other => panic!("{other:?}"),
    }
    for (file, name) in [
        ("rotation-failed.json", "RotationFailed"),
        ("rotation-abandoned.json", "RotationAbandoned"),
    ] {
        match parse(file).trigger {
            Trigger::RotationFailed { event_name, secret } => {
                assert_eq!(event_name, name);
                assert_eq!(secret.unwrap().to_string(), ARN);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn api_calls_say_which_labels_moved() {
    // (fixture, moved labels, moved AWSCURRENT?)
    let cases: [(&str, &[&str], bool); 7] = [
        ("put-secret-value-pending.json", &["AWSPENDING"], false),
        ("put-secret-value-current.json", &["AWSCURRENT"], true),
        ("put-secret-value-legacy-arn.json", &["AWSCURRENT"], true),
        ("put-secret-value-denied.json", &[], false),
        ("update-secret-metadata.json", &[], false),
        ("update-secret-value.json", &["AWSCURRENT"], true),
        ("update-secret-version-stage.json", &["AWSCURRENT"], true),
    ];
    for (file, labels, current) in cases {
        let call = api(file);
        assert_eq!(call.moved_labels, labels, "{file}");
        assert_eq!(call.moved_current(), current, "{file}");
        if call.error_code.is_none() {
            assert_eq!(
                call.secret.as_ref().map(ToString::to_string).as_deref(),
                Some(ARN),
                "{file}"
            );
        }
    }
    let denied = api("put-secret-value-denied.json");
    assert_eq!(denied.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(denied.secret_id.as_deref(), Some("prod/db"));
}

#[test]
fn parameter_changes() {
    match parse("ssm-parameter-change.json").trigger {
        Trigger::ParameterChanged {
            parameter,
            operation,
            labels,
        } => {
            assert_eq!(parameter.name, "/web/api-key");
            assert_eq!(parameter.region, "us-east-1");
            assert_eq!(operation, "Update");
            assert!(labels.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match parse("ssm-label-parameter-version.json").trigger {
        Trigger::ParameterChanged {
            operation, labels, ..
        } => {
            assert_eq!(operation, "LabelParameterVersion");
            assert_eq!(labels, ["live"]);
        }
        other => panic!("{other:?}"),
    }
    // Without resources, the ARN is built from the name, region and account.
    let mut event = fixture("ssm-parameter-change.json");
    event["resources"] = json!([]);
    match ChangeEvent::parse(&event).unwrap().trigger {
        Trigger::ParameterChanged { parameter, .. } => {
            assert_eq!(
                parameter.to_string(),
                "arn:aws:ssm:us-east-1:123456789012:parameter/web/api-key"
            )
        }
        other => panic!("{other:?}"),
    }
    // In another partition the ARN is that partition's (it must match the references).
    event["region"] = json!("cn-north-1");
    match ChangeEvent::parse(&event).unwrap().trigger {
        Trigger::ParameterChanged { parameter, .. } => {
            assert_eq!(
                parameter.to_string(),
                "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/web/api-key"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn task_definition_registered() {
    match parse("register-task-definition.json").trigger {
        Trigger::TaskDefinitionRegistered {
            task_definition_arn,
            task_definition,
            error_code,
        } => {
            assert_eq!(
                task_definition_arn.as_deref(),
                Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")
            );
            let td = task_definition.unwrap();
            assert_eq!(
                crate::task_definition::TaskDefinition::from_json(&td)
                    .unwrap()
                    .references()
                    .len(),
                1
            );
            assert_eq!(error_code, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_fixture_parses() {
    let dir = fixtures();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        parse(&name);
        n += 1;
    }
    assert!(n >= 14, "only {n} fixtures");
}

#[test]
fn malformed_events_name_the_problem() {
    let label = fixture("secret-label-updated.json");
    let mut no_resources = label.clone();
    no_resources.as_object_mut().unwrap().remove("resources");
    let mut bad_arn = label.clone();
    bad_arn["resources"] = json!(["arn:aws:secretsmanager:us-east-1:123:secret:x"]);
    let mut no_label = label.clone();
    no_label["detail"]
        .as_object_mut()
        .unwrap()
        .remove("labelUpdated");
    let mut bad_time = label.clone();
    bad_time["time"] = json!("yesterday");
    let mut no_arn = fixture("put-secret-value-current.json");
    no_arn["detail"]["responseElements"] = Value::Null;
    let mut rotation_no_id = fixture("rotation-succeeded.json");
    rotation_no_id["detail"]["additionalEventData"] = json!({});
    let mut other_call = fixture("put-secret-value-current.json");
    other_call["detail"]["eventName"] = json!("GetSecretValue");

    let cases: Vec<(Value, &str)> = vec![
        (json!("a string"), "not a JSON object"),
        (json!({"detail-type": "x"}), "missing field `source`"),
        (json!({"source": "aws.ssm"}), "missing field `detail-type`"),
        (
            json!({"source": "aws.s3", "detail-type": "Object Created"}),
            "unsupported event: source `aws.s3`",
        ),
        (other_call, "eventName `GetSecretValue`"),
        (
            no_resources,
            "`resources[0]` is missing from the Secret Label Updated event",
        ),
        (bad_arn, "12-digit AWS account"),
        (no_label, "`detail.labelUpdated` is missing"),
        (bad_time, "not an EventBridge event: time:"),
        (no_arn, "`detail.responseElements.arn` is missing"),
        (rotation_no_id, "additionalEventData.SecretId"),
    ];
    for (event, needle) in cases {
        let err = ChangeEvent::parse(&event).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }
}

#[test]
fn lenient_about_extra_and_null_fields() {
    let mut event = fixture("secret-label-updated.json");
    event["detail"]["somethingNew"] = json!({"nested": [1, 2]});
    event["extra-envelope-field"] = json!(true);
    event["detail"]["name"] = Value::Null;
    assert!(matches!(
        ChangeEvent::parse(&event).unwrap().trigger,
        Trigger::SecretLabelUpdated { .. }
    ));
}

/// Issue 13: a service-managed secret (`rds!…`) on its label event and on both shapes of the
/// `RotationSucceeded` service event.
#[test]
fn managed_secret_events() {
    const RDS: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93-Xy7Zq2";
    match parse("secret-label-updated-managed.json").trigger {
        Trigger::SecretLabelUpdated { secret, label, .. } => {
            assert_eq!(secret.to_string(), RDS);
            assert_eq!(secret.name, "rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93");
            assert_eq!(secret.suffix.as_deref(), Some("Xy7Zq2"));
            assert_eq!(secret.managed_by().map(|m| m.prefix), Some("rds"));
            assert_eq!(label, "AWSCURRENT");
        }
        other => panic!("{other:?}"),
    }
    for file in [
        "rotation-succeeded-managed-additional.json",
        "rotation-succeeded-managed-service-details.json",
    ] {
        match parse(file).trigger {
            Trigger::RotationSucceeded { secret } => assert_eq!(secret.to_string(), RDS, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
    // Neither field: the error names both.
    let mut event = fixture("rotation-succeeded-managed-service-details.json");
    event["detail"]["serviceEventDetails"] = json!({});
    let e = ChangeEvent::parse(&event).unwrap_err().to_string();
    assert!(
        e.contains("serviceEventDetails.secretId") && e.contains("additionalEventData.SecretId"),
        "{e}"
    );
}

/// A first id that is not an ARN does not hide a second that is.
#[test]
fn the_first_parsable_rotation_id_wins() {
    let mut event = fixture("rotation-succeeded-managed-service-details.json");
    event["detail"]["additionalEventData"] = json!({"SecretId": "rds!db-not-an-arn"});
    match ChangeEvent::parse(&event).unwrap().trigger {
        Trigger::RotationSucceeded { secret } => assert!(secret.name.starts_with("rds!db-")),
        other => panic!("{other:?}"),
    }
}

/// Issue 16: ECS's deployment state changes (the shape of the ECS developer guide's example).
#[test]
fn deployment_state_change() {
    match parse("ecs-deployment-failed.json").trigger {
        Trigger::DeploymentStateChanged {
            service_arn,
            event_name,
            deployment_id,
            reason,
        } => {
            assert_eq!(
                service_arn,
                "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
            );
            assert_eq!(event_name, "SERVICE_DEPLOYMENT_FAILED");
            assert_eq!(deployment_id.as_deref(), Some("ecs-svc/123"));
            assert!(reason.unwrap().contains("circuit breaker"));
        }
        other => panic!("{other:?}"),
    }
    let mut no_service = fixture("ecs-deployment-failed.json");
    no_service["resources"] = json!([]);
    let e = ChangeEvent::parse(&no_service).unwrap_err().to_string();
    assert!(e.contains("resources[0]"), "{e}");
}
