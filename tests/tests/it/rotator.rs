//! `secret-rotator` end to end: the built binary, under the Runtime API, against moto — driven
//! the way Secrets Manager drives it (RotateSecret creates the empty AWSPENDING version, then
//! the four steps).

use harness::rotation::{run_steps, step_event, ROTATION_TOKEN};
use harness::{Function, LambdaFunction, Moto, World};
use serde_json::{json, Value};

async fn start_rotation(moto: &Moto, arn: &str, token: &str) -> anyhow::Result<()> {
    moto.prepare_rotation(arn, token).await
}

async fn current(moto: &Moto, arn: &str) -> anyhow::Result<String> {
    moto.current_value(arn).await
}

fn step(name: &str, arn: &str, token: &str) -> Value {
    step_event(name, arn, token)
}

async fn rotate(lambda: &LambdaFunction, arn: &str, token: &str) -> anyhow::Result<Vec<Value>> {
    run_steps(lambda, arn, token).await
}

#[tokio::test]
async fn generic_secret_rotates_end_to_end_and_retries_are_no_ops() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let old = json!({"engine": "generic", "username": "svc", "password": "old-password-value", "endpoint": "https://api.example.com"});
    let arn = moto
        .create_secret(world.unique("api"), old.to_string())
        .await?;
    let token = "0a1b2c3d-0000-4000-8000-000000000001";
    start_rotation(moto, &arn, token).await?;

    let lambda = world
        .lambda(Function::SecretRotator, &[("PASSWORD_LENGTH", "40")])
        .await?;
    let outcomes = rotate(&lambda, &arn, token).await?;
    assert!(
        outcomes.iter().all(|o| o["outcome"] == "done"),
        "{outcomes:?}"
    );

    let new: Value = serde_json::from_str(&current(moto, &arn).await?)?;
    let password = new["password"].as_str().unwrap_or_default().to_owned();
    assert_ne!(password, "old-password-value");
    assert_eq!(password.len(), 40, "PASSWORD_LENGTH honoured");
    for key in ["engine", "username", "endpoint"] {
        assert_eq!(new[key], old[key], "{key} carried forward");
    }
    let previous = moto
        .secrets_manager()
        .get_secret_value()
        .secret_id(&arn)
        .version_stage("AWSPREVIOUS")
        .send()
        .await?;
    assert_eq!(previous.secret_string(), Some(old.to_string().as_str()));

    // Every step again with the same token: successful no-ops, value unchanged.
    let again = rotate(&lambda, &arn, token).await?;
    assert!(
        again.iter().all(|o| o["outcome"] == "already-done"),
        "{again:?}"
    );
    assert_eq!(current(moto, &arn).await?, new.to_string());

    // A second rotation with a new token works after the first (AWSPENDING was tidied).
    let token2 = "0a1b2c3d-0000-4000-8000-000000000002";
    start_rotation(moto, &arn, token2).await?;
    rotate(&lambda, &arn, token2).await?;
    let newer: Value = serde_json::from_str(&current(moto, &arn).await?)?;
    assert_ne!(newer["password"], new["password"]);

    let output = lambda.stop().await.join("\n");
    for secret in ["old-password-value", password.as_str(), ROTATION_TOKEN] {
        assert!(!output.contains(secret), "a secret reached the logs");
    }
    assert!(
        output.contains("\"StepDuration\""),
        "EMF metrics are emitted"
    );
    Ok(())
}

#[tokio::test]
async fn gate_errors_are_clear_and_leave_the_secret_unchanged() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let token = "0a1b2c3d-0000-4000-8000-00000000000a";

    // Rotation never configured.
    let plain_arn = moto.create_secret(world.unique("plain"), "value-1").await?;
    let err = lambda
        .invoke(&step("createSecret", &plain_arn, token))
        .await?
        .expect_err("rotation disabled");
    assert_eq!(err.error_type, "RotationDisabled");
    assert!(
        err.error_message.starts_with(&format!(
            "createSecret: secret {plain_arn}: rotation is not enabled"
        )),
        "{err}"
    );

    // Unknown token, and a token that is not pending (the current version's own id is a no-op).
    start_rotation(moto, &plain_arn, token).await?;
    let err = lambda
        .invoke(&step(
            "setSecret",
            &plain_arn,
            "ffffffff-0000-4000-8000-00000000000f",
        ))
        .await?
        .expect_err("unknown token");
    assert_eq!(err.error_type, "UnknownVersion", "{err}");

    // Unsupported engine and missing engine.
    for (value, expected) in [
        (
            json!({"engine": "oracle", "password": "p"}),
            "UnsupportedEngine",
        ),
        (json!({"username": "u", "password": "p"}), "MissingEngine"),
    ] {
        let arn = moto
            .create_secret(world.unique("bad"), value.to_string())
            .await?;
        start_rotation(moto, &arn, token).await?;
        let err = lambda
            .invoke(&step("createSecret", &arn, token))
            .await?
            .expect_err(expected);
        assert_eq!(err.error_type, expected, "{err}");
        assert_eq!(
            current(moto, &arn).await?,
            value.to_string(),
            "secret unchanged"
        );
    }

    // A malformed event.
    let err = lambda.invoke(&json!({"Step": "rotateEverything", "SecretId": plain_arn, "ClientRequestToken": token})).await?.expect_err("bad step");
    assert_eq!(err.error_type, "InvalidEvent");
    assert!(err.error_message.contains("rotateEverything"), "{err}");
    assert_eq!(current(moto, &plain_arn).await?, "value-1");
    Ok(())
}

#[tokio::test]
async fn invalid_password_policy_stops_the_function_at_start_up() -> anyhow::Result<()> {
    let world = World::new();
    let lambda = world
        .lambda(Function::SecretRotator, &[("EXCLUDE_NUMBERS", "sometimes")])
        .await?
        .with_timeout(std::time::Duration::from_secs(20));
    let err = lambda.invoke(&json!({})).await.expect_err("must not start");
    let message = format!("{err:#}");
    assert!(
        message.contains("exited") && message.contains("EXCLUDE_NUMBERS"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn password_policy_holds_across_many_generations() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let arn = moto.create_secret(world.unique("policy"), "start").await?;
    let lambda = world
        .lambda(
            Function::SecretRotator,
            &[
                ("PASSWORD_LENGTH", "24"),
                ("EXCLUDE_PUNCTUATION", "yes"),
                ("EXCLUDE_CHARACTERS", "abcXYZ019"),
            ],
        )
        .await?;
    let mut seen = std::collections::HashSet::new();
    for i in 0..15 {
        let token = format!("0a1b2c3d-1111-4000-8000-{i:012}");
        start_rotation(moto, &arn, &token).await?;
        rotate(&lambda, &arn, &token).await?;
        let value = current(moto, &arn).await?;
        assert_eq!(value.chars().count(), 24, "length");
        assert!(
            value.chars().all(|c| c.is_ascii_alphanumeric()),
            "no punctuation"
        );
        assert!(
            !value.chars().any(|c| "abcXYZ019".contains(c)),
            "excluded characters"
        );
        assert!(seen.insert(value), "a fresh value every time");
    }
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_refused_not_rotated_as_a_plain_string() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    let broken = r#"{"engine": "postgres", "host": "db", "password": "hunter2-broken"#;
    let arn = moto.create_secret(world.unique("broken"), broken).await?;
    let token = "0a1b2c3d-2222-4000-8000-000000000001";
    start_rotation(moto, &arn, token).await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let err = lambda
        .invoke(&step("createSecret", &arn, token))
        .await?
        .expect_err("malformed JSON");
    assert_eq!(err.error_type, "InvalidSecret", "{err}");
    assert!(err.error_message.contains("does not parse"), "{err}");
    assert!(!err.error_message.contains("hunter2"), "{err}");
    assert_eq!(current(moto, &arn).await?, broken, "secret unchanged");
    Ok(())
}
