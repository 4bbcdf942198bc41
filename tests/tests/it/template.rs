//! The SAM template's security properties, read from `template.yaml` itself (short-form
//! intrinsics such as `!Sub` keep their values; the tags are not needed here). `sam validate
//! --lint` and cfn-lint check the rest in scripts/test.sh.

use yaml_rust2::{Yaml, YamlLoader};

fn template() -> anyhow::Result<Yaml> {
    let path = harness::paths::workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)?;
    let mut docs = YamlLoader::load_from_str(&text)?;
    anyhow::ensure!(docs.len() == 1, "one YAML document in {}", path.display());
    Ok(docs.remove(0))
}

fn resource<'a>(t: &'a Yaml, name: &str) -> &'a Yaml {
    &t["Resources"][name]
}

/// Every policy statement of a SAM function, whichever `!If` branch it sits in.
fn statements(function: &Yaml) -> Vec<&Yaml> {
    fn collect<'a>(y: &'a Yaml, out: &mut Vec<&'a Yaml>) {
        match y {
            Yaml::Hash(h) => {
                if let Some(Yaml::Array(list)) = h.get(&Yaml::String("Statement".into())) {
                    out.extend(list.iter());
                }
            }
            Yaml::Array(list) => list.iter().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    collect(&function["Properties"]["Policies"], &mut out);
    out
}

#[test]
fn the_rotator_acts_only_on_opted_in_secrets_and_only_for_secrets_manager() -> anyhow::Result<()> {
    let t = template()?;
    assert_eq!(
        t["Parameters"]["RequireRotationTag"]["Default"].as_str(),
        Some("true"),
        "opt-in by tag is the default"
    );
    let rotator = resource(&t, "SecretRotatorFunction");
    let all = statements(rotator);
    let rotate = all
        .iter()
        .find(|s| s["Sid"].as_str() == Some("RotateAllowedSecrets"))
        .expect("the rotation statement");
    // Condition: !If [RotationNeedsTag, {StringEquals: {...}}, !Ref AWS::NoValue]
    let condition = &rotate["Condition"];
    assert_eq!(
        condition[0].as_str(),
        Some("RotationNeedsTag"),
        "{condition:?}"
    );
    assert_eq!(
        condition[1]["StringEquals"]["aws:ResourceTag/ecs-secrets:rotate"].as_str(),
        Some("true")
    );
    let write_actions = rotate["Action"]
        .as_vec()
        .map(|a| a.iter().filter_map(Yaml::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(write_actions.contains(&"secretsmanager:PutSecretValue"));
    // No other statement grants a write on secrets.
    for s in &all {
        if s["Sid"].as_str() == Some("RotateAllowedSecrets") {
            continue;
        }
        let actions = format!("{:?}", s["Action"]);
        assert!(
            !actions.contains("PutSecretValue") && !actions.contains("UpdateSecretVersionStage"),
            "{s:?}"
        );
    }
    // The RDS lookup of a managed master secret's server: describe only, this account's
    // instances and clusters only, and only when administrator secrets are configured.
    let rds = all
        .iter()
        .find(|s| s["Sid"].as_str() == Some("FindManagedMasterServers"))
        .expect("the RDS lookup statement");
    let rds_actions = format!("{:?}", rds["Action"]);
    assert!(
        rds_actions.contains("rds:DescribeDBInstances")
            && rds_actions.contains("rds:DescribeDBClusters")
            && !rds_actions.contains('*'),
        "{rds_actions}"
    );
    for arn in rds["Resource"].as_vec().into_iter().flatten() {
        let arn = arn["Fn::Sub"].as_str().or(arn.as_str()).unwrap_or_default();
        assert!(
            arn.contains(":rds:${AWS::Region}:${AWS::AccountId}:"),
            "{arn}"
        );
    }
    let admin_block = format!(
        "{:?}",
        rotator["Properties"]["Policies"]
            .as_vec()
            .into_iter()
            .flatten()
            .find(|p| format!("{p:?}").contains("FindManagedMasterServers"))
    );
    assert!(admin_block.contains("HasAdminSecrets"), "{admin_block}");
    let permission = &resource(&t, "SecretRotatorInvokePermission")["Properties"];
    assert_eq!(
        permission["Principal"].as_str(),
        Some("secretsmanager.amazonaws.com")
    );
    assert!(!permission["SourceAccount"].is_badvalue());
    let source_arn = permission["SourceArn"].as_str().unwrap_or_default();
    assert!(
        source_arn.contains(":secret:${RotatableSecrets}"),
        "SourceArn limits invocations to the rotatable secrets: {source_arn}"
    );
    let env = &rotator["Properties"]["Environment"]["Variables"];
    assert!(
        !env["DB_CA_BUNDLE"].is_badvalue(),
        "DB_CA_BUNDLE is configurable"
    );
    Ok(())
}

fn resources_of_type<'a>(t: &'a Yaml, kind: &str) -> Vec<(&'a str, &'a Yaml)> {
    t["Resources"]
        .as_hash()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .filter_map(|(name, r)| Some((name.as_str()?, r)))
        .collect()
}

#[test]
fn changes_reach_the_redeployer_only_through_the_fifo_queue() -> anyhow::Result<()> {
    let t = template()?;
    let redeployer = resource(&t, "EcsRedeployerFunction");
    let events = redeployer["Properties"]["Events"]
        .as_hash()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), 1, "one event source: {events:?}");
    let (_, source) = events.iter().next().expect("an event source");
    assert_eq!(source["Type"].as_str(), Some("SQS"));
    assert_eq!(source["Properties"]["BatchSize"].as_i64(), Some(10));
    assert_eq!(
        source["Properties"]["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    let queue = &resource(&t, "ChangesQueue")["Properties"];
    assert_eq!(queue["FifoQueue"].as_bool(), Some(true));
    assert_eq!(queue["ContentBasedDeduplication"].as_bool(), Some(true));
    assert!(queue["RedrivePolicy"]["maxReceiveCount"]
        .as_i64()
        .is_some_and(|n| (1..=10).contains(&n)));
    // Lambda's guidance: the visibility timeout is at least six times the function's timeout.
    let timeout = redeployer["Properties"]["Timeout"].as_i64().unwrap_or(0);
    assert!(queue["VisibilityTimeout"].as_i64().unwrap_or(0) >= 6 * timeout);
    // Every rule (but the one forwarding to other accounts) targets the queue, in one message
    // group; no one else may write to it.
    let rules: Vec<_> = resources_of_type(&t, "AWS::Events::Rule")
        .into_iter()
        .filter(|(name, _)| *name != "ForwardSecretChangesRule")
        .collect();
    let deny = &resource(&t, "ChangesQueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
        .as_vec()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|s| s["Effect"].as_str() == Some("Deny"))
        .expect("a deny for every other sender");
    assert_eq!(deny["Action"].as_str(), Some("sqs:SendMessage"));
    assert_eq!(
        deny["Condition"]["ArnNotEquals"]["aws:SourceArn"]
            .as_vec()
            .map(Vec::len),
        Some(rules.len())
    );
    assert_eq!(
        rules.len(),
        6,
        "{:?}",
        rules.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    for (name, rule) in rules {
        let target = &rule["Properties"]["Targets"][0];
        assert_eq!(
            target["SqsParameters"]["MessageGroupId"].as_str(),
            Some("changes"),
            "{name}"
        );
        assert!(
            !target["DeadLetterConfig"].is_badvalue(),
            "{name}: delivery dead letters"
        );
    }
    Ok(())
}

#[test]
fn every_failure_has_a_destination_a_retention_and_an_alarm() -> anyhow::Result<()> {
    let t = template()?;
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    assert_eq!(functions.len(), 3);
    for (name, f) in &functions {
        let p = &f["Properties"];
        assert!(
            p["ReservedConcurrentExecutions"].as_i64().is_some(),
            "{name}: concurrency"
        );
        // Secrets Manager invokes the rotator synchronously: its failures are the rotation's.
        if *name != "SecretRotatorFunction" {
            assert_eq!(
                p["DeadLetterQueue"]["Type"].as_str(),
                Some("SQS"),
                "{name}: failure destination"
            );
        }
    }
    let groups = resources_of_type(&t, "AWS::Logs::LogGroup");
    assert_eq!(groups.len(), functions.len(), "one log group per function");
    for (name, g) in groups {
        assert!(!g["Properties"]["RetentionInDays"].is_badvalue(), "{name}");
    }
    assert_eq!(
        t["Parameters"]["LogRetentionDays"]["Default"].as_i64(),
        Some(30)
    );
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let watched: Vec<String> = alarms
        .iter()
        .map(|(_, a)| format!("{:?}", a["Properties"]["Dimensions"][0]["Value"]))
        .collect();
    for queue in [
        "ChangesDeadLetterQueue",
        "EcsRedeployerDeadLetterQueue",
        "FunctionsDeadLetterQueue",
    ] {
        assert!(
            watched.iter().any(|w| w.contains(queue)),
            "alarm on {queue}: {watched:?}"
        );
    }
    for (name, _) in &functions {
        assert!(
            watched.iter().any(|w| w.contains(name)),
            "errors alarm on {name}"
        );
    }
    Ok(())
}

/// The validator reads metadata and policies, never a secret: its only value read is its own
/// evidence key, one parameter, named by a parameter of the template.
#[test]
fn the_validator_can_read_no_secret_but_its_evidence_key() -> anyhow::Result<()> {
    let t = template()?;
    let validator = resource(&t, "TaskdefValidatorFunction");
    // Statements, including those inside `!If [condition, statement, NoValue]`.
    let mut all: Vec<&Yaml> = Vec::new();
    for s in statements(validator) {
        match s {
            Yaml::Array(branches) => all.extend(branches.iter().filter(|b| b.as_hash().is_some())),
            other => all.push(other),
        }
    }
    assert!(all.len() > 5, "{all:?}");
    for s in &all {
        let actions = format!("{:?}", s["Action"]);
        for forbidden in [
            "GetSecretValue",
            "GetParameters",
            "kms:Decrypt",
            "secretsmanager:*",
            "ssm:*",
        ] {
            assert!(!actions.contains(forbidden), "{forbidden} in {s:?}");
        }
        if actions.contains("ssm:GetParameter") {
            assert_eq!(s["Sid"].as_str(), Some("ReadEvidenceKey"));
            let resource = s["Resource"].as_str().unwrap_or_default();
            assert!(
                resource.ends_with(":parameter${ValidatorEvidenceKeyParameter}"),
                "{resource}"
            );
        }
    }
    assert!(all
        .iter()
        .any(|s| s["Sid"].as_str() == Some("ReadEvidenceKey")));
    let env = &validator["Properties"]["Environment"]["Variables"];
    assert!(!env["EVIDENCE_KEY_PARAMETER"].is_badvalue());
    Ok(())
}

/// The validator also runs before registration: a Lambda hook on task-definition create and
/// update, WARN unless the operator chooses FAIL (or DISABLED), whose role may do nothing but
/// invoke the validator.
#[test]
fn the_task_definition_hook_invokes_only_the_validator() -> anyhow::Result<()> {
    let t = template()?;
    let hook = resource(&t, "TaskDefinitionHook");
    assert_eq!(
        hook["Type"].as_str(),
        Some("AWS::CloudFormation::LambdaHook")
    );
    let p = &hook["Properties"];
    assert_eq!(
        p["LambdaFunction"].as_str(),
        Some("TaskdefValidatorFunction.Arn")
    );
    assert_eq!(
        p["TargetFilters"]["TargetNames"][0].as_str(),
        Some("AWS::ECS::TaskDefinition")
    );
    let actions: Vec<&str> = p["TargetFilters"]["Actions"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["CREATE", "UPDATE"]);
    let mode = &t["Parameters"]["TaskDefinitionHookMode"];
    assert_eq!(mode["Default"].as_str(), Some("WARN"));
    let allowed: Vec<&str> = mode["AllowedValues"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert_eq!(allowed, ["WARN", "FAIL", "DISABLED"]);
    assert_eq!(
        t["Parameters"]["TaskDefinitionHookFailOn"]["Default"].as_str(),
        Some("high")
    );
    let env = &resource(&t, "TaskdefValidatorFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["HOOK_FAIL_ON"].as_str(),
        Some("TaskDefinitionHookFailOn")
    );
    // Offline unless the operator opts in: the answer is shown to whoever may deploy.
    assert_eq!(env["HOOK_LIVE"].as_str(), Some("TaskDefinitionHookLive"));
    assert_eq!(
        t["Parameters"]["TaskDefinitionHookLive"]["Default"].as_str(),
        Some("false")
    );

    let role = resource(&t, "TaskDefinitionHookRole");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Service"].as_str(),
        Some("hooks.cloudformation.amazonaws.com")
    );
    assert!(!trust["Condition"]["StringEquals"]["aws:SourceAccount"].is_badvalue());
    let policies = role["Properties"]["Policies"]
        .as_vec()
        .cloned()
        .unwrap_or_default();
    assert_eq!(policies.len(), 1);
    let granted = &policies[0]["PolicyDocument"]["Statement"];
    assert_eq!(granted.as_vec().map(Vec::len), Some(1));
    assert_eq!(granted[0]["Action"].as_str(), Some("lambda:InvokeFunction"));
    assert_eq!(
        granted[0]["Resource"].as_str(),
        Some("TaskdefValidatorFunction.Arn")
    );
    Ok(())
}

/// The reference index: one on-demand, recoverable table that only the redeployer reads and
/// writes (no delete of the table, no batch or transaction calls), kept by the ECS calls that
/// change it through the changes queue, rebuilt on a schedule that can only invoke the
/// redeployer with the reconcile action.
#[test]
fn the_reference_index_is_least_privilege_and_fed_through_the_queue() -> anyhow::Result<()> {
    let t = template()?;
    let table = &resource(&t, "ReferenceIndexTable")["Properties"];
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        t["Parameters"]["ReferenceIndex"]["Default"].as_str(),
        Some("ENABLED")
    );
    let redeployer = resource(&t, "EcsRedeployerFunction");
    let env = &redeployer["Properties"]["Environment"]["Variables"];
    assert!(!env["INDEX_TABLE"].is_badvalue());
    let index_statements: Vec<&Yaml> = statements(redeployer)
        .into_iter()
        .filter(|s| format!("{:?}", s["Action"]).contains("dynamodb:"))
        .collect();
    assert_eq!(index_statements.len(), 1);
    let s = index_statements[0];
    assert_eq!(s["Resource"].as_str(), Some("ReferenceIndexTable.Arn"));
    let actions: Vec<&str> = s["Action"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem"
        ]
    );
    let rule = &resource(&t, "EcsCallsRule")["Properties"];
    let names: Vec<&str> = rule["EventPattern"]["detail"]["eventName"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "RegisterTaskDefinition",
            "DeregisterTaskDefinition",
            "DeleteTaskDefinitions",
            "CreateService",
            "UpdateService",
            "DeleteService"
        ]
    );
    assert!(
        !rule["EventPattern"]["account"].is_badvalue(),
        "this account's calls only"
    );
    let schedule = &resource(&t, "ReconcileSchedule")["Properties"];
    assert_eq!(
        schedule["Target"]["Input"].as_str(),
        Some(r#"{"action": "reconcile"}"#)
    );
    let role = &resource(&t, "IndexReconcileRole")["Properties"];
    let granted = &role["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(granted[0]["Action"].as_str(), Some("lambda:InvokeFunction"));
    assert_eq!(
        granted[0]["Resource"].as_str(),
        Some("EcsRedeployerFunction.Arn")
    );
    assert!(granted[1].is_badvalue(), "one permission");
    Ok(())
}

/// Organisation scale: the owner forwards only its own secret changes, through a role that may
/// only put events on the named buses; a consumer admits only its organisation; the read-only
/// role of `plan`/`status --accounts` reads metadata and never a value.
#[test]
fn forwarding_and_the_read_only_role_grant_no_more_than_they_need() -> anyhow::Result<()> {
    let t = template()?;
    let rule = &resource(&t, "ForwardSecretChangesRule")["Properties"];
    assert_eq!(
        rule["EventPattern"]["account"][0].as_str(),
        Some("AWS::AccountId")
    );
    assert_eq!(
        rule["EventPattern"]["source"][0].as_str(),
        Some("aws.secretsmanager")
    );
    let targets = rule["Targets"].as_vec().cloned().unwrap_or_default();
    assert_eq!(targets.len(), 5, "EventBridge's limit per rule");
    let role = &resource(&t, "ForwardSecretChangesRole")["Properties"];
    let granted = &role["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(granted[0]["Action"].as_str(), Some("events:PutEvents"));
    assert_eq!(
        granted[0]["Resource"].as_str(),
        Some("ForwardSecretChangesTo")
    );
    assert!(granted[1].is_badvalue());
    let policy = &resource(&t, "OrganizationSecretChangesPolicy")["Properties"]["Statement"];
    assert_eq!(policy["Action"].as_str(), Some("events:PutEvents"));
    assert_eq!(
        policy["Condition"]["StringEquals"]["aws:PrincipalOrgID"].as_str(),
        Some("AcceptSecretChangesFromOrganization")
    );
    let read = &resource(&t, "ReadOnlyRole")["Properties"];
    let actions: Vec<&str> = read["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert!(!actions.is_empty());
    for action in &actions {
        let verb = action.split(':').nth(1).unwrap_or_default();
        assert!(
            verb.starts_with("List") || verb.starts_with("Describe"),
            "{action}: a read of metadata only"
        );
    }
    Ok(())
}
