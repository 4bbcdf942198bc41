//! `bench`: the figures users of ecs-secrets care about, each next to a comparator measured in
//! the same run, on the same embedded world (moto, PostgreSQL, MariaDB on loopback).
//!
//! 1. cold start, warm latency, peak RSS and size of each function binary, next to a Python
//!    3.11 + boto3 handler that creates the same clients and makes the same first call;
//! 2. a full rotation per engine and strategy, with the share spent in Secrets Manager calls;
//! 3. the redeployer's discovery on fleets of 1,000 / 5,000 / 10,000 services behind a proxy
//!    with per-call latency and ECS's token buckets, with and without the reference index, next
//!    to the naive per-service strategy;
//! 4. the validator CLI's throughput with 1 thread and one per core on 10,000 and 100,000
//!    task definitions and its detection quality on the labelled corpus, next to
//!    `detect-secrets` on the same files.
//!
//! Figures are printed as a table and written as JSON; nothing is asserted (a smoke run in CI
//! only checks that every part runs). Run it with `scripts/bench.sh`.
#![allow(clippy::print_stdout)]

mod cold;
mod fleet;
mod rotation;
mod table;
mod validator;

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{json, Value};

/// One benchmark: runs at a scale and returns its figures.
type Part = fn(Scale) -> futures_util::future::BoxFuture<'static, Result<Value>>;

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub smoke: bool,
}

impl Scale {
    pub fn pick<T>(self, smoke: T, full: T) -> T {
        if self.smoke {
            smoke
        } else {
            full
        }
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--smoke] [--out DIR] [--only cold,rotation,redeployer,validator]\n\
         \x20      bench --write-task-definitions DIR N [dense|typical|distinct]   (the validator figure's files, for profiling)\n\
         (run through scripts/bench.sh, which builds the release binaries and the Python tools)"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut smoke = false;
    let mut out = PathBuf::from("bench/results");
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--out" => out = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "--write-task-definitions" => {
                let dir = args.next().map(PathBuf::from).unwrap_or_else(|| usage());
                let count: usize = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage());
                let corpus = match args.next().as_deref() {
                    None | Some("dense") => validator::Corpus::Dense,
                    Some("typical") => validator::Corpus::Typical,
                    Some("distinct") => validator::Corpus::Distinct,
                    Some(_) => usage(),
                };
                let files = validator::write_generated(&dir, count, corpus)?;
                eprintln!(
                    "wrote {} task definitions to {}",
                    files.len(),
                    dir.display()
                );
                return Ok(());
            }
            "--only" => {
                only = Some(
                    args.next()
                        .unwrap_or_else(|| usage())
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                )
            }
            _ => usage(),
        }
    }
    let scale = Scale { smoke };
    // The functions' own log lines are not figures.
    harness::lambda::ECHO_OUTPUT.store(false, std::sync::atomic::Ordering::Relaxed);
    let wanted = |part: &str| only.as_ref().is_none_or(|o| o.iter().any(|p| p == part));
    let mut results = serde_json::Map::new();
    results.insert(
        "run".into(),
        json!({
            "smoke": smoke,
            "started": chrono::Utc::now().to_rfc3339(),
            "binaries": harness::paths::bin_dir(),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        }),
    );
    let parts: [(&str, Part); 4] = [
        ("cold", |s| Box::pin(cold::run(s))),
        ("rotation", |s| Box::pin(rotation::run(s))),
        ("redeployer", |s| Box::pin(fleet::run(s))),
        ("validator", |s| Box::pin(validator::run(s))),
    ];
    for (name, run) in parts {
        if !wanted(name) {
            continue;
        }
        eprintln!("bench: {name} …");
        let started = std::time::Instant::now();
        let value = run(scale)
            .await
            .with_context(|| format!("benchmark {name}"))?;
        eprintln!(
            "bench: {name} done in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        println!("{}", table::render(name, &value));
        results.insert(name.into(), value);
    }
    std::fs::create_dir_all(&out)?;
    let file = out.join(format!(
        "bench-{}{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        if smoke { "-smoke" } else { "" }
    ));
    std::fs::write(&file, serde_json::to_vec_pretty(&Value::Object(results))?)?;
    println!("results: {}", file.display());
    Ok(())
}

/// Median and 95th percentile of durations in milliseconds.
pub fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

pub fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}
