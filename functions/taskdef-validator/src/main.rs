//! Lambda entry point of `taskdef-validator`: configuration and the AWS clients once per cold
//! start, then the runtime loop. Everything else is in the library.

use ecs_secrets_shared::aws::AwsConfig;
use taskdef_validator::config::Config;
use taskdef_validator::handler::Validator;
use taskdef_validator::{directory, live, platform};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecs_secrets_shared::telemetry::init_lambda(taskdef_validator::FUNCTION_NAME);
    let config = Config::from_lookup(|k| std::env::var(k).ok())
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let aws = AwsConfig::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let evidence_key = match &config.evidence_key_parameter {
        Some(name) => Some(
            directory::evidence_key(&aws, name)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?,
        ),
        None => None,
    };
    let validator = Validator {
        directory: directory::Aws::new(&aws),
        platform: platform::Aws::new(&aws),
        config,
        home: live::Home {
            partition: ecs_secrets_shared::arn::partition_of_region(aws.region()).to_owned(),
            region: aws.region().to_owned(),
            account: None,
            caller_account: None,
        },
        evidence_key,
    };
    let validator = &validator;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        validator.handle(event)
    }))
    .await
}
