//! Parsing configuration values from the environment, the same way in every function: a value
//! that cannot be used is an error naming the variable, never a silent default.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::error::ConfigError;

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
    fn numbers() {
        assert_eq!(number("N", " 5 ", 1..=10).unwrap(), 5);
        assert_eq!(number("N", "0.5", 0.1..=50.0).unwrap(), 0.5);
        for raw in ["0", "11", "x", "", "-1"] {
            let err = number("N", raw, 1u32..=10).unwrap_err().to_string();
            assert!(err.contains("N") && err.contains("1 to 10"), "{err}");
        }
    }
}
