//! `ecs-secrets validate` in an existing estate: a baseline (`--write-baseline`, `--baseline`)
//! and the repository config `.ecs-secrets.toml` (disabled rules, severities, reviewed
//! suppressions with expiry), through the built CLI in a scratch repository.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Every credential of the leaky fixture: none may reach a baseline file or an error.
const FIXTURE_SECRETS: [&str; 5] = [
    "AKIA2OGYBAH6STMMNXNN",
    "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo",
    "Xk9#mP2vL7qR",
    "Tr0ub4dor3x",
    "ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u",
];
const NEW_TOKEN: &str = "ghp_N3kT8wQ2zL5xV9cB4mH7jR1sD6fY0pA2uE5o";
const LAST_VARIABLE: &str =
    r#"{"name": "REQUEST_ID_NAMESPACE", "value": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}"#;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        harness::paths::workspace_root()
            .join("functions/taskdef-validator/testdata")
            .join(name),
    )
    .expect("fixture")
}

/// A scratch repository: `ecs/payments.json` (the leaky fixture) and `ecs/orders.json` (the
/// clean one, with `privileged: true`: one medium finding).
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("ecs")).expect("mkdir");
    write(
        dir.path(),
        "ecs/payments.json",
        &fixture("leaky-register.json"),
    );
    write(
        dir.path(),
        "ecs/orders.json",
        &fixture("clean-describe.json").replacen(
            r#""readonlyRootFilesystem": true,"#,
            r#""readonlyRootFilesystem": true, "privileged": true,"#,
            1,
        ),
    );
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

async fn validate(dir: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = tokio::process::Command::new(harness::paths::binary("ecs-secrets")?);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(dir)
        .arg("validate")
        .args(args);
    Ok(cmd.output().await?)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (rule, pointer) of each finding of a JSON report's list.
fn rules_and_pointers(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or_default().to_owned(),
                        f["pointer"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn baseline_keeps_moved_findings_suppressed_and_reports_only_the_new_one(
) -> anyhow::Result<()> {
    let repo = repository();
    let dir = repo.path();
    let files = ["ecs/payments.json", "ecs/orders.json"];

    let before = validate(dir, &[&["--format", "json"][..], &files[..]].concat()).await?;
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    let all = json(&before)["findings"].as_array().map_or(0, Vec::len);
    assert!(all >= 10, "{all}");

    let written = validate(
        dir,
        &[
            &["--write-baseline", "ecs-secrets-baseline.json"][..],
            &files[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(
        stderr(&written).contains("without an evidence key"),
        "{}",
        stderr(&written)
    );
    let baseline_text = std::fs::read_to_string(dir.join("ecs-secrets-baseline.json"))?;
    for secret in FIXTURE_SECRETS {
        assert!(
            !baseline_text.contains(secret),
            "{secret} in {baseline_text}"
        );
    }
    let baseline: Value = serde_json::from_str(&baseline_text)?;
    assert_eq!(baseline["version"], 1);
    let entries = baseline["findings"].as_array().expect("findings");
    assert_eq!(entries.len(), all, "{baseline_text}");
    assert!(entries.iter().all(|e| e["fingerprint"].is_string()
        && e["line"].is_null()
        && e["file"].as_str().is_some_and(|f| f.starts_with("ecs/"))));
    // Written twice on the same findings: the same bytes (it diffs well).
    validate(
        dir,
        &[&["--write-baseline", "again.json"][..], &files[..]].concat(),
    )
    .await?;
    assert_eq!(
        std::fs::read_to_string(dir.join("again.json"))?,
        baseline_text
    );

    // Lines move (two keys above the environment), nothing else changes: all suppressed.
    let payments = fixture("leaky-register.json").replacen(
        r#""essential": true,"#,
        "\"essential\": true,\n      \"cpu\": 0,\n      \"memoryReservation\": 128,",
        1,
    );
    write(dir, "ecs/payments.json", &payments);
    let moved = validate(
        dir,
        &[
            &[
                "--format",
                "json",
                "--baseline",
                "ecs-secrets-baseline.json",
            ][..],
            &files[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    let report = json(&moved);
    assert_eq!(rules_and_pointers(&report["findings"]), vec![]);
    let suppressed = report["suppressed"].as_array().expect("suppressed");
    assert_eq!(suppressed.len(), all);
    let key = suppressed
        .iter()
        .find(|s| s["pointer"] == "/containerDefinitions/0/environment/1/value")
        .expect("the access key");
    assert_eq!(key["line"], 16, "moved from line 14: {key:#}");
    assert_eq!(key["suppression"]["kind"], "baseline");
    assert_eq!(
        key["suppression"]["reason"],
        "in baseline ecs-secrets-baseline.json"
    );

    // A new credential: the one finding reported, and it fails the run.
    write(
        dir,
        "ecs/payments.json",
        &payments.replacen(
            LAST_VARIABLE,
            &format!("{LAST_VARIABLE},\n        {{\"name\": \"DEPLOY_TOKEN\", \"value\": \"{NEW_TOKEN}\"}}"),
            1,
        ),
    );
    let added = validate(
        dir,
        &[
            &[
                "--format",
                "json",
                "--baseline",
                "ecs-secrets-baseline.json",
            ][..],
            &files[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(added.status.code(), Some(1), "{}", stderr(&added));
    let report = json(&added);
    assert_eq!(
        rules_and_pointers(&report["findings"]),
        vec![(
            "plaintext-secret".to_owned(),
            "/containerDefinitions/0/environment/9/value".to_owned()
        )]
    );
    assert_eq!(report["suppressed"].as_array().map(Vec::len), Some(all));

    // Text: the new finding, and the suppressed ones as one line.
    let text = validate(
        dir,
        &[&["--baseline", "ecs-secrets-baseline.json"][..], &files[..]].concat(),
    )
    .await?;
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("environment/9/value"), "{t}");
    assert!(!t.contains("environment/1/value"), "{t}");
    assert!(
        t.contains(&format!("{all} suppressed (config: 0, baseline: {all})")),
        "{t}"
    );

    // SARIF: the suppressed results are there, marked.
    let sarif = validate(
        dir,
        &[
            &[
                "--format",
                "sarif",
                "--baseline",
                "ecs-secrets-baseline.json",
            ][..],
            &files[..],
        ]
        .concat(),
    )
    .await?;
    let results = json(&sarif)["runs"][0]["results"].clone();
    let results = results.as_array().expect("results");
    assert_eq!(results.len(), all + 1);
    let marked: Vec<&Value> = results
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(marked.len(), all);
    assert_eq!(marked[0]["suppressions"][0]["kind"], "external");
    assert_eq!(marked[0]["suppressions"][0]["status"], "accepted");

    // A baseline that cannot be read is an input error.
    let missing = validate(
        dir,
        &[&["--baseline", "nope.json"][..], &files[..]].concat(),
    )
    .await?;
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty());
    Ok(())
}

#[tokio::test]
async fn config_suppresses_with_reasons_disables_and_reranks() -> anyhow::Result<()> {
    let repo = repository();
    let dir = repo.path();
    let files = ["./ecs/payments.json", "ecs/orders.json"];

    // Without a config, orders.json alone passes (its one finding is medium).
    let orders = validate(dir, &["ecs/orders.json"]).await?;
    assert_eq!(orders.status.code(), Some(0), "{}", stderr(&orders));

    write(
        dir,
        ".ecs-secrets.toml",
        r#"# reviewed 2026-12-01
[rules]
disable = ["root-user"]

[rules.severity]
"privileged-container" = "high"

[[suppress]]
rule = "secret-in-command"
file = "ecs/payments.json"
pointer = "/containerDefinitions/0/command/1"
reason = "revoked token, INC-4711"
expires = 2999-01-01

[[suppress]]
rule = "pinned-secret-version"
file = "ecs/payments.json"
reason = "pinned until the migration"

[[suppress]]
rule = "partial-secret-arn"
file = "ecs/other.json"
reason = "not checked in this run"

[[suppress]]
rule = "host-network-mode"
file = "ecs/payments.json"
reason = "stale"
"#,
    );
    let out = validate(dir, &[&["--format", "sarif"][..], &files[..]].concat()).await?;
    let sarif = json(&out);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().all(|r| r["ruleId"] != "root-user"),
        "a disabled rule's findings are dropped, not suppressed"
    );
    let command = results
        .iter()
        .find(|r| r["ruleId"] == "secret-in-command")
        .expect("still a result");
    assert_eq!(
        command["suppressions"][0],
        serde_json::json!({
            "kind": "external",
            "status": "accepted",
            "justification": "revoked token, INC-4711",
            "properties": {"ecsSecretsKind": "config", "source": ".ecs-secrets.toml:8", "expires": "2999-01-01"},
        })
    );
    let pinned = results
        .iter()
        .find(|r| r["ruleId"] == "pinned-secret-version")
        .expect("pinned");
    assert_eq!(
        pinned["suppressions"][0]["justification"],
        "pinned until the migration"
    );
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == "privileged-container")
        .expect("privileged");
    assert_eq!(privileged["level"], "error", "re-ranked high");
    assert!(privileged["suppressions"].is_null());
    let err = stderr(&out);
    assert!(
        err.contains(".ecs-secrets.toml:25: the suppression of host-network-mode in ecs/payments.json (every pointer) matches no finding"),
        "{err}"
    );
    assert!(
        !err.contains("partial-secret-arn in ecs/other.json"),
        "a suppression of a file not checked is not stale: {err}"
    );

    let report = json(&validate(dir, &[&["--format", "json"][..], &files[..]].concat()).await?);
    let suppressed = rules_and_pointers(&report["suppressed"]);
    assert_eq!(
        suppressed,
        vec![
            (
                "secret-in-command".to_owned(),
                "/containerDefinitions/0/command/1".to_owned()
            ),
            (
                "pinned-secret-version".to_owned(),
                "/containerDefinitions/0/secrets/1/valueFrom".to_owned()
            ),
        ]
    );
    assert_eq!(report["suppressed"][0]["suppression"]["kind"], "config");
    assert!(rules_and_pointers(&report["findings"])
        .iter()
        .all(|(r, _)| r != "root-user" && r != "secret-in-command"));

    // The severity override alone makes orders.json fail; --no-config ignores the file.
    let orders = validate(dir, &["ecs/orders.json"]).await?;
    assert_eq!(orders.status.code(), Some(1), "{}", stderr(&orders));
    let orders = validate(dir, &["--no-config", "ecs/orders.json"]).await?;
    assert_eq!(orders.status.code(), Some(0), "{}", stderr(&orders));

    // --config names a file elsewhere; its paths are relative to its own directory.
    std::fs::create_dir(dir.join("ci"))?;
    write(
        dir,
        "ci/validate.toml",
        "[[suppress]]\nrule = \"privileged-container\"\nfile = \"../ecs/orders.json\"\nreason = \"needs the host's devices\"\n",
    );
    let named = validate(
        dir.join("ecs").as_path(),
        &[
            "--format",
            "json",
            "--config",
            "../ci/validate.toml",
            "orders.json",
        ],
    )
    .await?;
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
    let report = json(&named);
    assert_eq!(
        report["suppressed"][0]["suppression"]["source"],
        "../ci/validate.toml:1"
    );
    Ok(())
}

#[tokio::test]
async fn a_config_error_exits_2_before_any_output() -> anyhow::Result<()> {
    let repo = repository();
    let dir = repo.path();
    for (config, expected) in [
        (
            "[[suppress]]\nrule = \"root-user\"\nfile = \"ecs/orders.json\"\n",
            ".ecs-secrets.toml:1: suppress[0].reason: missing",
        ),
        (
            "[[suppress]]\nrule = \"root-user\"\nfile = \"ecs/orders.json\"\nreason = \"\"\n",
            ".ecs-secrets.toml:4: suppress[0].reason: must not be empty",
        ),
        (
            "[rules]\ndisable = [\"root-usr\"]\n",
            ".ecs-secrets.toml:2: rules.disable: unknown rule id `root-usr`",
        ),
        (
            "[rules.severity]\nroot-user = \"urgent\"\n",
            ".ecs-secrets.toml:2: rules.severity.\"root-user\": `urgent` is not a severity",
        ),
        (
            "[[suppress]]\nrule = \"root-user\"\nfile = \"ecs/orders.json\"\nreason = \"r\"\nexpires = \"31/12/2027\"\n",
            ".ecs-secrets.toml:5: suppress[0].expires: not a date",
        ),
        ("[rule]\n", ".ecs-secrets.toml:1: unknown field `rule`"),
    ] {
        write(dir, ".ecs-secrets.toml", config);
        let out = validate(dir, &["ecs/payments.json"]).await?;
        assert_eq!(out.status.code(), Some(2), "{config}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{config}: no report");
        assert!(stderr(&out).contains(expected), "{config}: {}", stderr(&out));
        for secret in FIXTURE_SECRETS {
            assert!(!stderr(&out).contains(secret));
        }
    }
    let missing = validate(dir, &["--config", "absent.toml", "ecs/payments.json"]).await?;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("absent.toml: cannot read"),
        "{}",
        stderr(&missing)
    );
    Ok(())
}

#[tokio::test]
async fn an_expired_suppression_is_a_finding_and_the_finding_returns() -> anyhow::Result<()> {
    let repo = repository();
    let dir = repo.path();
    write(
        dir,
        ".ecs-secrets.toml",
        "\n[[suppress]]\nrule = \"privileged-container\"\nfile = \"ecs/orders.json\"\npointer = \"/containerDefinitions/0/privileged\"\nreason = \"until the driver ships\"\nexpires = 2026-01-01\n",
    );
    let out = validate(dir, &["--format", "json", "ecs/orders.json"]).await?;
    // The medium finding alone would pass; the expired suppression (high) fails the run.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let expired = findings
        .iter()
        .find(|f| f["rule"] == "expired-suppression")
        .expect("expired-suppression");
    assert_eq!(expired["file"], ".ecs-secrets.toml");
    assert_eq!(expired["line"], 2);
    assert_eq!(expired["severity"], "high");
    let message = expired["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("privileged-container in ecs/orders.json at /containerDefinitions/0/privileged expired on 2026-01-01"),
        "{message}"
    );
    assert!(findings.iter().any(|f| f["rule"] == "privileged-container"
        && f["pointer"] == "/containerDefinitions/0/privileged"));
    assert!(report["suppressed"].is_null());

    // A baseline does not hide it or the finding it covered: that is settled in the config.
    let written = validate(dir, &["--write-baseline", "b.json", "ecs/orders.json"]).await?;
    assert_eq!(written.status.code(), Some(0));
    assert!(!std::fs::read_to_string(dir.join("b.json"))?.contains("expired-suppression"));
    let out = validate(
        dir,
        &[
            "--format",
            "json",
            "--baseline",
            "b.json",
            "ecs/orders.json",
        ],
    )
    .await?;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut reported = rules_and_pointers(&json(&out)["findings"]);
    reported.sort();
    assert_eq!(
        reported,
        vec![
            ("expired-suppression".to_owned(), "/suppress/0".to_owned()),
            (
                "privileged-container".to_owned(),
                "/containerDefinitions/0/privileged".to_owned()
            ),
        ]
    );
    Ok(())
}

/// Like [`validate`], with an evidence key in the environment.
async fn validate_keyed(dir: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = tokio::process::Command::new(harness::paths::binary("ecs-secrets")?);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env(
            "ECS_SECRETS_EVIDENCE_KEY",
            "a-test-key-of-32-bytes-or-so-ok!",
        )
        .current_dir(dir)
        .arg("validate")
        .args(args);
    Ok(cmd.output().await?)
}

/// With an evidence key, a baseline accepts the credential reviewed, not another one written
/// at the same place; credential rules cannot be disabled or ranked down; a baseline of stdin
/// is refused; a baseline rewritten in place stays whole.
#[tokio::test]
async fn a_keyed_baseline_accepts_the_value_not_the_place() -> anyhow::Result<()> {
    let repo = repository();
    let dir = repo.path();
    let written = validate_keyed(dir, &["--write-baseline", "b.json", "ecs/payments.json"]).await?;
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(!stderr(&written).contains("without an evidence key"));
    let before = std::fs::read_to_string(dir.join("b.json"))?;
    for secret in FIXTURE_SECRETS {
        assert!(!before.contains(secret), "{secret} in the baseline");
    }
    let same = validate_keyed(dir, &["--baseline", "b.json", "ecs/payments.json"]).await?;
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));

    // The GitHub token replaced by another at the same pointer: a finding again.
    let text = std::fs::read_to_string(dir.join("ecs/payments.json"))?;
    assert!(text.contains(FIXTURE_SECRETS[4]));
    write(
        dir,
        "ecs/payments.json",
        &text.replace(FIXTURE_SECRETS[4], NEW_TOKEN),
    );
    let replaced = validate_keyed(
        dir,
        &[
            "--format",
            "json",
            "--baseline",
            "b.json",
            "ecs/payments.json",
        ],
    )
    .await?;
    assert_eq!(replaced.status.code(), Some(1), "{}", stderr(&replaced));
    let findings = json(&replaced)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0]["rule"], "secret-in-command",
        "the token sits in a command"
    );

    // Rewriting the baseline in place keeps a whole, valid file.
    let rewritten = validate_keyed(
        dir,
        &[
            "--baseline",
            "b.json",
            "--write-baseline",
            "b.json",
            "ecs/payments.json",
        ],
    )
    .await?;
    assert_eq!(rewritten.status.code(), Some(0), "{}", stderr(&rewritten));
    let after: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("b.json"))?)?;
    assert_eq!(after["version"], 1);
    assert!(!std::fs::read_dir(dir)?.any(|e| e
        .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .unwrap_or(false)));

    // Credential rules fail closed.
    for config in [
        "[rules]\ndisable = [\"plaintext-secret\"]\n",
        "[rules.severity]\n\"plaintext-secret\" = \"low\"\n",
        "[[suppress]]\nrule = \"plaintext-secret\"\nfile = \"ecs/payments.json\"\nreason = \"all of them\"\n",
    ] {
        write(dir, ".ecs-secrets.toml", config);
        let out = validate(dir, &["ecs/payments.json"]).await?;
        assert_eq!(out.status.code(), Some(2), "{config}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    std::fs::remove_file(dir.join(".ecs-secrets.toml"))?;

    let stdin = validate(dir, &["--write-baseline", "s.json", "-"]).await?;
    assert_eq!(stdin.status.code(), Some(2));
    assert!(stderr(&stdin).contains("stdin"), "{}", stderr(&stdin));
    assert!(!dir.join("s.json").exists());
    Ok(())
}
