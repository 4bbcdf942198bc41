//! The shipped function binaries, run under the harness's Lambda Runtime API endpoint.

use harness::{Function, World};
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = harness::paths::workspace_root()
        .join("shared/testdata/events")
        .join(name);
    let shown = path.display().to_string();
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&shown)).expect(&shown)
}

/// An event each function would receive in production.
fn event_for(function: Function) -> Value {
    match function {
        Function::SecretRotator => json!({
            "Step": "createSecret",
            "SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbC123",
            "ClientRequestToken": "0f8a2d56-7a2b-4d6c-9e1f-3a4b5c6d7e8f",
            "RotationToken": "rotation-token-must-not-be-logged"
        }),
        Function::EcsRedeployer => fixture("secret-label-updated.json"),
        Function::TaskdefValidator => fixture("register-task-definition.json"),
    }
}

/// What each function answers `event_for(function)` with in an empty world: `Ok(key)` for a
/// response that has `key`, `Err((errorType, message fragment))` for an error.
fn expected(function: Function) -> Result<&'static str, (&'static str, &'static str)> {
    match function {
        // The secret does not exist in this world's moto: the gate's DescribeSecret fails.
        Function::SecretRotator => Err((
            "SecretsManagerError",
            "createSecret: secret arn:aws:secretsmanager",
        )),
        // No cluster references the secret: a summary with nothing redeployed.
        Function::EcsRedeployer => Ok("redeployed"),
        // The role and the secret do not exist here: a report with live findings.
        Function::TaskdefValidator => Ok("findings"),
    }
}

#[tokio::test]
async fn every_function_answers_over_the_runtime_api() -> anyhow::Result<()> {
    let world = World::new();
    for function in Function::ALL {
        let lambda = world.lambda(function, &[]).await?;
        // Two invocations: the binary stays in its runtime loop between them, as on Lambda.
        for _ in 0..2 {
            let outcome = lambda.invoke(&event_for(function)).await?;
            match (outcome, expected(function)) {
                (Ok(response), Ok(key)) => assert!(
                    response.get(key).is_some(),
                    "{}: {response}",
                    function.binary_name()
                ),
                (Err(error), Err((error_type, message))) => {
                    assert_eq!(
                        error.error_type,
                        error_type,
                        "{}: {error}",
                        function.binary_name()
                    );
                    assert!(
                        error.error_message.contains(message),
                        "{}: {error}",
                        function.binary_name()
                    );
                }
                (other, want) => panic!(
                    "{}: got {other:?}, expected {want:?}",
                    function.binary_name()
                ),
            }
        }
        let output = lambda.stop().await;
        // Logs are JSON lines carrying the Lambda request id, and never the rotation token.
        let logs: Vec<Value> = output
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(
            !logs.is_empty(),
            "{}: no JSON log lines in {output:?}",
            function.binary_name()
        );
        assert!(
            logs.iter().any(|l| l["span"]["requestId"]
                .as_str()
                .is_some_and(|id| id.starts_with(function.binary_name()))),
            "{}: no request id in {logs:?}",
            function.binary_name()
        );
        assert!(
            output
                .iter()
                .all(|l| !l.contains("rotation-token-must-not-be-logged")),
            "{output:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn redeployer_rejects_an_event_it_does_not_understand() -> anyhow::Result<()> {
    let world = World::new();
    let lambda = world.lambda(Function::EcsRedeployer, &[]).await?;
    let outcome = lambda
        .invoke(&json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}))
        .await?;
    let error = outcome.expect_err("an S3 event is not ours");
    assert_eq!(error.error_type, "InvalidEvent");
    assert!(error.error_message.contains("source `aws.s3`"), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_binary_that_cannot_start_is_reported_not_hung() -> anyhow::Result<()> {
    // lambda_runtime refuses to start without the variables the Lambda service sets; the
    // harness must report the exit, not wait for an answer that never comes.
    let world = World::new();
    let lambda = world
        .lambda(
            Function::SecretRotator,
            &[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "not-a-number")],
        )
        .await?
        .with_timeout(std::time::Duration::from_secs(20));
    let err = lambda
        .invoke(&json!({}))
        .await
        .expect_err("start-up must fail");
    assert!(err.to_string().contains("exited"), "{err}");
    Ok(())
}

/// Writes `text` to an executable file `name` in `dir`: a program for the harness to run.
fn executable(
    dir: &tempfile::TempDir,
    name: &str,
    text: &str,
) -> std::io::Result<std::path::PathBuf> {
    let path = dir.path().join(name);
    std::fs::write(&path, text)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(path)
}

#[tokio::test]
async fn what_a_dying_process_printed_reaches_the_error() -> anyhow::Result<()> {
    // A process that prints its reason and exits at once: the harness must report the lines
    // it printed, not race the pipe readers and report the exit with an empty log.
    let dir = tempfile::tempdir()?;
    let script = executable(
        &dir,
        "dies",
        "#!/bin/sh\necho 'stdout: about to fail'\necho 'stderr: EXCLUDE_NUMBERS is not a boolean' >&2\nexit 1\n",
    )?;
    for round in 0..10 {
        let lambda = harness::LambdaFunction::start_program(&script, "dies", &[])
            .await?
            .with_timeout(std::time::Duration::from_secs(20));
        // Block this test's (single-threaded) runtime while the process exits, as a loaded CI
        // machine does: the pipe readers have not run when the harness sees the exit.
        if round % 2 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let err = lambda.invoke(&json!({})).await.expect_err("it exits");
        let message = format!("{err:#}");
        assert!(
            message.contains("exited")
                && message.contains("EXCLUDE_NUMBERS is not a boolean")
                && message.contains("about to fail"),
            "round {round}: {message}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn stop_keeps_what_the_function_printed_after_its_answer() -> anyhow::Result<()> {
    // A function that answers, then logs, then asks for its next event: `stop()` must not kill
    // it between the answer and the log line, or a "nothing secret was logged" assertion reads
    // a cut-off log.
    let dir = tempfile::tempdir()?;
    let script = executable(
        &dir,
        "late",
        r#"#!/usr/bin/env python3
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["lambda-runtime-aws-request-id"]
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b'{"ok":true}', method="POST")).read()
    time.sleep(0.5)
    print("logged after the answer", flush=True)
"#,
    )?;
    let lambda = harness::LambdaFunction::start_program(&script, "late", &[]).await?;
    assert_eq!(lambda.invoke_ok(&json!({})).await?, json!({"ok": true}));
    let output = lambda.stop().await;
    assert!(
        output.iter().any(|l| l == "logged after the answer"),
        "{output:?}"
    );
    Ok(())
}
