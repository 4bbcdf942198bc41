//! `ecs-secrets`: the project's checks from a terminal or CI.
//!
//! The subcommands arrive with the functions they front (`validate` with the task-definition
//! validator, `plan` with the redeployer). Until then each one says so and exits with the usage
//! error code, rather than pretending to succeed. `parse-reference` works today: it shows how
//! the shared model reads a `valueFrom` string, which is handy when writing task definitions.

use std::process::ExitCode;

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
    /// Check task-definition files for leaked and broken secrets (not implemented yet).
    Validate {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Show which ECS services a change of a secret or parameter would redeploy (not implemented yet).
    Plan {
        #[arg(long)]
        secret: Option<String>,
        #[arg(long)]
        parameter: Option<String>,
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
    let cli = Cli::parse();
    ecs_secrets_shared::telemetry::init_cli(false);
    match cli.command {
        Command::Validate { .. } => not_implemented("validate"),
        Command::Plan { .. } => not_implemented("plan"),
        Command::ParseReference {
            reference,
            location,
        } => match SecretReference::parse(&reference, location.into()) {
            Ok(parsed) => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{parsed:#?}");
                    println!("tracks: {:?}", parsed.tracks());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn not_implemented(command: &str) -> ExitCode {
    eprintln!("error: `ecs-secrets {command}` is not implemented yet in this version");
    ExitCode::from(2)
}
