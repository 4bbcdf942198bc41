//! Reading configuration from the environment, the same way in every function and the CLI: an
//! unset or blank variable takes its default, a value that cannot be used is an error naming the
//! variable, never a silent default. [`Env`] reads through any lookup (the process environment,
//! or a map in tests); [`boolean`] and [`number`] are its parsers.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::error::ConfigError;

/// The environment as a function reads it: through a lookup, so tests pass a map.
pub struct Env<F> {
    lookup: F,
}

impl<F> std::fmt::Debug for Env<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Env { lookup }
    }

    /// The value, trimmed; `None` when unset or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value exactly as set (no trimming), `None` when unset: for values where spaces
    /// count, such as a set of characters to exclude.
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// A boolean ([`boolean`]), `default` when unset or blank.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        self.text(name)
            .map_or(Ok(default), |raw| boolean(name, &raw))
    }

    /// A number within `range` ([`number`]), `default` when unset or blank.
    pub fn number<T>(
        &self,
        name: &str,
        range: RangeInclusive<T>,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display,
    {
        self.text(name)
            .map_or(Ok(default), |raw| number(name, &raw, range))
    }
}

/// `true/false`, `1/0`, `yes/no`, any case, surrounding spaces ignored.
pub fn boolean(name: &str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError::invalid(
            name,
            format!("`{raw}` is not a boolean (use true/false, 1/0 or yes/no)"),
        )),
    }
}

/// A number within `range`.
pub fn number<T>(name: &str, raw: &str, range: RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Display,
{
    raw.trim()
        .parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ConfigError::invalid(
                name,
                format!(
                    "`{raw}` is not a number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for (raw, want) in [
            ("true", true),
            (" YES ", true),
            ("1", true),
            ("False", false),
            ("no", false),
            ("0", false),
        ] {
            assert_eq!(boolean("B", raw).unwrap(), want, "{raw}");
        }
        let err = boolean("DRY_RUN", "perhaps").unwrap_err().to_string();
        assert!(
            err.contains("DRY_RUN") && err.contains("`perhaps`"),
            "{err}"
        );
    }

    #[test]
    fn a_reader_over_any_lookup() {
        let vars: std::collections::HashMap<&str, &str> = [
            ("ON", " yes "),
            ("BLANK", "  "),
            ("N", "7"),
            ("BAD", "70"),
            ("SPACES", " a "),
        ]
        .into_iter()
        .collect();
        let env = Env::new(|k: &str| vars.get(k).map(|v| v.to_string()));
        assert!(env.flag("ON", false).unwrap());
        assert!(env.flag("BLANK", true).unwrap(), "blank is unset");
        assert!(!env.flag("UNSET", false).unwrap());
        assert_eq!(env.number("N", 1..=10, 5).unwrap(), 7);
        assert_eq!(env.number("UNSET", 1..=10, 5).unwrap(), 5);
        let err = env.number("BAD", 1..=10, 5).unwrap_err().to_string();
        assert!(err.contains("BAD") && err.contains("1 to 10"), "{err}");
        assert_eq!(env.text("SPACES").as_deref(), Some("a"));
        assert_eq!(env.raw("SPACES").as_deref(), Some(" a "));
        assert_eq!(env.text("BLANK"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(number("N", " 5 ", 1..=10).unwrap(), 5);
        assert_eq!(number("N", "0.5", 0.1..=50.0).unwrap(), 0.5);
        for raw in ["0", "11", "x", "", "-1"] {
            let err = number("N", raw, 1u32..=10).unwrap_err().to_string();
            assert!(err.contains("N") && err.contains("1 to 10"), "{err}");
        }
    }
}
