//! Lambda entry point of `secret-rotator`: configuration and clients once per cold start, then
//! the runtime loop. Everything else is in the library.

use ecs_secrets_shared::aws::AwsConfig;
use secret_rotator::db::servers::Servers;
use secret_rotator::db::DbSettings;
use secret_rotator::policy::PasswordPolicy;
use secret_rotator::rds::RdsDirectory;
use secret_rotator::rotation::Rotator;
use secret_rotator::store::SecretsManagerStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecs_secrets_shared::telemetry::init_lambda(secret_rotator::FUNCTION_NAME);
    let policy = PasswordPolicy::from_env()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let db_settings = DbSettings::from_lookup(|k| std::env::var(k).ok())
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let aws = AwsConfig::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let rotator = Rotator::new(
        SecretsManagerStore(aws.secrets_manager()),
        RdsDirectory(aws_sdk_rds::Client::new(&aws.sdk)),
        Servers::new(db_settings),
        policy,
    );
    let rotator = &rotator;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        secret_rotator::handle(rotator, event)
    }))
    .await
}
