//! The code that more than one ecs-secrets function needs, and nothing else.
//!
//! Three Lambda functions and a CLI share one vocabulary: what a Secrets Manager or SSM
//! reference in a task definition *is* ([`reference`]), what a task definition holds and
//! references ([`task_definition`], one model built from JSON or from the ECS SDK), which
//! secret or parameter an ARN names
//! ([`arn`]), what a change event from EventBridge *says* ([`events`]), how to reach AWS (or a
//! local emulator) ([`aws`]) and how to log and emit metrics without ever printing a secret
//! ([`telemetry`], [`secret`]). Keeping these in one crate means the validator and the
//! redeployer can never disagree about what a task definition references or what a
//! `valueFrom` string refers to.
//!
//! Everything here is pure and synchronous except the AWS configuration loader, so it is unit
//! tested without AWS.

pub mod arn;
pub mod aws;
pub mod env;
pub mod error;
pub mod events;
pub mod pace;
pub mod reference;
pub mod secret;
pub mod task_definition;
pub mod telemetry;

pub use error::{ArnError, ConfigError, EventError, NameError, ReferenceError, ShapeError};
