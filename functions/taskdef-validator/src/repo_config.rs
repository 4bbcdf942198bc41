//! The repository's configuration of `ecs-secrets validate`: `.ecs-secrets.toml`.
//!
//! ```toml
//! [rules]
//! disable = ["root-user"]                      # findings of these rules are dropped
//! [rules.severity]
//! "writable-root-filesystem" = "info"          # every finding of the rule gets this severity
//!
//! [[suppress]]                                 # a reviewed finding: reported as suppressed
//! rule = "plaintext-secret"
//! file = "ecs/legacy.json"                     # relative to this file's directory
//! task-definition = "legacy"                   # optional: any task definition of the file
//! pointer = "/containerDefinitions/0/environment/3/value"  # optional: any pointer
//! reason = "test account key, no access; INC-1234"         # required, non-empty
//! expires = 2027-03-01                         # optional: from this day on, it is a finding
//! ```
//!
//! Everything is checked before any file is: an unknown key, an unknown rule id, a bad severity
//! or date and a missing or empty reason are errors naming the key and the line. The Lambda
//! does not read this file (its configuration is its environment, [`crate::config`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::finding::{self, rule, Severity};

/// The file looked for in the current directory.
pub const FILE_NAME: &str = ".ecs-secrets.toml";

/// The configuration, checked.
#[derive(Debug, Clone, Default)]
pub struct RepoConfig {
    /// The file as the user named it (or [`FILE_NAME`]): where expired-suppression findings
    /// point.
    pub path: String,
    /// The directory suppression paths are relative to (absolute, normalised).
    pub dir: PathBuf,
    pub disabled: BTreeSet<&'static str>,
    pub severity: BTreeMap<&'static str, Severity>,
    pub suppressions: Vec<Suppression>,
}

/// One `[[suppress]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rule: &'static str,
    /// As written in the config.
    pub file: String,
    /// The file relative to the config's directory (or absolute, when outside it).
    pub file_key: String,
    pub task_definition: Option<String>,
    pub pointer: Option<String>,
    pub reason: String,
    /// The first day the suppression no longer applies.
    pub expires: Option<NaiveDate>,
    /// Line of the entry in the config file.
    pub line: usize,
}

impl Suppression {
    /// Whether the suppression has expired on `today` (it applies up to the day before
    /// `expires`).
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|e| today >= e)
    }

    /// `rule in file[ (task definition)][ at pointer]`, for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("{} in {}", self.rule, self.file);
        if let Some(t) = &self.task_definition {
            s.push_str(&format!(" (task definition {t})"));
        }
        match &self.pointer {
            Some(p) => s.push_str(&format!(" at {p}")),
            None => s.push_str(" (every pointer)"),
        }
        s
    }
}

/// A configuration that cannot be used: the file, the line (when known) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigFileError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    rules: Option<RawRules>,
    #[serde(default)]
    suppress: Vec<Spanned<RawSuppress>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSuppress {
    rule: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    task_definition: Option<Spanned<String>>,
    pointer: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    /// A TOML date or a `YYYY-MM-DD` string; anything else is an error naming the key.
    expires: Option<Spanned<toml::Value>>,
}

impl RepoConfig {
    /// Reads and checks the file at `path` (as the user named it); relative paths are taken
    /// from `cwd`.
    pub fn load(path: &str, cwd: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(cwd.join(path)).map_err(|e| ConfigFileError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        let dir = normalise(&cwd.join(path))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::parse(&text, path, &dir)
    }

    /// Checks `text`, the config file `path` in directory `dir` (absolute).
    pub fn parse(text: &str, path: &str, dir: &Path) -> Result<Self, ConfigFileError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let error = |offset: Option<usize>, message: String| ConfigFileError {
            path: path.to_owned(),
            line: offset.map(line_of),
            message,
        };
        let raw: Raw = toml::from_str(text)
            .map_err(|e| error(e.span().map(|s| s.start), e.message().trim_end().to_owned()))?;
        let known_rule = |key: &str,
                          id: &Spanned<String>|
         -> Result<&'static str, ConfigFileError> {
            let r = finding::rule(id.get_ref()).ok_or_else(|| {
                error(
                    Some(id.span().start),
                    format!("{key}: unknown rule id `{}`", id.get_ref()),
                )
            })?;
            if r.id == rule::EXPIRED_SUPPRESSION {
                return Err(error(
                    Some(id.span().start),
                    format!(
                        "{key}: `{}` cannot be disabled, re-ranked or suppressed: renew or remove the expired suppression",
                        r.id
                    ),
                ));
            }
            Ok(r.id)
        };
        let mut config = RepoConfig {
            path: path.to_owned(),
            dir: dir.to_path_buf(),
            ..RepoConfig::default()
        };
        if let Some(rules) = raw.rules {
            for id in &rules.disable {
                config.disabled.insert(known_rule("rules.disable", id)?);
            }
            for (id, severity) in &rules.severity {
                // The key's own span is not kept: the value's line is the key's line.
                let key = Spanned::new(severity.span(), id.clone());
                let r = known_rule("rules.severity", &key)?;
                let s = Severity::parse(severity.get_ref()).ok_or_else(|| {
                    error(
                        Some(severity.span().start),
                        format!(
                            "rules.severity.\"{id}\": `{}` is not a severity (critical, high, medium, low, info)",
                            severity.get_ref()
                        ),
                    )
                })?;
                config.severity.insert(r, s);
            }
        }
        for (index, entry) in raw.suppress.iter().enumerate() {
            let at = entry.span().start;
            let entry = entry.get_ref();
            let key = |name: &str| format!("suppress[{index}].{name}");
            let required = |name: &str, value: &Option<Spanned<String>>| match value {
                Some(v) if !v.get_ref().trim().is_empty() => Ok(v.get_ref().trim().to_owned()),
                Some(v) => Err(error(
                    Some(v.span().start),
                    format!("{}: must not be empty", key(name)),
                )),
                None => Err(error(
                    Some(at),
                    format!(
                        "{}: missing{}",
                        key(name),
                        if name == "reason" {
                            " (every suppression says why the finding is accepted)"
                        } else {
                            ""
                        }
                    ),
                )),
            };
            let rule_id = match &entry.rule {
                Some(r) => known_rule(&key("rule"), r)?,
                None => {
                    return Err(error(Some(at), format!("{}: missing", key("rule"))));
                }
            };
            let file = required("file", &entry.file)?;
            let reason = required("reason", &entry.reason)?;
            let pointer = match &entry.pointer {
                Some(p) if p.get_ref().starts_with('/') => Some(p.get_ref().clone()),
                Some(p) => {
                    return Err(error(
                        Some(p.span().start),
                        format!(
                            "{}: a JSON pointer starts with `/` (e.g. /containerDefinitions/0/environment/1/value)",
                            key("pointer")
                        ),
                    ))
                }
                None => None,
            };
            let task_definition = match &entry.task_definition {
                Some(_) => Some(required("task-definition", &entry.task_definition)?),
                None => None,
            };
            let expires = match &entry.expires {
                None => None,
                Some(d) => Some(date(d.get_ref()).ok_or_else(|| {
                    error(
                        Some(d.span().start),
                        format!("{}: not a date; write YYYY-MM-DD", key("expires")),
                    )
                })?),
            };
            config.suppressions.push(Suppression {
                rule: rule_id,
                file_key: file_key(&file, dir, dir),
                file,
                task_definition,
                pointer,
                reason,
                expires,
                line: line_of(at),
            });
        }
        Ok(config)
    }

    /// The suppression paths of `file` (a finding's file as the user passed it, from `cwd`)
    /// are compared with.
    pub fn key_of(&self, file: &str, cwd: &Path) -> String {
        file_key(file, cwd, &self.dir)
    }
}

fn date(raw: &toml::Value) -> Option<NaiveDate> {
    match raw {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let d = d.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        toml::Value::String(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// `file` (relative to `base`, or absolute) relative to `dir`, lexically normalised, with `/`
/// separators; absolute when it is outside `dir`. `-` (stdin) is itself.
pub fn file_key(file: &str, base: &Path, dir: &Path) -> String {
    if file == "-" {
        return file.to_owned();
    }
    let full = normalise(&base.join(file));
    match full.strip_prefix(normalise(dir)) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => full.to_string_lossy().into_owned(),
    }
}

/// `.` and `..` resolved without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RepoConfig, ConfigFileError> {
        RepoConfig::parse(text, ".ecs-secrets.toml", Path::new("/repo"))
    }

    fn err(text: &str) -> ConfigFileError {
        parse(text).expect_err("an error")
    }

    #[test]
    fn a_full_config_is_read() {
        let c = parse(
            r#"
[rules]
disable = ["root-user"]
[rules.severity]
"writable-root-filesystem" = "info"

[[suppress]]
rule = "plaintext-secret"
file = "./ecs/../ecs/legacy.json"
pointer = "/containerDefinitions/0/environment/3/value"
reason = "test key"
expires = 2027-03-01

[[suppress]]
rule = "root-user"
file = "ecs/a.json"
task-definition = "a"
reason = "  vendor image  "
expires = "2026-12-31"
"#,
        )
        .expect("valid");
        assert_eq!(c.disabled, BTreeSet::from(["root-user"]));
        assert_eq!(c.severity["writable-root-filesystem"], Severity::Info);
        assert_eq!(c.suppressions.len(), 2);
        let s = &c.suppressions[0];
        assert_eq!(s.file_key, "ecs/legacy.json");
        assert_eq!(s.line, 7);
        assert_eq!(s.expires, NaiveDate::from_ymd_opt(2027, 3, 1));
        let t = &c.suppressions[1];
        assert_eq!(t.reason, "vendor image");
        assert_eq!(t.pointer, None);
        assert_eq!(t.task_definition.as_deref(), Some("a"));
        assert_eq!(t.line, 14);
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
        assert!(!t.expired(day(30)));
        assert!(t.expired(day(31)), "expired on its expiry day");
        assert!(parse("").expect("empty").suppressions.is_empty());
    }

    #[test]
    fn a_missing_or_empty_reason_is_an_error_at_the_entry() {
        let e = err("[[suppress]]\nrule = \"root-user\"\nfile = \"a.json\"\n");
        assert_eq!(e.line, Some(1), "{e}");
        assert!(e.message.contains("suppress[0].reason: missing"), "{e}");
        let e = err(
            "[[suppress]]\nrule = \"root-user\"\nfile = \"a.json\"\nreason = \"ok\"\n\n[[suppress]]\nrule = \"root-user\"\nfile = \"b.json\"\nreason = \"   \"\n",
        );
        assert_eq!(e.line, Some(9), "{e}");
        assert!(
            e.message.contains("suppress[1].reason: must not be empty"),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            ".ecs-secrets.toml:9: suppress[1].reason: must not be empty"
        );
    }

    #[test]
    fn unknown_keys_rules_severities_and_dates_are_errors_with_lines() {
        let e = err("[rules]\ndisable = [\"root-user\"]\nenable = [\"x\"]\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("enable"), "{e}");

        let e = err("[[suppress]]\nrule = \"root-user\"\nfile = \"a\"\nreason = \"r\"\nexpiry = 2027-01-01\n");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("expiry"), "{e}");

        let e = err("[rules]\ndisable = [\"root-user\", \"no-such-rule\"]\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.message
                .contains("rules.disable: unknown rule id `no-such-rule`"),
            "{e}"
        );

        let e = err("[rules.severity]\n\"root-user\" = \"severe\"\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("`severe` is not a severity"), "{e}");

        let e = err("[rules.severity]\n\"rooot-user\" = \"low\"\n");
        assert!(
            e.message
                .contains("rules.severity: unknown rule id `rooot-user`"),
            "{e}"
        );

        for bad in [
            "\"2027-02-30\"",
            "\"next year\"",
            "2027-01-01T10:00:00Z",
            "20270101",
        ] {
            let e = err(&format!(
                "[[suppress]]\nrule = \"root-user\"\nfile = \"a\"\nreason = \"r\"\nexpires = {bad}\n"
            ));
            assert_eq!(e.line, Some(5), "{bad}: {e}");
            assert!(e.message.contains("expires"), "{bad}: {e}");
        }

        let e = err("[[suppress]]\nrule = \"root-user\"\nfile = \"a\"\nreason = \"r\"\npointer = \"containerDefinitions/0\"\n");
        assert!(e.message.contains("suppress[0].pointer"), "{e}");

        let e = err("[[suppress]]\nfile = \"a\"\nreason = \"r\"\n");
        assert!(e.message.contains("suppress[0].rule: missing"), "{e}");
        let e = err("[[suppress]]\nrule = \"root-user\"\nreason = \"r\"\n");
        assert!(e.message.contains("suppress[0].file: missing"), "{e}");

        let e = err("[rules]\ndisable = [\"expired-suppression\"]\n");
        assert!(e.message.contains("cannot be disabled"), "{e}");

        let e = err("[rules\n");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn files_are_keyed_relative_to_the_config_directory() {
        let dir = Path::new("/repo");
        assert_eq!(file_key("ecs/a.json", dir, dir), "ecs/a.json");
        assert_eq!(file_key("./ecs/a.json", dir, dir), "ecs/a.json");
        assert_eq!(
            file_key("/repo/ecs/a.json", Path::new("/elsewhere"), dir),
            "ecs/a.json"
        );
        assert_eq!(
            file_key("a.json", Path::new("/repo/ecs"), dir),
            "ecs/a.json"
        );
        assert_eq!(file_key("../b.json", Path::new("/repo/ecs"), dir), "b.json");
        assert_eq!(file_key("/other/a.json", dir, dir), "/other/a.json");
        assert_eq!(file_key("-", dir, dir), "-");
    }
}
