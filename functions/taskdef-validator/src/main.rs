//! Lambda entry point of `taskdef-validator`: logging, then the runtime loop. Everything else is in the
//! library, where it is testable without the Lambda runtime.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecs_secrets_shared::telemetry::init_lambda(taskdef_validator::FUNCTION_NAME);
    lambda_runtime::run(lambda_runtime::service_fn(taskdef_validator::handle)).await
}
