//! moto's server: the AWS APIs of this project, on 127.0.0.1.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;
use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::process::{free_port, ServerProcess};

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
        let mut last_error = None;
        // A free port can be taken between our probe and moto's bind: retry with another.
        for _ in 0..3 {
            match Self::try_start().await {
                Ok(moto) => return Ok(moto),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("moto did not start")))
    }

    async fn try_start() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("ecs-secrets-moto-")
            .tempdir()?;
        let port = free_port()?;
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
        process
            .wait_ready(Duration::from_secs(60), || {
                let request = client.get(&probe).send();
                async move {
                    request.await?.error_for_status()?;
                    Ok(())
                }
            })
            .await?;
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

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk_config())
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config())
    }
}
