//! What a repository has decided about its findings, applied to a report: the config's
//! disabled rules and severities, its reviewed suppressions (with expiry), and a baseline.
//!
//! In order: findings of a disabled rule are dropped (not suppressed: the rule did not run, as
//! far as the report says); a severity override sets the severity of every finding of its
//! rule; a finding that a `[[suppress]]` entry matches (rule, file, and task definition and
//! pointer when the entry names them) moves to `suppressed` with the entry's reason — unless the
//! entry has expired: then the finding stays and an `expired-suppression` finding points at the
//! entry's line; a remaining finding whose fingerprint is in the baseline moves to `suppressed`.
//! `expired-suppression` findings are never suppressed.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;

use crate::baseline::Baseline;
use crate::finding::{rule, Finding};
use crate::repo_config::RepoConfig;
use crate::report::{Report, Suppressed, SuppressionKind, SuppressionNote};

/// What to apply.
#[derive(Debug, Clone, Copy)]
pub struct Triage<'a> {
    pub config: Option<&'a RepoConfig>,
    pub baseline: Option<&'a Baseline>,
    /// The day expiry is judged on (UTC in the CLI).
    pub today: NaiveDate,
    /// The directory the findings' file names are relative to.
    pub cwd: &'a Path,
    /// The files that were checked, as passed: a suppression of another file is not stale.
    pub files: &'a [String],
    /// Whether this run's evidence fingerprints are keyed (to warn about a baseline that was
    /// written otherwise).
    pub evidence_keyed: bool,
}

/// Applies `triage` to `report` and sorts it; returns notes for stderr (stale suppressions,
/// stale baseline entries, a baseline keyed otherwise than this run).
pub fn apply(report: &mut Report, triage: &Triage<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    let findings = std::mem::take(&mut report.findings);
    let mut kept = Vec::with_capacity(findings.len());
    if let Some(config) = triage.config {
        let mut used = vec![false; config.suppressions.len()];
        // What the config changed is said on stderr, so a disabled or re-ranked rule is never
        // silent.
        let mut dropped: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut reranked: std::collections::BTreeMap<&str, (usize, crate::finding::Severity)> =
            Default::default();
        for mut f in findings {
            if config.disabled.contains(f.rule) {
                *dropped.entry(f.rule).or_default() += 1;
                continue;
            }
            if let Some(s) = config.severity.get(f.rule) {
                if f.severity != *s {
                    reranked.entry(f.rule).or_insert((0, *s)).0 += 1;
                }
                f.severity = *s;
            }
            let key = f
                .file
                .as_deref()
                .map(|file| config.key_of(file, triage.cwd));
            let evidence = f.evidence.as_ref().and_then(|e| e.fingerprint.as_deref());
            let matches = |s: &&crate::repo_config::Suppression| {
                s.rule == f.rule
                    && key.as_deref() == Some(s.file_key.as_str())
                    && s.task_definition
                        .as_ref()
                        .is_none_or(|t| **t == *f.task_definition)
                    && s.pointer.as_ref().is_none_or(|p| *p == f.pointer)
                    && s.fingerprint
                        .as_deref()
                        .is_none_or(|print| evidence == Some(print))
            };
            // Every entry that matches is used (none is reported stale); an entry still in
            // force wins over an expired one.
            let mut matched = None;
            for (i, s) in config.suppressions.iter().enumerate() {
                if matches(&s) {
                    used[i] = true;
                    if matched.is_none_or(|m: usize| {
                        config.suppressions[m].expired(triage.today) && !s.expired(triage.today)
                    }) {
                        matched = Some(i);
                    }
                }
            }
            match matched {
                Some(i) => {
                    let s = &config.suppressions[i];
                    if s.expired(triage.today) {
                        report.reopened.insert(f.fingerprint());
                        kept.push(f);
                    } else {
                        report.suppressed.push(Suppressed {
                            finding: f,
                            suppression: SuppressionNote {
                                kind: SuppressionKind::Config,
                                reason: s.reason.clone(),
                                source: format!("{}:{}", config.path, s.line),
                                expires: s.expires.map(|d| d.to_string()),
                            },
                        });
                    }
                }
                None => kept.push(f),
            }
        }
        for (rule_id, n) in &dropped {
            notes.push(format!(
                "{}: rule {rule_id} is disabled: {n} finding(s) not reported",
                config.path
            ));
        }
        for (rule_id, (n, severity)) in &reranked {
            notes.push(format!(
                "{}: rule {rule_id} is ranked {severity}: {n} finding(s) re-ranked",
                config.path
            ));
        }
        let checked: BTreeSet<String> = triage
            .files
            .iter()
            .map(|f| config.key_of(f, triage.cwd))
            .collect();
        for (index, s) in config.suppressions.iter().enumerate() {
            if s.expired(triage.today) {
                let expires = s.expires.map(|d| d.to_string()).unwrap_or_default();
                kept.push(Finding {
                    file: Some(config.path.as_str().into()),
                    task_definition: "[[suppress]]".into(),
                    line: Some(s.line),
                    ..Finding::new(
                        rule::EXPIRED_SUPPRESSION,
                        format!("/suppress/{index}"),
                        format!(
                            "The suppression of {} expired on {expires}: {}.",
                            s.describe(),
                            if used[index] {
                                "the finding it covered is reported again"
                            } else {
                                "it matches no finding of this run"
                            }
                        ),
                    )
                });
            } else if !used[index] && checked.contains(&s.file_key) {
                notes.push(format!(
                    "{}:{}: the suppression of {} matches no finding; remove it if the finding is gone",
                    config.path,
                    s.line,
                    s.describe()
                ));
            }
        }
    } else {
        kept = findings;
    }
    if let Some(baseline) = triage.baseline {
        if baseline.evidence_keyed != triage.evidence_keyed {
            notes.push(format!(
                "{}: the baseline was written {} an evidence key and this run has {}: findings with evidence do not match its entries",
                baseline.path,
                if baseline.evidence_keyed { "with" } else { "without" },
                if triage.evidence_keyed { "one" } else { "none" },
            ));
        }
        let mut matched = BTreeSet::new();
        let mut unsuppressed = Vec::with_capacity(kept.len());
        for f in kept {
            let print = f.fingerprint();
            if f.rule != rule::EXPIRED_SUPPRESSION
                && !report.reopened.contains(&print)
                && baseline.fingerprints.contains(&print)
            {
                matched.insert(print);
                report.suppressed.push(Suppressed {
                    finding: f,
                    suppression: SuppressionNote {
                        kind: SuppressionKind::Baseline,
                        reason: format!("in baseline {}", baseline.path),
                        source: baseline.path.clone(),
                        expires: None,
                    },
                });
            } else {
                unsuppressed.push(f);
            }
        }
        kept = unsuppressed;
        let stale = baseline.fingerprints.len() - matched.len();
        if stale > 0 {
            notes.push(format!(
                "{}: {stale} {} no finding of this run (fixed, or in files not checked); `--write-baseline` refreshes it",
                baseline.path,
                if stale == 1 { "entry matches" } else { "entries match" }
            ));
        }
    }
    report.findings = kept;
    report.sort();
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(rule_id: &'static str, file: &str, pointer: &str) -> Finding {
        Finding {
            file: Some(file.into()),
            task_definition: "app".into(),
            ..Finding::new(rule_id, pointer, "message")
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn config_and_baseline_suppress_expire_drop_and_rerank() {
        let config = RepoConfig::parse(
            r#"[rules]
disable = ["missing-log-configuration"]
[rules.severity]
"writable-root-filesystem" = "high"

[[suppress]]
rule = "root-user"
file = "ecs/a.json"
reason = "vendor image runs as root"

[[suppress]]
rule = "plaintext-secret"
file = "ecs/a.json"
pointer = "/containerDefinitions/0/environment/0/value"
reason = "revoked test key"
expires = 2026-01-01

[[suppress]]
rule = "privileged-container"
file = "ecs/a.json"
reason = "stale"
"#,
            "cfg/.ecs-secrets.toml",
            Path::new("/repo"),
        )
        .expect("valid");
        let cwd = Path::new("/repo/ecs");
        let baselined = finding(
            rule::PINNED_SECRET_VERSION,
            "b.json",
            "/containerDefinitions/0/secrets/0/valueFrom",
        );
        let baseline = Baseline {
            path: "baseline.json".into(),
            fingerprints: BTreeSet::from([baselined.fingerprint(), "0".repeat(32)]),
            evidence_keyed: false,
        };
        let mut report = Report {
            findings: vec![
                finding(rule::ROOT_USER, "./a.json", "/containerDefinitions/0/user"),
                finding(rule::ROOT_USER, "b.json", "/containerDefinitions/0/user"),
                finding(
                    rule::PLAINTEXT_SECRET,
                    "a.json",
                    "/containerDefinitions/0/environment/0/value",
                ),
                finding(
                    rule::MISSING_LOG_CONFIGURATION,
                    "a.json",
                    "/containerDefinitions/0",
                ),
                finding(
                    rule::WRITABLE_ROOT_FILESYSTEM,
                    "a.json",
                    "/containerDefinitions/0",
                ),
                baselined,
            ],
            ..Report::default()
        };
        let files = ["a.json".to_owned(), "b.json".to_owned()];
        let notes = apply(
            &mut report,
            &Triage {
                config: Some(&config),
                baseline: Some(&baseline),
                today: day(2026, 12, 4),
                cwd,
                files: &files,
                evidence_keyed: false,
            },
        );
        let rules: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.rule, f.file.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            rules,
            vec![
                (rule::PLAINTEXT_SECRET, "a.json"),
                (rule::WRITABLE_ROOT_FILESYSTEM, "a.json"),
                (rule::ROOT_USER, "b.json"),
                (rule::EXPIRED_SUPPRESSION, "cfg/.ecs-secrets.toml"),
            ]
        );
        let expired = &report.findings[3];
        assert_eq!(expired.line, Some(11));
        assert_eq!(expired.severity, Severity::High);
        assert!(
            expired.message.contains("expired on 2026-01-01"),
            "{}",
            expired.message
        );
        assert_eq!(report.findings[1].severity, Severity::High, "re-ranked");
        assert_eq!(report.suppressed.len(), 2);
        assert_eq!(report.suppressed_by(SuppressionKind::Config), 1);
        assert_eq!(
            report.suppressed[0].suppression.reason,
            "vendor image runs as root"
        );
        assert_eq!(
            report.suppressed[0].suppression.source,
            "cfg/.ecs-secrets.toml:6"
        );
        assert_eq!(
            report.suppressed[1].suppression.kind,
            SuppressionKind::Baseline
        );
        assert_eq!(notes.len(), 4, "{notes:?}");
        assert_eq!(
            notes[0],
            "cfg/.ecs-secrets.toml: rule missing-log-configuration is disabled: 1 finding(s) not reported"
        );
        assert_eq!(
            notes[1],
            "cfg/.ecs-secrets.toml: rule writable-root-filesystem is ranked high: 1 finding(s) re-ranked"
        );
        assert!(
            notes[2].contains(":18: the suppression of privileged-container in ecs/a.json"),
            "{notes:?}"
        );
        assert!(
            notes[3].starts_with("baseline.json: 1 entry matches no finding"),
            "{notes:?}"
        );

        // Before the expiry day, the entry suppresses and nothing is expired.
        let mut report = Report {
            findings: vec![finding(
                rule::PLAINTEXT_SECRET,
                "a.json",
                "/containerDefinitions/0/environment/0/value",
            )],
            ..Report::default()
        };
        apply(
            &mut report,
            &Triage {
                config: Some(&config),
                baseline: None,
                today: day(2025, 12, 31),
                cwd,
                files: &[],
                evidence_keyed: false,
            },
        );
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(
            report.suppressed[0].suppression.expires.as_deref(),
            Some("2026-01-01")
        );
    }

    /// An expired entry's finding is reported again whatever the baseline says, and is not
    /// written into a new baseline; a renewed copy of the entry wins over the expired one.
    #[test]
    fn an_expired_suppression_is_not_undone_by_a_baseline() {
        let cwd = Path::new("/repo");
        let expired = "[[suppress]]\nrule = \"root-user\"\nfile = \"a.json\"\nreason = \"r\"\nexpires = 2026-01-01\n";
        let config = RepoConfig::parse(expired, ".ecs-secrets.toml", cwd).expect("valid");
        let f = finding(rule::ROOT_USER, "a.json", "/containerDefinitions/0");
        let baseline = Baseline {
            path: "b.json".into(),
            fingerprints: BTreeSet::from([f.fingerprint()]),
            evidence_keyed: false,
        };
        let mut report = Report {
            findings: vec![f.clone()],
            ..Report::default()
        };
        let triage = Triage {
            config: Some(&config),
            baseline: Some(&baseline),
            today: day(2026, 12, 4),
            cwd,
            files: &[],
            evidence_keyed: false,
        };
        apply(&mut report, &triage);
        let mut rules: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
        rules.sort_unstable();
        assert_eq!(rules, vec![rule::EXPIRED_SUPPRESSION, rule::ROOT_USER]);
        assert!(report.suppressed.is_empty());
        assert!(
            crate::baseline::entries(&report).is_empty(),
            "not baselined"
        );

        let renewed = format!("{expired}[[suppress]]\nrule = \"root-user\"\nfile = \"a.json\"\nreason = \"renewed\"\nexpires = 2027-06-01\n");
        let config = RepoConfig::parse(&renewed, ".ecs-secrets.toml", cwd).expect("valid");
        let mut report = Report {
            findings: vec![f],
            ..Report::default()
        };
        let notes = apply(
            &mut report,
            &Triage {
                config: Some(&config),
                baseline: None,
                ..triage
            },
        );
        assert_eq!(report.suppressed.len(), 1);
        assert_eq!(report.suppressed[0].suppression.reason, "renewed");
        assert!(notes.is_empty(), "the renewed entry matched: {notes:?}");
    }

    /// With a fingerprint, a suppression accepts the value reviewed and not another one
    /// written at the same place.
    #[test]
    fn a_fingerprinted_suppression_accepts_only_its_value() {
        let cwd = Path::new("/repo");
        let print = "ab".repeat(8);
        let config = RepoConfig::parse(
            &format!("[[suppress]]\nrule = \"plaintext-secret\"\nfile = \"a.json\"\npointer = \"/p\"\nfingerprint = \"{print}\"\nreason = \"revoked\"\n"),
            ".ecs-secrets.toml",
            cwd,
        )
        .expect("valid");
        let with = |fingerprint: &str| {
            let mut f = finding(rule::PLAINTEXT_SECRET, "a.json", "/p");
            let mut evidence = crate::finding::Evidence::of("kind", "value");
            evidence.fingerprint = Some(fingerprint.to_owned());
            f.evidence = Some(Box::new(evidence));
            f
        };
        let mut report = Report {
            findings: vec![with(&print), with(&"cd".repeat(8))],
            ..Report::default()
        };
        apply(
            &mut report,
            &Triage {
                config: Some(&config),
                baseline: None,
                today: day(2026, 12, 4),
                cwd,
                files: &[],
                evidence_keyed: true,
            },
        );
        assert_eq!(report.suppressed.len(), 1);
        assert_eq!(report.findings.len(), 1, "the other value is a finding");
        // The streamed JSON carries the suppressed list too, byte for byte as `to_json`.
        let (streamed, printed) = report.streamed_and_printed();
        assert_eq!(streamed, printed);
    }
}
