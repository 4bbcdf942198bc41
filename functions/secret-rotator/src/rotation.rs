//! The four-step rotation contract: the gate every step passes first, and the steps.
//!
//! Every step is idempotent, because Secrets Manager retries failed steps and whole rotations:
//! createSecret does nothing when the pending version already has a value, finishSecret does
//! nothing when the version is already AWSCURRENT (beyond tidying AWSPENDING off it), and the
//! gate turns any step on an already-current version into a successful no-op.
//!
//! The pending version is always read by its id *and* the AWSPENDING stage, never by stage
//! alone, so a concurrent rotation with another token can never be mistaken for ours.

use serde_json::{Map, Value};
use tracing::info;

use crate::error::{Error, ErrorKind};
use crate::event::{RotationEvent, Step};
use crate::policy::PasswordPolicy;
use crate::store::{SecretMetadata, SecretStore};
use ecs_secrets_shared::secret::SecretString;

const CURRENT: &str = "AWSCURRENT";
const PENDING: &str = "AWSPENDING";

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Already done earlier (a retry, or the version is already current).
    AlreadyDone,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::AlreadyDone => "already-done",
        }
    }
}

/// The system whose credentials the secret holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MySql,
    /// No target system: a new random value is the whole rotation.
    Generic,
}

/// A secret value as the rotator understands it.
#[derive(Debug)]
enum Shape {
    /// A JSON object (the AWS convention for credentials); other keys are carried forward.
    Json(Map<String, Value>),
    /// Anything else: the whole string is the secret.
    Plain,
}

fn shape(value: &SecretString) -> Shape {
    match serde_json::from_str::<Value>(value.expose()) {
        Ok(Value::Object(map)) => Shape::Json(map),
        _ => Shape::Plain,
    }
}

/// Chooses the strategy from the secret's `engine` (SPEC: postgres / aurora-postgresql,
/// mysql / mariadb / aurora-mysql, generic or a plain string).
pub fn engine_of(value: &SecretString) -> Result<Engine, ErrorKind> {
    match shape(value) {
        Shape::Plain => Ok(Engine::Generic),
        Shape::Json(map) => match map.get("engine") {
            None | Some(Value::Null) => Err(ErrorKind::MissingEngine),
            Some(Value::String(e)) => match e.as_str() {
                "postgres" | "aurora-postgresql" => Ok(Engine::Postgres),
                "mysql" | "mariadb" | "aurora-mysql" => Ok(Engine::MySql),
                "generic" => Ok(Engine::Generic),
                other => Err(ErrorKind::UnsupportedEngine(other.to_owned())),
            },
            Some(other) => Err(ErrorKind::UnsupportedEngine(other.to_string())),
        },
    }
}

/// Runs rotation steps against a [`SecretStore`].
#[derive(Debug)]
pub struct Rotator<S> {
    pub store: S,
    pub policy: PasswordPolicy,
}

impl<S: SecretStore> Rotator<S> {
    pub fn new(store: S, policy: PasswordPolicy) -> Self {
        Self { store, policy }
    }

    /// Runs one step, gate first.
    pub async fn run(&self, event: &RotationEvent) -> Result<Outcome, Error> {
        let step = event.step;
        let fail = |secret: &str, kind: ErrorKind| Error {
            step,
            secret: secret.to_owned(),
            kind,
        };
        let meta = self
            .store
            .describe(&event.secret_id)
            .await
            .map_err(|e| fail(&event.secret_id, e.into()))?;
        let arn = meta.arn.clone();
        let token = event.client_request_token.as_str();
        self.step(event, &meta, token)
            .await
            .map_err(|kind| fail(&arn, kind))
    }

    async fn step(
        &self,
        event: &RotationEvent,
        meta: &SecretMetadata,
        token: &str,
    ) -> Result<Outcome, ErrorKind> {
        let arn = meta.arn.as_str();
        // The gate, in the contract's order.
        if meta.rotation_enabled != Some(true) {
            return Err(ErrorKind::RotationDisabled);
        }
        let stages = meta
            .stages_of(token)
            .ok_or_else(|| ErrorKind::UnknownVersion {
                token: token.to_owned(),
            })?;
        if stages.iter().any(|s| s == CURRENT) {
            if event.step == Step::FinishSecret && stages.iter().any(|s| s == PENDING) {
                // A finishSecret that moved AWSCURRENT but did not get to tidy AWSPENDING.
                self.store
                    .move_stage(arn, PENDING, None, Some(token))
                    .await?;
            }
            info!(secret = arn, step = %event.step, "version is already AWSCURRENT; nothing to do");
            return Ok(Outcome::AlreadyDone);
        }
        if !stages.iter().any(|s| s == PENDING) {
            return Err(ErrorKind::NotPending {
                token: token.to_owned(),
                stages: stages.to_vec(),
            });
        }
        match event.step {
            Step::CreateSecret => self.create(event, arn, token).await,
            Step::SetSecret | Step::TestSecret => self.check_target(arn, token).await,
            Step::FinishSecret => self.finish(meta, arn, token).await,
        }
    }

    async fn create(
        &self,
        event: &RotationEvent,
        arn: &str,
        token: &str,
    ) -> Result<Outcome, ErrorKind> {
        let current = self
            .store
            .value(arn, None, CURRENT)
            .await?
            .ok_or(ErrorKind::NoCurrentValue)?;
        if self.store.value(arn, Some(token), PENDING).await?.is_some() {
            info!(
                secret = arn,
                "AWSPENDING already has a value; createSecret is done"
            );
            return Ok(Outcome::AlreadyDone);
        }
        let engine = engine_of(&current)?;
        let new_value = match engine {
            Engine::Generic => {
                let password = self.store.random_password(&self.policy).await?;
                match shape(&current) {
                    Shape::Plain => password,
                    Shape::Json(mut map) => {
                        map.insert(
                            "password".to_owned(),
                            Value::String(password.expose().clone()),
                        );
                        SecretString::from(Value::Object(map).to_string())
                    }
                }
            }
            Engine::Postgres => return Err(ErrorKind::EngineNotImplemented("postgres".into())),
            Engine::MySql => return Err(ErrorKind::EngineNotImplemented("mysql".into())),
        };
        self.store
            .put_pending(arn, token, &new_value, event.rotation_token.as_ref())
            .await?;
        info!(secret = arn, "created the AWSPENDING version");
        Ok(Outcome::Done)
    }

    /// setSecret / testSecret: there is a target system only for database engines.
    async fn check_target(&self, arn: &str, token: &str) -> Result<Outcome, ErrorKind> {
        let pending = self
            .store
            .value(arn, Some(token), PENDING)
            .await?
            .ok_or(ErrorKind::NoPendingValue)?;
        match engine_of(&pending)? {
            Engine::Generic => Ok(Outcome::Done),
            Engine::Postgres => Err(ErrorKind::EngineNotImplemented("postgres".into())),
            Engine::MySql => Err(ErrorKind::EngineNotImplemented("mysql".into())),
        }
    }

    async fn finish(
        &self,
        meta: &SecretMetadata,
        arn: &str,
        token: &str,
    ) -> Result<Outcome, ErrorKind> {
        let current = meta.version_with(CURRENT);
        self.store
            .move_stage(arn, CURRENT, Some(token), current)
            .await?;
        // Secrets Manager moves AWSPREVIOUS itself. Taking AWSPENDING off the new version is
        // valid on AWS and lets the next rotation start on emulators that require it.
        self.store
            .move_stage(arn, PENDING, None, Some(token))
            .await?;
        info!(secret = arn, "AWSCURRENT moved to the new version");
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests;
