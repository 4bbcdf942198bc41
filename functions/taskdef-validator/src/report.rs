//! The report and its three renderings: text for people, JSON for scripts (and the Lambda's
//! response), SARIF 2.1.0 for code-scanning tools.
//!
//! SARIF results carry the rule id, `security-severity` (GitHub's severity bands), the file
//! and line, and a `partialFingerprints` hash of rule, file, task definition, pointer and
//! evidence hash, so an alert stays the same alert across commits and line moves.
//!
//! Suppressed findings (by the repository's config or a baseline, see [`crate::triage`]) are
//! kept apart: out of the counts and the exit code, listed under `suppressed` in JSON, a
//! summary line in text, and SARIF results with `suppressions` (SARIF 2.1.0 §3.35).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use crate::finding::{Finding, Severity, CATALOG};

mod json;

/// A file (or event) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    // Fields in alphabetical order (see [`crate::finding::Evidence`]).
    pub column: usize,
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// Everything one run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Task definitions checked.
    pub checked: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputProblem>,
    /// Whether the live rules ran.
    pub live: bool,
    /// What the Lambda did about the report (event published, findings imported, deregistered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Findings accepted by the repository's config or a baseline: not counted, not failing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    /// Fingerprints of findings an expired `[[suppress]]` entry covered: reported again, and
    /// neither a baseline nor `--write-baseline` may accept them (that is settled in the
    /// config).
    #[serde(skip)]
    pub reopened: std::collections::BTreeSet<String>,
}

/// The report's order: file, task definition, severity (worst first), pointer, rule.
fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    // One file's findings share its name and their task definition's (one allocation each):
    // the same allocation is equal without reading it.
    let file = match (&a.file, &b.file) {
        (Some(x), Some(y)) if std::sync::Arc::ptr_eq(x, y) => std::cmp::Ordering::Equal,
        (x, y) => x.cmp(y),
    };
    let task_definition = || {
        if std::sync::Arc::ptr_eq(&a.task_definition, &b.task_definition) {
            std::cmp::Ordering::Equal
        } else {
            a.task_definition.cmp(&b.task_definition)
        }
    };
    file.then_with(task_definition)
        .then_with(|| (b.severity, &a.pointer, a.rule).cmp(&(a.severity, &b.pointer, b.rule)))
}

/// Who accepted a suppressed finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `[[suppress]]` entry of `.ecs-secrets.toml`, with its reason.
    Config,
    /// An entry of the baseline file (`--baseline`).
    Baseline,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionNote {
    pub kind: SuppressionKind,
    /// The config entry's reason, or `in baseline FILE`.
    pub reason: String,
    /// `config-file:line` or the baseline file.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding that was suppressed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub suppression: SuppressionNote,
}

impl Report {
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        // Counted by the severity's place, then named: a map keyed by name was looked up once
        // per finding.
        let mut by_severity = [0usize; Severity::ALL.len()];
        for f in &self.findings {
            by_severity[f.severity as usize] += 1;
        }
        Severity::ALL
            .into_iter()
            .map(|s| (s.as_str(), by_severity[s as usize]))
            .collect()
    }

    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Sorts findings (and suppressed ones) by file, task definition, severity (worst first),
    /// pointer.
    pub fn sort(&mut self) {
        let order = finding_order;
        self.suppressed
            .sort_by(|a, b| order(&a.finding, &b.finding));
        // Sorted already (the scan sorts each file's findings on its thread, and files are
        // usually given in order): nothing to move.
        if self
            .findings
            .is_sorted_by(|a, b| order(a, b) != std::cmp::Ordering::Greater)
        {
            return;
        }
        // A file's few findings (the scan sorts each file's on its thread) are sorted in place.
        if self.findings.len() <= 64 {
            self.findings.sort_by(order);
            return;
        }
        // The positions are sorted, then the findings moved once: a finding is a few hundred
        // bytes, and a scan of many files has hundreds of thousands of them for the sort to
        // move again and again. Stable, as sorting the findings themselves was.
        let mut positions: Vec<usize> = (0..self.findings.len()).collect();
        positions.sort_by(|&a, &b| order(&self.findings[a], &self.findings[b]));
        let mut slots: Vec<Option<Finding>> = std::mem::take(&mut self.findings)
            .into_iter()
            .map(Some)
            .collect();
        self.findings = positions
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect();
    }

    /// Sorts a run of findings (one file's) as [`Report::sort`] orders them.
    pub fn sort_run(findings: &mut [Finding]) {
        findings.sort_by(finding_order);
    }

    /// Suppressed findings of `kind`.
    pub fn suppressed_by(&self, kind: SuppressionKind) -> usize {
        self.suppressed
            .iter()
            .filter(|s| s.suppression.kind == kind)
            .count()
    }

    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("summary".into(), json!(self.counts()));
        }
        v
    }

    /// [`Report::to_json`] pretty-printed into `out`, byte for byte what
    /// `serde_json::to_string_pretty(&report.to_json())` gives, without building it (a scan
    /// of many files has hundreds of thousands of findings, and the tree cost more than
    /// checking them): findings field by field, the rest through serde_json, streamed
    /// ([`json`]).
    pub fn write_json(&self, out: impl std::io::Write) -> serde_json::Result<()> {
        json::write(self, out)
    }

    /// The report as [`Report::write_json`] streams it and as serde_json pretty-prints
    /// [`Report::to_json`]: the two texts the tests hold equal.
    #[cfg(test)]
    pub(crate) fn streamed_and_printed(&self) -> (String, String) {
        let mut streamed = Vec::new();
        self.write_json(&mut streamed).expect("written");
        (
            String::from_utf8(streamed).expect("utf-8"),
            serde_json::to_string_pretty(&self.to_json()).expect("json"),
        )
    }

    pub fn to_text(&self, colour: bool) -> String {
        let paint = |s: Severity, text: &str| -> String {
            if !colour {
                return text.to_owned();
            }
            let code = match s {
                Severity::Critical => "1;35",
                Severity::High => "1;31",
                Severity::Medium => "33",
                Severity::Low => "36",
                Severity::Info => "2",
            };
            format!("\x1b[{code}m{text}\x1b[0m")
        };
        let mut out = String::new();
        let mut last_group = None;
        for f in &self.findings {
            let group = (
                f.file.clone(),
                f.task_definition.clone(),
                f.container.clone(),
            );
            if last_group.as_ref() != Some(&group) {
                let file = f
                    .file
                    .as_deref()
                    .map(|s| format!("{s}: "))
                    .unwrap_or_default();
                let container = f
                    .container
                    .as_deref()
                    .map_or("(task definition)".to_owned(), |c| format!("container {c}"));
                let _ = writeln!(out, "{file}{} — {container}", f.task_definition);
                last_group = Some(group);
            }
            let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<8} {} {}{line}",
                paint(f.severity, f.severity.as_str()),
                f.rule,
                f.pointer
            );
            let _ = writeln!(out, "           {}", f.message);
            if let Some(e) = &f.evidence {
                let fingerprint = e
                    .fingerprint
                    .as_deref()
                    .map(|h| format!(", fingerprint {h}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "           evidence: {}, {} characters{fingerprint}",
                    e.kind, e.length
                );
            }
            if let Some(a) = &f.access {
                let _ = writeln!(
                    out,
                    "           access: {} {} on {}{}",
                    a.decision,
                    a.action,
                    a.resource,
                    a.statement
                        .as_deref()
                        .map(|s| format!(" (statement {s})"))
                        .unwrap_or_default()
                );
            }
            let _ = writeln!(out, "           fix: {}", f.remediation);
        }
        let counts = self.counts();
        let summary: Vec<String> = Severity::ALL
            .iter()
            .map(|s| format!("{} {}", counts[s.as_str()], s.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "{} task definition(s) checked{}: {} finding(s) ({})",
            self.checked,
            if self.live { " (live)" } else { "" },
            self.findings.len(),
            summary.join(", ")
        );
        if !self.suppressed.is_empty() {
            let _ = writeln!(
                out,
                "{} suppressed (config: {}, baseline: {})",
                self.suppressed.len(),
                self.suppressed_by(SuppressionKind::Config),
                self.suppressed_by(SuppressionKind::Baseline)
            );
        }
        for a in &self.actions {
            let _ = writeln!(out, "action: {a}");
        }
        out
    }

    pub fn to_sarif(&self) -> Value {
        let rules: Vec<Value> = CATALOG
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": pascal(r.id),
                    "shortDescription": {"text": r.title},
                    "fullDescription": {"text": r.title},
                    "help": {"text": r.remediation, "markdown": r.remediation},
                    "defaultConfiguration": {"level": level(r.severity)},
                    "properties": {
                        "security-severity": r.severity.security_severity(),
                        "precision": if r.live { "high" } else { "very-high" },
                        "tags": ["security", "ecs", "secrets"],
                    }
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| sarif_result(f, None))
            .chain(
                self.suppressed
                    .iter()
                    .map(|s| sarif_result(&s.finding, Some(&s.suppression))),
            )
            .collect();
        let notifications: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                json!({
                    "level": "error",
                    "message": {"text": e.message},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": e.file},
                        "region": {"startLine": e.line.max(1), "startColumn": e.column.max(1)}
                    }}]
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "ecs-secrets",
                    "informationUri": "https://github.com/ecs-secrets/ecs-secrets",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "invocations": [{
                    "executionSuccessful": self.errors.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
                "results": results,
            }]
        })
    }
}

/// One SARIF result; a suppressed finding carries `suppressions` (§3.35): accepted outside the
/// scanned files, with the config's reason or the baseline as justification.
fn sarif_result(f: &Finding, suppression: Option<&SuppressionNote>) -> Value {
    let rule_index = CATALOG.iter().position(|r| r.id == f.rule).unwrap_or(0);
    // A revision read from ECS (`validate --account`) is named by its ARN: no file, no line —
    // the ARN is the logical location.
    let revision = f.file.as_deref().filter(|f| f.starts_with("arn:"));
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": f.file.as_deref().unwrap_or("task-definition.json")},
            "region": {"startLine": f.line.unwrap_or(1)}
        },
        "logicalLocations": [{
            "name": f.pointer,
            "fullyQualifiedName": format!("{}{}", revision.unwrap_or(&f.task_definition), f.pointer),
            "kind": "member"
        }]
    });
    if f.file.is_none() || revision.is_some() {
        if let Value::Object(m) = &mut location {
            m.remove("physicalLocation");
        }
    }
    let mut properties = json!({"severity": f.severity.as_str(), "pointer": f.pointer, "taskDefinition": f.task_definition});
    if let (Value::Object(p), Some(e)) = (&mut properties, &f.evidence) {
        p.insert("evidence".into(), json!(e));
    }
    if let (Value::Object(p), Some(a)) = (&mut properties, &f.access) {
        p.insert("access".into(), json!(a));
    }
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": format!("{} {}", f.message, f.remediation)},
        "locations": [location],
        "partialFingerprints": {"ecsSecretsFinding/v1": f.fingerprint()},
        "properties": properties,
    });
    if let (Value::Object(r), Some(s)) = (&mut result, suppression) {
        let mut suppression = json!({
            "kind": "external",
            "status": "accepted",
            "justification": s.reason,
            "properties": {"ecsSecretsKind": s.kind, "source": s.source},
        });
        if let (Value::Object(p), Some(e)) = (&mut suppression["properties"], &s.expires) {
            p.insert("expires".into(), json!(e));
        }
        r.insert("suppressions".into(), json!([suppression]));
    }
    result
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{rule, Access, Evidence, EvidenceKey};

    /// The streamed JSON is `to_json`'s, byte for byte, with every optional field present and
    /// absent: a field declared out of alphabetical order would move its key and fail here.
    #[test]
    fn the_streamed_report_is_the_json_report_for_every_field() {
        let key = EvidenceKey::new(vec![7u8; 32]).expect("key");
        let mut evidence = Evidence::of("AWS access key id", "AKIA…");
        evidence.seal(Some(&key));
        let mut full = Finding::new(rule::EXECUTION_ROLE_CANNOT_READ_SECRET, "/p/0", "m \"q\"")
            .container(Some("app"))
            .evidence(evidence.clone());
        full.file = Some("a.json".into());
        full.line = Some(3);
        full.task_definition = "web".into();
        full.access = Some(Box::new(Access {
            action: "secretsmanager:GetSecretValue".to_owned(),
            decision: "denied".to_owned(),
            resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x".to_owned(),
            statement: Some("inline#Deny".to_owned()),
        }));
        let mut unsealed = Finding::new(rule::ROOT_USER, "", "m");
        unsealed.evidence = Some(Box::new(Evidence::of("kind", "v")));
        let mut no_statement = full.clone();
        if let Some(a) = no_statement.access.as_mut() {
            a.statement = None;
        }
        // Every string a finding holds, with what serde_json escapes in it.
        let mut escaped = Finding::new(rule::ROOT_USER, "/a~1b/\t\"", "m \\ \u{1} é")
            .container(Some("a\"b\n"))
            .evidence(Evidence::of("kind \"x\"", "v"));
        escaped.file = Some("dir\\x\r.json".into());
        escaped.task_definition = "\u{1f}web\u{2028}".into();
        let report = Report {
            checked: 2,
            findings: vec![
                full,
                Finding::new(rule::ROOT_USER, "", "m"),
                unsealed,
                no_statement,
                escaped,
            ],
            errors: vec![InputProblem {
                column: 2,
                file: "b.json".to_owned(),
                line: 1,
                message: "invalid JSON".to_owned(),
            }],
            live: true,
            actions: vec!["published".to_owned()],
            ..Report::default()
        };
        let (streamed, printed) = report.streamed_and_printed();
        assert_eq!(streamed, printed);
        assert!(streamed.contains("\"fingerprint\"") && streamed.contains("\"statement\""));
        // Nothing at all, and an error alone.
        for report in [
            Report::default(),
            Report {
                errors: report.errors.clone(),
                ..Report::default()
            },
        ] {
            let (streamed, printed) = report.streamed_and_printed();
            assert_eq!(streamed, printed);
        }
    }
}
