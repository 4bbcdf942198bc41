//! Figure 4: `ecs-secrets validate` throughput on generated task definitions (offline rules),
//! and detection quality on the labelled corpus — both next to `detect-secrets` (PyPI) run on
//! the same files in the same run.
//!
//! Throughput is the figure users see: the built CLI end to end (process start, reading,
//! parsing, rules, the JSON report), with `--jobs 1` and with one thread per core, on 10,000
//! and 100,000 files (200 and 1,000 in a smoke run), passed at most [`CHUNK`] paths per
//! invocation as `xargs` would — on three generated corpora ([`Corpus`]): every variable from
//! the labelled corpus (the detector's worst case), mostly ordinary settings, and those
//! settings with every name and value distinct. Each row gives the wall clock and the CPU time
//! (task definitions per second of one core's work, the measure of "on one core" that the
//! machine's other load moves least). detect-secrets is timed on a sample of the dense files,
//! with `--no-verify` (no network), as it runs by default: a process per core.
//!
//! Quality is measured on task-definition files, as both tools are used in CI: each corpus
//! value is one `environment` entry on its own line, and a tool "flags" a value when it reports
//! a secret on that line.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use taskdef_validator::corpus::{self, Quality, Rng, Sample};

use crate::{round, Scale};

fn detect_secrets() -> PathBuf {
    std::env::var_os("BENCH_DETECT_SECRETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness::paths::workspace_root().join(".tools/venv/bin/detect-secrets"))
}

/// Writes a task definition whose environment holds `samples`, one per line; returns the
/// 1-based line of each sample.
fn write_task_definition(path: &Path, family: &str, samples: &[Sample]) -> Result<Vec<usize>> {
    let mut text = format!(
        "{{\n  \"family\": {},\n  \"containerDefinitions\": [{{\"name\": \"app\", \"image\": \"app:1\", \"environment\": [\n",
        serde_json::to_string(family)?
    );
    let mut lines = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        lines.push(4 + i);
        text.push_str(&format!(
            "    {{\"name\": {}, \"value\": {}}}{}\n",
            serde_json::to_string(&s.name)?,
            serde_json::to_string(&s.value)?,
            if i + 1 < samples.len() { "," } else { "" }
        ));
    }
    text.push_str("  ]}]\n}\n");
    std::fs::write(path, text)?;
    Ok(lines)
}

/// Which values the generated task definitions' variables hold.
#[derive(Debug, Clone, Copy)]
pub enum Corpus {
    /// Every variable from the labelled corpus: about half are credentials, and each of the
    /// others is a look-alike chosen to test a rule (the detector's worst case, ~13 findings
    /// a file).
    Dense,
    /// Ordinary configuration, one variable in twenty from the labelled corpus: closer to what
    /// teams commit.
    Typical,
    /// [`Corpus::Typical`] with every ordinary variable's name and value made its own (the
    /// file's number and the variable's position appended). The other two corpora draw from
    /// small pools, so that most names and values repeat from file to file, and what a scan
    /// keeps between values (a name's words, worked out once) and the processor's caches and
    /// branch predictors flatter them; this is the worst case of an estate's variety.
    Distinct,
}

impl Corpus {
    fn label(self) -> &'static str {
        match self {
            Corpus::Dense => "dense",
            Corpus::Typical => "typical",
            Corpus::Distinct => "distinct",
        }
    }
}

/// A realistic task definition for the throughput figure: 1–3 containers with environment
/// from the corpus (or mostly ordinary settings), secrets (some broken), commands and log
/// configuration.
fn generated(rng: &mut Rng, pool: &[Sample], i: usize, corpus: Corpus) -> Value {
    let containers: Vec<Value> = (0..1 + rng.below(3))
        .map(|c| {
            let env: Vec<Value> = (0..4 + rng.below(12))
                .map(|k| match corpus {
                    Corpus::Typical | Corpus::Distinct if rng.below(20) != 0 => {
                        let (name, value) = rng.pick(corpus::ORDINARY);
                        if matches!(corpus, Corpus::Distinct) {
                            json!({"name": format!("{name}_{i}_{c}_{k}"), "value": format!("{value}.{i}.{c}.{k}")})
                        } else {
                            json!({"name": name, "value": value})
                        }
                    }
                    _ => {
                        let s = rng.pick(pool);
                        json!({"name": s.name, "value": s.value})
                    }
                })
                .collect();
            let secret = match rng.below(5) {
                0 => "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db".to_owned(),
                1 => "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf:password:AWSCURRENT:v1".to_owned(),
                _ => format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/{i}-AbCdEf:password::"),
            };
            json!({
                "name": format!("c{c}"), "image": "app:1", "environment": env,
                "secrets": [{"name": "DB", "valueFrom": secret}, {"name": "P", "valueFrom": "/app/param"}],
                "command": ["serve", "--port=8080"],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app"}}
            })
        })
        .collect();
    json!({"family": format!("gen-{i}"), "executionRoleArn": "arn:aws:iam::123456789012:role/x",
           "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
           "containerDefinitions": containers})
}

/// Paths per invocation of the CLI in the throughput figure: well under `ARG_MAX` (about 2 MB
/// on Linux; these paths are about 60 bytes).
const CHUNK: usize = 5_000;

/// Writes the throughput figure's generated task definitions, `td-000000.json` …, with the
/// variables of `corpus` into `dir` (also `bench --write-task-definitions DIR N [CORPUS]`, for
/// profiling); returns their paths.
pub fn write_generated(dir: &Path, count: usize, corpus: Corpus) -> Result<Vec<String>> {
    let pool = corpus::generate(1, 20);
    let mut rng = Rng::new(5);
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let path = dir.join(format!("td-{i:06}.json"));
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(&generated(&mut rng, &pool, i, corpus))?,
        )?;
        files.push(path.to_string_lossy().into_owned());
    }
    Ok(files)
}

async fn ecs_secrets(files: &[String]) -> Result<Value> {
    let (out, _) = ecs_secrets_timed(files, None).await?;
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// CPU seconds (user and system) of this process's children that have ended, as the kernel
/// counts them: read before and after one child, the difference is that child's time on the
/// cores, whatever else the machine was doing meanwhile.
fn children_cpu_seconds() -> Result<f64> {
    use nix::sys::resource::{getrusage, UsageWho};
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage")?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(seconds(usage.user_time()) + seconds(usage.system_time()))
}

/// CPU seconds (user and system) of the calling thread so far.
fn thread_cpu_seconds() -> Result<f64> {
    use nix::sys::resource::{getrusage, UsageWho};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).context("getrusage")?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(seconds(usage.user_time()) + seconds(usage.system_time()))
}

/// The floor the throughput is measured against: the same files read as the CLI reads them
/// ([`taskdef_validator::scan::read_file_into`]: open, read whole, close, one buffer) and
/// nothing else, on one thread of this process. Its CPU time is what reading costs on this
/// machine: "bound by reading the files" means the CLI's rate approaches this row's.
fn reading_alone(files: &[String], corpus: Corpus) -> Result<Value> {
    let (wall, cpu) = (Instant::now(), thread_cpu_seconds()?);
    let mut buf = Vec::new();
    let mut bytes = 0;
    for file in files {
        taskdef_validator::scan::read_file_into(file, &mut buf)
            .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        bytes += buf.len();
    }
    let (seconds, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu_seconds()? - cpu);
    Ok(json!({
        "corpus": corpus.label(), "jobs": 1, "task_definitions": files.len(), "megabytes": round(bytes as f64 / 1e6, 1),
        "seconds": round(seconds, 2), "per_second": per_second(files.len(), seconds),
        "cpu_seconds": round(cpu, 2), "per_cpu_second": per_second(files.len(), cpu),
    }))
}

/// What one timed run took: `seconds` on the wall clock, `cpu` on the cores (user and system
/// time of the process, all its threads together).
#[derive(Debug, Clone, Copy, Default)]
struct Took {
    seconds: f64,
    cpu: f64,
}

/// Times one child process: started before it is spawned, stopped after it is waited for.
struct Clock {
    wall: Instant,
    cpu: f64,
}

impl Clock {
    fn start() -> Result<Self> {
        Ok(Clock {
            cpu: children_cpu_seconds()?,
            wall: Instant::now(),
        })
    }

    fn stop(self) -> Result<Took> {
        let seconds = self.wall.elapsed().as_secs_f64();
        Ok(Took {
            seconds,
            cpu: children_cpu_seconds()? - self.cpu,
        })
    }
}

/// Runs `ecs-secrets validate --format json` on `files` (with `--jobs` when given); returns
/// its output and the time the process took. No other child of the benchmark ends while it
/// runs (the runs are one after the other), so the children's CPU time grows by its own.
async fn ecs_secrets_timed(
    files: &[String],
    jobs: Option<usize>,
) -> Result<(std::process::Output, Took)> {
    let jobs = jobs.map(|j| j.to_string());
    let mut args = vec!["validate", "--format", "json", "--fail-on", "never"];
    if let Some(j) = &jobs {
        args.extend(["--jobs", j.as_str()]);
    }
    args.extend(files.iter().map(String::as_str));
    let clock = Clock::start()?;
    let out = harness::ecs_secrets(&args, &[]).await?;
    let took = clock.stop()?;
    if out.status.code() != Some(0) {
        bail!(
            "ecs-secrets validate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((out, took))
}

/// Task definitions a second, a whole number (0 when no time was measured).
fn per_second(count: usize, seconds: f64) -> u64 {
    if seconds > 0.0 {
        (count as f64 / seconds).round() as u64
    } else {
        0
    }
}

/// One throughput row: the CLI with `jobs` threads on `files`, [`CHUNK`] paths per run. Two
/// rates: by the wall clock (what a user waits), and by CPU time — task definitions per second
/// of one core's work, which is what "on one core" asks, and which the shared machine's other
/// load, and its page cache handed back to the host, move far less than the wall clock.
async fn throughput(files: &[String], jobs: usize, corpus: Corpus) -> Result<Value> {
    let (mut took, mut findings, mut checked) = (Took::default(), 0, 0);
    for chunk in files.chunks(CHUNK) {
        let (out, t) = ecs_secrets_timed(chunk, Some(jobs)).await?;
        took.seconds += t.seconds;
        took.cpu += t.cpu;
        let report: Value = serde_json::from_slice(&out.stdout)?;
        findings += report["findings"].as_array().map_or(0, Vec::len);
        checked += report["checked"].as_u64().unwrap_or(0);
    }
    if checked != files.len() as u64 {
        bail!(
            "ecs-secrets checked {checked} of {} task definitions",
            files.len()
        );
    }
    Ok(json!({
        "corpus": corpus.label(),
        "jobs": jobs, "task_definitions": files.len(), "seconds": round(took.seconds, 2),
        "per_second": per_second(files.len(), took.seconds),
        "cpu_seconds": round(took.cpu, 2), "per_cpu_second": per_second(files.len(), took.cpu),
        "findings": findings,
    }))
}

fn run_detect_secrets(dir: &Path) -> Result<Value> {
    // Given an absolute path outside its working directory, detect-secrets reports nothing:
    // scan from inside, as a CI job does; results name files relative to `dir`. Without
    // `--no-verify` it asks the network about some of what it finds (DNS, then a connection
    // per candidate): the same findings, but a run of 300 files took 109 s of which 7.5 were
    // its own work — the figure measured the network, not the tool. We never call out.
    let out = std::process::Command::new(detect_secrets())
        .args(["scan", "--no-verify", "--all-files", "."])
        .current_dir(dir)
        .output()
        .context("running detect-secrets (scripts/bench.sh installs it)")?;
    if !out.status.success() {
        bail!(
            "detect-secrets failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Quality on the realistic labelled set (`testdata/realistic`): every form teams commit,
/// both tools on the same files. A line is flagged when a tool reports a secret on it.
async fn realistic() -> Result<Value> {
    use taskdef_validator::corpus::realistic_labels;
    let source =
        harness::paths::workspace_root().join("functions/taskdef-validator/testdata/realistic");
    let labels = realistic_labels(&source).map_err(anyhow::Error::msg)?;
    // A copy without the labels file, so that detect-secrets scans only the task definitions.
    let dir = tempfile::tempdir()?;
    let mut files: Vec<String> = labels.iter().map(|l| l.file.clone()).collect();
    files.sort();
    files.dedup();
    for f in &files {
        std::fs::copy(source.join(f), dir.path().join(f))?;
    }
    let paths: Vec<String> = files
        .iter()
        .map(|f| dir.path().join(f).to_string_lossy().into_owned())
        .collect();
    let report = ecs_secrets(&paths).await?;
    let ours: HashSet<(String, usize)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "plaintext-secret" || f["rule"] == "secret-in-command")
        .filter_map(|f| {
            let file = f["file"].as_str()?.rsplit('/').next()?.to_owned();
            Some((file, f["line"].as_u64()? as usize))
        })
        .collect();
    let ds = run_detect_secrets(dir.path())?;
    let mut theirs = HashSet::new();
    for (file, hits) in ds["results"].as_object().into_iter().flatten() {
        for h in hits.as_array().into_iter().flatten() {
            if let Some(line) = h["line_number"].as_u64() {
                let name = file.rsplit('/').next().unwrap_or(file).to_owned();
                theirs.insert((name, line as usize));
            }
        }
    }
    let quality = |flagged: &HashSet<(String, usize)>| {
        Quality::from_pairs(
            labels
                .iter()
                .map(|l| (l.secret, flagged.contains(&(l.file.clone(), l.line)))),
        )
    };
    let wrong = |flagged: &HashSet<(String, usize)>| {
        let mut out: BTreeMap<String, usize> = BTreeMap::new();
        for l in &labels {
            if flagged.contains(&(l.file.clone(), l.line)) != l.secret {
                let kind = if l.secret { "missed" } else { "false alarm" };
                *out.entry(format!("{kind}: {}", l.class)).or_default() += 1;
            }
        }
        out
    };
    Ok(json!({
        "files": files.len(),
        "values": labels.len(),
        "secrets": labels.iter().filter(|l| l.secret).count(),
        "ecs_secrets": quality_json(&quality(&ours)),
        "detect_secrets": quality_json(&quality(&theirs)),
        "ecs_secrets_misses": wrong(&ours),
        "detect_secrets_misses": wrong(&theirs),
    }))
}

fn detect_secrets_version() -> String {
    std::process::Command::new(detect_secrets())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn quality_json(q: &Quality) -> Value {
    json!({
        "precision": round(q.precision(), 4), "recall": round(q.recall(), 4),
        "true_positives": q.true_positives, "false_positives": q.false_positives,
        "false_negatives": q.false_negatives, "true_negatives": q.true_negatives,
    })
}

/// Categories a tool got wrong, with counts.
fn misses(
    samples: &[(String, usize, &Sample)],
    flagged: &HashSet<(String, usize)>,
) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (file, line, s) in samples {
        if flagged.contains(&(file.clone(), *line)) != s.secret {
            let kind = if s.secret { "missed" } else { "false alarm" };
            *out.entry(format!("{kind}: {}", s.category)).or_default() += 1;
        }
    }
    out
}

pub async fn run(scale: Scale) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    // Throughput: 1 thread and one per core, on the first `count` of the same files.
    let counts = scale.pick([200, 1_000], [10_000, 100_000]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let files = write_generated(&dir.path().join("generated"), counts[1], Corpus::Dense)?;
    let threads = if cores > 1 { vec![1, cores] } else { vec![1] };
    let mut runs = Vec::new();
    let mut reading = Vec::new();
    for corpus in [Corpus::Dense, Corpus::Typical, Corpus::Distinct] {
        let files = match corpus {
            Corpus::Dense => files.clone(),
            Corpus::Typical | Corpus::Distinct => {
                write_generated(&dir.path().join(corpus.label()), counts[1], corpus)?
            }
        };
        eprintln!(
            "bench: validator: reading the {} files alone ({}) …",
            files.len(),
            corpus.label()
        );
        reading.push(reading_alone(&files, corpus)?);
        for count in counts {
            for &jobs in &threads {
                eprintln!(
                    "bench: validator: {count} task definitions ({}), --jobs {jobs} …",
                    corpus.label()
                );
                runs.push(throughput(&files[..count], jobs, corpus).await?);
            }
        }
    }
    // detect-secrets manages tens of files a second: time it on a sample of them.
    let ds_count = files.len().min(scale.pick(50, 300));
    let ds_dir = dir.path().join("generated-sample");
    std::fs::create_dir_all(&ds_dir)?;
    for f in &files[..ds_count] {
        let name = Path::new(f).file_name().context("file name")?;
        std::fs::copy(f, ds_dir.join(name))?;
    }
    eprintln!("bench: validator: detect-secrets on {ds_count} of the files …");
    let clock = Clock::start()?;
    let ds = run_detect_secrets(&ds_dir)?;
    let ds_took = clock.stop()?;
    let ds_findings: usize = ds["results"].as_object().map_or(0, |m| {
        m.values().filter_map(Value::as_array).map(Vec::len).sum()
    });

    // Quality.
    let samples = corpus::generate(2026, scale.pick(4, 40));
    let q_dir = dir.path().join("corpus");
    std::fs::create_dir_all(&q_dir)?;
    let mut placed = Vec::new();
    for (n, chunk) in samples.chunks(50).enumerate() {
        let path = q_dir.join(format!("corpus-{n:04}.json"));
        let lines = write_task_definition(&path, &format!("corpus-{n}"), chunk)?;
        let file = path.to_string_lossy().into_owned();
        for (line, s) in lines.into_iter().zip(chunk) {
            placed.push((file.clone(), line, s));
        }
    }
    let q_files: Vec<String> = {
        let mut f: Vec<String> = placed.iter().map(|(f, _, _)| f.clone()).collect();
        f.dedup();
        f
    };
    let report = ecs_secrets(&q_files).await?;
    let ours_flagged: HashSet<(String, usize)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "plaintext-secret")
        .filter_map(|f| Some((f["file"].as_str()?.to_owned(), f["line"].as_u64()? as usize)))
        .collect();
    let ds = run_detect_secrets(&q_dir)?;
    let mut ds_flagged = HashSet::new();
    for (file, hits) in ds["results"].as_object().into_iter().flatten() {
        for h in hits.as_array().into_iter().flatten() {
            if let Some(line) = h["line_number"].as_u64() {
                let path = q_dir.join(file).to_string_lossy().into_owned();
                ds_flagged.insert((path, line as usize));
            }
        }
    }
    let quality = |flagged: &HashSet<(String, usize)>| {
        Quality::from_pairs(
            placed
                .iter()
                .map(|(f, l, s)| (s.secret, flagged.contains(&(f.clone(), *l)))),
        )
    };
    let (q_ours, q_ds) = (quality(&ours_flagged), quality(&ds_flagged));
    let realistic = realistic().await?;
    Ok(json!({
        "realistic": realistic,
        "throughput": {
            "cores": cores,
            "ecs_secrets": runs,
            "reading_alone": reading,
            "detect_secrets": {"task_definitions": ds_count, "seconds": round(ds_took.seconds, 2), "per_second": per_second(ds_count, ds_took.seconds), "cpu_seconds": round(ds_took.cpu, 2), "per_cpu_second": per_second(ds_count, ds_took.cpu), "findings": ds_findings},
        },
        "quality": {
            "samples": samples.len(),
            "secrets": samples.iter().filter(|s| s.secret).count(),
            "ecs_secrets": quality_json(&q_ours),
            "detect_secrets": quality_json(&q_ds),
            "detect_secrets_version": detect_secrets_version(),
            "ecs_secrets_misses": misses(&placed, &ours_flagged),
            "detect_secrets_misses": misses(&placed, &ds_flagged),
        }
    }))
}
