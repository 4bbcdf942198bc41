//! Figure 1: cold start, warm latency, peak memory and size of each function, next to a
//! Python 3.11 + boto3 handler with the same clients and the same first AWS call.
//!
//! Cold start = from spawning the process to the first response under the harness's Runtime
//! API endpoint (what Lambda's init + first invoke cost, minus the sandbox itself).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use harness::{LambdaFunction, Moto, World};
use serde_json::{json, Value};

use crate::{percentiles, round, Scale};

pub fn python() -> PathBuf {
    std::env::var_os("BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness::paths::workspace_root().join(".tools/venv/bin/python"))
}

fn bootstrap() -> PathBuf {
    harness::paths::workspace_root().join("bench/python/bootstrap")
}

struct Case {
    function: &'static str,
    event: Value,
}

async fn cases(moto: &Moto) -> Result<Vec<Case>> {
    let secret = moto
        .create_secret(
            "bench/generic".to_owned(),
            json!({"engine": "generic", "username": "app", "password": "initial-Value-1"})
                .to_string(),
        )
        .await?;
    let token = "c0000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&secret, token).await?;
    moto.create_execution_role(
        "bench-execution",
        "read",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
    )
    .await?;
    let label_updated: Value = serde_json::from_str(&std::fs::read_to_string(
        harness::paths::workspace_root().join("shared/testdata/events/secret-label-updated.json"),
    )?)?;
    Ok(vec![
        Case {
            function: "secret-rotator",
            event: harness::rotation::step_event("createSecret", &secret, token),
        },
        Case {
            function: "ecs-redeployer",
            event: label_updated,
        },
        Case {
            function: "taskdef-validator",
            event: json!({"taskDefinition": {
                "family": "bench",
                "executionRoleArn": "arn:aws:iam::123456789012:role/bench-execution",
                "containerDefinitions": [{"name": "app", "image": "app:1", "user": "1000",
                    "readonlyRootFilesystem": true,
                    "logConfiguration": {"logDriver": "awslogs", "options": {}},
                    "secrets": [{"name": "DB", "valueFrom": format!("{secret}:password::")}]}]
            }}),
        },
    ])
}

/// One implementation measured: cold starts (each a new process), then warm invocations.
async fn measure(
    start: impl Fn() -> futures_util::future::BoxFuture<'static, Result<LambdaFunction>>,
    event: &Value,
    cold_runs: usize,
    warm_runs: usize,
) -> Result<Value> {
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut rss = None;
    let mut failures = 0;
    for run in 0..cold_runs {
        let t0 = Instant::now();
        let lambda = start().await?;
        let first = lambda.invoke(event).await?;
        cold.push(t0.elapsed().as_secs_f64() * 1000.0);
        failures += usize::from(first.is_err());
        if run + 1 == cold_runs {
            for _ in 0..warm_runs {
                let t = Instant::now();
                let outcome = lambda.invoke(event).await?;
                warm.push(t.elapsed().as_secs_f64() * 1000.0);
                failures += usize::from(outcome.is_err());
            }
            rss = lambda.peak_rss_kib().await;
        }
        let output = lambda.stop().await;
        if failures > 0 && run == 0 {
            eprintln!("bench: an invocation failed; output: {}", output.join("\n"));
        }
    }
    let (cold_median, _) = percentiles(cold.clone());
    let (warm_median, warm_p95) = percentiles(warm);
    Ok(json!({
        "cold_start_ms": round(cold_median, 1),
        "cold_start_runs_ms": cold.iter().map(|v| round(*v, 1)).collect::<Vec<_>>(),
        "warm_median_ms": round(warm_median, 2),
        "warm_p95_ms": round(warm_p95, 2),
        "peak_rss_mib": rss.map(|k| round(k as f64 / 1024.0, 1)),
        "failed_invocations": failures,
    }))
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// boto3 + botocore on disk: what the Python handler carries (Lambda's runtime bundles them).
fn boto_size() -> Result<u64> {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import boto3, botocore, os; print(os.path.dirname(boto3.__file__)); print(os.path.dirname(botocore.__file__))",
        ])
        .output()
        .context("running the Python comparator's interpreter")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| dir_size(Path::new(l)))
        .sum())
}

/// moto builds each service's backend on its first request (hundreds of milliseconds); touch
/// them all first so neither implementation pays for it.
async fn warm_up(moto: &Moto) -> Result<()> {
    moto.ecs().list_clusters().send().await?;
    moto.secrets_manager().list_secrets().send().await?;
    moto.iam().list_roles().send().await?;
    moto.ssm().describe_parameters().send().await?;
    moto.kms().list_keys().send().await?;
    Ok(())
}

pub async fn run(scale: Scale) -> Result<Value> {
    let world = World::new();
    let moto = world.moto().await?;
    warm_up(moto).await?;
    let cold_runs = scale.pick(2, 7);
    let warm_runs = scale.pick(5, 50);
    let boto = boto_size()?;
    let mut rows = Vec::new();
    let cases = cases(moto).await?;
    // One untimed invocation of each, so moto's first-request costs (events, IAM policy
    // parsing) fall on neither implementation.
    for case in &cases {
        let lambda = LambdaFunction::start(case.function, &moto.env()).await?;
        let _warm_up = lambda.invoke(&case.event).await?;
        lambda.stop().await;
    }
    for case in cases {
        let env = moto.env();
        let name = case.function;
        let rust_env = env.clone();
        let rust = measure(
            move || {
                let env = rust_env.clone();
                Box::pin(async move { LambdaFunction::start(name, &env).await })
            },
            &case.event,
            cold_runs,
            warm_runs,
        )
        .await?;
        let mut py_env = env.clone();
        py_env.push(("BENCH_FUNCTION".into(), name.into()));
        py_env.push((
            "BENCH_PYTHON".into(),
            python().to_string_lossy().into_owned(),
        ));
        let python = measure(
            move || {
                let env = py_env.clone();
                Box::pin(
                    async move { LambdaFunction::start_program(&bootstrap(), name, &env).await },
                )
            },
            &case.event,
            cold_runs,
            warm_runs,
        )
        .await?;
        let size = std::fs::metadata(harness::paths::binary(name)?)?.len();
        rows.push(json!({
            "function": name,
            "rust": rust,
            "python_boto3": python,
            "rust_binary_mib": round(size as f64 / 1048576.0, 1),
            "python_boto3_on_disk_mib": round(boto as f64 / 1048576.0, 1),
        }));
    }
    Ok(json!({"cold_runs": cold_runs, "warm_runs": warm_runs, "functions": rows}))
}
