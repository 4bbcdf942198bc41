//! moto's server: the AWS APIs of this project, on 127.0.0.1.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;
use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::process::{on_free_port, ServerProcess};

/// The region every test world uses.
pub const REGION: &str = "us-east-1";
/// moto's default account id.
pub const ACCOUNT: &str = "123456789012";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    _process: ServerProcess,
    _dir: TempDir,
}

impl Moto {
    pub async fn start() -> Result<Self> {
        on_free_port("moto", Self::start_on).await
    }

    async fn start_on(port: u16) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("ecs-secrets-moto-")
            .tempdir()?;
        let program = crate::paths::tool("MOTO_SERVER", "moto_server");
        let mut cmd = crate::process::command(&program, None);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PYTHONUNBUFFERED", "1")
            // moto must not look for real credentials or regions anywhere.
            .env("AWS_EC2_METADATA_DISABLED", "true");
        let mut process =
            ServerProcess::spawn("moto", cmd, dir.path().join("moto.log"), Signal::SIGTERM)
                .with_context(|| {
                    format!(
                        "{} (install it with scripts/setup.sh, or set MOTO_SERVER)",
                        program.display()
                    )
                })?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder().no_proxy().build()?;
        let probe = format!("{endpoint}/moto-api/");
        // An answer on the port is not enough: the port was free when chosen, and another
        // test's moto may have taken it since, answering while ours dies on the bind. Ours is
        // ready once its own log says it listens there and the port answers.
        let log = process.log_path().to_owned();
        let listening = format!(" * Running on {endpoint}");
        process
            .wait_ready(Duration::from_secs(60), || {
                let ours = std::fs::read_to_string(&log)
                    .is_ok_and(|text| text.lines().any(|l| l.trim_end() == listening));
                let request = client.get(&probe).send();
                async move {
                    anyhow::ensure!(ours, "moto has not said it listens yet");
                    request.await?.error_for_status()?;
                    Ok(())
                }
            })
            .await?;
        process.check_alive()?;
        Ok(Self {
            endpoint,
            _process: process,
            _dir: dir,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Wipes every resource in this moto server.
    pub async fn reset(&self) -> Result<()> {
        reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(format!("{}/moto-api/reset", self.endpoint))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Environment that points an AWS SDK (a function binary) at this server and nowhere else.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// SDK configuration for the test itself (to arrange and inspect the world).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_sdk_secretsmanager::config::SharedCredentialsProvider::new(Credentials::new(
                    "testing", "testing", None, None, "harness",
                )),
            )
            .build()
    }

    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config())
    }

    /// Puts a secret where Secrets Manager leaves it before invoking a rotation function:
    /// rotation enabled and an empty AWSPENDING version whose id is `token`. moto does both on
    /// `RotateSecret` and then fails to invoke the (unknown) Lambda function, which is the
    /// state the four steps start from.
    pub async fn prepare_rotation(&self, arn: &str, token: &str) -> Result<()> {
        let sm = self.secrets_manager();
        let result = sm
            .rotate_secret()
            .secret_id(arn)
            .client_request_token(token)
            .rotation_lambda_arn(format!(
                "arn:aws:lambda:{REGION}:{ACCOUNT}:function:not-in-moto"
            ))
            .rotation_rules(
                aws_sdk_secretsmanager::types::RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .send()
            .await;
        let described = sm.describe_secret().secret_id(arn).send().await?;
        let stages = described
            .version_ids_to_stages()
            .and_then(|m| m.get(token))
            .cloned()
            .unwrap_or_default();
        anyhow::ensure!(
            described.rotation_enabled() == Some(true) && stages.iter().any(|s| s == "AWSPENDING"),
            "moto did not prepare the rotation ({:?}); stages of {token}: {stages:?}",
            result
                .err()
                .map(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
        );
        Ok(())
    }

    /// Creates a secret and returns its ARN.
    pub async fn create_secret(
        &self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<String> {
        let out = self
            .secrets_manager()
            .create_secret()
            .name(name.as_ref())
            .secret_string(value.as_ref())
            .send()
            .await?;
        out.arn()
            .map(str::to_owned)
            .context("CreateSecret returned no ARN")
    }

    /// The AWSCURRENT value of a secret, parsed as JSON.
    pub async fn current_json(&self, arn: &str) -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&self.current_value(arn).await?)?)
    }

    /// The AWSCURRENT value of a secret (stage given explicitly: moto can return a stale
    /// version without it).
    pub async fn current_value(&self, arn: &str) -> Result<String> {
        let out = self
            .secrets_manager()
            .get_secret_value()
            .secret_id(arn)
            .version_stage("AWSCURRENT")
            .send()
            .await?;
        Ok(out.secret_string().unwrap_or_default().to_owned())
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk_config())
    }

    pub fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.sdk_config())
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config())
    }

    /// Creates a task execution role (trusting `ecs-tasks.amazonaws.com`) with one inline
    /// policy; returns its ARN.
    pub async fn create_execution_role(
        &self,
        name: &str,
        policy_name: &str,
        policy: serde_json::Value,
    ) -> Result<String> {
        let iam = self.iam();
        let role = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(
                serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await?;
        iam.put_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .policy_document(policy.to_string())
            .send()
            .await?;
        Ok(role.role().map(|r| r.arn().to_owned()).unwrap_or_default())
    }

    /// The redeployer's reference-index table, as the template declares it (`pk`/`sk`
    /// strings, on demand).
    pub async fn create_index_table(&self, name: &str) -> Result<()> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let ddb = aws_sdk_dynamodb::Client::new(&self.sdk_config());
        let mut req = ddb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest);
        for (attr, key) in [("pk", KeyType::Hash), ("sk", KeyType::Range)] {
            req = req
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(attr)
                        .attribute_type(ScalarAttributeType::S)
                        .build()?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(attr)
                        .key_type(key)
                        .build()?,
                );
        }
        req.send().await?;
        Ok(())
    }

    /// Registers a one-container task definition whose `DB` secret is `value_from`.
    pub async fn register_with_secret(&self, family: &str, value_from: &str) -> Result<()> {
        register_with_secret(&self.ecs(), family, value_from).await
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config())
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config())
    }

    pub fn securityhub(&self) -> aws_sdk_securityhub::Client {
        aws_sdk_securityhub::Client::new(&self.sdk_config())
    }

    /// An SQS queue that receives every event on the default bus with `source`; returns the
    /// queue URL (read it with [`Moto::received_events`]).
    pub async fn capture_events(&self, source: &str) -> Result<String> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config());
        let queue = sqs
            .create_queue()
            .queue_name(format!("capture-{}", crate::random_token(8).to_lowercase()))
            .send()
            .await?;
        let url = queue.queue_url().context("queue URL")?.to_owned();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .context("queue ARN")?
            .clone();
        let events = aws_sdk_eventbridge::Client::new(&self.sdk_config());
        events
            .put_rule()
            .name("capture")
            .event_pattern(serde_json::json!({"source": [source]}).to_string())
            .send()
            .await?;
        events
            .put_targets()
            .rule("capture")
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(arn)
                    .build()?,
            )
            .send()
            .await?;
        Ok(url)
    }

    /// The events delivered to a capture queue so far (their JSON bodies).
    pub async fn received_events(&self, queue_url: &str) -> Result<Vec<serde_json::Value>> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config());
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await?;
            if got.messages().is_empty() {
                return Ok(out);
            }
            for m in got.messages() {
                out.push(serde_json::from_str(m.body().unwrap_or("null"))?);
            }
        }
    }
}

/// Registers, through `ecs` (any account's client), a one-container task definition whose
/// `DB` secret is `value_from`.
pub async fn register_with_secret(
    ecs: &aws_sdk_ecs::Client,
    family: &str,
    value_from: &str,
) -> Result<()> {
    use aws_sdk_ecs::types::{ContainerDefinition, Secret};
    ecs.register_task_definition()
        .family(family)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("app:1")
                .memory(128)
                .secrets(
                    Secret::builder()
                        .name("DB")
                        .value_from(value_from)
                        .build()?,
                )
                .build(),
        )
        .send()
        .await?;
    Ok(())
}
