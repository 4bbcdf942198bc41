//! The Lambda's configuration, read once at cold start from the environment; a value that
//! cannot be used stops the function with an error naming the variable.

use ecs_secrets_shared::env::Env;
use ecs_secrets_shared::ConfigError;

use crate::finding::Severity;

/// The Lambda's configuration (environment).
#[derive(Debug, Clone)]
pub struct Config {
    /// `EVENT_BUS_NAME` (default `default`); `PUBLISH_EVENTS=false` turns publishing off.
    pub event_bus: Option<String>,
    /// `SECURITY_HUB=true`: import findings as ASFF.
    pub security_hub: bool,
    /// `ENFORCE=true`: deregister a revision with a critical finding.
    pub enforce: bool,
    /// `EVIDENCE_KEY_PARAMETER`: the SecureString parameter holding the evidence key.
    pub evidence_key_parameter: Option<String>,
    /// `HOOK_FAIL_ON` (default `high`): the CloudFormation hook fails an operation with a
    /// finding at or above this severity; `never` only reports.
    pub hook_fail_on: Option<Severity>,
    /// `HOOK_LIVE=true`: the hook also runs the live checks. Off by default: whoever may
    /// deploy a stack reads the hook's answer in the stack events, and the live checks would
    /// tell them what the function's role can see (which secrets exist, what a role's policies
    /// allow).
    pub hook_live: bool,
}

impl Config {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Config {
            event_bus: env.flag("PUBLISH_EVENTS", true)?.then(|| {
                env.text("EVENT_BUS_NAME")
                    .unwrap_or_else(|| "default".to_owned())
            }),
            security_hub: env.flag("SECURITY_HUB", false)?,
            enforce: env.flag("ENFORCE", false)?,
            evidence_key_parameter: env.text("EVIDENCE_KEY_PARAMETER"),
            hook_live: env.flag("HOOK_LIVE", false)?,
            hook_fail_on: match env
                .text("HOOK_FAIL_ON")
                .map(|v| v.to_ascii_lowercase())
                .as_deref()
            {
                None => Some(Severity::High),
                Some("never") => None,
                Some(raw) => Some(Severity::parse(raw).ok_or_else(|| {
                    ConfigError::invalid(
                        "HOOK_FAIL_ON",
                        format!(
                            "`{raw}` is not a severity (critical, high, medium, low, info) or never"
                        ),
                    )
                })?),
            },
        })
    }
}
