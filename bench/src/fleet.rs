//! Figure 3: the redeployer's discovery at scale, behind a proxy that adds per-call latency and
//! applies ECS's token buckets (SPEC §4), next to the naive strategy community redeployers use
//! (one DescribeServices and one DescribeTaskDefinition per service, sequentially).
//!
//! The redeployer runs with DRY_RUN=true: what it would redeploy is decided exactly as in a
//! real run, while UpdateService pacing (2/s by default, ECS allows 5/s) would otherwise
//! dominate every figure and is the same for any implementation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use harness::faults::{ecs_bucket, FaultProxy, Faults};
use harness::moto::{Moto, ACCOUNT, REGION};
use harness::{LambdaFunction, World};
use serde_json::{json, Value};

use crate::{round, Scale};

/// Round trip added to every ECS call.
const LATENCY: Duration = Duration::from_millis(10);

struct Fleet {
    clusters: Vec<String>,
    /// cluster → number of services.
    services: BTreeMap<String, usize>,
    /// Distinct task definitions in use.
    task_definitions: usize,
    target: String,
    /// Services whose task definition references the target.
    referencing: usize,
}

/// A secret exactly [`FIXED_CONSUMERS`] services read, whatever the fleet's size: what a change
/// costs with the index should not grow with the fleet.
fn fixed_arn() -> String {
    format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bench/fixed-QwE123")
}

const FIXED_CONSUMERS: usize = 20;

fn target_arn() -> String {
    format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bench/db-AbC123")
}

/// Grows the fleet in moto to `size` services over `clusters` clusters, one task definition
/// per four services, a quarter of them referencing the target secret.
async fn grow(moto: &Moto, fleet: &mut Fleet, size: usize, clusters: usize) -> Result<()> {
    let ecs = moto.ecs();
    for c in fleet.clusters.len()..clusters {
        let name = format!("bench-{c:02}");
        ecs.create_cluster().cluster_name(&name).send().await?;
        fleet.clusters.push(name);
    }
    if fleet.task_definitions == 0 {
        // The fixed secret's consumers, spread over the clusters, once.
        moto.register_with_secret("fixed", &fixed_arn()).await?;
        // In one cluster: ten services per DescribeServices.
        for i in 0..FIXED_CONSUMERS {
            let cluster = fleet.clusters[0].clone();
            ecs.create_service()
                .cluster(&cluster)
                .service_name(format!("fixed-{i:02}"))
                .task_definition("fixed")
                .desired_count(1)
                .send()
                .await?;
            *fleet.services.entry(cluster).or_default() += 1;
        }
    }
    let have: usize = fleet.services.values().sum();
    let defs = (size / 4).max(2);
    for d in fleet.task_definitions.saturating_sub(1)..defs {
        let value_from = if d % 4 == 0 {
            format!("{}:password::", fleet.target)
        } else {
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:other/{d}-XyZ789")
        };
        moto.register_with_secret(&format!("app-{d}"), &value_from)
            .await?;
    }
    fleet.task_definitions = defs + 1;
    let new: Vec<(String, String, usize)> = (have..size)
        .map(|s| {
            let cluster = fleet.clusters[s % clusters].clone();
            (cluster, format!("svc-{s:05}"), s % defs)
        })
        .collect();
    stream::iter(new.iter().cloned().map(|(cluster, name, d)| {
        let ecs = ecs.clone();
        async move {
            ecs.create_service()
                .cluster(cluster)
                .service_name(name)
                .task_definition(format!("app-{d}"))
                .desired_count(1)
                .send()
                .await
                .map(drop)
        }
    }))
    .buffer_unordered(16)
    .try_collect::<Vec<()>>()
    .await?;
    for (cluster, _, d) in &new {
        *fleet.services.entry(cluster.clone()).or_default() += 1;
        fleet.referencing += usize::from(d % 4 == 0);
    }
    Ok(())
}

/// The fewest calls discovery can make, and the time ECS's buckets impose on them.
fn minimum(fleet: &Fleet) -> (BTreeMap<&'static str, usize>, f64) {
    let mut calls = BTreeMap::new();
    calls.insert("ListClusters", fleet.clusters.len().div_ceil(100));
    calls.insert(
        "ListServices",
        fleet
            .services
            .values()
            .map(|n| n.div_ceil(100).max(1))
            .sum(),
    );
    calls.insert(
        "DescribeServices",
        fleet.services.values().map(|n| n.div_ceil(10)).sum(),
    );
    calls.insert("DescribeTaskDefinition", fleet.task_definitions);
    let bound = bucket_bound(&calls) + 4.0 * LATENCY.as_secs_f64();
    (calls, bound)
}

/// Seconds the token buckets need for these calls (from full buckets).
fn bucket_bound(calls: &BTreeMap<&'static str, usize>) -> f64 {
    // ListServices and DescribeServices share a bucket on ECS.
    let mut shared = 0usize;
    let mut bound: f64 = 0.0;
    for (op, n) in calls {
        if matches!(*op, "ListServices" | "DescribeServices" | "ListClusters") {
            shared += n;
        } else if let Some((burst, refill)) = ecs_bucket(op) {
            bound = bound.max((*n as f64 - burst).max(0.0) / refill);
        }
    }
    let (burst, refill) = ecs_bucket("DescribeServices").unwrap_or((100.0, 20.0));
    bound.max((shared as f64 - burst).max(0.0) / refill)
}

fn tally(proxy: &FaultProxy) -> (BTreeMap<String, usize>, usize) {
    let mut by_op = BTreeMap::new();
    let mut throttled = 0;
    for c in proxy.calls() {
        if c.faulted {
            throttled += 1;
        } else {
            *by_op.entry(c.operation).or_default() += 1;
        }
    }
    (by_op, throttled)
}

fn label_updated(target: &str) -> Value {
    json!({
        "version": "0", "id": harness::random_token(12), "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": ACCOUNT, "region": REGION,
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "resources": [target],
        "detail": {"name": "bench/db", "labelUpdated": "AWSCURRENT", "versionId": "v2"}
    })
}

/// The naive strategy: everything sequential, one service and one task definition per call,
/// the SDK's standard retry (10 attempts) absorbing the throttling.
async fn naive(moto: &Moto, proxy: &FaultProxy, target: &str) -> Result<usize> {
    let config = aws_sdk_ecs::config::Builder::from(&moto.sdk_config())
        .endpoint_url(proxy.endpoint())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
        .build();
    let ecs = aws_sdk_ecs::Client::from_conf(config);
    let clusters: Vec<String> = ecs
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await?;
    let mut matched = 0;
    for cluster in clusters {
        let services: Vec<String> = ecs
            .list_services()
            .cluster(&cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        for service in services {
            let described = ecs
                .describe_services()
                .cluster(&cluster)
                .services(service)
                .send()
                .await?;
            for s in described.services() {
                let Some(td) = s.task_definition() else {
                    continue;
                };
                let def = ecs
                    .describe_task_definition()
                    .task_definition(td)
                    .send()
                    .await?;
                let refs = def
                    .task_definition()
                    .map(|t| {
                        t.container_definitions()
                            .iter()
                            .flat_map(|c| c.secrets())
                            .any(|s| s.value_from().starts_with(target))
                    })
                    .unwrap_or(false);
                matched += usize::from(refs);
            }
        }
    }
    Ok(matched)
}

/// The reference index's table (issue 17).
const INDEX_TABLE: &str = "bench-index";

/// The same change with the reference index: a reconciliation (the daily full scan), then the
/// change in a new process (nothing cached but the index), each with its calls and wall time.
async fn with_index(proxy: &FaultProxy, moto: &Moto, target: &str) -> Result<Value> {
    let mut env = proxy.env(moto);
    env.push(("DRY_RUN".into(), "true".into()));
    env.push(("MAX_READS_PER_SECOND".into(), "20".into()));
    env.push(("INDEX_TABLE".into(), INDEX_TABLE.into()));
    let mut out = Vec::new();
    for (run, event) in [
        ("reconcile", json!({"action": "reconcile"})),
        ("change", label_updated(target)),
        ("change, 20 consumers", label_updated(&fixed_arn())),
    ] {
        // A new process for each: the change's figures owe nothing to a warm cache.
        let lambda = LambdaFunction::start("ecs-redeployer", &env)
            .await?
            .with_timeout(Duration::from_secs(900));
        settle().await;
        proxy.clear_calls();
        let t0 = Instant::now();
        let outcome = lambda.invoke(&event).await?;
        let wall = t0.elapsed().as_secs_f64();
        let (calls, throttled) = tally(proxy);
        out.push(json!({
            "run": run,
            "wall_s": round(wall, 2),
            "calls": calls,
            "total_calls": calls.values().sum::<usize>(),
            "throttled": throttled,
            "discovery": outcome.as_ref().ok().and_then(|s| s["discovery"].as_str().map(str::to_owned)),
            "would_redeploy": outcome.as_ref().ok().and_then(|s| s["redeployed"].as_array().map(Vec::len)),
            "error": outcome.err().map(|e| e.to_string()),
        }));
        lambda.stop().await;
    }
    Ok(Value::Array(out))
}

async fn settle() {
    // Let every bucket refill (100 tokens at 20/s) so each run starts from the same state.
    tokio::time::sleep(Duration::from_secs(6)).await;
}

pub async fn run(scale: Scale) -> Result<Value> {
    let world = World::new();
    let moto = world.moto().await?;
    let mut fleet = Fleet {
        clusters: Vec::new(),
        services: BTreeMap::new(),
        task_definitions: 0,
        target: target_arn(),
        referencing: 0,
    };
    let sizes: &[(usize, usize)] = if scale.smoke {
        &[(20, 2)]
    } else {
        &[(1000, 20), (5000, 50), (10000, 100)]
    };
    moto.create_index_table(INDEX_TABLE).await?;
    let mut rows = Vec::new();
    for &(size, clusters) in sizes {
        let t = Instant::now();
        grow(moto, &mut fleet, size, clusters).await?;
        eprintln!(
            "bench: fleet of {size} services in {} clusters ready ({:.1} s)",
            fleet.clusters.len(),
            t.elapsed().as_secs_f64()
        );
        let proxy = FaultProxy::start(
            moto.endpoint(),
            Faults {
                ecs_buckets: true,
                latency: LATENCY,
                ..Faults::default()
            },
        )
        .await?;
        let mut env = proxy.env(moto);
        env.push(("DRY_RUN".into(), "true".into()));
        // ECS's own refill rate (the default, 15/s, leaves a quarter for other callers and
        // so cannot come within 1.33 × the buckets' bound by design).
        env.push(("MAX_READS_PER_SECOND".into(), "20".into()));
        let lambda = LambdaFunction::start("ecs-redeployer", &env)
            .await?
            .with_timeout(Duration::from_secs(900));
        let mut ours = Vec::new();
        for run in ["cold", "warm"] {
            settle().await;
            proxy.clear_calls();
            let t0 = Instant::now();
            let outcome = lambda.invoke(&label_updated(&fleet.target)).await?;
            let wall = t0.elapsed().as_secs_f64();
            let (calls, throttled) = tally(&proxy);
            ours.push(json!({
                "run": run,
                "wall_s": round(wall, 2),
                "calls": calls,
                "total_calls": calls.values().sum::<usize>(),
                "throttled": throttled,
                "would_redeploy": outcome.as_ref().ok().and_then(|s| s["redeployed"].as_array().map(Vec::len)),
                "error": outcome.err().map(|e| e.to_string()),
            }));
        }
        lambda.stop().await;
        let indexed = with_index(&proxy, moto, &fleet.target).await?;
        settle().await;
        proxy.clear_calls();
        let t0 = Instant::now();
        // A strategy that gives up under throttling is a result, not a benchmark failure.
        // Above 5,000 services the naive strategy takes a quarter of an hour at ECS's rates:
        // not run (its calls grow as the rows below show).
        let matched = if size > 5000 {
            Err(anyhow::anyhow!("not run above 5,000 services"))
        } else {
            naive(moto, &proxy, &fleet.target).await
        };
        let naive_wall = t0.elapsed().as_secs_f64();
        let (naive_calls, naive_throttled) = tally(&proxy);
        let (min_calls, bound) = minimum(&fleet);
        rows.push(json!({
            "services": size,
            "clusters": fleet.clusters.len(),
            "task_definitions": fleet.task_definitions,
            "referencing_services": fleet.referencing,
            "minimum_calls": min_calls,
            "minimum_total_calls": min_calls.values().sum::<usize>(),
            "bucket_bound_s": round(bound, 2),
            "ecs_secrets": ours,
            "ecs_secrets_indexed": indexed,
            "naive": {
                "wall_s": round(naive_wall, 2),
                "calls": naive_calls,
                "total_calls": naive_calls.values().sum::<usize>(),
                "throttled": naive_throttled,
                "found_referencing": matched.as_ref().ok(),
                "error": matched.as_ref().err().map(|e| format!("{e:#}")),
            },
        }));
    }
    Ok(json!({"latency_ms": LATENCY.as_millis() as u64, "fleets": rows}))
}
