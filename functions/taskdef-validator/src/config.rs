//! The Lambda's configuration, read once at cold start from the environment; a value that
//! cannot be used stops the function with an error naming the variable.

use ecs_secrets_shared::env;
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
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let flag = |k: &str, default: bool| get(k).map_or(Ok(default), |v| env::boolean(k, &v));
        Ok(Config {
            event_bus: flag("PUBLISH_EVENTS", true)?
                .then(|| get("EVENT_BUS_NAME").unwrap_or_else(|| "default".to_owned())),
            security_hub: flag("SECURITY_HUB", false)?,
            enforce: flag("ENFORCE", false)?,
            evidence_key_parameter: get("EVIDENCE_KEY_PARAMETER"),
        })
    }
}
