//! The password policy, from the same environment variables as the AWS rotation templates, so
//! a function migrated from them keeps its settings. Validated once at start-up: a typo in a
//! boolean is a configuration error, not a silently different policy.

use ecs_secrets_shared::env::Env;
use ecs_secrets_shared::ConfigError;

/// Arguments of `GetRandomPassword`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub length: u16,
    pub exclude_characters: String,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub require_each_included_type: bool,
}

/// Characters the AWS templates exclude by default: they break connection strings and shells.
pub const DEFAULT_EXCLUDE_CHARACTERS: &str = ":/@\"'\\";

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            length: 32,
            exclude_characters: DEFAULT_EXCLUDE_CHARACTERS.to_owned(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            require_each_included_type: true,
        }
    }
}

impl PasswordPolicy {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let d = Self::default();
        let length = env.number("PASSWORD_LENGTH", 1..=4096, d.length)?;
        let policy = Self {
            length,
            exclude_characters: env
                .raw("EXCLUDE_CHARACTERS")
                .unwrap_or(d.exclude_characters),
            exclude_numbers: env.flag("EXCLUDE_NUMBERS", d.exclude_numbers)?,
            exclude_punctuation: env.flag("EXCLUDE_PUNCTUATION", d.exclude_punctuation)?,
            exclude_uppercase: env.flag("EXCLUDE_UPPERCASE", d.exclude_uppercase)?,
            exclude_lowercase: env.flag("EXCLUDE_LOWERCASE", d.exclude_lowercase)?,
            require_each_included_type: env
                .flag("REQUIRE_EACH_INCLUDED_TYPE", d.require_each_included_type)?,
        };
        if policy.exclude_numbers
            && policy.exclude_punctuation
            && policy.exclude_uppercase
            && policy.exclude_lowercase
        {
            return Err(ConfigError::invalid(
                "EXCLUDE_*",
                "every character type is excluded; no password can be generated",
            ));
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn policy(pairs: &[(&str, &str)]) -> Result<PasswordPolicy, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        PasswordPolicy::from_lookup(|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_match_the_aws_templates() {
        let p = policy(&[]).unwrap();
        assert_eq!(p, PasswordPolicy::default());
        assert_eq!(p.length, 32);
        assert_eq!(p.exclude_characters, ":/@\"'\\");
        assert!(p.require_each_included_type);
    }

    #[test]
    fn values_are_read_and_booleans_are_lenient_about_spelling() {
        let p = policy(&[
            ("PASSWORD_LENGTH", "64"),
            ("EXCLUDE_CHARACTERS", "abc"),
            ("EXCLUDE_NUMBERS", "YES"),
            ("EXCLUDE_PUNCTUATION", "1"),
            ("EXCLUDE_UPPERCASE", "True"),
            ("EXCLUDE_LOWERCASE", "no"),
            ("REQUIRE_EACH_INCLUDED_TYPE", "0"),
        ])
        .unwrap();
        assert_eq!(p.length, 64);
        assert_eq!(p.exclude_characters, "abc");
        assert!(p.exclude_numbers && p.exclude_punctuation && p.exclude_uppercase);
        assert!(!p.exclude_lowercase && !p.require_each_included_type);
        assert_eq!(policy(&[("PASSWORD_LENGTH", "4096")]).unwrap().length, 4096);
        assert_eq!(policy(&[("PASSWORD_LENGTH", "1")]).unwrap().length, 1);
        assert_eq!(
            policy(&[("EXCLUDE_CHARACTERS", "")])
                .unwrap()
                .exclude_characters,
            ""
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (pairs, needle) in [
            (vec![("PASSWORD_LENGTH", "0")], "PASSWORD_LENGTH"),
            (vec![("PASSWORD_LENGTH", "4097")], "1 to 4096"),
            (vec![("PASSWORD_LENGTH", "thirty")], "`thirty`"),
            (vec![("EXCLUDE_NUMBERS", "maybe")], "EXCLUDE_NUMBERS"),
            (
                vec![("REQUIRE_EACH_INCLUDED_TYPE", "y")],
                "REQUIRE_EACH_INCLUDED_TYPE",
            ),
            (
                vec![
                    ("EXCLUDE_NUMBERS", "true"),
                    ("EXCLUDE_PUNCTUATION", "true"),
                    ("EXCLUDE_UPPERCASE", "true"),
                    ("EXCLUDE_LOWERCASE", "true"),
                ],
                "every character type",
            ),
        ] {
            let err = policy(&pairs).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
