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
