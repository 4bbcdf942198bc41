//! Lambda entry point of `ecs-redeployer`: configuration and the ECS client once per cold
//! start (the task-definition cache lives as long as the process), then the runtime loop.

use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::redeploy::Redeployer;
use ecs_secrets_shared::aws::AwsConfig;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecs_secrets_shared::telemetry::init_lambda(ecs_redeployer::FUNCTION_NAME);
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let aws = AwsConfig::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    let redeployer = &redeployer;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        ecs_redeployer::handle(redeployer, event)
    }))
    .await
}
