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
//!
//! The credential rules ([`CREDENTIAL_RULES`]) fail closed: they cannot be disabled or ranked
//! below high, and a suppression of one must name its pointer (a file-wide suppression would
//! hide every credential committed there later); with an evidence key, `fingerprint` pins it to
//! the value reviewed, so another credential written at the same place is a finding again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::finding::{self, rule, Severity};

/// The file looked for in the current directory.
pub const FILE_NAME: &str = ".ecs-secrets.toml";

/// The largest config read: a reviewed list of suppressions is kilobytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The rules that find credentials: never disabled or ranked below high, suppressed only one
/// place at a time.
pub const CREDENTIAL_RULES: [&str; 3] = [
    rule::PLAINTEXT_SECRET,
    rule::SECRET_IN_COMMAND,
    rule::PLAINTEXT_DYNAMIC_REFERENCE,
];

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
    /// The evidence fingerprint of the value reviewed (with an evidence key): another value at
    /// the same place does not match.
    pub fingerprint: Option<String>,
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
    fingerprint: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    /// A TOML date or a `YYYY-MM-DD` string; anything else is an error naming the key.
    expires: Option<Spanned<toml::Value>>,
}

impl RepoConfig {
    /// Reads and checks the file at `path` (as the user named it); relative paths are taken
    /// from `cwd`.
    pub fn load(path: &str, cwd: &Path) -> Result<Self, ConfigFileError> {
        use std::io::Read;
        let cannot = |message: String| ConfigFileError {
            path: path.to_owned(),
            line: None,
            message,
        };
        let mut text = String::new();
        std::fs::File::open(cwd.join(path))
            .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| cannot(format!("cannot read: {e}")))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(cannot(format!(
                "larger than the limit of {MAX_CONFIG_BYTES} bytes"
            )));
        }
        let dir = normalise(&cwd.join(path))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::parse(&text, path, &dir)
    }

    /// Checks `text`, the config file `path` in directory `dir` (absolute).
    pub fn parse(text: &str, path: &str, dir: &Path) -> Result<Self, ConfigFileError> {
        // Line starts once: an entry's line is a binary search, not a scan from the start.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).max(1);
        let error = |offset: Option<usize>, message: String| ConfigFileError {
            path: path.to_owned(),
            line: offset.map(line_of),
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            error(
                e.span().map(|s| s.start),
                without_value(e.message().trim_end()),
            )
        })?;
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
                let r = known_rule("rules.disable", id)?;
                if CREDENTIAL_RULES.contains(&r) {
                    return Err(error(
                        Some(id.span().start),
                        format!("rules.disable: `{r}` finds credentials and cannot be disabled; suppress its findings one by one with a reason"),
                    ));
                }
                config.disabled.insert(r);
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
                if CREDENTIAL_RULES.contains(&r) && s < Severity::High {
                    return Err(error(
                        Some(severity.span().start),
                        format!("rules.severity.\"{id}\": `{r}` finds credentials and cannot be ranked below high; suppress its findings one by one with a reason"),
                    ));
                }
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
            if pointer.is_none() && CREDENTIAL_RULES.contains(&rule_id) {
                return Err(error(
                    Some(at),
                    format!("{}: missing; a suppression of `{rule_id}` names the one place it accepts (a file-wide one would hide every credential committed there later)", key("pointer")),
                ));
            }
            let fingerprint = match &entry.fingerprint {
                Some(f) if f.get_ref().len() == 16 && f.get_ref().bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some(f.get_ref().to_ascii_lowercase())
                }
                Some(f) => {
                    return Err(error(
                        Some(f.span().start),
                        format!("{}: an evidence fingerprint is 16 hexadecimal digits (the finding's evidence.fingerprint)", key("fingerprint")),
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
                fingerprint,
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

/// A TOML or serde message without the value it quotes (`invalid type: string "…", expected a
/// sequence` → `invalid type: a string, expected a sequence`): what a config holds is not
/// repeated.
fn without_value(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or("value");
            let expected = rest.find(", expected").map_or("", |i| &rest[i..]);
            return format!("{prefix}a {kind}{expected}");
        }
    }
    message.to_owned()
}

fn date(raw: &toml::Value) -> Option<NaiveDate> {
    match raw {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let d = d.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        // Exactly YYYY-MM-DD: chrono alone would take a sign, more digits or spaces.
        toml::Value::String(t)
            if t.len() == 10
                && t.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                }) =>
        {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
        }
        _ => None,
    }
}

/// `file` (relative to `base`, or absolute) relative to `dir`, lexically normalised, with `/`
/// separators; absolute when it is outside `dir`. `-` (stdin) and a revision's ARN
/// (`validate --account`) are themselves.
pub fn file_key(file: &str, base: &Path, dir: &Path) -> String {
    if file == "-" || file.starts_with("arn:") {
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

    #[test]
    fn credential_rules_fail_closed() {
        for (text, needle) in [
            ("[rules]\ndisable = [\"plaintext-secret\"]\n", "cannot be disabled"),
            ("[rules.severity]\n\"secret-in-command\" = \"medium\"\n", "cannot be ranked below high"),
            (
                "[[suppress]]\nrule = \"plaintext-secret\"\nfile = \"a.json\"\nreason = \"old\"\n",
                "suppress[0].pointer: missing",
            ),
            (
                "[[suppress]]\nrule = \"plaintext-secret\"\nfile = \"a.json\"\npointer = \"/x\"\nfingerprint = \"abc\"\nreason = \"old\"\n",
                "suppress[0].fingerprint",
            ),
        ] {
            let e = err(text).to_string();
            assert!(e.contains(needle), "{e}");
        }
        // Ranking a credential rule up, and suppressing one place with its value's fingerprint, are fine.
        let c = parse(&format!(
            "[rules.severity]\n\"plaintext-dynamic-reference\" = \"critical\"\n[[suppress]]\nrule = \"plaintext-secret\"\nfile = \"a.json\"\npointer = \"/x\"\nfingerprint = \"{}\"\nreason = \"revoked\"\n",
            "AB".repeat(8)
        ))
        .expect("valid");
        assert_eq!(
            c.suppressions[0].fingerprint.as_deref(),
            Some("ab".repeat(8).as_str())
        );
    }

    #[test]
    fn expiry_is_exactly_a_date_and_type_errors_repeat_no_value() {
        for bad in [
            "+99999-01-01",
            " 2027-01-01",
            "2027-1-1",
            "-0001-01-01",
            "2027-02-30",
        ] {
            let e = err(&format!(
                "[[suppress]]\nrule = \"root-user\"\nfile = \"a.json\"\nreason = \"r\"\nexpires = \"{bad}\"\n"
            ))
            .to_string();
            assert!(e.contains("suppress[0].expires"), "{bad}: {e}");
        }
        let e =
            err("[rules]\ndisable = \"ghp_Xk9mP2vL7qR4tY8wZ3nB6cD1fG5hJ0sA2eUi\"\n").to_string();
        assert!(!e.contains("ghp_"), "{e}");
        assert!(e.contains(":2:") && e.contains("invalid type"), "{e}");
    }

    #[test]
    fn revisions_and_stdin_are_their_own_keys() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3";
        assert_eq!(file_key(arn, Path::new("/repo"), Path::new("/repo")), arn);
        assert_eq!(file_key("-", Path::new("/repo/x"), Path::new("/repo")), "-");
    }
}
