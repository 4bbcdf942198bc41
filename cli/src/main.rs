//! `ecs-secrets`: the project's checks from a terminal or CI.
//!
//! `validate` runs the task-definition validator's rules on files (CI). `plan` runs the
//! redeployer's discovery and decisions as a dry run; `status` reads back whether a change
//! reached every consumer. `parse-reference` shows how the shared
//! model reads a `valueFrom` string. Exit codes: 0 success, 1 findings at or above
//! `--fail-on`, 2 usage or input error.

// Printing results is what a CLI is for; the functions' crates keep the lint (their output is
// logs, through tracing).
#![allow(clippy::print_stdout)]

mod plan;
mod scope;
mod status;
mod validate;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: `validate` on many files is allocation-heavy
/// (a string per value and per finding), and glibc's malloc and free were a fifth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use ecs_secrets_shared::reference::{Location, SecretReference};

#[derive(Debug, Parser)]
#[command(
    name = "ecs-secrets",
    version,
    about = "Keep ECS secrets safe: validate task definitions, plan redeployments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check task definitions (JSON files, CloudFormation/SAM templates) for leaked and broken
    /// secrets. Exit 0: no finding at or above --fail-on; 1: findings; 2: usage or input error.
    Validate(validate::Args),
    /// Show which ECS services a change of a secret or parameter would redeploy, and why the
    /// other referencing services would not (a dry run against the configured account; honours
    /// CLUSTERS and SERVICE_SELECTION).
    Plan {
        /// The secret: ARN, partial ARN or name.
        #[arg(
            long,
            conflicts_with = "parameter",
            required_unless_present = "parameter"
        )]
        secret: Option<String>,
        /// The staging label that moves (custom labels are referenced as ::LABEL:).
        #[arg(long, default_value = "AWSCURRENT", requires = "secret")]
        label: String,
        /// The SSM parameter: name (in the configured region) or ARN.
        #[arg(long)]
        parameter: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        scope: scope::Args,
    },
    /// Show whether a changed secret or parameter reached every consumer: each service and
    /// each task no service owns that reads it, fresh, rolling, stale, failed or skipped (with
    /// the reason). Exit 0: propagated; 1: not (yet); 2: usage or AWS error.
    Status {
        /// The secret: ARN, partial ARN or name.
        #[arg(
            long,
            conflicts_with = "parameter",
            required_unless_present = "parameter"
        )]
        secret: Option<String>,
        /// The staging label whose move is tracked.
        #[arg(long, default_value = "AWSCURRENT", requires = "secret")]
        label: String,
        /// The SSM parameter: name (in the configured region) or ARN.
        #[arg(long)]
        parameter: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        scope: scope::Args,
    },
    /// Parse a secret reference as ECS would and print what it refers to.
    ParseReference {
        reference: String,
        /// Where the reference appears in the container definition.
        #[arg(long, value_enum, default_value = "secret")]
        location: LocationArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LocationArg {
    /// secrets[].valueFrom
    Secret,
    /// logConfiguration.secretOptions[].valueFrom
    LogOption,
    /// repositoryCredentials.credentialsParameter
    RepositoryCredentials,
}

impl From<LocationArg> for Location {
    fn from(l: LocationArg) -> Self {
        match l {
            LocationArg::Secret => Location::ContainerSecret,
            LocationArg::LogOption => Location::LogSecretOption,
            LocationArg::RepositoryCredentials => Location::RepositoryCredentials,
        }
    }
}

fn main() -> ExitCode {
    // A run of the CLI is short, and transparent huge pages (which mimalloc asks for) make its
    // time unpredictable: each is zeroed 2 MiB at a time at its first touch, and when the
    // kernel must find or compact 2 MiB first, a scan of 5,000 files took twice its usual
    // time (one run in five on the benchmark's machine). Without them: a few per cent more
    // page faults, no such runs, a third less memory. Where the kernel refuses, nothing changes.
    // mimalloc's own request for them (its arena's, made before `main`) is built out of it
    // (`no_thp`, Cargo.toml).
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
    let cli = Cli::parse();
    ecs_secrets_shared::telemetry::init_cli(false);
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Plan {
            secret,
            label,
            parameter,
            format,
            scope,
        } => {
            let Some(runtime) = runtime() else {
                return ExitCode::from(2);
            };
            match runtime.block_on(plan::plan_wide(target(secret, label, parameter), scope)) {
                Ok(answer) => {
                    print(format, &answer, plan::text_wide);
                    if answer.failed_somewhere() {
                        eprintln!("error: some places could not be read (see their rows)");
                        return ExitCode::from(2);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Status {
            secret,
            label,
            parameter,
            format,
            scope,
        } => {
            let Some(runtime) = runtime() else {
                return ExitCode::from(2);
            };
            match runtime.block_on(status::status_wide(target(secret, label, parameter), scope)) {
                Ok(answer) => {
                    print(format, &answer, status::text_wide);
                    if answer.failed_somewhere() {
                        eprintln!("error: some places could not be read (see their rows)");
                        return ExitCode::from(2);
                    }
                    if status::propagated(&answer) {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::ParseReference {
            reference,
            location,
        } => match SecretReference::parse(&reference, location.into()) {
            Ok(parsed) => {
                println!("{parsed:#?}");
                println!("tracks: {:?}", parsed.tracks());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// What `--secret`/`--label` or `--parameter` name (clap requires one of them).
fn target(secret: Option<String>, label: String, parameter: Option<String>) -> plan::Target {
    match (secret, parameter) {
        (Some(id), _) => plan::Target::Secret { id, label },
        (None, Some(name)) => plan::Target::Parameter(name),
        (None, None) => unreachable_usage(),
    }
}

/// A result as pretty JSON, or as `text` renders it for a person.
fn print<T: serde::Serialize>(format: Format, value: &T, text: fn(&T) -> String) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        Format::Text => print!("{}", text(value)),
    }
}

/// The async runtime for the AWS calls; `None` (with the reason printed) when it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

/// clap enforces `--secret` or `--parameter`; this is only reached if that changes.
fn unreachable_usage() -> ! {
    eprintln!("error: give --secret or --parameter");
    std::process::exit(2)
}
