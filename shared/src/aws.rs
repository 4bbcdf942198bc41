//! The one place AWS clients are configured.
//!
//! Every function and the CLI build their SDK clients from [`AwsConfig::load`], so the standard
//! `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` variables point all of them at a local
//! emulator (moto) with no code change, and `SECRETS_MANAGER_ENDPOINT` — the variable of the
//! AWS rotation templates — keeps working for people who migrate from them.
//!
//! Defaults are chosen for Lambda: short connect and attempt timeouts so a black-holed endpoint
//! fails a step in seconds rather than burning the function's timeout, and the SDK's standard
//! retry (which backs off on throttling) unless `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` say
//! otherwise.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::error::ConfigError;

/// Variable of the AWS rotation templates that overrides the Secrets Manager endpoint.
pub const SECRETS_MANAGER_ENDPOINT: &str = "SECRETS_MANAGER_ENDPOINT";

/// Default number of attempts (first try included) when `AWS_MAX_ATTEMPTS` is not set.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Loaded AWS configuration, from which every client is built.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub sdk: SdkConfig,
    secrets_manager_endpoint: Option<String>,
}

impl AwsConfig {
    /// Loads the configuration from the environment (and, outside Lambda, the shared AWS
    /// config files). Fails when no region can be determined.
    pub async fn load() -> Result<Self, ConfigError> {
        Self::load_from(|name| std::env::var(name).ok()).await
    }

    /// As [`AwsConfig::load`], reading variables through `env` (for tests).
    pub async fn load_from(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        );
        if env("AWS_RETRY_MODE").is_none() && env("AWS_MAX_ATTEMPTS").is_none() {
            loader = loader.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(DEFAULT_MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200)),
            );
        }
        if let Some(region) = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
            if !crate::arn::is_region(&region) {
                return Err(ConfigError::invalid(
                    "AWS_REGION",
                    format!("`{region}` is not a region name such as us-east-1"),
                ));
            }
            loader = loader.region(Region::new(region));
        }
        let secrets_manager_endpoint = match env(SECRETS_MANAGER_ENDPOINT).filter(|v| !v.is_empty())
        {
            Some(url) => Some(validate_endpoint(SECRETS_MANAGER_ENDPOINT, url)?),
            None => None,
        };
        if let Some(url) = env("AWS_ENDPOINT_URL").filter(|v| !v.is_empty()) {
            validate_endpoint("AWS_ENDPOINT_URL", url)?;
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(ConfigError::invalid(
                "AWS_REGION",
                "no AWS region is configured; set AWS_REGION (Lambda sets it for you)",
            ));
        }
        Ok(Self {
            sdk,
            secrets_manager_endpoint,
        })
    }

    pub fn region(&self) -> &str {
        self.sdk.region().map(Region::as_ref).unwrap_or_default()
    }

    /// The Secrets Manager client configuration, honouring `SECRETS_MANAGER_ENDPOINT` unless a
    /// service-specific `AWS_ENDPOINT_URL_SECRETS_MANAGER` is set (the SDK applies that one).
    pub fn secrets_manager_config(&self) -> aws_sdk_secretsmanager::Config {
        let mut builder = aws_sdk_secretsmanager::config::Builder::from(&self.sdk);
        if let Some(url) = &self.secrets_manager_endpoint {
            builder = builder.endpoint_url(url);
        }
        builder.build()
    }

    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::from_conf(self.secrets_manager_config())
    }
}

/// A failed AWS call, as every function reports it: the operation, the service's error code,
/// and the SDK's message with its causes. It never holds a request body, so never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct CallError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl CallError {
    /// The call and the service's error code, without the service's message (which may quote
    /// what was asked for: a name, an id): what a finding or a reply may say of a failure.
    pub fn summary(&self) -> String {
        format!(
            "{} failed: {}",
            self.operation,
            self.code.as_deref().unwrap_or("no error code")
        )
    }

    /// From any SDK client's error (they all share the smithy `SdkError` type).
    pub fn from_sdk<E, R>(
        operation: &'static str,
        e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
    ) -> Self
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        Self {
            operation,
            code: e.code().map(str::to_owned),
            message: aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        }
    }
}

fn validate_endpoint(name: &str, url: String) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url),
        _ => Err(ConfigError::invalid(
            name,
            format!("`{url}` is not an http:// or https:// URL"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[tokio::test]
    async fn region_and_secrets_manager_endpoint() {
        let cfg = AwsConfig::load_from(env(&[
            ("AWS_REGION", "eu-west-1"),
            (SECRETS_MANAGER_ENDPOINT, "http://127.0.0.1:4566"),
        ]))
        .await
        .unwrap();
        assert_eq!(cfg.region(), "eu-west-1");
        assert_eq!(
            cfg.secrets_manager_endpoint.as_deref(),
            Some("http://127.0.0.1:4566")
        );
        let sm = cfg.secrets_manager_config();
        assert_eq!(sm.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[tokio::test]
    async fn bad_values_name_the_variable() {
        let err = AwsConfig::load_from(env(&[("AWS_REGION", "Frankfurt")]))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AWS_REGION") && err.contains("Frankfurt"),
            "{err}"
        );

        let err = AwsConfig::load_from(env(&[
            ("AWS_REGION", "us-east-1"),
            (SECRETS_MANAGER_ENDPOINT, "localhost:4566"),
        ]))
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(SECRETS_MANAGER_ENDPOINT) && err.contains("URL"),
            "{err}"
        );

        let err = AwsConfig::load_from(env(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "ftp://x"),
        ]))
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("AWS_ENDPOINT_URL"), "{err}");
    }
}
