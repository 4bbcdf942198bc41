//! Lambda entry point of `ecs-redeployer`: configuration and the ECS client once per cold
//! start (the task-definition cache lives as long as the process), the propagation tracker when
//! `PROPAGATION_SCHEDULE_GROUP` is set, the reference index when `INDEX_TABLE` is set, then the
//! runtime loop.

use ecs_redeployer::config::Config;
use ecs_redeployer::ecs::Ecs;
use ecs_redeployer::index::{DynamoStore, Index};
use ecs_redeployer::propagation::AwsTracker;
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
    let tracker = config.propagation.as_ref().map(|p| AwsTracker {
        scheduler: aws_sdk_scheduler::Client::new(&aws.sdk),
        events: aws_sdk_eventbridge::Client::new(&aws.sdk),
        group: p.group.clone(),
        role_arn: p.role_arn.clone(),
        bus: p.bus.clone(),
    });
    let index = config.index.as_ref().map(|i| {
        let store = DynamoStore {
            client: aws_sdk_dynamodb::Client::new(&aws.sdk),
            table: i.table.clone(),
        };
        Index::new(std::sync::Arc::new(store), i.max_age_hours)
    });
    let mut redeployer = Redeployer::new(Ecs::new(aws_sdk_ecs::Client::new(&aws.sdk)), config);
    if let Some(index) = index {
        redeployer = redeployer.with_index(index);
    }
    let (redeployer, tracker) = (&redeployer, tracker.as_ref());
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        ecs_redeployer::handle(redeployer, tracker, event)
    }))
    .await
}
