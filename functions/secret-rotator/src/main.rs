//! Lambda entry point of `secret-rotator`: logging, then the runtime loop. Everything else is in the
//! library, where it is testable without the Lambda runtime.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecs_secrets_shared::telemetry::init_lambda(secret_rotator::FUNCTION_NAME);
    lambda_runtime::run(lambda_runtime::service_fn(secret_rotator::handle)).await
}
