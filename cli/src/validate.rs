//! `ecs-secrets validate`: the validator's rules on files, for CI.
//!
//! Every file is read and checked even when another one fails; an unreadable or unparsable
//! file is reported on stderr with its name and position and makes the exit code 2. Otherwise
//! the exit code is 1 when a finding is at or above `--fail-on`, else 0.
//!
//! The repository's `.ecs-secrets.toml` (or `--config`) and a `--baseline` are read before any
//! file, and applied to the report once every file is checked ([`taskdef_validator::triage`]):
//! suppressed findings are left out of the exit code.
//!
//! Files are checked on `--jobs` threads ([`taskdef_validator::scan`]): at estate scale the
//! offline rules are CPU work, and the report is the same for any number of threads. With
//! `--live`, files are checked one after another on the async runtime: the AWS calls are the
//! bound there, and the directory's caches serve every file.

use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::process::ExitCode;

use ecs_secrets_shared::aws::AwsConfig;
use ecs_secrets_shared::reference::TaskContext;
use taskdef_validator::account::Status;
use taskdef_validator::baseline::{self, Baseline};
use taskdef_validator::directory;
use taskdef_validator::finding::{EvidenceKey, Severity};
use taskdef_validator::live::Home;
use taskdef_validator::repo_config::{self, RepoConfig};
use taskdef_validator::report::{InputProblem, Report};
use taskdef_validator::rules::Context;
use taskdef_validator::scan;
use taskdef_validator::triage::{self, Triage};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    /// Never fail on findings (input errors still exit 2).
    Never,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Colour {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Task-definition JSON files (register-task-definition input, describe-task-definition
    /// output) or CloudFormation/SAM templates (JSON or YAML); `-` reads stdin.
    #[arg(required_unless_present = "account")]
    pub files: Vec<String>,
    /// Check every ACTIVE task-definition revision of the configured account and region
    /// (ListTaskDefinitions, DescribeTaskDefinition); findings name the revision's ARN in place
    /// of a file. With --live, also the live checks.
    #[arg(long)]
    pub account: bool,
    /// --account: also the INACTIVE (deregistered) revisions — still readable, and still used
    /// by a service that already runs one when it scales.
    #[arg(long, requires = "account")]
    pub include_inactive: bool,
    /// Pass over files that cannot be read as a task definition and name none anywhere (no
    /// `containerDefinitions`, `TaskDefinition`, `container_definitions` in any case) with a
    /// note instead of an error: for hooks that hand over every changed file. A file that
    /// names one and fails is still an error.
    #[arg(long)]
    pub skip_unrelated: bool,
    /// --account: the most ECS reads a second (ECS allows the whole account 20 a second for
    /// DescribeTaskDefinition; leave some to the deploy pipelines).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=20), requires = "account")]
    pub max_reads_per_second: u32,
    /// Also check that each secret exists and that the execution role may read it (AWS calls
    /// with the caller's credentials; metadata and policies only, never a secret value).
    #[arg(long)]
    pub live: bool,
    /// Files checked at once, on this many threads (default: the number of cores); the report
    /// is the same for any number. With --live, files are checked one at a time.
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<NonZeroUsize>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOn,
    /// Fargate platform version the tasks run on (e.g. 1.3.0), for platform-version rules.
    #[arg(long)]
    pub platform_version: Option<String>,
    /// Region and account the tasks run in (for cross-region/account rules), `REGION:ACCOUNT`.
    #[arg(long, value_name = "REGION:ACCOUNT")]
    pub task_context: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub colour: Colour,
    /// SSM SecureString parameter holding the key of evidence fingerprints (HMAC-SHA-256).
    /// `ECS_SECRETS_EVIDENCE_KEY` gives the key itself. Without a key, evidence has no
    /// fingerprint.
    #[arg(long, value_name = "NAME")]
    pub evidence_key_parameter: Option<String>,
    /// The repository config (disabled rules, severities, reviewed suppressions); default
    /// `.ecs-secrets.toml` in the current directory, when there is one.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<String>,
    /// Ignore `.ecs-secrets.toml`.
    #[arg(long)]
    pub no_config: bool,
    /// Report only findings that are not in this baseline (the others are suppressed).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,
    /// Write every current finding (after the config) to this baseline file and exit 0
    /// (2 on input errors, and then nothing is written).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<String>,
}

/// The environment variable that gives the evidence key itself.
pub const EVIDENCE_KEY_ENV: &str = "ECS_SECRETS_EVIDENCE_KEY";

/// `--jobs`: a whole number of threads, at least 1.
fn parse_jobs(raw: &str) -> Result<NonZeroUsize, String> {
    let n: usize = raw
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a number of threads (1 or more)"))?;
    NonZeroUsize::new(n).ok_or_else(|| "at least 1 thread is needed".to_owned())
}

pub fn run(args: Args) -> ExitCode {
    let task = match args.task_context.as_deref().map(parse_task_context) {
        Some(Err(e)) => {
            eprintln!("error: --task-context: {e}");
            return ExitCode::from(2);
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let evidence_key = match runtime.block_on(evidence_key(&args)) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match (&args.config, args.no_config) {
        (_, true) => None,
        (Some(path), false) => Some(RepoConfig::load(path, &cwd)),
        (None, false) => cwd
            .join(repo_config::FILE_NAME)
            .is_file()
            .then(|| RepoConfig::load(repo_config::FILE_NAME, &cwd)),
    };
    let config = match config.transpose() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let baseline = match args.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return ExitCode::from(2);
        }
    };
    let evidence_keyed = evidence_key.is_some();
    if args.write_baseline.is_some() && args.files.iter().any(|f| f == "-") {
        eprintln!("error: --write-baseline: stdin (`-`) has no name that stays the same: a baseline of it would accept whatever is piped next");
        return ExitCode::from(2);
    }
    let context = Context {
        platform_version: args.platform_version.clone(),
        task,
        evidence_key,
    };
    let mut report = Report {
        live: args.live,
        ..Report::default()
    };
    let live = if args.live {
        match runtime.block_on(live_directory()) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: --live: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    if let Some((dir, home)) = &live {
        for file in &args.files {
            let read = scan::read_file(file);
            match scan::parse_file(
                file,
                read.as_deref().map_err(String::as_str),
                args.skip_unrelated,
            ) {
                Ok(None) => skipped(file),
                Ok(Some(d)) => {
                    if d.subjects.is_empty() {
                        no_task_definition(file);
                    }
                    runtime.block_on(taskdef_validator::validate_document(
                        &d,
                        Some(file),
                        &context,
                        Some((dir, home)),
                        &mut report,
                    ));
                }
                Err(problem) => report.errors.push(problem),
            }
        }
    } else {
        let jobs = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN));
        let scanned = scan::check_files(&args.files, &context, jobs, args.skip_unrelated);
        for file in &scanned.skipped {
            skipped(file);
        }
        for file in &scanned.without_task_definitions {
            no_task_definition(file);
        }
        report.checked += scanned.report.checked;
        // Moved, not copied: the scan's list is the report's (a copy of a few hundred
        // thousand findings into fresh memory was a tenth of a scan of many files).
        report.findings = scanned.report.findings;
        report.errors = scanned.report.errors;
    }
    if args.account {
        let statuses: &[Status] = if args.include_inactive {
            &[Status::Active, Status::Inactive]
        } else {
            &[Status::Active]
        };
        let scanned = runtime.block_on(scan_account(
            statuses,
            args.max_reads_per_second,
            &context,
            live.as_ref().map(|(dir, home)| (dir, home)),
            &mut report,
        ));
        if let Err(e) = scanned {
            report.errors.push(InputProblem {
                file: "--account".into(),
                line: 0,
                column: 0,
                message: e,
            });
        }
    }
    report.sort();
    let notes = triage::apply(
        &mut report,
        &Triage {
            config: config.as_ref(),
            baseline: baseline.as_ref(),
            today: chrono::Utc::now().date_naive(),
            cwd: &cwd,
            files: &args.files,
            evidence_keyed,
        },
    );
    for note in &notes {
        eprintln!("note: {note}");
    }
    for problem in &report.errors {
        eprintln!("error: {problem}");
    }
    let colour = match args.colour {
        Colour::Always => true,
        Colour::Never => false,
        Colour::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match args.format {
        Format::Text => print!("{}", report.to_text(colour)),
        Format::Json => {
            // Streamed: a report of many files is too big to build as one value first.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let written = report
                .write_json(&mut out)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .and_then(|()| out.flush());
            if let Err(e) = written {
                eprintln!("error: cannot write the report: {e}");
                return ExitCode::from(2);
            }
        }
        Format::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_sarif()).unwrap_or_default()
        ),
    }
    if !report.errors.is_empty() {
        return ExitCode::from(2);
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &report, evidence_keyed);
    }
    let threshold = match args.fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    match (threshold, report.worst()) {
        (Some(t), Some(w)) if w >= t => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// `--write-baseline`: every finding that the config does not suppress.
fn write_baseline(path: &str, report: &Report, evidence_keyed: bool) -> ExitCode {
    let entries = baseline::entries(report);
    if !evidence_keyed && !entries.is_empty() {
        eprintln!(
            "warning: --write-baseline without an evidence key ({EVIDENCE_KEY_ENV} or --evidence-key-parameter): \
             entries are keyed by rule, file, task definition and pointer only, so a different \
             credential later placed at a baselined pointer stays suppressed"
        );
    }
    match write_atomically(path, baseline::render(&entries, evidence_keyed).as_bytes()) {
        Ok(()) => {
            eprintln!(
                "note: wrote {} finding(s) to baseline {path}",
                entries.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: --write-baseline: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes `path` through a temporary file beside it, renamed over it once complete: a failed or
/// interrupted write (`--baseline X --write-baseline X`) leaves the old file whole.
fn write_atomically(path: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let target = std::path::Path::new(path);
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temporary).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, target)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn skipped(file: &str) {
    eprintln!("note: {file}: skipped, it names no task definition");
}

fn no_task_definition(file: &str) {
    eprintln!("note: {file}: no AWS::ECS::TaskDefinition in this template");
}

fn parse_task_context(raw: &str) -> Result<TaskContext, String> {
    let (region, account) = raw
        .split_once(':')
        .ok_or("expected REGION:ACCOUNT, e.g. us-east-1:123456789012")?;
    if !ecs_secrets_shared::arn::is_region(region) {
        return Err(format!("`{region}` is not a region"));
    }
    if !ecs_secrets_shared::arn::is_account(account) {
        return Err(format!("`{account}` is not a 12-digit account id"));
    }
    Ok(TaskContext {
        partition: ecs_secrets_shared::arn::partition_of_region(region).to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
    })
}

/// `--account`: every ACTIVE revision of the configured account and region, paced.
async fn scan_account(
    statuses: &[Status],
    reads_per_second: u32,
    context: &Context,
    live: Option<(&directory::Aws, &Home)>,
    report: &mut Report,
) -> Result<(), String> {
    let aws = AwsConfig::load().await.map_err(|e| e.to_string())?;
    let rate = f64::from(reads_per_second);
    let pace = ecs_secrets_shared::pace::TokenBucket::new(rate, (2.0 * rate).min(40.0));
    taskdef_validator::account::scan(
        &taskdef_validator::account::Ecs::new(&aws),
        statuses,
        &pace,
        context,
        live,
        report,
    )
    .await;
    Ok(())
}

async fn live_directory() -> Result<(directory::Aws, Home), String> {
    let aws = AwsConfig::load().await.map_err(|e| e.to_string())?;
    let account = aws_sdk_sts::Client::new(&aws.sdk)
        .get_caller_identity()
        .send()
        .await
        .ok()
        .and_then(|o| o.account().map(str::to_owned));
    let home = Home {
        partition: ecs_secrets_shared::arn::partition_of_region(aws.region()).to_owned(),
        region: aws.region().to_owned(),
        caller_account: account.clone(),
        account,
    };
    Ok((directory::Aws::new(&aws), home))
}

/// The evidence key: from `--evidence-key-parameter` (SSM, decrypted), else from
/// `ECS_SECRETS_EVIDENCE_KEY`, else none.
async fn evidence_key(args: &Args) -> Result<Option<EvidenceKey>, String> {
    if let Some(name) = &args.evidence_key_parameter {
        let aws = AwsConfig::load()
            .await
            .map_err(|e| format!("--evidence-key-parameter: {e}"))?;
        return directory::evidence_key(&aws, name).await.map(Some);
    }
    match std::env::var(EVIDENCE_KEY_ENV) {
        Ok(key) if !key.is_empty() => EvidenceKey::new(key.into_bytes())
            .map(Some)
            .map_err(|e| format!("{EVIDENCE_KEY_ENV}: {e}")),
        _ => Ok(None),
    }
}
