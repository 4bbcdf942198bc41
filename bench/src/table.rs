//! The printed tables: one per figure, the comparator beside ours.

use serde_json::Value;

fn rows_to_text(title: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = format!("\n{title}\n");
    out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
    out.push('\n');
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.clone()));
        out.push('\n');
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

pub fn render(part: &str, v: &Value) -> String {
    match part {
        "cold" => {
            let rows: Vec<Vec<String>> = v["functions"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|f| {
                    [
                        ("rust", "rust_binary_mib"),
                        ("python_boto3", "python_boto3_on_disk_mib"),
                    ]
                    .map(|(k, size)| {
                        vec![
                            s(&f["function"]),
                            if k == "rust" {
                                "ecs-secrets (Rust)".into()
                            } else {
                                "Python 3.11 + boto3".into()
                            },
                            s(&f[k]["cold_start_ms"]),
                            s(&f[k]["warm_median_ms"]),
                            s(&f[k]["warm_p95_ms"]),
                            s(&f[k]["peak_rss_mib"]),
                            s(&f[size]),
                        ]
                    })
                })
                .collect();
            rows_to_text(
                "1. Cold start and memory (Runtime API endpoint of the harness, moto on loopback)",
                &[
                    "function",
                    "implementation",
                    "cold start ms",
                    "warm p50 ms",
                    "warm p95 ms",
                    "peak RSS MiB",
                    "size MiB",
                ],
                &rows,
            )
        }
        "rotation" => {
            let rows: Vec<Vec<String>> = v["rotations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    vec![
                        s(&r["engine"]),
                        s(&r["strategy"]),
                        s(&r["wall_median_ms"]),
                        s(&r["wall_p95_ms"]),
                        format!(
                            "{} ({} calls)",
                            s(&r["secrets_manager_ms"]),
                            s(&r["secrets_manager_calls"])
                        ),
                        format!(
                            "{:.0} %",
                            r["secrets_manager_share"].as_f64().unwrap_or(0.0) * 100.0
                        ),
                        s(&r["database_and_function_ms"]),
                    ]
                })
                .collect();
            rows_to_text(
                "2. Rotation: four steps through the binary (warm), local databases and moto",
                &[
                    "engine",
                    "strategy",
                    "wall p50 ms",
                    "wall p95 ms",
                    "Secrets Manager ms",
                    "share",
                    "database + function ms",
                ],
                &rows,
            )
        }
        "redeployer" => {
            let mut rows = Vec::new();
            for f in v["fleets"].as_array().into_iter().flatten() {
                let fleet = format!(
                    "{} svc / {} clusters / {} task defs",
                    s(&f["services"]),
                    s(&f["clusters"]),
                    s(&f["task_definitions"])
                );
                for o in f["ecs_secrets"].as_array().into_iter().flatten() {
                    rows.push(vec![
                        fleet.clone(),
                        format!("ecs-secrets ({})", s(&o["run"])),
                        s(&o["wall_s"]),
                        s(&f["bucket_bound_s"]),
                        format!(
                            "{} (min {})",
                            s(&o["total_calls"]),
                            s(&f["minimum_total_calls"])
                        ),
                        s(&o["throttled"]),
                        if o["error"].is_string() {
                            "failed (error in JSON)".into()
                        } else {
                            s(&o["would_redeploy"])
                        },
                    ]);
                }
                for o in f["ecs_secrets_indexed"].as_array().into_iter().flatten() {
                    let bound = if o["run"] == "reconcile" {
                        s(&f["bucket_bound_s"])
                    } else {
                        "-".into()
                    };
                    rows.push(vec![
                        fleet.clone(),
                        format!("ecs-secrets, index ({})", s(&o["run"])),
                        s(&o["wall_s"]),
                        bound,
                        s(&o["total_calls"]),
                        s(&o["throttled"]),
                        if o["error"].is_string() {
                            "failed (error in JSON)".into()
                        } else if o["run"] == "reconcile" {
                            "-".into()
                        } else {
                            s(&o["would_redeploy"])
                        },
                    ]);
                }
                let n = &f["naive"];
                if n["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("not run"))
                {
                    let dash = || "-".to_owned();
                    rows.push(vec![
                        fleet,
                        "naive (sequential, per service)".into(),
                        dash(),
                        s(&f["bucket_bound_s"]),
                        dash(),
                        dash(),
                        "not run (> 5,000 services)".into(),
                    ]);
                    continue;
                }
                rows.push(vec![
                    fleet,
                    "naive (sequential, per service)".into(),
                    s(&n["wall_s"]),
                    s(&f["bucket_bound_s"]),
                    s(&n["total_calls"]),
                    s(&n["throttled"]),
                    if n["error"].is_string() {
                        "failed (error in JSON)".into()
                    } else {
                        s(&n["found_referencing"])
                    },
                ]);
            }
            rows_to_text(
                &format!(
                    "3. Redeployer discovery (DRY_RUN) behind ECS token buckets + {} ms per call",
                    s(&v["latency_ms"])
                ),
                &[
                    "fleet",
                    "strategy",
                    "wall s",
                    "bucket bound s",
                    "ECS calls",
                    "throttled",
                    "services found",
                ],
                &rows,
            )
        }
        "validator" => {
            let t = &v["throughput"];
            let q = &v["quality"];
            let r = &v["realistic"];
            // Our runs, then the floor they are measured against: the same files read and
            // nothing else, on one thread.
            let runs = |key: &str, tool: &str| -> Vec<Vec<String>> {
                t[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|run| {
                        vec![
                            tool.into(),
                            s(&run["corpus"]),
                            s(&run["jobs"]),
                            s(&run["task_definitions"]),
                            s(&run["seconds"]),
                            s(&run["per_second"]),
                            s(&run["cpu_seconds"]),
                            s(&run["per_cpu_second"]),
                        ]
                    })
                    .collect()
            };
            let mut speed = runs("ecs_secrets", "ecs-secrets validate");
            speed.extend(runs("reading_alone", "reading the files alone"));
            speed.push(vec![
                format!("detect-secrets {}", s(&q["detect_secrets_version"])),
                "dense".into(),
                // It scans with a process per core, as it does by default.
                format!("{} (processes)", s(&t["cores"])),
                format!("{} (a sample)", s(&t["detect_secrets"]["task_definitions"])),
                s(&t["detect_secrets"]["seconds"]),
                s(&t["detect_secrets"]["per_second"]),
                s(&t["detect_secrets"]["cpu_seconds"]),
                s(&t["detect_secrets"]["per_cpu_second"]),
            ]);
            let quality = vec![
                vec![
                    "ecs-secrets validate".into(),
                    s(&q["ecs_secrets"]["precision"]),
                    s(&q["ecs_secrets"]["recall"]),
                    s(&r["ecs_secrets"]["precision"]),
                    s(&r["ecs_secrets"]["recall"]),
                ],
                vec![
                    format!("detect-secrets {}", s(&q["detect_secrets_version"])),
                    s(&q["detect_secrets"]["precision"]),
                    s(&q["detect_secrets"]["recall"]),
                    s(&r["detect_secrets"]["precision"]),
                    s(&r["detect_secrets"]["recall"]),
                ],
            ];
            let mut out = rows_to_text(
                &format!(
                    "4a. Validator throughput: generated task definitions, the CLI end to end ({} cores)",
                    s(&t["cores"])
                ),
                &[
                    "tool",
                    "corpus",
                    "threads",
                    "task defs",
                    "seconds",
                    "task defs / s",
                    "CPU s",
                    "task defs / CPU s",
                ],
                &speed,
            );
            out.push_str(&rows_to_text(
                &format!(
                    "4b. Validator quality: generated corpus: {} labelled values ({} secrets); realistic set: {} files, {} labelled values ({} secrets)",
                    s(&q["samples"]), s(&q["secrets"]),
                    s(&r["files"]), s(&r["values"]), s(&r["secrets"])
                ),
                &[
                    "tool",
                    "generated precision",
                    "generated recall",
                    "realistic precision",
                    "realistic recall",
                ],
                &quality,
            ));
            out
        }
        _ => v.to_string(),
    }
}
