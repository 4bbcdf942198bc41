//! The baseline file of `ecs-secrets validate`: the findings a team has accepted as they are,
//! so that CI reports only new ones.
//!
//! ```json
//! {
//!   "version": 1,
//!   "evidenceKeyed": false,
//!   "findings": [
//!     {"fingerprint": "…", "rule": "root-user", "file": "ecs/a.json", "taskDefinition": "a", "pointer": "/containerDefinitions/0/user"}
//!   ]
//! }
//! ```
//!
//! Findings match by `fingerprint` alone: the SARIF `partialFingerprints` hash of rule, file (as
//! passed on the command line), task definition, pointer and the evidence's keyed fingerprint —
//! never the line, so a finding that moves stays accepted. Rule, file, task definition and
//! pointer are there for the reviewer of the file's diff; no value, no evidence, no line.
//! Entries are sorted and unique, and nothing in the file changes between two runs on the same
//! findings (no timestamp), so it diffs well.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::finding::{rule, Finding};
use crate::report::{Report, SuppressionKind};

/// The format version written and understood.
pub const VERSION: u32 = 1;

/// A baseline, read.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The file as the user named it.
    pub path: String,
    pub fingerprints: BTreeSet<String>,
    /// Whether its fingerprints were made under an evidence key.
    pub evidence_keyed: bool,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub fingerprint: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub task_definition: String,
    #[serde(default)]
    pub pointer: String,
}

impl Entry {
    fn of(f: &Finding) -> Self {
        Entry {
            fingerprint: f.fingerprint(),
            rule: f.rule.to_owned(),
            file: f.file.as_deref().unwrap_or_default().to_owned(),
            task_definition: f.task_definition.to_string(),
            pointer: f.pointer.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    version: u32,
    #[serde(default)]
    evidence_keyed: bool,
    findings: Vec<Entry>,
}

impl Baseline {
    /// Reads the baseline `path`; an unreadable file, a bad shape or another version is an
    /// error (the caller exits 2: a baseline that silently accepts nothing, or everything, is
    /// worse than none).
    pub fn load(path: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
        Self::parse(&bytes, path)
    }

    pub fn parse(bytes: &[u8], path: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        let version: Version = serde_json::from_slice(bytes)
            .map_err(|e| format!("{path}: not a baseline file (JSON): {e}"))?;
        if version.version != Some(VERSION) {
            return Err(format!(
                "{path}: baseline version {} is not understood (this ecs-secrets reads version {VERSION})",
                version
                    .version
                    .map_or_else(|| "(none)".to_owned(), |v| v.to_string())
            ));
        }
        let file: File = serde_json::from_slice(bytes)
            .map_err(|e| format!("{path}: not a baseline file: {e}"))?;
        Ok(Baseline {
            path: path.to_owned(),
            fingerprints: file.findings.into_iter().map(|e| e.fingerprint).collect(),
            evidence_keyed: file.evidence_keyed,
        })
    }
}

/// What `--write-baseline` writes for `report` (after [`crate::triage::apply`]): every
/// finding that is not suppressed by the config — the reported ones and those an earlier
/// baseline suppressed — except `expired-suppression` and the findings an expired entry
/// covered (both are settled in the config file: renew the entry or fix the finding).
pub fn entries(report: &Report) -> Vec<Entry> {
    let findings = report.findings.iter().chain(
        report
            .suppressed
            .iter()
            .filter(|s| s.suppression.kind == SuppressionKind::Baseline)
            .map(|s| &s.finding),
    );
    let mut entries: Vec<Entry> = findings
        .filter(|f| f.rule != rule::EXPIRED_SUPPRESSION)
        .filter(|f| !report.reopened.contains(&f.fingerprint()))
        .map(Entry::of)
        .collect();
    entries.sort_by(|a, b| {
        (
            &a.file,
            &a.task_definition,
            &a.pointer,
            &a.rule,
            &a.fingerprint,
        )
            .cmp(&(
                &b.file,
                &b.task_definition,
                &b.pointer,
                &b.rule,
                &b.fingerprint,
            ))
    });
    let mut seen = BTreeSet::new();
    entries.retain(|e| seen.insert(e.fingerprint.clone()));
    entries
}

/// The baseline file's text for `entries`: pretty JSON, one entry per line, newline-terminated.
pub fn render(entries: &[Entry], evidence_keyed: bool) -> String {
    let mut out = format!(
        "{{\n  \"version\": {VERSION},\n  \"evidenceKeyed\": {evidence_keyed},\n  \"findings\": ["
    );
    for (i, e) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
    }
    out.push_str(if entries.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Evidence;

    #[test]
    fn written_entries_are_sorted_unique_and_read_back() {
        let a = Finding {
            file: Some("b.json".into()),
            task_definition: "b".into(),
            ..Finding::new(rule::ROOT_USER, "/containerDefinitions/0/user", "root")
        };
        let b = Finding {
            file: Some("a.json".into()),
            task_definition: "a".into(),
            ..Finding::new(
                rule::PLAINTEXT_SECRET,
                "/containerDefinitions/0/environment/1/value",
                "key",
            )
            .evidence(Evidence::of("AWS access key id", "AKIA2OGYBAH6STMMNXNN"))
        };
        let expired = Finding::new(rule::EXPIRED_SUPPRESSION, "/suppress/0", "expired");
        let report = Report {
            findings: vec![a.clone(), b.clone(), a.clone(), expired],
            ..Report::default()
        };
        let entries = entries(&report);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].file, "a.json");
        let text = render(&entries, false);
        assert!(!text.contains("AKIA"), "{text}");
        assert!(text.contains("\n    {\"fingerprint\":"), "{text}");
        let back = Baseline::parse(text.as_bytes(), "b.json").expect("valid");
        assert_eq!(
            back.fingerprints,
            BTreeSet::from([a.fingerprint(), b.fingerprint()])
        );
        let empty = render(&[], true);
        assert!(
            Baseline::parse(empty.as_bytes(), "e")
                .expect("valid")
                .evidence_keyed
        );
    }

    #[test]
    fn other_versions_and_shapes_are_errors() {
        for bad in [
            "{\"version\": 2, \"findings\": []}",
            "{\"findings\": []}",
            "[]",
            "{\"version\": 1}",
            "{\"version\": 1, \"findings\": [{\"rule\": \"x\"}]}",
        ] {
            assert!(Baseline::parse(bad.as_bytes(), "b").is_err(), "{bad}");
        }
    }
}
