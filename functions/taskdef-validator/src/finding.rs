//! Findings and the rule catalog.
//!
//! Rule ids, default severities and remediation texts are part of the contract (SPEC §5): CI
//! jobs filter on ids, SARIF consumers key alerts on them, so they never change meaning. The
//! catalog is one table so the README, SARIF's `tool.driver.rules` and the findings all say the
//! same thing.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// How bad a finding is. Ordered: `Critical > High > … > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The severity label of Security Hub's framework (ASFF `Severity.Label`), which
    /// CloudFormation hook annotations use too (`severityLevel`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Info => "INFORMATIONAL",
        }
    }

    /// GitHub code scanning's `security-severity` (CVSS-like score bands).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "0.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the catalog.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    /// The severity of a typical finding (some rules raise or lower it per finding).
    pub severity: Severity,
    pub title: &'static str,
    pub remediation: &'static str,
    /// True for rules that need AWS calls (`--live`).
    pub live: bool,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $live:literal, $title:literal, $fix:literal;)*) => {
        pub mod rule {
            $(pub const $name: &str = $id;)*
        }
        /// Every rule, in the order of SPEC §5.
        pub const CATALOG: &[Rule] = &[
            $(Rule { id: $id, severity: Severity::$sev, title: $title, remediation: $fix, live: $live },)*
        ];
    };
}

rules! {
    PLAINTEXT_SECRET = "plaintext-secret", Critical, false,
        "Credential in a plaintext environment variable",
        "Move the value into Secrets Manager or a SecureString parameter, reference it from `secrets[].valueFrom`, and rotate it: it has been visible to anyone who can describe the task definition.";
    SECRET_IN_COMMAND = "secret-in-command", High, false,
        "Credential in a command, health check, Docker label or log option",
        "Pass the credential as an environment variable from `secrets[].valueFrom` (log drivers: `logConfiguration.secretOptions`) and rotate it.";
    PLAINTEXT_DYNAMIC_REFERENCE = "plaintext-dynamic-reference", High, false,
        "CloudFormation dynamic reference resolved into a plaintext variable",
        "CloudFormation writes the resolved value into the task definition. Use `Secrets: [{Name, ValueFrom: <secret ARN>}]` instead of `{{resolve:…}}` in `Environment`.";
    INVALID_SECRET_REFERENCE = "invalid-secret-reference", High, false,
        "Secret reference that ECS cannot resolve",
        "Use a full secret ARN (`arn:aws:secretsmanager:region:account:secret:name-AbCdEf`, optionally followed by `:json-key:version-stage:version-id`) or an SSM parameter name or ARN.";
    PARTIAL_SECRET_ARN = "partial-secret-arn", Medium, false,
        "Secret referenced by a partial ARN",
        "Reference the secret by its full ARN, with the 6-character suffix: IAM policies scoped to the full ARN (or to `name-??????`) do not match a partial one.";
    MISSING_EXECUTION_ROLE = "missing-execution-role", High, false,
        "Secrets used without a task execution role",
        "Set `executionRoleArn` to a role that ECS can assume (trust `ecs-tasks.amazonaws.com`) and that may read the referenced secrets.";
    PINNED_SECRET_VERSION = "pinned-secret-version", Low, false,
        "Secret reference pinned to one version",
        "Drop the version id (or AWSPENDING stage) so the task reads AWSCURRENT; a pinned reference keeps the old credential after rotation.";
    PLATFORM_VERSION_INCOMPATIBLE = "platform-version-incompatible", Medium, false,
        "Feature not supported by the platform the task runs on",
        "Run Fargate tasks on platform version 1.4.0 or LATEST, and use `environmentFiles` only on Linux.";
    CROSS_REGION_SECRET_REFERENCE = "cross-region-secret-reference", Medium, false,
        "Secret reference to another region or account",
        "Reference secrets of another account or region by full ARN, allow the execution role in the secret's resource policy and its KMS key policy, or replicate the secret into the task's region.";
    MANAGED_MASTER_SECRET = "managed-master-secret", Medium, false,
        "Container reads a service-managed master password",
        "Give the application its own database user, rotated with alternating users (ecs-secrets' secret-rotator), or use IAM database authentication. The service rotates the master password itself (RDS every 7 days by default, Redshift every 30): running tasks keep the old one until they are replaced, and fail new connections until then.";
    CONTAINER_DEFINITIONS_NOT_READ = "container-definitions-not-read", Info, false,
        "Container definitions computed outside this file",
        "Validate what the expression reads: the file passed to Terraform's file() or templatefile() (`.json`, `.json.tpl`), or the rendered task definition (`aws ecs describe-task-definition` output).";
    SECRET_NOT_FOUND = "secret-not-found", High, true,
        "Referenced secret or parameter does not exist",
        "Create the secret or parameter, or correct the reference; the task will fail to start with ResourceInitializationError.";
    EXECUTION_ROLE_CANNOT_READ_SECRET = "execution-role-cannot-read-secret", High, true,
        "Execution role may not read the secret",
        "Allow the execution role `secretsmanager:GetSecretValue` (or `ssm:GetParameters`) on the full resource ARN, and `kms:Decrypt` on the customer managed key; remove or narrow the denying statement.";
    PRIVILEGED_CONTAINER = "privileged-container", Medium, false,
        "Privileged container",
        "Remove `privileged: true`; grant only the Linux capabilities the container needs (`linuxParameters.capabilities.add`). Security Hub ECS.4.";
    ROOT_USER = "root-user", Medium, false,
        "Container runs as root",
        "Set `user` to a non-root UID (and build the image so it works as that user).";
    WRITABLE_ROOT_FILESYSTEM = "writable-root-filesystem", Low, false,
        "Writable root filesystem",
        "Set `readonlyRootFilesystem: true` and mount volumes where the container must write. Security Hub ECS.5.";
    HOST_NETWORK_MODE = "host-network-mode", Medium, false,
        "Host network mode",
        "Use `awsvpc` (or `bridge`) network mode; host mode shares the instance's network stack. Security Hub ECS.17.";
    MISSING_LOG_CONFIGURATION = "missing-log-configuration", Low, false,
        "Container without log configuration",
        "Add `logConfiguration` (e.g. the `awslogs` driver) so the container's output is kept. Security Hub ECS.9.";
    SAME_TASK_AND_EXECUTION_ROLE = "same-task-and-execution-role", Low, false,
        "Task role and execution role are the same",
        "Use separate roles: the execution role (ECS pulls images and reads secrets) should not be what the application runs with.";
    EXPIRED_SUPPRESSION = "expired-suppression", High, false,
        "Suppression past its expiry date",
        "Fix the finding the suppression covered (it is reported again), or review it and set a later `expires` in `.ecs-secrets.toml`; remove the entry when the finding is gone.";
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    CATALOG.iter().find(|r| r.id == id)
}

/// The key evidence fingerprints are made with (HMAC-SHA-256). Set by the user (the CLI's
/// `ECS_SECRETS_EVIDENCE_KEY` or `--evidence-key-parameter`, the Lambda's
/// `EVIDENCE_KEY_PARAMETER`); whoever lacks it cannot test a guessed value against a
/// fingerprint, which a plain hash of a weak password would allow.
#[derive(Clone, PartialEq, Eq)]
pub struct EvidenceKey(Vec<u8>);

impl EvidenceKey {
    /// Shortest key accepted.
    pub const MIN_BYTES: usize = 16;

    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, String> {
        let key = key.into();
        if key.len() < Self::MIN_BYTES {
            return Err(format!(
                "the evidence key must be at least {} bytes (it has {})",
                Self::MIN_BYTES,
                key.len()
            ));
        }
        Ok(EvidenceKey(key))
    }
}

impl fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EvidenceKey(…)")
    }
}

/// What was detected, without the value: its kind, its length and — under an evidence key
/// only — a keyed fingerprint that tells two findings of the same value apart.
///
/// Fields in alphabetical order, as in every serialized type of a finding: serialized
/// directly, a finding's keys come out in the order of its `serde_json::Value` (whose map is
/// sorted), so the streamed report ([`crate::report::Report::write_json`]) equals
/// [`crate::report::Report::to_json`] without building a value per finding.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// First 16 hex digits of HMAC-SHA-256(key, SHA-256(value)); absent without a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// What was found (`AWS access key id`): one of the detector's fixed kinds.
    pub kind: &'static str,
    pub length: usize,
    /// The value's SHA-256 between detection and [`Evidence::seal`]: never serialized, never
    /// printed (an unkeyed hash is a guessing oracle).
    #[serde(skip)]
    digest: Option<[u8; 32]>,
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("kind", &self.kind)
            .field("length", &self.length)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Evidence {
    pub fn of(kind: &'static str, value: &str) -> Self {
        use sha2::{Digest, Sha256};
        Evidence {
            kind,
            length: value.chars().count(),
            fingerprint: None,
            digest: Some(Sha256::digest(value.as_bytes()).into()),
        }
    }

    /// Replaces the value's digest by its keyed fingerprint (or by nothing, without a key).
    pub fn seal(&mut self, key: Option<&EvidenceKey>) {
        use hmac::{Hmac, KeyInit, Mac};
        let digest = self.digest.take();
        let (Some(digest), Some(key)) = (digest, key) else {
            return;
        };
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key.0) else {
            return;
        };
        mac.update(&digest);
        let tag = mac.finalize().into_bytes();
        self.fingerprint = Some(tag[..8].iter().map(|b| format!("{b:02x}")).collect());
    }
}

/// The answer of the IAM evaluation, for `execution-role-cannot-read-secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    // Fields in alphabetical order (see [`Evidence`]).
    pub action: String,
    /// `allowed`, `denied` or `unknown`.
    pub decision: String,
    pub resource: String,
    /// The statement that decided, as `policy-name#Sid` or `policy-name#index`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

/// One finding. Fields in alphabetical order (see [`Evidence`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Boxed: only the live IAM rule fills it, and a finding is kept by the ten thousand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Box<Access>>,
    pub container: Option<Shared>,
    /// Boxed: most findings have none, and a finding is moved several times on its way to
    /// the report (the evidence would make every one of them a third larger).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Box<Evidence>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Shared>,
    /// 1-based line in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What was found. Most rules say it in fixed words, held without a copy per finding.
    pub message: Cow<'static, str>,
    /// JSON pointer into the task definition.
    pub pointer: String,
    pub remediation: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    /// The task definition: its family (or CloudFormation logical id).
    pub task_definition: Shared,
}

/// A string many findings share — the file, the task definition, the container — held once,
/// not copied into each finding (a scan keeps its findings by the hundred thousand).
pub type Shared = std::sync::Arc<str>;

/// The empty [`Shared`] a new finding starts with: cloned, not allocated, per finding, and
/// one per thread (the scan's threads would otherwise all count references on one).
fn empty() -> Shared {
    thread_local! {
        static EMPTY: Shared = Shared::from("");
    }
    EMPTY.with(Shared::clone)
}

impl Finding {
    /// A finding of `rule` with the rule's default severity.
    pub fn new(
        rule_id: &'static str,
        pointer: impl Into<String>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        let r = rule(rule_id);
        Finding {
            rule: rule_id,
            severity: r.map_or(Severity::Medium, |r| r.severity),
            file: None,
            task_definition: empty(),
            container: None,
            pointer: pointer.into(),
            line: None,
            message: message.into(),
            remediation: r.map_or("", |r| r.remediation),
            evidence: None,
            access: None,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn container(mut self, container: Option<&str>) -> Self {
        self.container = container.map(Shared::from);
        self
    }

    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = Some(Box::new(evidence));
        self
    }

    /// A stable fingerprint: rule, file, task definition, pointer and the evidence's keyed
    /// fingerprint (when there is a key).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.rule,
            self.file.as_deref().unwrap_or(""),
            &self.task_definition,
            &self.pointer,
            self.evidence
                .as_ref()
                .and_then(|e| e.fingerprint.as_deref())
                .unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
