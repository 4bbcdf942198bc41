//! `ecs-secrets validate`: the validator's rules on files, for CI.
//!
//! Every file is read and checked even when another one fails; an unreadable or unparsable
//! file is reported on stderr with its name and position and makes the exit code 2. Otherwise
//! the exit code is 1 when a finding is at or above `--fail-on`, else 0.
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
use taskdef_validator::directory;
use taskdef_validator::finding::{EvidenceKey, Severity};
use taskdef_validator::live::Home;
use taskdef_validator::report::Report;
use taskdef_validator::rules::Context;
use taskdef_validator::scan;

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
    #[arg(required = true)]
    pub files: Vec<String>,
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
            match scan::parse_file(file, scan::read_file(file)) {
                Ok(d) => {
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
        let scanned = scan::check_files(&args.files, &context, jobs);
        for file in &scanned.without_task_definitions {
            no_task_definition(file);
        }
        report.checked += scanned.report.checked;
        report.findings.extend(scanned.report.findings);
        report.errors.extend(scanned.report.errors);
    }
    report.sort();
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
