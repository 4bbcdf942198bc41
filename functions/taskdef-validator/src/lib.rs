//! `taskdef-validator`: finds leaked and broken secrets in ECS task definitions before a task
//! fails to start (or a credential sits in plaintext for years).
//!
//! The same library serves the Lambda (on `RegisterTaskDefinition`, or invoked directly) and
//! `ecs-secrets validate` in CI:
//! [`input`] reads task definitions from the shapes people have them in, the shared
//! [`ecs_secrets_shared::task_definition`] model types them,
//! [`rules`] runs the offline rules (with [`detect`] for credentials), [`live`] asks AWS — through
//! the narrow [`directory::Directory`] trait — whether each secret exists and whether the
//! execution role may read it ([`iam`] evaluates the policies offline), and [`report`] renders
//! the findings. The Lambda ([`handler`], configured by [`config`]) then acts through
//! [`platform::Platform`]: an EventBridge event, optionally Security Hub findings, optionally
//! deregistration of a revision with a critical finding. This file keeps the module map and
//! [`validate_document`], the one path both the CLI and the Lambda take ([`check_document`] is
//! its offline half, which [`scan`] runs on many files with a pool of threads).

pub mod account;
pub mod baseline;
pub mod config;
#[cfg(any(test, feature = "corpus"))]
pub mod corpus;
pub mod detect;
pub mod directory;
pub mod finding;
pub mod handler;
pub mod hook;
pub mod iam;
pub mod input;
pub mod live;
pub mod placeholder;
pub mod platform;
pub mod repo_config;
pub mod report;
pub mod rules;
pub mod scan;
pub mod terraform;
pub mod triage;

use lambda_runtime::Diagnostic;

use directory::Directory;
use ecs_secrets_shared::task_definition::{TaskDefinition, Text};
use finding::Severity;
use input::Document;
use report::{InputProblem, Report};

pub const FUNCTION_NAME: &str = "taskdef-validator";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("the task definition could not be fetched: {0}")]
    Fetch(ecs_secrets_shared::aws::CallError),
    #[error("the report could not be delivered: {0}")]
    Action(ecs_secrets_shared::aws::CallError),
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic {
            error_type: match &e {
                Error::InvalidEvent(_) => "InvalidEvent",
                Error::Fetch(_) => "FetchFailed",
                Error::Action(_) => "ActionFailed",
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Runs the offline rules — and the live ones when `live` is given — on every task definition
/// of a document, adding findings (with file and line) and shape errors to `report`.
pub async fn validate_document<D: Directory>(
    document: &Document,
    file: Option<&str>,
    context: &rules::Context,
    live: Option<(&D, &live::Home)>,
    report: &mut Report,
) {
    let mut seen: Vec<SeenKey> = Vec::new();
    for subject in &document.subjects {
        // The document is borrowed (the caller keeps it): a model read already is copied.
        let model = subject.model.clone();
        let Some(checked) = check_subject(document, subject, model, file, context, report) else {
            continue;
        };
        let mut findings = checked.findings.clone();
        if let Some((directory, home)) = live {
            findings.extend(live::check(directory, &checked, &subject.label, home).await);
        }
        place_findings(
            document, subject, file, context, findings, &mut seen, report,
        );
    }
}

/// [`validate_document`] without the live rules: the same findings, lines and errors, with
/// nothing to wait for, so a thread of a pool ([`scan`]) runs it directly.
///
/// The subjects' models already read ([`input::Subject::model`]) are taken from `document`, not
/// copied: what is left is for lines only.
pub fn check_document(
    document: &mut Document,
    file: Option<&str>,
    context: &rules::Context,
    report: &mut Report,
) {
    let mut seen: Vec<SeenKey> = Vec::new();
    let models: Vec<Option<TaskDefinition>> = document
        .subjects
        .iter_mut()
        .map(|s| s.model.take())
        .collect();
    let document = &*document;
    for (subject, model) in document.subjects.iter().zip(models) {
        let Some(checked) = check_subject(document, subject, model, file, context, report) else {
            continue;
        };
        place_findings(
            document,
            subject,
            file,
            context,
            checked.findings,
            &mut seen,
            report,
        );
    }
}

/// The offline rules on one subject, whose model (when read already) is `model`
/// ([`rules::check_read`]); a shape error becomes an [`InputProblem`] in `report`.
fn check_subject(
    document: &Document,
    subject: &input::Subject,
    model: Option<TaskDefinition>,
    file: Option<&str>,
    context: &rules::Context,
    report: &mut Report,
) -> Option<rules::Checked> {
    match rules::check_read(subject, model, context) {
        Ok(c) => {
            report.checked += 1;
            Some(c)
        }
        Err(message) => {
            report.errors.push(InputProblem {
                file: file.unwrap_or("event").to_owned(),
                line: document.line(subject, "").unwrap_or(0),
                column: 1,
                message: format!("{}: {message}", subject.label),
            });
            None
        }
    }
}

/// Gives a subject's findings their file, line and shown pointer, folds the findings the two
/// readings of a template share, seals the evidence and adds them to `report`.
fn place_findings(
    document: &Document,
    subject: &input::Subject,
    file: Option<&str>,
    context: &rules::Context,
    findings: Vec<finding::Finding>,
    // Two readings of one template (its `%{ if }` and `%{ else }` sides) share most findings:
    // a finding both report alike is reported once (see the key below).
    seen: &mut Vec<SeenKey>,
    report: &mut Report,
) {
    report.findings.reserve(findings.len());
    // One copy of the file's name for all its findings.
    let file = file
        .filter(|_| !findings.is_empty())
        .map(finding::Shared::from);
    for mut f in findings {
        // A file of variables: only what the variables hold (the container is a frame).
        if subject.variables_only
            && !f
                .pointer
                .starts_with("/containerDefinitions/0/environment/")
        {
            continue;
        }
        f.file.clone_from(&file);
        f.line = document.nearest_line(subject, &f.pointer);
        let shown = subject.shown_pointer(&f.pointer);
        if shown.len() != f.pointer.len() {
            f.pointer = shown.to_owned();
        }
        // Only the two readings of one template subject are folded: same subject (its
        // base without the `else` marker), line, rule, pointer, severity and evidence —
        // compared before sealing, while the evidence still tells two values apart.
        if subject.base.starts_with(input::ELSE_BASE) || document_has_else(document) {
            let key = (
                subject.base.trim_start_matches(input::ELSE_BASE).to_owned(),
                f.line,
                f.rule,
                f.pointer.clone(),
                f.severity,
                f.evidence.clone(),
            );
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
        }
        if let Some(e) = f.evidence.as_mut() {
            e.seal(context.evidence_key.as_ref());
        }
        report.findings.push(f);
    }
}

/// Runs the rules — and the live ones when `live` is given — on a revision as ECS holds it
/// (`DescribeTaskDefinition`): there is no file, so findings have no line.
pub async fn validate_revision<D: Directory>(
    model: TaskDefinition,
    context: &rules::Context,
    live: Option<(&D, &live::Home)>,
    report: &mut Report,
) {
    let label = model
        .family
        .as_ref()
        .and_then(Text::literal)
        .unwrap_or("(no family)")
        .to_owned();
    let checked = rules::check_model(model, &label, None, context);
    report.checked += 1;
    let mut findings = checked.findings.clone();
    if let Some((directory, home)) = live {
        findings.extend(live::check(directory, &checked, &label, home).await);
    }
    for mut f in findings {
        if let Some(e) = f.evidence.as_mut() {
            e.seal(context.evidence_key.as_ref());
        }
        report.findings.push(f);
    }
}

/// What makes two findings of a template's two readings the same finding.
type SeenKey = (
    String,
    Option<usize>,
    &'static str,
    String,
    Severity,
    Option<Box<finding::Evidence>>,
);

/// Whether the document holds the `%{ else }` reading of a template.
fn document_has_else(document: &Document) -> bool {
    document
        .subjects
        .iter()
        .any(|s| s.base.starts_with(input::ELSE_BASE))
}

#[cfg(test)]
mod tests;
