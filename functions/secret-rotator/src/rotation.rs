//! The four-step rotation contract: the gate every step passes first, and the steps.
//!
//! Every step is idempotent, because Secrets Manager retries failed steps and whole rotations:
//! createSecret does nothing when the pending version already has a value, finishSecret does
//! nothing when the version is already AWSCURRENT (beyond tidying AWSPENDING off it), and the
//! gate turns any step on an already-current version into a successful no-op.
//!
//! The pending version is always read by its id *and* the AWSPENDING stage, never by stage
//! alone, so a concurrent rotation with another token can never be mistaken for ours.
//!
//! The steps reach the outside world only through narrow traits — [`SecretStore`], RDS's
//! [`Directory`], and the database layer's [`Databases`] — so every decision here (which login
//! sets a password, when the administrator may act, what is refused) is unit-tested with
//! in-memory fakes (`rotation/tests.rs`). This module imports those layers; none imports it.

use serde_json::{Map, Value};
use tracing::info;

use crate::credentials::{alternate_username, AdminSecret, Credentials};
use crate::db::{Database, Databases, DbError, Proven};
use crate::engine::{DbEngine, Engine};
use crate::error::{Error, ErrorKind};
use crate::event::{RotationEvent, Step};
use crate::policy::PasswordPolicy;
use crate::rds::{self, Directory};
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

/// A secret value as the rotator understands it.
#[derive(Debug)]
enum Shape {
    /// A JSON object (the AWS convention for credentials); other keys are carried forward.
    Json(Map<String, Value>),
    /// Anything else: the whole string is the secret.
    Plain,
}

/// A value that starts like a JSON object but does not parse is a broken credential, not a
/// plain string: rotating it as generic would silently replace it with a random value.
fn shape(value: &SecretString) -> Result<Shape, ErrorKind> {
    match serde_json::from_str::<Value>(value.expose()) {
        Ok(Value::Object(map)) => Ok(Shape::Json(map)),
        // serde_json's message gives the position only, never the content.
        Err(e) if value.expose().trim_start().starts_with('{') => Err(ErrorKind::InvalidSecret {
            field: "(value)",
            cause: format!("looks like JSON but does not parse ({e})"),
        }),
        _ => Ok(Shape::Plain),
    }
}

/// Chooses the strategy from the secret's `engine` (SPEC: postgres / aurora-postgresql,
/// mysql / mariadb / aurora-mysql, generic or a plain string).
pub fn engine_of(value: &SecretString) -> Result<Engine, ErrorKind> {
    match shape(value)? {
        Shape::Plain => Ok(Engine::Generic),
        Shape::Json(map) => match map.get("engine") {
            None | Some(Value::Null) => Err(ErrorKind::MissingEngine),
            Some(Value::String(e)) => match e.as_str() {
                "postgres" | "aurora-postgresql" => Ok(Engine::Database(DbEngine::Postgres)),
                "mysql" | "mariadb" | "aurora-mysql" => Ok(Engine::Database(DbEngine::MySql)),
                "generic" => Ok(Engine::Generic),
                other => Err(ErrorKind::UnsupportedEngine(other.to_owned())),
            },
            Some(other) => Err(ErrorKind::UnsupportedEngine(other.to_string())),
        },
    }
}

/// `Some(true)` over absent over `Some(false)`.
fn stricter_ssl(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    let rank = |s: Option<bool>| match s {
        Some(true) => 2,
        None => 1,
        Some(false) => 0,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

/// A database error of an alternating-users step. The administrator's own login failing is
/// reported without its user name or anything else from its secret.
fn admin_error(e: DbError, endpoint: &str) -> ErrorKind {
    match e {
        DbError::Refused(reason) => ErrorKind::Refused(reason),
        // The server's message names the user it refused: the administrator's, which the
        // owner of the secret need not learn.
        DbError::Auth(_) => ErrorKind::CannotLogin {
            endpoint: endpoint.to_owned(),
            user: "(the administrator of `masterarn`)".into(),
            which: "the administrator (masterarn)",
            cause: "the server refused the administrator's login".into(),
        },
        other => ErrorKind::Database {
            endpoint: endpoint.to_owned(),
            cause: other.to_string(),
        },
    }
}

/// The user an alternating pair is named after: `app` for both `app` and `app_clone`.
fn base_username(user: &str) -> &str {
    user.strip_suffix("_clone")
        .filter(|base| !base.is_empty())
        .unwrap_or(user)
}

/// The administrator secret an alternating-users step may use: always the one AWSCURRENT
/// names. A pending version that names another one (or none, or one where current has none)
/// is refused: whoever can write AWSPENDING must not choose whose administrator acts.
fn master_of(current: &Credentials, pending: &Credentials) -> Result<Option<String>, ErrorKind> {
    match (&current.masterarn, &pending.masterarn) {
        (None, None) => Ok(None),
        (Some(c), Some(p)) if c == p => Ok(Some(c.clone())),
        _ => Err(ErrorKind::Refused(
            "the pending version's `masterarn` differs from the current version's; the administrator is always the one AWSCURRENT names".into(),
        )),
    }
}

/// The checks of the alternating-users strategy that need no database: the administrator
/// acts only on the server the secret's own credentials are for, and never on itself. Without
/// them a secret named `<admin>_clone`, or one whose `masterarn` names another server's
/// administrator, turns the rotator into a way to take over that administrator (the pending
/// password is readable by the secret's owner). [`Database::ensure_alternate`] adds the checks
/// that need the server (superusers, CREATEROLE / SUPER, memberships).
fn guard_alternating(
    admin: &Credentials,
    current: &Credentials,
    pending_user: &str,
) -> Result<(), ErrorKind> {
    if !admin.same_endpoint(current) {
        return Err(ErrorKind::Refused(format!(
            "the administrator secret (`masterarn`) is for another server than the secret's credentials ({}); the administrator may act only on the secret's own server",
            current.endpoint()
        )));
    }
    let admin_base = base_username(&admin.username);
    for user in [current.username.as_str(), pending_user] {
        if user.eq_ignore_ascii_case(&admin.username)
            || base_username(user).eq_ignore_ascii_case(admin_base)
        {
            return Err(ErrorKind::Refused(format!(
                "user `{user}` is the administrator named by `masterarn` (or its alternate); the rotator never changes the administrator's password or acts as it"
            )));
        }
    }
    Ok(())
}

/// Runs rotation steps against a [`SecretStore`], looking up the server of an RDS-managed
/// administrator secret in a [`Directory`], and acting on the secret's database through
/// [`Databases`].
#[derive(Debug)]
pub struct Rotator<S, D, B> {
    pub store: S,
    pub rds: D,
    pub databases: B,
    pub policy: PasswordPolicy,
}

impl<S: SecretStore, D: Directory, B: Databases> Rotator<S, D, B> {
    pub fn new(store: S, rds: D, databases: B, policy: PasswordPolicy) -> Self {
        Self {
            store,
            rds,
            databases,
            policy,
        }
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
        // A secret another service manages (RDS's `rds!…` master password) is rotated by that
        // service; a second rotation would fight it for the password.
        let managed_name = ecs_secrets_shared::arn::SecretArn::parse(arn)
            .ok()
            .and_then(|a| a.managed_by());
        let owner = match (&meta.owning_service, managed_name) {
            (_, Some(m)) => Some(format!("{} (`{}!`)", m.service, m.prefix)),
            (Some(service), None) => Some(format!("the AWS service `{service}`")),
            (None, None) => None,
        };
        if let Some(owner) = owner {
            return Err(ErrorKind::Refused(format!(
                "the secret is managed by {owner}, not by this function: it is changed through that service only. For a database master password, rotate an application user's secret instead (README: Managed master passwords)"
            )));
        }
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
            Step::SetSecret => self.set(arn, token).await,
            Step::TestSecret => self.test(arn, token).await,
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
        let password = self.store.random_password(&self.policy).await?;
        let new_value = match (engine, shape(&current)?) {
            (Engine::Generic, Shape::Plain) => password,
            (Engine::Generic, Shape::Json(mut map)) => {
                map.insert(
                    "password".to_owned(),
                    Value::String(password.expose().clone()),
                );
                SecretString::from(Value::Object(map).to_string())
            }
            (Engine::Database(_), Shape::Plain) => {
                return Err(ErrorKind::InvalidSecret {
                    field: "(value)",
                    cause: "is not a JSON object".into(),
                })
            }
            (Engine::Database(engine), Shape::Json(mut map)) => {
                // Validates every field now, so a broken secret fails before anything changes.
                let creds = Credentials::parse(&current, engine)?;
                if let Some(master) = &creds.masterarn {
                    let admin = self.admin(master, engine).await?;
                    let max = self.databases.database(engine).max_username();
                    let alternate = alternate_username(&creds.username, max)?;
                    guard_alternating(&admin, &creds, &alternate)?;
                    map.insert("username".to_owned(), Value::String(alternate));
                }
                map.insert(
                    "password".to_owned(),
                    Value::String(password.expose().clone()),
                );
                SecretString::from(Value::Object(map).to_string())
            }
        };
        self.store
            .put_pending(arn, token, &new_value, event.rotation_token.as_ref())
            .await?;
        info!(secret = arn, "created the AWSPENDING version");
        Ok(Outcome::Done)
    }

    /// The administrator login of the alternating-users strategy.
    async fn admin(&self, master: &str, engine: DbEngine) -> Result<Credentials, ErrorKind> {
        let fail = |cause: String| ErrorKind::MasterSecret {
            arn: master.to_owned(),
            cause,
        };
        let value = self
            .store
            .value(master, None, CURRENT)
            .await
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("it does not exist or has no AWSCURRENT value".into()))?;
        match AdminSecret::parse(&value, engine) {
            Ok(AdminSecret::Complete(admin)) => return Ok(admin),
            Ok(AdminSecret::LoginOnly { .. }) => {}
            Err(e) => return Err(fail(e.to_string())),
        }
        // A login without a server: the master secret RDS manages. Its server comes from RDS,
        // anchored on the secret's system tag and confirmed by RDS naming this secret (never
        // from the application's secret; see [`rds`]). The login is read again by the ARN
        // and version that were checked, so the value and the check are of one secret.
        let meta = self
            .store
            .describe(master)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let version = meta
            .version_with(CURRENT)
            .ok_or_else(|| fail("it has no AWSCURRENT version".into()))?;
        let value = self
            .store
            .value(&meta.arn, Some(version), CURRENT)
            .await
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("it has no AWSCURRENT value".into()))?;
        let AdminSecret::LoginOnly { username, password } =
            AdminSecret::parse(&value, engine).map_err(|e| fail(e.to_string()))?
        else {
            return Err(fail("its value changed while it was read".into()));
        };
        let resource = rds::Resource::from_tags(&meta.tags)
            .map_err(&fail)?
            .ok_or_else(|| {
                fail(format!(
                    "it has no `host`, and it is not a master secret RDS manages (no `{}` or `{}` tag), so its server is unknown",
                    rds::INSTANCE_TAG,
                    rds::CLUSTER_TAG
                ))
            })?;
        let server = self
            .rds
            .server(&resource)
            .await
            .map_err(|e| fail(format!("looking up its server: {e}")))?
            .ok_or_else(|| {
                fail(format!(
                    "its tags name the {resource}, which RDS does not have"
                ))
            })?;
        if server.arn.as_deref() != Some(resource.arn()) {
            return Err(fail(format!(
                "RDS answered about another resource than the {resource}"
            )));
        }
        if server.master_secret.as_deref() != Some(meta.arn.as_str()) {
            return Err(fail(format!(
                "RDS does not name this secret as the master user secret of the {resource}; only that secret's server is looked up"
            )));
        }
        if !server.serves(engine) {
            return Err(fail(format!(
                "the {resource} runs `{}`, which the secret's engine `{}` cannot administer",
                server.engine,
                engine.as_str()
            )));
        }
        Ok(Credentials {
            host: server.host,
            port: server.port,
            username,
            password,
            // Its own database (PostgreSQL: `postgres`), never the application's: a database's
            // owner must not shape the administrator's session.
            dbname: None,
            masterarn: None,
            // Always verified TLS: RDS always offers it, so "when offered" could only fall back
            // to plaintext for an impostor, who would then receive the master password.
            ssl: Some(true),
        })
    }

    /// The pending and current credentials of a database secret.
    async fn pair(
        &self,
        arn: &str,
        token: &str,
    ) -> Result<Option<(DbEngine, Credentials, Credentials)>, ErrorKind> {
        let pending = self
            .store
            .value(arn, Some(token), PENDING)
            .await?
            .ok_or(ErrorKind::NoPendingValue)?;
        let Engine::Database(engine) = engine_of(&pending)? else {
            return Ok(None);
        };
        let current = self
            .store
            .value(arn, None, CURRENT)
            .await?
            .ok_or(ErrorKind::NoCurrentValue)?;
        Ok(Some((
            engine,
            Credentials::parse(&pending, engine)?,
            Credentials::parse(&current, engine)?,
        )))
    }

    /// setSecret: make the pending credentials work on the database.
    async fn set(&self, arn: &str, token: &str) -> Result<Outcome, ErrorKind> {
        let Some((engine, pending, current)) = self.pair(arn, token).await? else {
            return Ok(Outcome::Done);
        };
        let db = self.databases.database(engine);
        if !pending.same_endpoint(&current) {
            return Err(ErrorKind::PendingMismatch(format!(
                "the pending version points at {} but the current one at {}",
                pending.endpoint(),
                current.endpoint()
            )));
        }
        let endpoint = current.endpoint();
        let database = |e: DbError| match e {
            DbError::Refused(reason) => ErrorKind::Refused(reason),
            other => ErrorKind::Database {
                endpoint: endpoint.clone(),
                cause: other.to_string(),
            },
        };
        match master_of(&current, &pending)? {
            None => {
                if pending.username != current.username {
                    return Err(ErrorKind::PendingMismatch(format!(
                        "single-user rotation must keep the username, but pending has `{}` and current `{}`",
                        pending.username, current.username
                    )));
                }
                if db.can_login(&pending).await.map_err(database)? {
                    info!(
                        secret = arn,
                        "the pending credentials already work; setSecret is done"
                    );
                    return Ok(Outcome::AlreadyDone);
                }
                // The user changes its own password: log in as current, or with the previous
                // password when the current one no longer works (a retried rotation, or a
                // restore). The previous password is only ever tried on the current endpoint,
                // as the current user, with the current TLS setting: a version that pointed
                // elsewhere (before a database move) must not change a password over there.
                let login = if db.can_login(&current).await.map_err(database)? {
                    current
                } else {
                    let previous = match self.store.value(arn, None, "AWSPREVIOUS").await? {
                        Some(v) => Some(Credentials::parse(&v, engine)?),
                        None => None,
                    };
                    let usable = previous
                        .filter(|p| p.same_endpoint(&current) && p.username == current.username);
                    let fallback = match usable {
                        Some(p) => {
                            // The stricter TLS setting of the two: AWSCURRENT is the
                            // attacker-writable one, the previous password may still work.
                            let mut login = current.with_password(p.password);
                            login.ssl = stricter_ssl(current.ssl, p.ssl);
                            db.can_login(&login)
                                .await
                                .map_err(database)?
                                .then_some(login)
                        }
                        None => None,
                    };
                    match fallback {
                        Some(login) => login,
                        None => {
                            return Err(ErrorKind::CannotLogin {
                                endpoint,
                                user: current.username,
                                which: "current or previous (same endpoint and user)",
                                cause: "the server rejected both".into(),
                            })
                        }
                    }
                };
                db.set_password(&login, &pending.username, &pending.password)
                    .await
                    .map_err(database)?;
            }
            Some(master) => {
                let (admin, proven) = self
                    .alternating(engine, &current, &pending, &master)
                    .await?;
                // No "pending already works" shortcut here: the clone's privileges are
                // re-applied on every attempt, so a retry after a partial failure fails again
                // until they are complete.
                db.ensure_alternate(
                    &admin,
                    &proven,
                    base_username(&current.username),
                    &pending.username,
                    &pending.password,
                )
                .await
                .map_err(|e| admin_error(e, &endpoint))?;
            }
        }
        info!(
            secret = arn,
            "the database accepts the pending credentials now"
        );
        Ok(Outcome::Done)
    }

    /// The checks every alternating-users step makes before the administrator acts: the
    /// pending user is the alternate of the current one, the administrator is for the same
    /// server and is neither user, and the current credentials log in — as exactly the
    /// account they name (MySQL: `CURRENT_USER()`, so an anonymous account cannot stand in).
    async fn alternating(
        &self,
        engine: DbEngine,
        current: &Credentials,
        pending: &Credentials,
        master: &str,
    ) -> Result<(Credentials, Proven), ErrorKind> {
        let db = self.databases.database(engine);
        let expected = alternate_username(&current.username, db.max_username())?;
        if pending.username != expected {
            return Err(ErrorKind::PendingMismatch(format!(
                "alternating-users rotation expects pending user `{expected}`, found `{}`",
                pending.username
            )));
        }
        let admin = self.admin(master, engine).await?;
        guard_alternating(&admin, current, &pending.username)?;
        let endpoint = current.endpoint();
        let proven = db
            .prove_login(current)
            .await
            .map_err(|e| admin_error(e, &endpoint))?
            .ok_or_else(|| {
                ErrorKind::Refused(format!(
                    "the current credentials (user `{}` at {endpoint}) do not log in; the administrator acts only for a secret whose AWSCURRENT works",
                    current.username
                ))
            })?;
        Ok((admin, proven))
    }

    /// testSecret: the pending credentials log in (with a short, bounded retry), and an
    /// alternate user holds exactly the privileges of the user it stands in for.
    async fn test(&self, arn: &str, token: &str) -> Result<Outcome, ErrorKind> {
        let Some((engine, pending, current)) = self.pair(arn, token).await? else {
            return Ok(Outcome::Done);
        };
        let db = self.databases.database(engine);
        let master = master_of(&current, &pending)?;
        // The same checks as setSecret before the administrator reads anything.
        let alternating = match &master {
            Some(master) => Some(self.alternating(engine, &current, &pending, master).await?),
            None => None,
        };
        db.check_with_retry(&pending, 4)
            .await
            .map_err(|e| ErrorKind::CannotLogin {
                endpoint: pending.endpoint(),
                user: pending.username.clone(),
                which: "the pending",
                cause: e.to_string(),
            })?;
        if let Some((admin, proven)) = alternating {
            let base = base_username(&current.username);
            if pending.username != base {
                db.verify_alternate(&admin, &proven, &pending, base)
                    .await
                    .map_err(|e| admin_error(e, &pending.endpoint()))?;
            }
        }
        Ok(Outcome::Done)
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
