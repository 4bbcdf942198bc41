//! The Lambda's configuration, read once at cold start from the environment; a value that
//! cannot be used stops the function with an error naming the variable.

use ecs_secrets_shared::env::Env;
use ecs_secrets_shared::ConfigError;

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
        })
    }
}
