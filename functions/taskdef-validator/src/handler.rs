//! The Lambda: what an invocation asks to validate (a CloudTrail `RegisterTaskDefinition`
//! event, a direct `{"taskDefinition": …}` or `{"taskDefinitionArn": …}`), the validation
//! itself ([`crate::validate_document`] for what the event carried,
//! [`crate::validate_revision`] for what ECS holds), and the actions on the result through
//! [`crate::platform::Platform`] — publishing, Security Hub, deregistration — with one log line
//! per finding and never a value.

use ecs_secrets_shared::reference::TaskContext;
use ecs_secrets_shared::task_definition::TaskDefinition;
use ecs_secrets_shared::telemetry::Metrics;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

use crate::config::Config;
use crate::directory::Directory;
use crate::finding::{self, Severity};
use crate::hook::{self, HookResponse, Work};
use crate::input::{self, Document};
use crate::platform::{self, Platform};
use crate::report::Report;
use crate::{live, rules, validate_document, validate_revision, Error, FUNCTION_NAME};
/// The Lambda's dependencies.
#[derive(Debug)]
pub struct Validator<D, P> {
    pub directory: D,
    pub platform: P,
    pub config: Config,
    pub home: live::Home,
    /// Read once at cold start from `EVIDENCE_KEY_PARAMETER`.
    pub evidence_key: Option<finding::EvidenceKey>,
}

/// What an event asks to validate.
#[derive(Debug, PartialEq)]
enum Subject {
    Definition(Value),
    Arn(String),
    /// Nothing to check (a failed API call); the reason.
    Nothing(String),
}

fn subject_of(event: &Value) -> Result<(Subject, Option<TaskContext>), Error> {
    if !event.is_object() {
        return Err(Error::InvalidEvent("expected a JSON object".into()));
    }
    if let Some(detail) = event
        .get("detail")
        .filter(|_| event.get("detail-type").is_some())
    {
        let name = detail
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if name != "RegisterTaskDefinition" {
            return Err(Error::InvalidEvent(format!(
                "detail.eventName is {name:?}; this function handles RegisterTaskDefinition"
            )));
        }
        let context = match (
            event.get("region").and_then(Value::as_str),
            event.get("account").and_then(Value::as_str),
        ) {
            (Some(r), Some(a)) => Some(TaskContext {
                partition: ecs_secrets_shared::arn::partition_of_region(r).into(),
                region: r.into(),
                account: a.into(),
            }),
            _ => None,
        };
        if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
            return Ok((
                Subject::Nothing(format!(
                    "the RegisterTaskDefinition call failed ({code}); nothing was registered"
                )),
                context,
            ));
        }
        let td = detail
            .get("responseElements")
            .and_then(|r| r.get("taskDefinition"));
        return match td {
            Some(td) if td.get("containerDefinitions").is_some() => {
                Ok((Subject::Definition(td.clone()), context))
            }
            Some(td) => match td.get("taskDefinitionArn").and_then(Value::as_str) {
                Some(arn) => Ok((Subject::Arn(arn.to_owned()), context)),
                None => Err(Error::InvalidEvent(
                    "detail.responseElements.taskDefinition has neither containerDefinitions nor taskDefinitionArn".into(),
                )),
            },
            // CloudTrail omits large responses: fetch the family's latest revision.
            None => match detail
                .get("requestParameters")
                .and_then(|r| r.get("family"))
                .and_then(Value::as_str)
            {
                Some(family) => Ok((Subject::Arn(family.to_owned()), context)),
                None => Err(Error::InvalidEvent(
                    "detail has neither responseElements.taskDefinition nor requestParameters.family".into(),
                )),
            },
        };
    }
    if let Some(td) = event.get("taskDefinition") {
        if !td.is_object() {
            return Err(Error::InvalidEvent(format!(
                "taskDefinition: expected an object, found {}",
                input::kind(td)
            )));
        }
        return Ok((Subject::Definition(event.clone()), None));
    }
    if let Some(arn) = event.get("taskDefinitionArn") {
        return match arn.as_str() {
            Some(a) if !a.is_empty() => Ok((Subject::Arn(a.to_owned()), None)),
            _ => Err(Error::InvalidEvent(
                "taskDefinitionArn: expected a non-empty string".into(),
            )),
        };
    }
    Err(Error::InvalidEvent(
        "expected an EventBridge RegisterTaskDefinition event, {\"taskDefinition\": {...}} or {\"taskDefinitionArn\": \"...\"}".into(),
    ))
}

impl<D: Directory, P: Platform> Validator<D, P> {
    /// Handles one invocation: validate (always live), then act.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        if hook::is_hook_invocation(&event.payload) {
            let response = self.hook(&event).await;
            return serde_json::to_value(&response)
                .map_err(|e| Error::InvalidEvent(format!("the hook response: {e}")));
        }
        let (subject, task) = subject_of(&event.payload)?;
        let mut target = match subject {
            Subject::Nothing(reason) => {
                tracing::info!(%reason, "nothing to validate");
                return Ok(json!({"checked": 0, "findings": [], "skipped": reason}));
            }
            Subject::Definition(v) => Target::Document(
                input::from_json_value(v).map_err(|e| Error::InvalidEvent(e.to_string()))?,
            ),
            Subject::Arn(arn) => Target::Revision(Box::new(
                self.platform
                    .describe_task_definition(&arn)
                    .await
                    .map_err(Error::Fetch)?,
            )),
        };
        // Deregistering and filing findings act on a revision: only what ECS holds for it counts.
        // The body of a direct invocation (or of an event anyone allowed to invoke could forge)
        // is a hint that names the revision, nothing more.
        if self.config.enforce || self.config.security_hub {
            if let Target::Document(document) = &target {
                if let Some(arn) = arn_of(document) {
                    target = Target::Revision(Box::new(
                        self.platform
                            .describe_task_definition(&arn)
                            .await
                            .map_err(Error::Fetch)?,
                    ));
                }
            }
        }
        // The revision's own ARN names its region and account; an event's envelope (which a
        // direct invocation may forge) only fills in when there is none.
        let task = target
            .arn()
            .and_then(|a| ecs_secrets_shared::arn::Arn::parse(&a).ok())
            .map(|a| TaskContext {
                partition: a.partition,
                region: a.region,
                account: a.account,
            })
            .or(task);
        let context = rules::Context {
            platform_version: None,
            task: task.clone(),
            evidence_key: self.evidence_key.clone(),
        };
        let mut report = Report {
            live: true,
            ..Report::default()
        };
        // The clients are bound to the function's region: what is looked up is judged there
        // (a reference elsewhere gets a "not looked up" note, not a false "does not exist").
        let home = self.home_for(task.as_ref(), &event.context.invoked_function_arn);
        let live = Some((&self.directory, &home));
        match &target {
            Target::Document(document) => {
                validate_document(document, None, &context, live, &mut report).await
            }
            Target::Revision(model) => {
                validate_revision((**model).clone(), &context, live, &mut report).await
            }
        }
        if let Some(problem) = report.errors.first() {
            return Err(Error::InvalidEvent(problem.message.clone()));
        }
        report.sort();
        let arn = target.arn();
        self.act(&mut report, arn.as_deref(), &home).await?;
        log(&report, arn.as_deref());
        Ok(report.to_json())
    }

    /// Where the live checks look: the task's partition and account (when known) in the
    /// function's region, and the function's own account (from the invoked ARN) as the one
    /// whose IAM it reads.
    fn home_for(&self, task: Option<&TaskContext>, invoked_function_arn: &str) -> live::Home {
        let home = match task {
            Some(t) => live::Home {
                partition: t.partition.clone(),
                region: self.home.region.clone(),
                account: Some(t.account.clone()),
                caller_account: self.home.caller_account.clone(),
            },
            None => self.home.clone(),
        };
        live::Home {
            caller_account: ecs_secrets_shared::arn::Arn::parse(invoked_function_arn)
                .ok()
                .map(|a| a.account)
                .or(home.caller_account),
            ..home
        }
    }

    /// Answers a CloudFormation hook ([`crate::hook`]): judge the proposed properties (offline
    /// and live rules), never act.
    async fn hook(&self, event: &LambdaEvent<Value>) -> HookResponse {
        let request = match hook::parse(&event.payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "hook request cannot be read");
                return HookResponse::unreadable(hook::client_request_token(&event.payload), &e);
            }
        };
        let template = match &request.work {
            Work::Nothing(reason) => {
                tracing::info!(logical_id = %request.logical_id, %reason, "hook: nothing to check");
                return HookResponse::nothing(&request, reason);
            }
            Work::Judge(template) => template.clone(),
        };
        let task = request.account.as_ref().map(|account| TaskContext {
            partition: self.home.partition.clone(),
            region: self.home.region.clone(),
            account: account.clone(),
        });
        let home = self.home_for(task.as_ref(), &event.context.invoked_function_arn);
        let context = rules::Context {
            platform_version: None,
            task,
            evidence_key: self.evidence_key.clone(),
        };
        let mut report = Report::default();
        // Offline unless HOOK_LIVE: the answer is shown to whoever deploys the stack.
        let live = self.config.hook_live.then_some((&self.directory, &home));
        report.live = live.is_some();
        match input::from_json_value(template) {
            Ok(document) => validate_document(&document, None, &context, live, &mut report).await,
            Err(e) => report.errors.push(crate::report::InputProblem {
                file: "hook request".into(),
                line: 0,
                column: 0,
                message: e.message,
            }),
        }
        report.sort();
        let response = HookResponse::verdict(&request, &report, self.config.hook_fail_on);
        tracing::info!(
            logical_id = %request.logical_id,
            invocation_point = ?request.invocation_point,
            status = ?response.hook_status,
            findings = report.findings.len(),
            unreadable = report.errors.len(),
            "hook answered"
        );
        log_findings(&report);
        response
    }

    async fn act(
        &self,
        report: &mut Report,
        arn: Option<&str>,
        home: &live::Home,
    ) -> Result<(), Error> {
        let critical = report.worst() == Some(Severity::Critical);
        if self.config.enforce && critical {
            match arn {
                Some(arn) => {
                    self.platform.deregister(arn).await.map_err(Error::Action)?;
                    report.actions.push(format!(
                        "deregistered {arn}: it has a critical finding (ENFORCE=true)"
                    ));
                }
                None => report
                    .actions
                    .push("not deregistered: the task definition's ARN is not known".into()),
            }
        }
        if self.config.security_hub && !report.findings.is_empty() {
            // A direct invocation carries no account: the task definition's ARN names it.
            let account = home.account.clone().or_else(|| {
                arn.and_then(|a| ecs_secrets_shared::arn::Arn::parse(a).ok())
                    .map(|a| a.account)
            });
            let (Some(arn), Some(account)) = (arn, account.as_deref()) else {
                report.actions.push("not imported into Security Hub: the task definition's ARN or account is not known".into());
                return self.publish(report, arn).await;
            };
            let n = self
                .platform
                .import_findings(&report.findings, arn, &home.region, account)
                .await
                .map_err(Error::Action)?;
            report
                .actions
                .push(format!("imported {n} finding(s) into Security Hub"));
        }
        self.publish(report, arn).await
    }

    async fn publish(&self, report: &mut Report, arn: Option<&str>) -> Result<(), Error> {
        let Some(bus) = &self.config.event_bus else {
            return Ok(());
        };
        let mut detail = report.to_json();
        detail["taskDefinitionArn"] = json!(arn);
        // EventBridge entries are limited to 256 KB; a huge report is sent without evidence.
        if detail.to_string().len() > 200_000 {
            if let Some(Value::Array(findings)) = detail.get_mut("findings") {
                findings.truncate(200);
            }
            detail["truncated"] = json!(true);
        }
        self.platform
            .publish(bus, &detail)
            .await
            .map_err(Error::Action)?;
        report.actions.push(format!(
            "published {} event on {bus}",
            platform::EVENT_DETAIL_TYPE
        ));
        Ok(())
    }
}

/// What is validated: a task definition as an event carried it (read like a file), or the
/// revision as ECS holds it.
enum Target {
    Document(Document),
    // Boxed: a model is several times the size of a document.
    Revision(Box<TaskDefinition>),
}

impl Target {
    /// The revision's ARN, if known.
    fn arn(&self) -> Option<String> {
        match self {
            Target::Document(document) => arn_of(document),
            Target::Revision(model) => model.arn().map(str::to_owned),
        }
    }
}

/// The revision a document names (`taskDefinitionArn`), if any.
/// (An event's document is read by [`input::from_json_value`]: its subjects hold the `Value`,
/// never a model read already.)
fn arn_of(document: &Document) -> Option<String> {
    document
        .subjects
        .first()
        .and_then(|s| s.definition.get("taskDefinitionArn"))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// One summary line and one line per finding (rule, severity, pointer, evidence hash — never
/// the value), plus EMF metrics: findings by rule and severity.
fn log(report: &Report, arn: Option<&str>) {
    let counts = report.counts();
    tracing::info!(
        task_definition = arn.unwrap_or(""),
        findings = report.findings.len(),
        critical = counts["critical"],
        high = counts["high"],
        "validated"
    );
    let mut metrics = Metrics::new(FUNCTION_NAME);
    metrics.count("Findings", report.findings.len() as u64);
    log_findings(report);
    for s in Severity::ALL {
        metrics.count(
            &format!("Findings.{}", s.as_str()),
            counts[s.as_str()] as u64,
        );
    }
    let mut by_rule = std::collections::BTreeMap::new();
    for f in &report.findings {
        *by_rule.entry(f.rule).or_insert(0u64) += 1;
    }
    for (rule, n) in by_rule {
        metrics.count(&format!("Findings.{rule}"), n);
    }
    metrics.emit();
}

/// One line per finding: rule, severity, container, pointer, message — never the value. The
/// hook logs these without the metrics: a hook's findings are of a definition that may never
/// be registered (and anyone who may deploy can send them), so they are not counted with the
/// registered revisions'.
fn log_findings(report: &Report) {
    for f in &report.findings {
        tracing::warn!(
            rule = f.rule,
            severity = f.severity.as_str(),
            container = f.container.as_deref().unwrap_or(""),
            pointer = %f.pointer,
            message = %f.message,
            "finding"
        );
    }
}
